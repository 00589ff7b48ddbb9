"""Report hand-rolled self-registration of a node in a service registry (Consul and the like)."""

from __future__ import annotations

from typing import ClassVar

from codemods.base import Codemod, Example
from codemods.service_registration.detect import (
    _HTTP_API_NODE,
    KEEP_REASON,
    REPLACEMENT,
    ServiceRegistrationScan,
)
from omnimix.analysis.context import FileContext
from omnimix.concerns import Concern
from omnimix.findings import Finding


class ReportServiceRegistration(Codemod):
    """Self-registration in Consul written by hand. omnibase-core has no equivalent: report it."""

    name = "report-service-registration"
    concern = Concern.SERVICE_REGISTRATION
    description = (
        "Reports a node registering itself in Consul (or a similar registry) in its lifecycle, with the "
        "registration state and address lookup, and keeps it: MixinServiceRegistry catalogues other tools."
    )
    enabled_by: ClassVar[tuple[str, ...]] = ("advanced_features.service_registration",)
    keywords: ClassVar[tuple[str, ...]] = ("register",)
    examples: ClassVar[tuple[Example, ...]] = (
        Example(
            title="self-registration in Consul is reported and kept (no contract switch exists for it)",
            contract="name: n\nnode_type: EFFECT\nadvanced_features:\n  observability: {logging: {structured: true}}\n",
            before=(
                "from omnibase_core.nodes import NodeEffect\n\n\n"
                "class NodeApiEffect(NodeEffect):\n"
                "    def __init__(self, container, consul):\n"
                "        super().__init__(container)\n"
                "        self._consul = consul\n"
                "        self._service_id = f\"api-{self.node_id}\"\n\n"
                "    async def initialize(self):\n"
                "        await super().initialize()\n"
                "        await self._consul.agent.service.register(\"api\", service_id=self._service_id, port=8080)\n"
            ),
            after=(
                "from omnibase_core.nodes import NodeEffect\n\n\n"
                "class NodeApiEffect(NodeEffect):\n"
                "    def __init__(self, container, consul):\n"
                "        super().__init__(container)\n"
                "        self._consul = consul\n"
                "        self._service_id = f\"api-{self.node_id}\"\n\n"
                "    async def initialize(self):\n"
                "        await super().initialize()\n"
                "        await self._consul.agent.service.register(\"api\", service_id=self._service_id, port=8080)\n"
            ),
        ),
        Example(
            title="self-registration through the Consul agent's HTTP API is reported and kept",
            contract="name: n\nnode_type: EFFECT\nadvanced_features:\n  observability: {logging: {structured: true}}\n",
            before=_HTTP_API_NODE,
            after=_HTTP_API_NODE,
        ),
        Example(
            title="a registry registering OTHER nodes from their events is domain logic: nothing to report",
            contract="name: n\nnode_type: EFFECT\nadvanced_features:\n  observability: {logging: {structured: true}}\n",
            before=(
                "from omnibase_core.nodes import NodeEffect\n\n\n"
                "class NodeRegistryEffect(NodeEffect):\n"
                "    async def register_node(self, event):\n"
                "        await self._consul.agent.service.register(event.name, service_id=event.id, port=event.port)\n"
            ),
            after=(
                "from omnibase_core.nodes import NodeEffect\n\n\n"
                "class NodeRegistryEffect(NodeEffect):\n"
                "    async def register_node(self, event):\n"
                "        await self._consul.agent.service.register(event.name, service_id=event.id, port=event.port)\n"
            ),
        ),
    )

    def detect(self, ctx: FileContext) -> list[Finding]:
        return self.kept_findings(ctx, ServiceRegistrationScan(ctx).spans.result(), REPLACEMENT, KEEP_REASON)
