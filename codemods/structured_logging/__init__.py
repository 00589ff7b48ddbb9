"""Report hand-rolled structured logging: logger wrappers, JSON adapters, correlation context, ``_log`` helpers."""

from __future__ import annotations

from typing import ClassVar

from codemods.base import Codemod, Example
from codemods.structured_logging.detect import (
    _OPERATION_LOG_NODE,
    KEEP_REASON,
    REPLACEMENT,
)
from omnimix.analysis.context import FileContext
from omnimix.analysis.logging_facts import StructuredLoggingScan
from omnimix.concerns import Concern
from omnimix.findings import Finding


class ReportStructuredLogging(Codemod):
    """Structured logging written by hand. omnibase-core's emit_log_event_sync is not equivalent: report it."""

    name = "report-structured-logging"
    concern = Concern.STRUCTURED_LOGGING
    description = (
        "Reports hand-written structured logging (logger wrapper classes, JSON LoggerAdapters, correlation-id "
        "context, _log(**fields) helpers and their call sites) and keeps it: emit_log_event_sync has another "
        "record shape and does not redact."
    )
    enabled_by: ClassVar[tuple[str, ...]] = ("advanced_features.observability",)
    keywords: ClassVar[tuple[str, ...]] = ("log", "correlation")
    examples: ClassVar[tuple[Example, ...]] = (
        Example(
            title="a JSON LoggerAdapter and its call sites are reported and kept",
            contract="name: n\nnode_type: EFFECT\nadvanced_features:\n  observability: {logging: {structured: true}}\n",
            before=(
                "import json\nimport logging\n\nfrom omnibase_core.nodes import NodeEffect\n\n\n"
                "class JsonAdapter(logging.LoggerAdapter):\n"
                "    def process(self, msg, kwargs):\n"
                "        return json.dumps({\"event\": msg, **self.extra}), kwargs\n\n\n"
                "class NodeWriterEffect(NodeEffect):\n"
                "    def __init__(self, container):\n"
                "        super().__init__(container)\n"
                "        self._log = JsonAdapter(logging.getLogger(__name__), {\"node\": \"writer\"})\n\n"
                "    async def write(self, item):\n"
                "        self._log.info(\"write.started\")\n"
                "        return item\n"
            ),
            after=(
                "import json\nimport logging\n\nfrom omnibase_core.nodes import NodeEffect\n\n\n"
                "class JsonAdapter(logging.LoggerAdapter):\n"
                "    def process(self, msg, kwargs):\n"
                "        return json.dumps({\"event\": msg, **self.extra}), kwargs\n\n\n"
                "class NodeWriterEffect(NodeEffect):\n"
                "    def __init__(self, container):\n"
                "        super().__init__(container)\n"
                "        self._log = JsonAdapter(logging.getLogger(__name__), {\"node\": \"writer\"})\n\n"
                "    async def write(self, item):\n"
                "        self._log.info(\"write.started\")\n"
                "        return item\n"
            ),
        ),
        Example(
            title="plain stdlib logging is not structured logging: nothing to report",
            contract="name: n\nnode_type: EFFECT\nadvanced_features:\n  observability: {logging: {structured: true}}\n",
            before=(
                "import logging\n\nfrom omnibase_core.nodes import NodeEffect\n\n"
                "logger = logging.getLogger(__name__)\n\n\n"
                "class NodeWriterEffect(NodeEffect):\n"
                "    async def write(self, item):\n"
                "        logger.info(\"writing %s\", item)\n"
                "        return item\n"
            ),
            after=(
                "import logging\n\nfrom omnibase_core.nodes import NodeEffect\n\n"
                "logger = logging.getLogger(__name__)\n\n\n"
                "class NodeWriterEffect(NodeEffect):\n"
                "    async def write(self, item):\n"
                "        logger.info(\"writing %s\", item)\n"
                "        return item\n"
            ),
        ),
        Example(
            title="operation logs and correlation-id binding written as node methods are reported with their calls",
            contract="name: n\nnode_type: EFFECT\nadvanced_features:\n  observability: {logging: {structured: true}}\n",
            before=_OPERATION_LOG_NODE,
            after=_OPERATION_LOG_NODE,
        ),
    )

    def detect(self, ctx: FileContext) -> list[Finding]:
        return self.kept_findings(ctx, StructuredLoggingScan(ctx).spans.result(), REPLACEMENT, KEEP_REASON)
