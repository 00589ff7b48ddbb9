"""Dead-letter queues, detection: what the codemod finds in one file, and the facts it reads."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import libcst as cst

from omnimix.analysis.context import FileContext
from omnimix.analysis.logging_facts import (
    Spans,
    assigned_value,
    function_body,
    inner_blocks,
    names_in,
)
from omnimix.analysis.syntax import assign_targets, dotted_name, self_attr
from omnimix.analysis.tree import index_module, nodes_of

_DLQ = re.compile(r"dlq|dead_?letter", re.IGNORECASE)
_DLQ_TEXT = re.compile(r"\.dlq\b|dead[-_. ]?letter", re.IGNORECASE)
SEND_METHODS = frozenset({"send", "send_and_wait", "produce", "publish", "publish_async", "publish_event",
                          "send_message", "put"})
COMMIT_METHODS = re.compile(r"commit", re.IGNORECASE)
ENVELOPE_ORIGIN = frozenset({"original_topic", "original_offset", "original_partition"})
ENVELOPE_ERROR = re.compile(r"^error", re.IGNORECASE)
_LOG_METHODS = re.compile(r"^(debug|info|warning|warn|error|exception|critical|log)$")

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
_SAFE_OFFSETS = (
    "import json\nfrom enum import Enum\n\nfrom omnibase_core.nodes import NodeEffect\n\n\n"
    "class Outcome(str, Enum):\n"
    "    DONE = \"done\"\n"
    "    DEAD_LETTERED = \"dead_lettered\"\n"
    "    REDELIVER = \"redeliver\"\n\n\n"
    "class NodeOrdersEffect(NodeEffect):\n"
    "    def __init__(self, container, consumer, producer):\n"
    "        super().__init__(container)\n"
    "        self._consumer = consumer\n"
    "        self._producer = producer\n"
    "        self._dlq_sent = 0\n"
    "        self._dlq_failures = 0\n\n"
    "    async def consume(self, batch):\n"
    "        seen = {}\n"
    "        for partition, messages in batch.items():\n"
    "            for message in messages:\n"
    "                outcome = await self._handle(message)\n"
    "                seen.setdefault(partition, []).append((message.offset, outcome is not Outcome.REDELIVER))\n"
    "        offsets = self._committable(seen)\n"
    "        if offsets:\n"
    "            await self._consumer.commit(offsets)\n\n"
    "    async def _handle(self, message):\n"
    "        try:\n"
    "            await self.apply(json.loads(message.value))\n"
    "        except ValueError as exc:\n"
    "            sent = await self._send_to_dlq(message, exc)\n"
    "            return Outcome.DEAD_LETTERED if sent else Outcome.REDELIVER\n"
    "        return Outcome.DONE\n\n"
    "    @staticmethod\n"
    "    def _committable(seen):\n"
    "        offsets = {}\n"
    "        for partition, entries in seen.items():\n"
    "            for offset, done in sorted(entries):\n"
    "                if not done:\n"
    "                    break\n"
    "                offsets[partition] = offset + 1\n"
    "        return offsets\n\n"
    "    async def _send_to_dlq(self, message, error):\n"
    "        record = {\"original_topic\": message.topic, \"original_offset\": message.offset, \"error\": str(error)}\n"
    "        try:\n"
    "            await self._producer.send_and_wait(f\"{message.topic}.dlq\", json.dumps(record))\n"
    "        except ConnectionError:\n"
    "            self._dlq_failures += 1\n"
    "            return False\n"
    "        self._dlq_sent += 1\n"
    "        return True\n\n"
    "    def get_dlq_stats(self):\n"
    "        return {\"sent\": self._dlq_sent, \"failures\": self._dlq_failures}\n"
)


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
        self.offset_helpers: set[str] = set()  # functions turning DLQ outcomes into the offsets to commit
        self.gate_ids: set[int] = set()  # statements that commit only what was processed or dead-lettered
        self.derived_ids: set[int] = set()  # statements recording outcomes for such a gate
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
            own = {m.name.value for m in _methods(cls) if self._is_publisher(m)}
            class_publishers[id(cls)] = own | self._routers(cls, own)
        for cls in classes:
            if self._is_envelope(cls):
                self.spans.whole(cls, "dead-letter envelope type")
                continue
            if dlq_named(cls.name.value) and _is_record_type(cls):
                self.spans.whole(cls, "record type of the DLQ counters")
                continue
            own = class_publishers[id(cls)]
            if not own and not self._calls_dlq(cls, self.publishers):
                continue
            self.found_any = True
            methods = {m.name.value: m for m in _methods(cls)}
            outcomes = self._outcome_methods(cls, own)
            for method in methods.values():
                if method.name.value in own:
                    self.spans.whole(method, "dead-letter publisher")
                    self._find_classifiers(method, functions)
                elif self._is_dlq_snapshot(method):
                    self.spans.whole(method, "snapshot of the DLQ counters")
                else:
                    self._scan_function(method, own, outcomes)
            for name in sorted(self.offset_helpers & set(methods)):
                self.spans.whole(methods[name], "safe-offset calculation that counts dead-lettered messages as done")
        for name, function in functions.items():
            if name in self.publishers:
                self.found_any = True
                self.spans.whole(function, "dead-letter publisher")
                self._find_classifiers(function, functions)
            elif self._calls_dlq(function, self.publishers):
                self.found_any = True
                self._scan_function(function, set(), set())
        for name in self.classifiers:
            function = functions.get(name)
            if function is not None:
                self.spans.whole(function, "error classification for DLQ headers and per-error DLQ counters")
        if self.found_any:
            self._scan_constants(body)
            self._scan_dead_letter_types(classes, class_publishers)
            self._scan_publisher_helpers(functions, classes, class_publishers)
            for name in sorted(self.offset_helpers & set(functions)):
                self.spans.whole(functions[name], "safe-offset calculation that counts dead-lettered messages as done")

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
        receiver = func.value.attr.value if isinstance(func.value, cst.Attribute) else dotted_name(func.value)
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

    def _routers(self, cls: cst.ClassDef, publishers: set[str]) -> set[str]:
        """Methods named for dead-lettering that hand the message to a publisher (check the flag, then send)."""
        routers: set[str] = set()
        grew = True
        while grew:
            grew = False
            for method in _methods(cls):
                name = method.name.value
                if name in publishers or name in routers or not dlq_named(name):
                    continue
                if self._calls_dlq(method, publishers | routers):
                    routers.add(name)
                    grew = True
        return routers

    def _outcome_methods(self, cls: cst.ClassDef, publishers: set[str]) -> set[str]:
        """Methods whose return value carries the outcome of a dead-letter write (processed, dead-lettered, not)."""
        outcomes = set(publishers)
        methods = _methods(cls)
        grew = True
        while grew:
            grew = False
            for method in methods:
                if method.name.value in outcomes:
                    continue
                tainted, _flow = self._taint(method, publishers | outcomes)
                if any(small.value is not None and (names_in(small.value) & tainted
                                                    or self._calls_dlq(small.value, publishers | outcomes))
                       for small in nodes_of(method, cst.Return)):
                    outcomes.add(method.name.value)
                    grew = True
        return outcomes

    def _taint(self, function: cst.FunctionDef, sources: set[str]) -> tuple[set[str], list[_Flow]]:
        """Locals holding (or derived from) the result of a call to ``sources``, and the statements that derive them."""
        tainted: set[str] = set()
        flows: list[_Flow] = []
        lines = nodes_of(function, cst.SimpleStatementLine)
        for _ in range(2):
            for line in lines:
                for small in line.body:
                    value = assigned_value(small) if not isinstance(small, cst.Expr) else small.value
                    if value is None:
                        continue
                    source = self._calls_dlq(value, sources)
                    used = names_in(value) & tainted
                    if not source and not used:
                        continue
                    if isinstance(small, cst.Expr):
                        root = _call_receiver(value)
                        targets = {root} if root and root not in tainted | used else set()
                    else:
                        targets = {n for t in assign_targets(small) for n in _target_names(t)}
                    if not targets - tainted:
                        continue
                    tainted |= targets
                    callee = self_attr(value.func) if isinstance(value, cst.Call) else None
                    flows.append(_Flow(line, small, targets, used, source, callee))
        return tainted, flows

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

    def _is_dlq_snapshot(self, method: cst.FunctionDef) -> bool:
        """A read-out of the DLQ state only (flag, suffix, counters), returned to a metrics or admin caller."""
        if nodes_of(method, cst.Await) or not any(r.value is not None for r in nodes_of(method, cst.Return)):
            return False
        if any(self_attr(t) for small in nodes_of(method, cst.SimpleStatementLine) for s in small.body
               for t in assign_targets(s)):
            return False
        read = {a for attribute in nodes_of(method, cst.Attribute) if (a := self_attr(attribute))}
        return len(read) >= 2 and all(dlq_named(a) for a in read)

    def _scan_dead_letter_types(self, classes: list[cst.ClassDef], publishers: dict[int, set[str]]) -> None:
        """Types that exist for the dead-letter path: an outcome enum with a dead-lettered member, and
        an exception built only to be handed to the publisher."""
        every = {name for own in publishers.values() for name in own} | self.publishers
        handed: dict[str, int] = {}
        built: dict[str, int] = {}
        for call in nodes_of(self.ctx.module, cst.Call):
            if isinstance(call.func, cst.Name):
                built[call.func.value] = built.get(call.func.value, 0) + 1
            name = self_attr(call.func) or (call.func.value if isinstance(call.func, cst.Name) else None)
            if name not in every:
                continue
            for arg in call.args:
                if isinstance(arg.value, cst.Call) and isinstance(arg.value.func, cst.Name):
                    handed[arg.value.func.value] = handed.get(arg.value.func.value, 0) + 1
        for cls in classes:
            name = cls.name.value
            if _is_enum(cls) and any(dlq_named(member) for member in _enum_members(cls)):
                self.spans.whole(cls, "outcome type that tells dead-lettered (committable) messages apart")
            elif name in handed and handed[name] == built.get(name) and not _is_enum(cls):
                self.spans.whole(cls, "error type built only to carry a failure to the DLQ")

    def _scan_publisher_helpers(self, functions: dict[str, cst.FunctionDef], classes: list[cst.ClassDef],
                                publishers: dict[int, set[str]]) -> None:
        """Module functions named for the DLQ that a publisher calls (decoding the original message)."""
        bodies = [functions[name] for name in self.publishers if name in functions] + [
            method for cls in classes for method in _methods(cls) if method.name.value in publishers[id(cls)]]
        called = {call.func.value for body in bodies for call in nodes_of(body, cst.Call)
                  if isinstance(call.func, cst.Name)}
        for name, function in functions.items():
            if name in called and dlq_named(name) and name not in self.publishers:
                self.spans.whole(function, "prepares the failed message for the dead-letter envelope")

    # statements in other code ---------------------------------------------------------------
    def _scan_function(self, function: cst.FunctionDef, publishers: set[str], outcomes: set[str]) -> None:
        results: set[str] = set()
        for assign in nodes_of(function, cst.Assign):
            if self._calls_dlq(assign.value, publishers):
                results.update(n for t in assign.targets for n in _target_names(t.target))
        self._scan_commit_gates(function, outcomes - publishers)
        self._scan_block(function_body(function), publishers, results)
        for element in nodes_of(function, cst.DictElement):
            key = element.key
            if isinstance(key, cst.SimpleString) and _DLQ_TEXT.search(key.value.replace("_", " ")) \
                    and isinstance(element.value, cst.Dict):
                start = self.ctx.positions[key].start.line
                self.spans.lines(start, self.ctx.positions[element.value].end.line, "DLQ section of a report")

    def _scan_commit_gates(self, function: cst.FunctionDef, outcomes: set[str]) -> None:
        """Commits gated on an outcome that a called method got from the DLQ write: the gate, the
        statements that record outcomes for it and the helper turning them into safe offsets."""
        if not outcomes or not any(self._commits(s) for line in nodes_of(function, cst.SimpleStatementLine)
                                   for s in line.body):
            return
        tainted, flows = self._taint(function, outcomes)
        if not tainted:
            return
        gates = [statement for statement in [*nodes_of(function, cst.If), *nodes_of(function, cst.While)]
                 if names_in(statement.test) & tainted and self._gates_commit(function, statement)]
        needed = set().union(*(names_in(gate.test) & tainted for gate in gates)) if gates else set()
        grew = True
        while grew:
            grew = False
            for flow in flows:
                if flow.targets & needed and not flow.used <= needed:
                    needed |= flow.used
                    grew = True
        self.gate_ids |= {id(gate) for gate in gates}
        for flow in flows:
            if flow.source or not flow.targets & needed:
                continue
            self.derived_ids.add(id(flow.line))
            if flow.callee is not None:
                self.offset_helpers.add(flow.callee)

    def _gates_commit(self, function: cst.FunctionDef, gate: cst.If | cst.While) -> bool:
        """The gate commits, or leaves the loop or function before a commit that follows it."""
        inside = {id(call) for call in nodes_of(gate, cst.Call)}
        if any(COMMIT_METHODS.search(dotted_name(call.func) or "") for call in nodes_of(gate, cst.Call)):
            return True
        exits = any(nodes_of(block_statement, kind) for block in inner_blocks(gate) for block_statement in block
                    for kind in (cst.Return, cst.Break, cst.Continue, cst.Raise))
        return exits and any(COMMIT_METHODS.search(dotted_name(call.func) or "") and id(call) not in inside
                             for call in nodes_of(function, cst.Call))

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
        if id(statement) in self.gate_ids:
            return "commits the offset only if the message was processed or dead-lettered"
        if isinstance(statement, cst.SimpleStatementLine):
            if self._calls_dlq(statement, publishers):
                return "sends a failed message to the DLQ"
            if id(statement) in self.derived_ids:
                return "records which messages are done (processed or dead-lettered) for the commit"
            for small in statement.body:
                targets = assign_targets(small)
                if targets and all(dlq_named(self_attr(t)) or self._dlq_state_item(t) for t in targets):
                    return "DLQ state"
                value = assigned_value(small)
                if targets and (isinstance(value, cst.Dict) or _reads_dlq(value)) and all(
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
            if _reads_dlq(statement.test) and any(_reads_dlq(inner) or self._calls_dlq(inner, publishers)
                                                  or _logs_about_dlq(inner)
                                                  for block in inner_blocks(statement) for inner in block):
                return "depends on the DLQ state"
        return None

    @staticmethod
    def _dlq_state_item(target: cst.BaseExpression) -> bool:
        """``self._dlq_errors[kind]``: an entry of a DLQ counter."""
        return isinstance(target, cst.Subscript) and dlq_named(self_attr(target.value))

    @staticmethod
    def _dlq_section(target: cst.BaseExpression) -> bool:
        """``snapshot["dead_letter_queue"]``, ``snapshot["dlq_errors"]``: the DLQ part of a metrics or health
        document."""
        return isinstance(target, cst.Subscript) and any(
            isinstance(e.slice, cst.Index) and isinstance(e.slice.value, cst.SimpleString)
            and (_DLQ_TEXT.search(e.slice.value.value.replace("_", " ")) or dlq_named(e.slice.value.value))
            for e in target.slice)

    @staticmethod
    def _commits(small: cst.BaseSmallStatement) -> bool:
        return any(COMMIT_METHODS.search(dotted_name(call.func) or "") for call in nodes_of(small, cst.Call))

    # module constants -----------------------------------------------------------------------
    def _scan_constants(self, body: Sequence[cst.BaseStatement]) -> None:
        for index, statement in enumerate(body):
            if not isinstance(statement, cst.SimpleStatementLine):
                continue
            for small in statement.body:
                value = assigned_value(small)
                targets = assign_targets(small)
                if value is None or len(targets) != 1 or not isinstance(targets[0], cst.Name):
                    continue
                if dlq_named(targets[0].value) and isinstance(value, (cst.SimpleString, cst.FormattedString,
                                                                      cst.ConcatenatedString)):
                    self.spans.statement(statement, "DLQ topic setting", body, index)


@dataclass(frozen=True)
class _Flow:
    """A statement deriving locals from the outcome of a dead-letter write."""

    line: cst.SimpleStatementLine
    small: cst.BaseSmallStatement
    targets: set[str]
    used: set[str]  # outcome locals it reads
    source: bool  # it makes the call that dead-letters (rather than reading an outcome)
    callee: str | None  # the method called to derive the value, if any


def _reads_dlq(node: cst.CSTNode | None) -> bool:
    """``node`` reads DLQ state of ``self`` (an attribute or a method named for the DLQ)."""
    return node is not None and any(dlq_named(self_attr(a)) for a in nodes_of(node, cst.Attribute))


def _logs_about_dlq(statement: cst.BaseStatement) -> bool:
    """A log call whose message is about the dead-letter queue."""
    for call in nodes_of(statement, cst.Call):
        if isinstance(call.func, cst.Attribute) and _LOG_METHODS.match(call.func.attr.value) and call.args:
            texts = [n.value for n in nodes_of(call.args[0].value, cst.SimpleString)]
            if any(_DLQ_TEXT.search(text) or dlq_named(text) for text in texts):
                return True
    return False


def _target_names(target: cst.BaseExpression) -> set[str]:
    if isinstance(target, cst.Name):
        return {target.value}
    if isinstance(target, (cst.Tuple, cst.List)):
        return {n for element in target.elements for n in _target_names(element.value)}
    return set()


def _call_receiver(value: cst.BaseExpression) -> str | None:
    """``outcomes`` for ``outcomes.setdefault(k, []).append(x)``: the local a method call changes."""
    if isinstance(value, cst.Await):
        value = value.expression
    if not isinstance(value, cst.Call) or not isinstance(value.func, cst.Attribute):
        return None
    node: cst.BaseExpression = value.func.value
    while isinstance(node, (cst.Attribute, cst.Subscript, cst.Call)):
        node = node.func if isinstance(node, cst.Call) else node.value
    return node.value if isinstance(node, cst.Name) and node.value != "self" else None


def _is_enum(cls: cst.ClassDef) -> bool:
    return any((dotted_name(base.value) or "").endswith("Enum") for base in cls.bases)


def _enum_members(cls: cst.ClassDef) -> list[str]:
    body = cls.body.body if isinstance(cls.body, cst.IndentedBlock) else []
    return [t.target.value for s in body if isinstance(s, cst.SimpleStatementLine) for small in s.body
            if isinstance(small, cst.Assign) for t in small.targets if isinstance(t.target, cst.Name)]


def _is_record_type(cls: cst.ClassDef) -> bool:
    """A class of annotated fields only (a TypedDict, a dataclass, a model), no behaviour."""
    body = cls.body.body if isinstance(cls.body, cst.IndentedBlock) else []
    fields = [small for s in body if isinstance(s, cst.SimpleStatementLine) for small in s.body
              if isinstance(small, cst.AnnAssign)]
    return bool(fields) and not any(isinstance(s, cst.FunctionDef) for s in body)


def _methods(cls: cst.ClassDef) -> list[cst.FunctionDef]:
    body = cls.body.body if isinstance(cls.body, cst.IndentedBlock) else []
    return [s for s in body if isinstance(s, cst.FunctionDef)]
