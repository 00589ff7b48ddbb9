"""Dead-letter queues written by hand: report and keep them, move provable DLQ counters to MixinMetrics."""

from __future__ import annotations

import re
from typing import ClassVar

from codemods.base import Codemod, Example
from codemods.dead_letter_queue.detect import (
    _EXAMPLE_CONTRACT,
    _EXAMPLE_METRICS_CONTRACT,
    _SAFE_OFFSETS,
    KEEP_REASON,
    REPLACEMENT,
    DeadLetterScan,
)
from codemods.dead_letter_queue.transform import (
    _migrate_counters,
    _warn_on_suffix_mismatch,
)
from omnimix.analysis.context import FileContext
from omnimix.concerns import Concern
from omnimix.findings import Finding
from omnimix.migration_state import MigrationState, Outcome


class ReplaceDeadLetterQueue(Codemod):
    """Dead-letter queues written by hand. omnibase-core publishes no dead letters: report and keep them."""

    name = "replace-dead-letter-queue"
    concern = Concern.DEAD_LETTER_QUEUE
    description = (
        "Reports hand-written dead-lettering (DLQ state, the publisher that wraps a failed message with its error "
        "context, its call sites and commit-after-DLQ rules) and keeps it: omnibase-core only selects a DLQ topic."
    )
    enabled_by: ClassVar[tuple[str, ...]] = ("advanced_features.dead_letter_queue",)
    keywords: ClassVar[tuple[str, ...]] = ("dlq", "dead_letter", "dead-letter", "deadletter", "dead letter",
                                           "original_offset")
    examples: ClassVar[tuple[Example, ...]] = (
        Example(
            title="a DLQ publisher and the commit that waits for it are reported and kept",
            contract=_EXAMPLE_CONTRACT,
            before=(
                "import json\n\nfrom omnibase_core.nodes import NodeEffect\n\n\n"
                "class NodeConsumerEffect(NodeEffect):\n"
                "    def __init__(self, container, producer, consumer):\n"
                "        super().__init__(container)\n"
                "        self._producer = producer\n"
                "        self._consumer = consumer\n"
                "        self._dlq_suffix = \".dlq\"\n\n"
                "    async def handle(self, message):\n"
                "        try:\n"
                "            await self.apply(message)\n"
                "        except Exception as exc:\n"
                "            if not await self._publish_to_dlq(message, exc):\n"
                "                return\n"
                "        await self._consumer.commit()\n\n"
                "    async def _publish_to_dlq(self, message, error):\n"
                "        record = {\"original_topic\": message.topic, \"error\": str(error)}\n"
                "        await self._producer.send_and_wait(message.topic + self._dlq_suffix, json.dumps(record))\n"
                "        return True\n"
            ),
            after=(
                "import json\n\nfrom omnibase_core.nodes import NodeEffect\n\n\n"
                "class NodeConsumerEffect(NodeEffect):\n"
                "    def __init__(self, container, producer, consumer):\n"
                "        super().__init__(container)\n"
                "        self._producer = producer\n"
                "        self._consumer = consumer\n"
                "        self._dlq_suffix = \".dlq\"\n\n"
                "    async def handle(self, message):\n"
                "        try:\n"
                "            await self.apply(message)\n"
                "        except Exception as exc:\n"
                "            if not await self._publish_to_dlq(message, exc):\n"
                "                return\n"
                "        await self._consumer.commit()\n\n"
                "    async def _publish_to_dlq(self, message, error):\n"
                "        record = {\"original_topic\": message.topic, \"error\": str(error)}\n"
                "        await self._producer.send_and_wait(message.topic + self._dlq_suffix, json.dumps(record))\n"
                "        return True\n"
            ),
        ),
        Example(
            title="a DLQ counter read only by the metrics accessor moves to MixinMetrics when it is declared",
            contract=_EXAMPLE_METRICS_CONTRACT,
            before=(
                "from omnibase_core.nodes import NodeEffect\n\n\n"
                "class NodeConsumerEffect(NodeEffect):\n"
                "    def __init__(self, container, producer):\n"
                "        super().__init__(container)\n"
                "        self._producer = producer\n"
                "        self._dlq_failures = 0\n\n"
                "    async def _publish_to_dlq(self, message):\n"
                "        try:\n"
                "            await self._producer.send_and_wait(f\"{message.topic}.dlq\", message.value)\n"
                "        except ConnectionError:\n"
                "            self._dlq_failures += 1\n\n"
                "    def metrics_snapshot(self):\n"
                "        return {\"dlq_failures\": self._dlq_failures}\n"
            ),
            after=(
                "from omnibase_core.mixins.mixin_metrics import MixinMetrics\n"
                "from omnibase_core.nodes import NodeEffect\n\n\n"
                "class NodeConsumerEffect(NodeEffect, MixinMetrics):\n"
                "    def __init__(self, container, producer):\n"
                "        super().__init__(container)\n"
                "        self._producer = producer\n\n"
                "    async def _publish_to_dlq(self, message):\n"
                "        try:\n"
                "            await self._producer.send_and_wait(f\"{message.topic}.dlq\", message.value)\n"
                "        except ConnectionError:\n"
                "            self.increment_counter(\"dlq_failures\")\n\n"
                "    def metrics_snapshot(self):\n"
                "        return {\n"
                "            \"dlq_failures\": MixinMetrics.get_metrics(self).get(\"dlq_failures\", {}).get(\"value\", 0)\n"
                "        }\n"
            ),
        ),
        Example(
            title="safe offsets that count dead-lettered messages as done, their outcome type and the DLQ "
                  "counters' snapshot are reported and kept",
            contract=_EXAMPLE_CONTRACT,
            before=_SAFE_OFFSETS,
            after=_SAFE_OFFSETS,
        ),
        Example(
            title="a Kafka client flag enable_dead_letter_queue is not hand-written DLQ: nothing to report",
            contract=_EXAMPLE_CONTRACT,
            before=(
                "from omnibase_core.nodes import NodeEffect\n\n\n"
                "class NodeConsumerEffect(NodeEffect):\n"
                "    def __init__(self, container, client_factory):\n"
                "        super().__init__(container)\n"
                "        self._client = client_factory(enable_dead_letter_queue=True, max_retry_attempts=3)\n"
            ),
            after=(
                "from omnibase_core.nodes import NodeEffect\n\n\n"
                "class NodeConsumerEffect(NodeEffect):\n"
                "    def __init__(self, container, client_factory):\n"
                "        super().__init__(container)\n"
                "        self._client = client_factory(enable_dead_letter_queue=True, max_retry_attempts=3)\n"
            ),
        ),
    )

    def detect(self, ctx: FileContext) -> list[Finding]:
        return self.kept_findings(ctx, DeadLetterScan(ctx).spans.result(), REPLACEMENT, KEEP_REASON)

    def transform(self, state: MigrationState) -> None:
        if not self.enabled(state):
            return
        _warn_on_suffix_mismatch(state)
        before = state.files[state.node_path]
        moved = _migrate_counters(state)
        for path, finding in state.findings_of(self.concern):
            touched: set[str] = set()
            if path == state.node_path:
                lines = before.lines[finding.start_line - 1:finding.end_line]
                touched = {attr for line in lines for attr in re.findall(r"\bself\.(\w+)", line)} & set(moved)
            if not touched:
                state.decide(finding, path, Outcome.KEPT, finding.reason)
                continue
            counters = ", ".join(f"{attr} -> increment_counter({moved[attr]!r})" for attr in sorted(touched))
            state.decide(finding, path, Outcome.APPLIED,
                         f"{counters}, read back through MixinMetrics.get_metrics(self); kept: the rest of this "
                         f"code ({KEEP_REASON})")
