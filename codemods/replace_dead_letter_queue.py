"""Dead-letter queues written by hand: report and keep them, move provable DLQ counters to MixinMetrics."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import ClassVar

import libcst as cst

from codemods.base import Codemod, Example
from codemods.replace_hand_kept_metrics import MIXIN, MIXIN_MODULE, _CounterMigration, _unique_names
from codemods.report_structured_logging import (
    Spans,
    assigned_targets,
    assigned_value,
    dotted,
    function_body,
    index_module,
    inner_blocks,
    names_in,
    nodes_of,
    self_attr,
)
from omnimix.concerns import Concern
from omnimix.analysis.context import FileContext
from omnimix.findings import Finding
from omnimix.migration_state import MigrationState, Outcome

_DLQ = re.compile(r"dlq|dead_?letter", re.IGNORECASE)
_DLQ_TEXT = re.compile(r"\.dlq\b|dead[-_. ]?letter", re.IGNORECASE)
SEND_METHODS = frozenset({"send", "send_and_wait", "produce", "publish", "publish_async", "publish_event",
                          "send_message", "put"})
COMMIT_METHODS = re.compile(r"commit", re.IGNORECASE)
ENVELOPE_ORIGIN = frozenset({"original_topic", "original_offset", "original_partition"})
ENVELOPE_ERROR = re.compile(r"^error", re.IGNORECASE)

KEEP_REASON = (
    "omnibase-core has no dead-letter publishing: NodeEffect/NodeOrchestrator only select a DLQ topic "
    "(set_dlq_topic_deriver, used by dispatch() when no dispatcher matches) and publish nothing, so the "
    "hand-written dead-lettering, its counters and the commit-only-after-dead-letter rule are kept; "
    "the contract's advanced_features.dead_letter_queue documents the topic suffix"
)
REPLACEMENT = "none in omnibase_core (set_dlq_topic_deriver selects a topic only)"
_EXAMPLE_CONTRACT = (
    "name: n\nnode_type: EFFECT\ndependencies:\n  - {name: kafka, type: kafka}\n"
    "advanced_features:\n  dead_letter_queue: {topic_suffix: .dlq}\n"
)
_EXAMPLE_METRICS_CONTRACT = _EXAMPLE_CONTRACT + "mixins:\n  - {name: MixinMetrics}\n"


def dlq_named(name: str | None) -> bool:
    return bool(name) and bool(_DLQ.search(name or ""))


class DeadLetterScan:
    """Dead-letter code of one module: publishers, their state, call sites and commit rules."""

    def __init__(self, ctx: FileContext) -> None:
        self.ctx = ctx
        index_module(ctx.module)
        self.spans = Spans(ctx)
        self.publishers: set[str] = set()  # module functions and methods (by name) that dead-letter
        self.classifiers: set[str] = set()
        self.found_any = False
        self._scan()

    def _scan(self) -> None:
        body = self.ctx.module.body
        functions = {s.name.value: s for s in body if isinstance(s, cst.FunctionDef)}
        classes = [s for s in body if isinstance(s, cst.ClassDef)]
        for name, function in functions.items():
            if self._is_publisher(function):
                self.publishers.add(name)
        class_publishers: dict[int, set[str]] = {}
        for cls in classes:
            class_publishers[id(cls)] = {m.name.value for m in _methods(cls) if self._is_publisher(m)}
        for cls in classes:
            if self._is_envelope(cls):
                self.spans.whole(cls, "dead-letter envelope type")
                continue
            own = class_publishers[id(cls)]
            if not own and not self._calls_dlq(cls, self.publishers):
                continue
            self.found_any = True
            for method in _methods(cls):
                if method.name.value in own:
                    self.spans.whole(method, "dead-letter publisher")
                    self._find_classifiers(method, functions)
                else:
                    self._scan_function(method, own)
        for name, function in functions.items():
            if name in self.publishers:
                self.found_any = True
                self.spans.whole(function, "dead-letter publisher")
                self._find_classifiers(function, functions)
            elif self._calls_dlq(function, self.publishers):
                self.found_any = True
                self._scan_function(function, set())
        for name in self.classifiers:
            function = functions.get(name)
            if function is not None:
                self.spans.whole(function, "error classification for DLQ headers and per-error DLQ counters")
        if self.found_any:
            self._scan_constants(body)

    # what dead-letter code is ---------------------------------------------------------------
    def _is_publisher(self, function: cst.FunctionDef) -> bool:
        """A function dedicated to sending a message to a dead-letter topic: named for it, or sending to
        one without being a consume loop itself (a loop that dead-letters inline is reported by statement)."""
        if not any(self._sends_to_dlq(call) for call in nodes_of(function, cst.Call)):
            return False
        return dlq_named(function.name.value) or not (nodes_of(function, cst.For) or nodes_of(function, cst.While))

    def _sends_to_dlq(self, call: cst.Call) -> bool:
        """A send whose topic names a DLQ, or a send through a dedicated DLQ producer or queue."""
        func = call.func
        if not isinstance(func, cst.Attribute) or not call.args:
            return False
        receiver = func.value.attr.value if isinstance(func.value, cst.Attribute) else dotted(func.value)
        if dlq_named(receiver) and func.attr.value in SEND_METHODS | {"append", "put_nowait"}:
            return True
        if func.attr.value not in SEND_METHODS:
            return False
        topic = next((arg.value for arg in call.args if arg.keyword is not None and arg.keyword.value == "topic"),
                     call.args[0].value if call.args[0].keyword is None else None)
        if topic is None:
            return False
        if any(dlq_named(name) for name in names_in(topic)) or any(
                dlq_named(attribute.attr.value) for attribute in nodes_of(topic, cst.Attribute)):
            return True
        texts = [n.value for n in nodes_of(topic, cst.SimpleString)] + [
            n.value for n in nodes_of(topic, cst.FormattedStringText)]
        return any(_DLQ_TEXT.search(text) for text in texts)

    def _calls_dlq(self, node: cst.CSTNode, publishers: set[str]) -> bool:
        for call in nodes_of(node, cst.Call):
            name = self_attr(call.func) or (call.func.value if isinstance(call.func, cst.Name) else None)
            if name in publishers or name in self.publishers or self._sends_to_dlq(call):
                return True
        return False

    def _is_envelope(self, cls: cst.ClassDef) -> bool:
        """A record type of the dead-letter message: origin (topic/partition/offset) plus error context."""
        fields = {s.body[0].target.value for s in (cls.body.body if isinstance(cls.body, cst.IndentedBlock) else [])
                  if isinstance(s, cst.SimpleStatementLine) and len(s.body) == 1
                  and isinstance(s.body[0], cst.AnnAssign) and isinstance(s.body[0].target, cst.Name)}
        has_origin = len(fields & ENVELOPE_ORIGIN) >= 2
        has_error = any(ENVELOPE_ERROR.match(name) for name in fields)
        return has_origin and has_error

    def _find_classifiers(self, publisher: cst.FunctionDef, functions: dict[str, cst.FunctionDef]) -> None:
        """Helpers whose result keys a per-error-type DLQ counter inside the publisher."""
        results: dict[str, str] = {}
        for assign in nodes_of(publisher, cst.Assign):
            value = assign.value
            if isinstance(value, cst.Call) and isinstance(value.func, cst.Name) and value.func.value in functions:
                for target in assign.targets:
                    if isinstance(target.target, cst.Name):
                        results[target.target.value] = value.func.value
        for subscript in nodes_of(publisher, cst.Subscript):
            if not dlq_named(self_attr(subscript.value)):
                continue
            for element in subscript.slice:
                index = element.slice
                if isinstance(index, cst.Index) and isinstance(index.value, cst.Name) and index.value.value in results:
                    self.classifiers.add(results[index.value.value])

    # statements in other code ---------------------------------------------------------------
    def _scan_function(self, function: cst.FunctionDef, publishers: set[str]) -> None:
        results: set[str] = set()
        for assign in nodes_of(function, cst.Assign):
            if self._calls_dlq(assign.value, publishers):
                results.update(t.target.value for t in assign.targets if isinstance(t.target, cst.Name))
        self._scan_block(function_body(function), publishers, results)
        for element in nodes_of(function, cst.DictElement):
            key = element.key
            if isinstance(key, cst.SimpleString) and _DLQ_TEXT.search(key.value.replace("_", " ")) \
                    and isinstance(element.value, cst.Dict):
                start = self.ctx.positions[key].start.line
                self.spans.lines(start, self.ctx.positions[element.value].end.line, "DLQ section of a report")

    def _scan_block(self, block: Sequence[cst.BaseStatement], publishers: set[str], results: set[str]) -> None:
        after_dlq = False
        for index, statement in enumerate(block):
            kind = self._statement_kind(statement, publishers, results, after_dlq)
            after_dlq = kind is not None
            if kind is not None:
                self.spans.statement(statement, kind, block, index)
                continue
            if isinstance(statement, (cst.FunctionDef, cst.ClassDef)):
                continue
            for inner in inner_blocks(statement):
                self._scan_block(inner, publishers, results)

    def _statement_kind(self, statement: cst.BaseStatement, publishers: set[str], results: set[str],
                        after_dlq: bool) -> str | None:
        if isinstance(statement, cst.SimpleStatementLine):
            if self._calls_dlq(statement, publishers):
                return "sends a failed message to the DLQ"
            for small in statement.body:
                targets = assigned_targets(small)
                if targets and all(dlq_named(self_attr(t)) or self._dlq_state_item(t) for t in targets):
                    return "DLQ state"
                if targets and isinstance(assigned_value(small), cst.Dict) and all(
                        self._dlq_section(t) for t in targets):
                    return "DLQ section of a report"
                if after_dlq and self._commits(small):
                    return "commits the offset after the dead letter was written"
            return None
        if isinstance(statement, (cst.If, cst.While)):
            if self._calls_dlq(statement.test, publishers) or names_in(statement.test) & results:
                if any(self._commits(small) for small in nodes_of(statement, cst.SimpleStatementLine)):
                    return "commits the offset only if the message was processed or dead-lettered"
                return "acts on the outcome of the dead-letter write"
            if any(dlq_named(self_attr(a)) for a in nodes_of(statement.test, cst.Attribute)):
                return "depends on the DLQ state"
        return None

    @staticmethod
    def _dlq_state_item(target: cst.BaseExpression) -> bool:
        """``self._dlq_errors[kind]``: an entry of a DLQ counter."""
        return isinstance(target, cst.Subscript) and dlq_named(self_attr(target.value))

    @staticmethod
    def _dlq_section(target: cst.BaseExpression) -> bool:
        """``snapshot["dead_letter_queue"]``: the DLQ part of a metrics or health document."""
        return isinstance(target, cst.Subscript) and any(
            isinstance(e.slice, cst.Index) and isinstance(e.slice.value, cst.SimpleString)
            and _DLQ_TEXT.search(e.slice.value.value.replace("_", " ")) for e in target.slice)

    @staticmethod
    def _commits(small: cst.BaseSmallStatement) -> bool:
        return any(COMMIT_METHODS.search(dotted(call.func) or "") for call in nodes_of(small, cst.Call))

    # module constants -----------------------------------------------------------------------
    def _scan_constants(self, body: Sequence[cst.BaseStatement]) -> None:
        for index, statement in enumerate(body):
            if not isinstance(statement, cst.SimpleStatementLine):
                continue
            for small in statement.body:
                value = assigned_value(small)
                targets = assigned_targets(small)
                if value is None or len(targets) != 1 or not isinstance(targets[0], cst.Name):
                    continue
                if dlq_named(targets[0].value) and isinstance(value, (cst.SimpleString, cst.FormattedString,
                                                                      cst.ConcatenatedString)):
                    self.spans.statement(statement, "DLQ topic setting", body, index)


def _methods(cls: cst.ClassDef) -> list[cst.FunctionDef]:
    body = cls.body.body if isinstance(cls.body, cst.IndentedBlock) else []
    return [s for s in body if isinstance(s, cst.FunctionDef)]


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
                "        return {\"dlq_failures\": MixinMetrics.get_metrics(self).get(\"dlq_failures\", {}).get(\"value\", 0)}\n"
            ),
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


# -- DLQ counters that MixinMetrics can keep --------------------------------------------------
_MIXIN_MEMBERS = frozenset({"increment_counter", "record_metric", "record_histogram", "get_metrics_backend",
                            "set_metrics_backend", "reset_metrics", "push_metrics", "_metrics_data",
                            "_metrics_enabled", "_metrics_backend"})


def _migrate_counters(state: MigrationState) -> dict[str, str]:
    """Move the node's DLQ counters that are provably plain counters to MixinMetrics.

    A counter moves only when the node module dead-letters by hand, MixinMetrics is declared and will be
    added, the counter is set once to 0 in ``__init__``/``initialize``, only ever grows by ``+= <int>``, and
    is read only by a metrics accessor (a method named for metrics, not for health) of the node class;
    nothing else names it.
    """
    if not state.findings_of(str(Concern.DEAD_LETTER_QUEUE), state.node_path) or not state.declared(MIXIN) \
            or not _metrics_mixin_will_be_added(state):
        return {}
    index_module(state.module)
    cls = next((s for s in state.module.body if isinstance(s, cst.ClassDef) and s.name.value == state.node_class),
               None)
    if cls is None:
        return {}
    others = [state.text_of(p) for p in state.files if p != state.node_path and p not in state.deleted]
    movable = sorted(attr for attr in _dlq_attrs(cls) if _is_plain_counter(cls, attr, state.module, others))
    if not movable:
        return {}
    names = _unique_names(movable, state.module)
    state.rewrite(_CounterMigration(state.node_class, names, set()))
    state.add_import(MIXIN_MODULE, MIXIN)
    return names


def _metrics_mixin_will_be_added(state: MigrationState) -> bool:
    """ApplyDeclaredMixins adds MixinMetrics when the node has no metrics findings or one was applied."""
    if not state.findings_of(str(Concern.METRICS)):
        return True
    return any(d.outcome is Outcome.APPLIED and d.finding.concern == Concern.METRICS for d in state.decisions)


def _dlq_attrs(cls: cst.ClassDef) -> set[str]:
    return {a for attribute in nodes_of(cls, cst.Attribute) if dlq_named(a := self_attr(attribute) or "")}


def _is_plain_counter(cls: cst.ClassDef, attr: str, module: cst.Module, others: list[str]) -> bool:
    methods = _methods(cls)
    assigned = {a for m in methods for assign in nodes_of(m, cst.Assign) for t in assign.targets
                if (a := self_attr(t.target))}
    if _MIXIN_MEMBERS & ({m.name.value for m in methods} | assigned):
        return False
    if any(attr in text for text in _strings(module)):
        return False
    if any(node.attr.value == attr and self_attr(node) is None for node in nodes_of(module, cst.Attribute)):
        return False
    if any(re.search(rf"\.{re.escape(attr)}\b", text) for text in others):
        return False
    inits = 0
    for method in methods:
        name = method.name.value
        writes: set[int] = set()
        for small in nodes_of(method, cst.AugAssign):
            if self_attr(small.target) == attr:
                if not (isinstance(small.operator, cst.AddAssign) and isinstance(small.value, cst.Integer)):
                    return False
                writes.add(id(small.target))
        for small in [*nodes_of(method, cst.Assign), *nodes_of(method, cst.AnnAssign)]:
            targets = [t.target for t in small.targets] if isinstance(small, cst.Assign) else [small.target]
            hit = [t for t in targets if self_attr(t) == attr or _roots_at(t, attr)]
            if not hit:
                continue
            top = [s for s in function_body(method) if isinstance(s, cst.SimpleStatementLine)]
            if name not in ("__init__", "initialize") or len(targets) != 1 or self_attr(targets[0]) != attr \
                    or not isinstance(small.value, cst.Integer) or small.value.value != "0" \
                    or not any(len(line.body) == 1 and line.body[0] is small for line in top):
                return False
            inits += 1
            writes.add(id(targets[0]))
        reads = [node for node in nodes_of(method, cst.Attribute) if self_attr(node) == attr and id(node) not in writes]
        if reads and ("metric" not in name.lower() or "health" in name.lower()):
            return False
        if any(_roots_at(node, attr) for node in [*nodes_of(method, cst.Attribute), *nodes_of(method, cst.Subscript)]):
            return False
    return inits == 1


def _strings(root: cst.CSTNode) -> list[str]:
    found = []
    for literal in nodes_of(root, cst.SimpleString):
        try:
            value = literal.evaluated_value
        except Exception:  # noqa: BLE001 - an odd literal names nothing
            continue
        if isinstance(value, str):
            found.append(value)
    return found


def _roots_at(node: cst.BaseExpression, attr: str) -> bool:
    """``self.attr[...]`` or ``self.attr.x``: the counter used as a container or an object."""
    return isinstance(node, (cst.Subscript, cst.Attribute)) and self_attr(node.value) == attr


def _warn_on_suffix_mismatch(state: MigrationState) -> None:
    feature = state.contract.feature("dead_letter_queue")
    suffix = getattr(feature, "topic_suffix", None)
    if not suffix:
        return
    for path, ctx in state.files.items():
        for statement in ctx.module.body:
            if not isinstance(statement, cst.SimpleStatementLine):
                continue
            for small in statement.body:
                targets, value = assigned_targets(small), assigned_value(small)
                if len(targets) == 1 and isinstance(targets[0], cst.Name) and dlq_named(targets[0].value) \
                        and isinstance(value, cst.SimpleString):
                    literal = next(iter(_strings(value)), None)
                    if literal is not None and literal.startswith(".") and literal != suffix:
                        state.warnings.append(
                            f"{ctx.display_path}:{ctx.span(statement)[0]}: {targets[0].value} is {literal!r} but the "
                            f"contract's dead_letter_queue.topic_suffix is {suffix!r}; the code was not changed")
