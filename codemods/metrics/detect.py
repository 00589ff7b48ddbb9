"""Hand-kept metrics, detection: what the codemod finds in one file, and the facts it reads."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import libcst as cst

from omnimix.analysis.context import FileContext
from omnimix.analysis.counters import (
    MIXIN,
    MIXIN_CALLS,
    call_name,
    reads_the_mixin,
    self_attr,
    unpacked_targets,
)
from omnimix.analysis.module_cache import on_forget, parse_file
from omnimix.analysis.tree import children, nodes_of

#: Calls that read a clock: a local bound to one of these is a timer.
_CLOCK_CALLS = frozenset({"perf_counter", "perf_counter_ns", "monotonic", "monotonic_ns", "time", "time_ns"})
#: Methods that change a container or a metrics object in place.
_MUTATORS = frozenset({"append", "appendleft", "extend", "extendleft", "popleft", "pop", "clear", "update",
                       "add", "discard", "remove", "insert", "setdefault"})
_LOCK_FACTORIES = frozenset({"Lock", "RLock"})
_MAP_FACTORIES = frozenset({"defaultdict", "Counter", "dict", "OrderedDict"})
_SEQUENCE_FACTORIES = frozenset({"deque", "list"})
#: Methods that are the node's life cycle or ONEX entry point, never "dedicated to metrics".
_LIFECYCLE = frozenset({"__init__", "__post_init__", "initialize", "shutdown", "cleanup", "process", "start",
                        "stop", "close", "run", "__aenter__", "__aexit__", "__enter__", "__exit__"})
_INIT_METHODS = frozenset({"__init__", "initialize"})
#: Dead-letter bookkeeping belongs to the dead-letter-queue concern, not to metrics.
_OTHER_CONCERN_ATTR = re.compile(r"dlq|dead_?letter", re.IGNORECASE)
_BREAKER_STATES = re.compile(r"(half[_-]?)?open", re.IGNORECASE)

_REPLACEMENT = f"omnibase_core {MIXIN}"


# --------------------------------------------------------------------------------------------
# Small syntax helpers
# --------------------------------------------------------------------------------------------


def _root(node: cst.BaseExpression) -> cst.BaseExpression:
    """The object an access chain starts from: ``self.x`` for ``self.x[k].y``; the name for ``n[k]``."""
    while True:
        if self_attr(node) is not None:
            return node
        if isinstance(node, cst.Subscript):
            node = node.value
        elif isinstance(node, cst.Attribute):
            node = node.value
        else:
            return node


def _is_number(node: cst.BaseExpression | None) -> bool:
    if isinstance(node, cst.UnaryOperation) and isinstance(node.operator, cst.Minus):
        node = node.expression
    return isinstance(node, (cst.Integer, cst.Float))


def _is_none(node: cst.BaseExpression | None) -> bool:
    return isinstance(node, cst.Name) and node.value == "None"


def _scalar_or_none(node: cst.BaseExpression | None) -> bool:
    """A peak, a timestamp or an empty cache slot: state that can only hold a number or a snapshot."""
    return _is_number(node) or _is_none(node)


def _annotation_text(annotation: cst.Annotation | None) -> str:
    if annotation is None:
        return ""
    return cst.Module([]).code_for_node(annotation.annotation)


def _numeric_annotation(text: str) -> bool:
    return bool(re.search(r"\b(float|int)\b", text)) and not re.search(r"\b(str|bytes)\b\s*\]", text)


class _Refs:
    """What an expression or statement refers to: ``self`` attributes, names, calls, clocks, awaits."""

    def __init__(self) -> None:
        self.attrs: set[str] = set()
        self.names: set[str] = set()
        self.self_calls: set[str] = set()
        self.other_calls: set[str] = set()
        self.clock = False
        self.awaited: list[cst.Call] = []
        self.mixin_calls = False

    def visit(self, node: cst.CSTNode) -> None:
        kind = type(node)  # LibCST's node classes are final: type tests, not isinstance through ABCMeta
        if kind is cst.Attribute:
            attr = self_attr(node)
            if attr is not None:
                self.attrs.add(attr)
            else:
                self.visit(node.value)  # type: ignore[attr-defined]
            return
        if kind is cst.Name:
            self.names.add(node.value)  # type: ignore[attr-defined]
            return
        if kind is cst.Arg:
            self.visit(node.value)  # type: ignore[attr-defined]
            return
        if kind is cst.Call:
            name = call_name(node)
            if name in _CLOCK_CALLS:
                self.clock = True
            method = self_attr(node.func)
            if method is not None:
                self.self_calls.add(method)
                if method in MIXIN_CALLS:
                    self.mixin_calls = True
                for arg in node.args:
                    self.visit(arg)
                return
            if name:
                self.other_calls.add(name)
        elif kind is cst.Await and type(node.expression) is cst.Call:  # type: ignore[attr-defined]
            self.awaited.append(node.expression)  # type: ignore[attr-defined]
        for child in children(node):
            self.visit(child)


#: Entries of the caches below keyed by syntax nodes, which keep their modules alive: a few files' worth.
_NODES_REMEMBERED = 50_000
_REFS_CACHE: dict[cst.CSTNode, _Refs] = {}


def _refs(*nodes: cst.CSTNode | None) -> _Refs:
    """References of the given nodes (cached per node: analyses ask about the same statements often)."""
    present = [node for node in nodes if node is not None]
    if len(present) == 1:
        cached = _REFS_CACHE.get(present[0])
        if cached is None:
            if len(_REFS_CACHE) > _NODES_REMEMBERED:
                _REFS_CACHE.clear()
            cached = _REFS_CACHE[present[0]] = _collect_refs(present)
        return cached
    return _collect_refs(present)


def _collect_refs(nodes: list[cst.CSTNode]) -> _Refs:
    refs = _Refs()
    for node in nodes:
        refs.visit(node)
    return refs


_SUITE_LINES: dict[cst.CSTNode, list[cst.BaseStatement]] = {}


def _body_statements(body: cst.BaseSuite) -> list[cst.BaseStatement]:
    """Statements of a block; a one-line suite (``if x: a += 1``) reads as one statement line."""
    if isinstance(body, cst.IndentedBlock):
        return list(body.body)
    if isinstance(body, cst.SimpleStatementSuite):
        if body not in _SUITE_LINES:
            if len(_SUITE_LINES) > _NODES_REMEMBERED:
                _SUITE_LINES.clear()
            _SUITE_LINES[body] = [cst.SimpleStatementLine(body=body.body)]
        return _SUITE_LINES[body]
    return []


def _lines(ctx: FileContext, first: cst.CSTNode, last: cst.CSTNode) -> tuple[int, int]:
    """First and last line of a run of statements (one-line suites located by their statements)."""
    def edge(node: cst.CSTNode, end: bool) -> int:
        if node not in ctx.positions and isinstance(node, cst.SimpleStatementLine):
            node = node.body[-1 if end else 0]
        position = ctx.positions[node]
        return position.end.line if end else position.start.line
    return edge(first, False), edge(last, True)


_BLOCKS_CACHE: dict[cst.CSTNode, list[list[cst.BaseStatement]]] = {}
_WALK_CACHE: dict[cst.CSTNode, list[cst.BaseStatement]] = {}


def _blocks(statement: cst.BaseStatement) -> list[list[cst.BaseStatement]]:
    """The statement lists nested directly in a compound statement."""
    cached = _BLOCKS_CACHE.get(statement)
    if cached is None:
        if len(_BLOCKS_CACHE) > _NODES_REMEMBERED:
            _BLOCKS_CACHE.clear()
        cached = _BLOCKS_CACHE[statement] = _compute_blocks(statement)
    return cached


def _compute_blocks(statement: cst.BaseStatement) -> list[list[cst.BaseStatement]]:
    blocks: list[list[cst.BaseStatement]] = []
    if isinstance(statement, cst.SimpleStatementLine):
        return blocks
    if isinstance(statement, cst.If):
        blocks.append(_body_statements(statement.body))
        orelse = statement.orelse
        if isinstance(orelse, cst.If):
            blocks.append([orelse])
        elif isinstance(orelse, cst.Else):
            blocks.append(_body_statements(orelse.body))
    elif isinstance(statement, (cst.For, cst.While)):
        blocks.append(_body_statements(statement.body))
        if statement.orelse is not None:
            blocks.append(_body_statements(statement.orelse.body))
    elif isinstance(statement, (cst.Try, cst.TryStar)):
        blocks.append(_body_statements(statement.body))
        blocks.extend(_body_statements(handler.body) for handler in statement.handlers)
        if statement.orelse is not None:
            blocks.append(_body_statements(statement.orelse.body))
        if statement.finalbody is not None:
            blocks.append(_body_statements(statement.finalbody.body))
    elif isinstance(statement, cst.With):
        blocks.append(_body_statements(statement.body))
    return blocks


def _header(statement: cst.BaseStatement) -> list[cst.CSTNode]:
    """Expressions evaluated by a compound statement itself (tests, iterables, context managers)."""
    if isinstance(statement, cst.If):
        return [statement.test]
    if isinstance(statement, cst.While):
        return [statement.test]
    if isinstance(statement, cst.For):
        return [statement.target, statement.iter]
    if isinstance(statement, cst.With):
        return [item.item for item in statement.items]
    if isinstance(statement, (cst.Try, cst.TryStar)):
        return [handler.type for handler in statement.handlers if handler.type is not None]
    return []


def _walk(statements: Iterable[cst.BaseStatement]) -> list[cst.BaseStatement]:
    """Every statement, compound ones before their contents; nested definitions are not entered."""
    found: list[cst.BaseStatement] = []
    for statement in statements:
        found.extend(_walk_one(statement))
    return found


def _walk_one(statement: cst.BaseStatement) -> list[cst.BaseStatement]:
    cached = _WALK_CACHE.get(statement)
    if cached is None:
        cached = [statement]
        if not isinstance(statement, (cst.SimpleStatementLine, cst.FunctionDef, cst.ClassDef)):
            for block in _blocks(statement):
                cached.extend(_walk(block))
        if len(_WALK_CACHE) > _NODES_REMEMBERED:
            _WALK_CACHE.clear()
        _WALK_CACHE[statement] = cached
    return cached


def _small(statement: cst.BaseStatement) -> list[cst.BaseSmallStatement]:
    return list(statement.body) if isinstance(statement, cst.SimpleStatementLine) else []


def _small_value(small: cst.BaseSmallStatement) -> cst.BaseExpression | None:
    if isinstance(small, (cst.Assign, cst.AnnAssign, cst.AugAssign)):
        return small.value
    if isinstance(small, (cst.Expr, cst.Return)):
        return small.value
    return None


def _methods(node: cst.ClassDef) -> list[cst.FunctionDef]:
    return [s for s in _body_statements(node.body) if isinstance(s, cst.FunctionDef)]


_NUMERIC_WRAPPERS = frozenset({"round", "max", "min", "abs", "float", "int"})


def _is_clock_expression(node: cst.CSTNode | None, timers: set[str]) -> bool:
    """A number read from a clock, or arithmetic on such numbers (a start time, an elapsed time)."""
    if isinstance(node, cst.Name):
        return node.value in timers
    if isinstance(node, cst.Call):
        name = call_name(node)
        if name in _CLOCK_CALLS and not node.args:
            return True
        return name in _NUMERIC_WRAPPERS and any(_is_clock_expression(arg.value, timers) for arg in node.args)
    if isinstance(node, cst.BinaryOperation):
        return _is_clock_expression(node.left, timers) or _is_clock_expression(node.right, timers)
    if isinstance(node, cst.UnaryOperation):
        return _is_clock_expression(node.expression, timers)
    return False


# --------------------------------------------------------------------------------------------
# What one class keeps by hand
# --------------------------------------------------------------------------------------------
@dataclass
class _Attr:
    """A ``self`` attribute of a class and every way the class's methods touch it."""

    name: str
    first_value: cst.BaseExpression | None = None
    annotation: str = ""
    init_statements: list[tuple[str, cst.SimpleStatementLine]] = field(default_factory=list)
    assigns: list[tuple[str, cst.BaseExpression | None]] = field(default_factory=list)  # (method, value)
    augs: list[tuple[str, cst.AugAssign]] = field(default_factory=list)
    item_augs: list[str] = field(default_factory=list)
    item_assigns: list[str] = field(default_factory=list)
    field_augs: list[str] = field(default_factory=list)
    mutations: list[tuple[str, str, cst.Call | None]] = field(default_factory=list)  # (method, call name, call)
    methods: set[str] = field(default_factory=set)  # every method that mentions it


@dataclass
class _Function:
    """Per-function facts: parameters, and locals that alias (and write through) ``self`` state."""

    node: cst.FunctionDef
    name: str
    aliases: dict[str, str] = field(default_factory=dict)  # local name -> attribute it aliases
    writer_aliases: set[str] = field(default_factory=set)  # aliases the function writes through
    health: bool | None = None  # returns a health verdict (computed on demand)
    params: dict[str, str] = field(default_factory=dict)  # parameter -> annotation text

    @property
    def statements(self) -> list[cst.BaseStatement]:
        return _body_statements(self.node.body)


class _ClassMetrics:
    """Which attributes and methods of one class are hand-kept operational metrics."""

    def __init__(self, node: cst.ClassDef, model_classes: set[str]) -> None:
        self.node = node
        self.name = node.name.value
        self.model_classes = model_classes
        self.functions = {f.name.value: _function_facts(f) for f in _methods(node)}
        self.attrs: dict[str, _Attr] = {}
        self._collect()
        self.kinds: dict[str, str] = {}  # metric attribute -> counter|map|dict|samples|gauge|model|lock|cache
        self.updaters: set[str] = set()
        self.accessors: set[str] = set()
        self.helpers: set[str] = set()
        self.vetoed: set[str] = set()
        self._domain: set[str] | None = None
        self._sites: dict[str, list[tuple[_Function, cst.CSTNode]]] | None = None
        self._statement_cache: dict[tuple[str, int, int], set[int]] = {}
        self._lock_blocks: dict[str, tuple[list[tuple[_Function, cst.With]], set[str]] | None] = {}
        self._classify()

    # -- collection ---------------------------------------------------------------------
    def _attr(self, name: str) -> _Attr:
        return self.attrs.setdefault(name, _Attr(name))

    def _collect(self) -> None:
        for function in self.functions.values():
            method = function.name
            for statement in _walk(function.statements):
                for attr in _refs(*_header(statement)).attrs:
                    self._attr(attr).methods.add(method)
                for small in _small(statement):
                    self._collect_small(function, statement, small)

    def _collect_small(self, function: _Function, line: cst.BaseStatement, small: cst.BaseSmallStatement) -> None:
        method = function.name
        for attr in _refs(small).attrs:
            self._attr(attr).methods.add(method)
        for target in unpacked_targets(small):
            direct = self_attr(target)
            if direct is not None:
                record = self._attr(direct)
                if isinstance(small, cst.AugAssign):
                    record.augs.append((method, small))
                    continue
                value = _small_value(small)
                record.assigns.append((method, value))
                if record.first_value is None or (method in _INIT_METHODS and not record.init_statements):
                    record.first_value = value
                    if isinstance(small, cst.AnnAssign):
                        record.annotation = _annotation_text(small.annotation)
                if method in _INIT_METHODS and isinstance(line, cst.SimpleStatementLine):
                    record.init_statements.append((method, line))
                continue
            owner = self._owner(function, target)
            if owner is None:
                continue
            record = self._attr(owner)
            if isinstance(target, cst.Subscript) or isinstance(_root_parent(target), cst.Subscript):
                (record.item_augs if isinstance(small, cst.AugAssign) else record.item_assigns).append(method)
            elif isinstance(small, cst.AugAssign):
                record.field_augs.append(method)
            else:
                record.item_assigns.append(method)
        if isinstance(small, cst.Expr) and isinstance(small.value, (cst.Call, cst.Await)):
            call = small.value.expression if isinstance(small.value, cst.Await) else small.value
            if isinstance(call, cst.Call) and isinstance(call.func, cst.Attribute):
                owner = self_attr(call.func.value) or self._owner(function, call.func.value)
                if owner is not None:
                    self._attr(owner).mutations.append((method, call.func.attr.value, call))
        if isinstance(small, cst.Del):
            owner = self_attr(small.target) or self._owner(function, small.target)
            if owner is not None:
                self._attr(owner).mutations.append((method, "del", None))

    def _owner(self, function: _Function, target: cst.BaseExpression) -> str | None:
        """The attribute a target expression changes: ``self.x[k]``, ``self.x.y`` or an alias of them."""
        root = _root(target)
        attr = self_attr(root)
        if attr is not None:
            return attr if root is not target else None
        if isinstance(root, cst.Name) and root is not target:
            return function.aliases.get(root.value)
        return None

    # -- classification -------------------------------------------------------------------
    def _seed_kind(self, record: _Attr) -> str | None:
        value = record.first_value
        if _OTHER_CONCERN_ATTR.search(record.name) or not record.init_statements:
            return None
        if not record.name.startswith("_") and not self._read_inside(record.name):
            return None  # a public result attribute that callers read, not bookkeeping the class reports
        if _is_number(value):
            if record.augs:
                return "counter"
            if any(_is_clock_expression(v, set()) for m, v in record.assigns if m not in _INIT_METHODS):
                return "gauge"
            return None
        if isinstance(value, cst.Call):
            factory = call_name(value)
            if factory in _LOCK_FACTORIES:
                return None
            if factory in self.model_classes:
                return "model"
            if factory in _SEQUENCE_FACTORIES and self._numeric_samples(record):
                return "samples"
            if factory in _MAP_FACTORIES:
                if self._numeric_samples(record):
                    return "samples"
                if record.item_augs:
                    return "map"
                return None
            if record.item_augs and not record.augs and not record.mutations:
                return "dict"  # a metrics record built by a factory (a TypedDict), counted entry by entry
            return None
        if isinstance(value, cst.List) and not value.elements and self._numeric_samples(record):
            return "samples"
        if isinstance(value, cst.Dict):
            numeric = [e for e in value.elements if isinstance(e, cst.DictElement)
                       and (_is_number(e.value) or _is_none(e.value))]
            if record.item_augs and (not value.elements or 2 * len(numeric) >= len(value.elements) >= 2):
                return "dict" if value.elements else "map"
        return None

    def _read_inside(self, attr: str) -> bool:
        """Some statement of the class reads ``attr`` other than to update it."""
        for function in self.functions.values():
            for statement in _walk(function.statements):
                if attr in _refs(*_header(statement)).attrs:
                    return True
                for small in _small(statement):
                    targets = unpacked_targets(small)
                    if any(self_attr(t) == attr for t in targets):
                        if attr in _refs(_small_value(small)).attrs:
                            return True
                        continue
                    if attr in _refs(small).attrs and not (isinstance(small, cst.Expr) and isinstance(
                            small.value, cst.Call) and self_attr(_root(small.value.func)) == attr):
                        return True
        return False

    def _numeric_samples(self, record: _Attr) -> bool:
        """Appends of measured durations or timestamps (not of domain objects, not of inputs recorded as-is)."""
        appended = [call for _m, name, call in record.mutations if name in ("append", "appendleft") and call]
        if not appended:
            return False
        private = record.name.startswith("_")
        if private and _numeric_annotation(record.annotation):
            return True
        for method, _name, call in record.mutations:
            if call is None or not call.args:
                continue
            function = self.functions.get(method)
            timers = _timers(function) if function else set()
            arg = call.args[0].value
            if _is_clock_expression(arg, timers):
                return True
            names = _refs(arg).names
            if private and function and method.startswith("_") and any(
                _numeric_annotation(function.params.get(n, "")) for n in names
            ):
                return True
        return False

    def _classify(self) -> None:
        for record in self.attrs.values():
            kind = self._seed_kind(record)
            if kind:
                self.kinds[record.name] = kind
        # First settle which methods are metric methods, then drop state the node's logic reads.
        for logic in (False, True):
            for _ in range(5):
                before = (dict(self.kinds), set(self.updaters), set(self.accessors), set(self.helpers))
                self._classify_methods()
                self._veto(logic)
                self._adopt_private_state()
                if before == (self.kinds, self.updaters, self.accessors, self.helpers):
                    break

    def _veto(self, logic: bool) -> None:
        """Drop attributes whose value is the node's output, steers its behaviour or feeds its logic."""
        if self._domain is None:
            self._domain = _domain_attributes(self)
        domain = self._domain
        for name in list(self.kinds):
            if name in domain or self._steers_behaviour(name) or logic and self._read_by_logic(name):
                del self.kinds[name]
                self.vetoed.add(name)

    def _read_by_logic(self, attr: str) -> bool:
        """The value is used by the node's own logic, not only reported (metrics, health, logs)."""
        reporting = self.metric_methods()
        for function in self.functions.values():
            if function.name in reporting or function.name in _INIT_METHODS or _health_shaped(function):
                continue
            aliases = {name for name, target in function.aliases.items() if target == attr}
            for statement in _walk(function.statements):
                if isinstance(statement, cst.For) and attr in _refs(statement.iter).attrs:
                    return True
                for small in _small(statement):
                    refs = _refs(small)
                    if attr not in refs.attrs and not refs.names & aliases:
                        continue
                    if self.writes_metrics(function, small) or _is_logging(statement):
                        continue
                    targets = unpacked_targets(small)
                    if targets and all(isinstance(t, cst.Name) and t.value in aliases for t in targets):
                        continue
                    return True
        return False

    def _steers_behaviour(self, attr: str) -> bool:
        for function in self.functions.values():
            if function.name in self.accessors or _health_shaped(function):
                continue
            for statement in _walk(function.statements):
                for small in _small(statement):
                    if isinstance(small, cst.Return) and small.value is not None and any(
                            attr in _refs(c).attrs for c in nodes_of(small.value, cst.Comparison)):
                        return True  # a decision returned to the caller (limit reached, retry allowed)
                tests = [statement.test] if isinstance(statement, (cst.If, cst.While)) else []
                if not tests:
                    continue
                refs = _refs(*tests)
                aliases = {a for n, a in function.aliases.items() if n in refs.names}
                if attr not in refs.attrs | aliases:
                    continue
                for block in _blocks(statement)[:1]:
                    for inner in _walk(block):
                        for small in _small(inner):
                            if isinstance(small, (cst.Raise, cst.Return, cst.Break, cst.Continue)):
                                return True
                            inner_refs = _refs(small)
                            if any(self_attr(c.func) not in self.kinds for c in inner_refs.awaited):
                                return True
                            for target in unpacked_targets(small):
                                owner = self_attr(_root(target))
                                if owner is not None and owner not in self.kinds and owner != attr:
                                    return True
        return False

    def _classify_methods(self) -> None:
        updaters, accessors, helpers = set(), set(), set()
        for function in self.functions.values():
            name = function.name
            if name in _LIFECYCLE:
                continue
            if self._is_updater(function):
                updaters.add(name)
            elif self._is_accessor(function):
                accessors.add(name)
            elif self._is_helper(function):
                helpers.add(name)
        self.updaters, self.accessors, self.helpers = updaters, accessors, helpers

    def metric_methods(self) -> set[str]:
        return self.updaters | self.accessors | self.helpers

    def state_reached(self, refs: _Refs) -> set[str]:
        """Metric attributes referred to directly or through the metric methods called."""
        found = refs.attrs & set(self.kinds)
        seen: set[str] = set()
        pending = list(refs.self_calls & self.metric_methods())
        while pending:
            method = pending.pop()
            if method in seen:
                continue
            seen.add(method)
            inner = _refs(self.functions[method].node.body)
            found |= inner.attrs & set(self.kinds)
            pending.extend(inner.self_calls & self.metric_methods())
        return found

    def _adopt_private_state(self) -> None:
        """State touched only by metric methods (locks, caches, peaks) is metric state too."""
        metric_methods = self.metric_methods()
        for record in self.attrs.values():
            if (record.name in self.kinds or record.name in self.vetoed or record.name in self.functions
                    or _OTHER_CONCERN_ATTR.search(record.name)):
                continue
            users = record.methods - _INIT_METHODS
            value = record.first_value
            if isinstance(value, cst.Call) and call_name(value) in _LOCK_FACTORIES:
                if self._guards_only_metrics(record.name) or self._guards_metric_writes(record.name):
                    self.kinds[record.name] = "lock"
                continue
            if users and users <= metric_methods and record.init_statements and _scalar_or_none(value):
                self.kinds[record.name] = "cache" if _is_none(value) else "gauge"

    def _guards_only_metrics(self, lock: str) -> bool:
        used = False
        for function in self.functions.values():
            for statement in _walk(function.statements):
                if isinstance(statement, cst.With) and any(self_attr(i.item) == lock for i in statement.items):
                    used = True
                    local_names = self.metric_locals(function)
                    if function.name not in self.metric_methods() and not all(
                        self.is_metric_statement(function, s, local_names, require_touch=False) or _is_logging(s)
                        for s in _body_statements(statement.body)
                    ):
                        return False
                elif lock in _refs(*_header(statement)).attrs or any(
                    lock in _refs(s).attrs for s in _small(statement)
                ):
                    if function.name not in _INIT_METHODS and function.name not in self.metric_methods():
                        return False
        return used

    def _guards_metric_writes(self, lock: str) -> bool:
        """A lock whose every block updates or reads metric state and nothing the node works with.

        Inside its blocks nothing is awaited, every ``self`` attribute written is metric state or a
        number kept only under this lock (a minimum, a peak), and at least one block writes metrics.
        This settles a metrics lock before the methods around it are known to be metric methods.
        """
        if lock not in self._lock_blocks:
            self._lock_blocks[lock] = self._blocks_of(lock)
        found = self._lock_blocks[lock]
        if found is None:
            return False
        blocks, written_outside = found
        metrics = set(self.kinds)
        writes_metrics = False
        for function, block in blocks:
            for statement in _walk(_body_statements(block.body)):
                if isinstance(statement, (cst.FunctionDef, cst.ClassDef)) or _refs(*_header(statement)).awaited:
                    return False
                for small in _small(statement):
                    refs = _refs(small)
                    if refs.awaited or refs.self_calls - self.metric_methods() - MIXIN_CALLS:
                        return False
                    owners = [self_attr(_root(t)) or self._owner(function, t) for t in unpacked_targets(small)]
                    if isinstance(small, cst.Expr) and isinstance(small.value, cst.Call) \
                            and isinstance(small.value.func, cst.Attribute):
                        owners.append(self_attr(small.value.func.value)
                                      or self._owner(function, small.value.func.value))
                    for owner in owners:
                        if owner is None:
                            continue
                        if owner in metrics:
                            writes_metrics = True
                            continue
                        record = self.attrs.get(owner)
                        if record is None or owner in written_outside or owner in self.vetoed \
                                or not record.init_statements or not _scalar_or_none(record.first_value):
                            return False
        return writes_metrics

    def _blocks_of(self, lock: str) -> tuple[list[tuple[_Function, cst.With]], set[str]] | None:
        """The ``with lock:`` blocks and the attributes written outside them; None when the lock is
        used any other way."""
        blocks: list[tuple[_Function, cst.With]] = []
        for function in self.functions.values():
            for statement in _walk(function.statements):
                if isinstance(statement, cst.With) and any(self_attr(i.item) == lock for i in statement.items):
                    if len(statement.items) != 1 or statement.items[0].asname is not None:
                        return None
                    blocks.append((function, statement))
                elif function.name not in _INIT_METHODS and (lock in _refs(*_header(statement)).attrs or any(
                        lock in _refs(s).attrs for s in _small(statement))):
                    return None
        if not blocks:
            return None
        inside = {id(s) for _f, block in blocks for s in _walk(_body_statements(block.body))}
        written_outside = {owner for function in self.functions.values() if function.name not in _INIT_METHODS
                           for statement in _walk(function.statements) if id(statement) not in inside
                           for small in _small(statement) for target in unpacked_targets(small)
                           if (owner := self_attr(_root(target))) is not None}
        return blocks, written_outside

    # -- methods ------------------------------------------------------------------------
    def _allowed(self, method: str) -> set[str]:
        """Metric state plus attributes used only by ``method`` and known metric methods (caches, peaks)."""
        users = self.metric_methods() | {method}
        allowed = set(self.kinds)
        for record in self.attrs.values():
            if record.name in self.vetoed or record.name in self.functions or _OTHER_CONCERN_ATTR.search(record.name):
                continue
            used = record.methods - _INIT_METHODS
            value = record.first_value
            if used and used <= users and record.init_statements and (
                    _scalar_or_none(value) or isinstance(value, cst.Call) and call_name(value) in _LOCK_FACTORIES):
                allowed.add(record.name)
        return allowed

    def _is_updater(self, function: _Function) -> bool:
        statements = [s for s in function.statements if not _is_docstring(s)]
        refs = _refs(function.node.body)
        if not statements or not (refs.attrs & set(self.kinds) or refs.self_calls & self.updaters):
            return False
        allowed = self._allowed(function.name)
        local_names = self.metric_locals(function, allowed)
        if not all(self.is_metric_statement(function, s, local_names, allowed, require_touch=False)
                   or _is_logging(s) for s in statements):
            return False
        if 2 * sum(1 for s in statements if _is_logging(s)) >= len(statements):
            return False  # it reports an event and counts it on the way: its callers want the log too
        return any(self.writes_metrics(function, small, set(self.kinds))
                   for statement in _walk(statements) for small in _small(statement))

    def _is_accessor(self, function: _Function) -> bool:
        statements = [s for s in function.statements if not _is_docstring(s)]
        if not statements or _health_shaped(function):
            return False
        allowed = self._allowed(function.name)
        metric_methods = self.metric_methods()
        refs = _refs(function.node.body)
        if any(self_attr(call.func) not in metric_methods for call in refs.awaited):
            return False
        recorded = {a for a, k in self.kinds.items() if k not in ("gauge", "cache", "lock")}
        for statement in _walk(statements):
            for small in _small(statement):
                if self.writes_metrics(function, small, recorded) and not _refs(small).self_calls \
                        and not self._prunes_samples(function, small):
                    return False
                for target in unpacked_targets(small):
                    owner = self_attr(_root(target))
                    if owner is not None and owner not in allowed:
                        return False
        reading = set(self.kinds) | (metric_methods - self.updaters)
        if not (refs.attrs | refs.self_calls) & reading:
            return False
        local_names = self._derived_locals(function, allowed)
        timers = _timers(function)
        counted = [s for s in statements if not _assigns_only(s, timers)]  # reading the clock is neutral
        touching = 0
        for statement in counted:
            inner = _refs(statement)
            if inner.attrs & allowed or inner.names & local_names or inner.self_calls & metric_methods:
                touching += 1
        return 2 * touching > len(counted)

    def _prunes_samples(self, function: _Function, small: cst.BaseSmallStatement) -> bool:
        """``self._window.popleft()``: a snapshot dropping samples that left the sliding window."""
        if not isinstance(small, cst.Expr) or not isinstance(small.value, cst.Call):
            return False
        func = small.value.func
        if not isinstance(func, cst.Attribute) or func.attr.value not in ("popleft", "pop"):
            return False
        owner = self_attr(func.value) or self._owner(function, func.value)
        return self.kinds.get(owner or "") == "samples"

    def _derived_locals(self, function: _Function, allowed: set[str]) -> set[str]:
        """Locals computed from metric state (the pieces of a snapshot)."""
        derived: set[str] = set()
        metric_methods = self.metric_methods()
        for _ in range(3):
            for statement in _walk(function.statements):
                for small in _small(statement):
                    value = _small_value(small)
                    if value is None:
                        continue
                    refs = _refs(value)
                    if refs.attrs & allowed or refs.names & derived or refs.self_calls & metric_methods:
                        for target in unpacked_targets(small):
                            root = _root(target)
                            if isinstance(root, cst.Name):
                                derived.add(root.value)
        return derived

    def _is_helper(self, function: _Function) -> bool:
        """A pure function called only from metric methods or metric statements (percentiles, durations)."""
        refs = _refs(function.node.body)
        if refs.awaited or refs.attrs and all(_OTHER_CONCERN_ATTR.search(a) for a in refs.attrs):
            return False  # a read-out of dead-letter state belongs to that concern
        if reads_the_mixin(function.node.body):
            return False  # a reader of MixinMetrics' own counters is omnibase-core's code already
        for statement in _walk(function.statements):
            for small in _small(statement):
                for target in unpacked_targets(small):
                    if self_attr(_root(target)) is not None:
                        return False
        sites = self._call_sites(function.name)
        if not sites:
            return False
        metric_methods = self.metric_methods()
        for caller, statement in sites:
            if caller.name in metric_methods:
                continue
            if id(statement) not in self.statement_metric_ids(caller):
                return False
        return True

    def _call_sites(self, method: str) -> list[tuple[_Function, cst.CSTNode]]:
        if self._sites is None:
            sites: dict[str, list[tuple[_Function, cst.CSTNode]]] = {}
            for function in self.functions.values():
                for statement in _walk(function.statements):
                    parts: list[cst.CSTNode] = [statement] if _small(statement) else _header(statement)
                    for part in parts:
                        for called in _refs(part).self_calls:
                            if called != function.name:
                                sites.setdefault(called, []).append((function, statement))
            self._sites = sites
        return self._sites.get(method, [])

    # -- statements -----------------------------------------------------------------------
    def writes_metrics(self, function: _Function, small: cst.BaseSmallStatement,
                       state: set[str] | None = None) -> bool:
        """The small statement changes metric state (directly, through an alias, or by a recording call)."""
        state = set(self.kinds) if state is None else state
        for target in unpacked_targets(small):
            owner = self_attr(target) or self._owner(function, target)
            if owner in state:
                return True
            if isinstance(target, cst.Name) and target.value in function.writer_aliases \
                    and function.aliases.get(target.value) in state:
                return True
        if isinstance(small, cst.Del) and self._owner(function, small.target) in state:
            return True
        value = small.value if isinstance(small, cst.Expr) else None
        if isinstance(value, cst.Await):
            value = value.expression
        if isinstance(value, cst.Call):
            method = self_attr(value.func)
            if method is not None:
                return method in self.updaters
            if isinstance(value.func, cst.Attribute):
                owner = self_attr(value.func.value) or self._owner(function, value.func.value)
                if owner in state and (value.func.attr.value in _MUTATORS or self.kinds.get(owner) == "model"):
                    return True
        return False

    def is_metric_statement(self, function: _Function, statement: cst.BaseStatement, metric_locals: set[str],
                            state: set[str] | None = None, *, require_touch: bool = True) -> bool:
        """True when every part of ``statement`` is metric bookkeeping (mixin calls count as done ones)."""
        state = set(self.kinds) if state is None else state
        if isinstance(statement, cst.SimpleStatementLine):
            if not all(_neutral(s) or self._metric_small(function, s, metric_locals, state)
                       for s in statement.body):
                return False
            return not require_touch or not all(_neutral(s) for s in statement.body)
        if isinstance(statement, (cst.FunctionDef, cst.ClassDef)):
            return False
        blocks = _blocks(statement)
        if not blocks:
            return False
        header = _refs(*_header(statement))
        if header.awaited and not isinstance(statement, cst.With):
            return False
        if isinstance(statement, cst.With) and not all(self_attr(i.item) in state for i in statement.items):
            return False
        if require_touch and _exits(statement):
            return False  # an early return or raise: control flow that merely counts on its way out
        inner = [s for block in blocks for s in block]
        if not all(self.is_metric_statement(function, s, metric_locals, state, require_touch=False)
                   or _is_logging(s) for s in inner):
            return False
        return not require_touch or any(self._touches(function, s, metric_locals, state) for s in inner)

    def _touches(self, function: _Function, statement: cst.BaseStatement, metric_locals: set[str],
                 state: set[str]) -> bool:
        for inner in _walk([statement]):
            for small in _small(inner):
                if self.writes_metrics(function, small, state) or _refs(small).mixin_calls:
                    return True
        return False

    def _metric_small(self, function: _Function, small: cst.BaseSmallStatement, metric_locals: set[str],
                      state: set[str]) -> bool:
        if self.writes_metrics(function, small, state):
            return True
        if isinstance(small, cst.Pass):
            return True
        refs = _refs(small)
        if refs.awaited and not all(self_attr(c.func) in self.updaters for c in refs.awaited):
            return False
        if isinstance(small, cst.Expr) and refs.mixin_calls:
            return True
        targets = unpacked_targets(small)
        if targets and all(isinstance(t, cst.Name) for t in targets):
            names = {t.value for t in targets if isinstance(t, cst.Name)}
            if names <= metric_locals:
                return True
            if names <= function.writer_aliases and all(function.aliases.get(n) in state for n in names):
                return True
        return False

    def metric_locals(self, function: _Function, state: set[str] | None = None) -> set[str]:
        """Locals that exist only for metrics: timers, outcome flags, computed durations.

        A flag qualifies when every read of it is in a metric statement, in the assignment of
        another such local, or in a logging call. A timer (a clock reading or a duration computed
        from one) qualifies when some read is metric bookkeeping and none is emitted (passed to
        an awaited call) or steers the method's control flow.
        """
        state = set(self.kinds) if state is None else state
        assigned: dict[str, list[cst.SimpleStatementLine]] = {}
        reads: dict[str, list[cst.CSTNode]] = {}
        for statement in _walk(function.statements):
            for small in _small(statement):
                targets = unpacked_targets(small)
                if (len(targets) == 1 and isinstance(targets[0], cst.Name) and len(statement.body) == 1
                        and not _refs(_small_value(small)).awaited and not isinstance(small, cst.AugAssign)):
                    assigned.setdefault(targets[0].value, []).append(statement)
                for name in _refs(_small_value(small) if targets else small).names:
                    reads.setdefault(name, []).append(statement)
                for target in targets:
                    if not isinstance(target, cst.Name):
                        for name in _refs(target).names:
                            reads.setdefault(name, []).append(statement)
            for name in _refs(*_header(statement)).names:
                reads.setdefault(name, []).append(statement)
        timers = _timers(function)
        emitted = self._emitted_locals(function)
        chosen: set[str] = set()
        for _ in range(6):
            metric_ids = {id(s) for s in self._metric_statements(function, chosen, state)}
            assigning = {id(s) for name in chosen for s in assigned.get(name, [])}
            grew = False
            for name in assigned:
                if name in chosen or name in function.params or name not in reads:
                    continue
                sites = reads[name]
                useful = [site for site in sites if id(site) in metric_ids or id(site) in assigning]
                if not useful:
                    continue
                if name in timers:
                    fits = name not in emitted
                else:
                    fits = all(id(site) in metric_ids or id(site) in assigning or _is_logging(site)
                               for site in sites)
                if fits:
                    chosen.add(name)
                    grew = True
            if not grew:
                break
        return chosen

    def _emitted_locals(self, function: _Function) -> set[str]:
        """Locals whose value reaches an awaited call (a publish, a write), the return value or control flow."""
        deps: dict[str, set[str]] = {}
        emitted: set[str] = set()
        assigned = {t.value for st in _walk(function.statements) for sm in _small(st)
                    for t in unpacked_targets(sm) if isinstance(t, cst.Name)}
        for statement in _walk(function.statements):
            if isinstance(statement, (cst.If, cst.While)) and not self.is_metric_statement(
                    function, statement, assigned, require_touch=False):
                emitted |= _refs(statement.test).names
            for small in _small(statement):
                value_refs = _refs(_small_value(small))
                for target in unpacked_targets(small):
                    root = _root(target)
                    if isinstance(root, cst.Name):
                        deps.setdefault(root.value, set()).update(value_refs.names)
                for call in _refs(small).awaited:
                    if self_attr(call.func) not in self.updaters:
                        emitted |= _refs(*call.args).names if call.args else set()
                if isinstance(small, cst.Return) and small.value is not None:
                    emitted |= _refs(small.value).names  # a duration the caller gets back is output
        pending = list(emitted)
        while pending:
            for name in deps.get(pending.pop(), ()):
                if name not in emitted:
                    emitted.add(name)
                    pending.append(name)
        return emitted

    def _metric_statements(self, function: _Function, metric_locals: set[str], state: set[str]) -> list[cst.CSTNode]:
        found = []
        for statement in _walk(function.statements):
            if self.is_metric_statement(function, statement, metric_locals, state, require_touch=True):
                found.append(statement)
        return found

    def statement_metric_ids(self, function: _Function) -> set[int]:
        """Ids of the statements of a non-metric method that are metric bookkeeping."""
        key = (function.name, len(self.kinds), len(self.updaters))
        cache = self._statement_cache
        if key not in cache:
            local_names = self.metric_locals(function)
            ids: set[int] = set()
            for statement in _walk(function.statements):
                if self.is_metric_statement(function, statement, local_names, require_touch=True):
                    ids.update(id(inner) for inner in _walk([statement]))
            cache[key] = ids
        return cache[key]

    def metric_runs(self, function: _Function) -> list[list[cst.CSTNode]]:
        """Runs of consecutive metric statements of a method (a ``finally:`` block counts as one)."""
        local_names = self.metric_locals(function)
        flags = local_names - _timers(function)
        first: dict[str, int] = {}
        for statement in _walk(function.statements):
            for small in _small(statement):
                for target in unpacked_targets(small):
                    if isinstance(target, cst.Name) and target.value in flags:
                        first.setdefault(target.value, id(statement))
        runs: list[list[cst.CSTNode]] = []

        def resets_flag(statement: cst.BaseStatement) -> bool:
            """A later assignment of an outcome flag: part of the control flow it records, not set-up."""
            targets = [t for small in _small(statement) for t in unpacked_targets(small)]
            return bool(targets) and all(isinstance(t, cst.Name) and t.value in flags
                                         and first.get(t.value) != id(statement) for t in targets)

        def is_metric(statement: cst.BaseStatement) -> bool:
            if _is_docstring(statement) or resets_flag(statement) or _only_mixin_calls(statement):
                return False
            return self.is_metric_statement(function, statement, local_names, require_touch=True)

        def visit(statements: list[cst.BaseStatement]) -> None:
            run: list[cst.CSTNode] = []
            for statement in statements:
                if is_metric(statement):
                    if run and _after_blank_line(statement):
                        runs.append(run)
                        run = []
                    run.append(statement)
                    continue
                if run:
                    runs.append(run)
                    run = []
                if isinstance(statement, (cst.FunctionDef, cst.ClassDef)):
                    continue
                if isinstance(statement, (cst.Try, cst.TryStar)) and statement.finalbody is not None:
                    visit(_body_statements(statement.body))
                    for handler in statement.handlers:
                        visit(_body_statements(handler.body))
                    if statement.orelse is not None:
                        visit(_body_statements(statement.orelse.body))
                    final = _body_statements(statement.finalbody.body)
                    if final and all(self.is_metric_statement(function, s, local_names, require_touch=False)
                                     or _is_logging(s) for s in final) and any(
                            self._touches(function, s, local_names, set(self.kinds)) for s in final):
                        runs.append([statement.finalbody])
                    else:
                        visit(final)
                    continue
                for block in _blocks(statement):
                    visit(block)
            if run:
                runs.append(run)

        visit(function.statements)
        return runs


def _assigns_only(statement: cst.BaseStatement, names: set[str]) -> bool:
    """The statement only binds some of ``names`` (``now = self._clock.monotonic()``)."""
    small = _small(statement)
    targets = [t for s in small for t in unpacked_targets(s)]
    return bool(small) and len(targets) == len(small) and all(
        isinstance(t, cst.Name) and t.value in names for t in targets)


def _exits(statement: cst.BaseStatement) -> bool:
    return any(isinstance(small, (cst.Return, cst.Raise, cst.Break, cst.Continue))
               for inner in _walk([statement]) for small in _small(inner))


def _only_mixin_calls(statement: cst.BaseStatement) -> bool:
    """``self.increment_counter(...)`` and friends: metrics already kept by MixinMetrics."""
    small = _small(statement)
    return bool(small) and all(isinstance(s, cst.Expr) and _refs(s).mixin_calls or _neutral(s) for s in small)


def _neutral(small: cst.BaseSmallStatement) -> bool:
    """Statements that neither are metrics nor prevent a block from being only metrics."""
    return isinstance(small, cst.Pass) or isinstance(small, cst.Return) and small.value is None


def _is_docstring(statement: cst.BaseStatement) -> bool:
    small = _small(statement)
    return len(small) == 1 and isinstance(small[0], cst.Expr) and isinstance(
        small[0].value, (cst.SimpleString, cst.ConcatenatedString))


_LOG_METHODS = re.compile(r"^(debug|info|warning|warn|error|exception|critical|log|log_\w+)$")


def _is_logging(statement: cst.CSTNode) -> bool:
    small = _small(statement) if isinstance(statement, cst.BaseStatement) else []
    if len(small) != 1 or not isinstance(small[0], cst.Expr):
        return False
    value = small[0].value
    if isinstance(value, cst.Await):
        value = value.expression
    return isinstance(value, cst.Call) and isinstance(value.func, cst.Attribute) and bool(
        _LOG_METHODS.match(value.func.attr.value))


def _after_blank_line(statement: cst.BaseStatement) -> bool:
    lines = getattr(statement, "leading_lines", ())
    return any(line.comment is None for line in lines)


def _health_shaped(function: _Function) -> bool:
    """Returns a health verdict: a dict with a ``status`` key or a ``(Status.X, message, details)`` tuple."""
    if function.health is None:
        function.health = _returns_health(function)
    return function.health


def _returns_health(function: _Function) -> bool:
    for statement in _walk(function.statements):
        for small in _small(statement):
            if not isinstance(small, cst.Return) or small.value is None:
                continue
            value = small.value
            if isinstance(value, cst.Dict):
                for element in value.elements:
                    if isinstance(element, cst.DictElement) and isinstance(element.key, cst.SimpleString) \
                            and element.key.evaluated_value in ("status", "healthy"):
                        return True
            if isinstance(value, cst.Tuple) and value.elements:
                first = value.elements[0].value
                if isinstance(first, cst.Attribute) and "status" in cst.Module([]).code_for_node(first).lower():
                    return True
    return False


def _root_parent(target: cst.BaseExpression) -> cst.BaseExpression:
    """The access one step below the root of a chain (``self.x[k]`` for ``self.x[k].y``)."""
    node = target
    previous = target
    while True:
        if self_attr(node) is not None:
            return previous
        if isinstance(node, (cst.Subscript, cst.Attribute)):
            previous = node
            node = node.value
        else:
            return previous


def _function_facts(node: cst.FunctionDef) -> _Function:
    function = _Function(node, node.name.value)
    params = node.params
    for param in [*params.posonly_params, *params.params, *params.kwonly_params]:
        function.params[param.name.value] = _annotation_text(param.annotation)
    for statement in _walk(_body_statements(node.body)):
        for small in _small(statement):
            if isinstance(small, (cst.Assign, cst.AnnAssign)) and small.value is not None:
                access = small.value
                lookup = isinstance(access, cst.Call) and isinstance(access.func, cst.Attribute) \
                    and access.func.attr.value in ("setdefault", "get")
                if lookup:
                    access = access.func.value
                root = _root(access)
                attr = self_attr(root)
                if attr is None and isinstance(root, cst.Name) and (root is not access or lookup):
                    attr = function.aliases.get(root.value)  # an entry of an alias: ``m = ops[name]``
                elif attr is not None and not isinstance(access, (cst.Attribute, cst.Subscript)):
                    attr = None
                if attr is None:
                    continue
                for target in unpacked_targets(small):
                    if isinstance(target, cst.Name):
                        function.aliases[target.value] = attr
    for statement in _walk(_body_statements(node.body)):
        for small in _small(statement):
            roots = [_root(t) for t in unpacked_targets(small) if not isinstance(t, cst.Name)]
            if isinstance(small, cst.Expr) and isinstance(small.value, cst.Call) and isinstance(
                    small.value.func, cst.Attribute) and small.value.func.attr.value in _MUTATORS:
                roots.append(_root(small.value.func.value))
            for root in roots:
                if isinstance(root, cst.Name) and root.value in function.aliases:
                    function.writer_aliases.add(root.value)
    return function


def _timers(function: _Function) -> set[str]:
    """Locals of ``function`` bound to a clock reading (or computed from one)."""
    timers: set[str] = set()
    for _ in range(3):
        for statement in _walk(function.statements):
            for small in _small(statement):
                if isinstance(small, (cst.Assign, cst.AnnAssign)) and _is_clock_expression(small.value, timers):
                    timers.update(t.value for t in unpacked_targets(small) if isinstance(t, cst.Name))
    return timers


# --------------------------------------------------------------------------------------------
# Where values flow: node output versus operational read-outs
# --------------------------------------------------------------------------------------------
def _domain_attributes(info: _ClassMetrics) -> set[str]:
    """Candidate attributes whose values reach the node's output.

    A value is output when it is returned by ``process`` or passed (possibly through locals and
    through methods returning it) to an awaited call: a publish, a write, a response.
    """
    candidates = set(info.attrs)
    returns: dict[str, set[str]] = {name: set() for name in info.functions}
    sinks: set[str] = set()
    for _ in range(4):
        changed = False
        for function in info.functions.values():
            taint: dict[str, set[str]] = {}

            def flows(node: cst.CSTNode | None) -> set[str]:
                refs = _refs(node)
                found = (refs.attrs & candidates) | {a for n, a in function.aliases.items()
                                                     if n in refs.names and a in candidates}
                for name in refs.names:
                    found |= taint.get(name, set())
                for method in refs.self_calls | refs.other_calls:
                    found |= returns.get(method, set())
                return found

            for _pass in range(2):
                for statement in _walk(function.statements):
                    for small in _small(statement):
                        value = _small_value(small)
                        for target in unpacked_targets(small):
                            root = _root(target)
                            if isinstance(root, cst.Name) and root.value not in function.aliases:
                                taint.setdefault(root.value, set()).update(flows(value))
            for statement in _walk(function.statements):
                for small in _small(statement):
                    if isinstance(small, cst.Return) and small.value is not None:
                        found = flows(small.value)
                        if not found <= returns[function.name]:
                            returns[function.name] |= found
                            changed = True
                    for call in _refs(small).awaited:
                        if self_attr(call.func) in info.updaters:
                            continue
                        sinks |= set().union(*(flows(arg.value) for arg in call.args)) if call.args else set()
        if not changed:
            break
    for entry in ("process",):
        sinks |= returns.get(entry, set())
    return sinks


# --------------------------------------------------------------------------------------------
# Metric model classes, shapes and helpers of a file
# --------------------------------------------------------------------------------------------
_NOT_MODEL_BASES = re.compile(r"(Enum|Error|Exception|TypedDict|NamedTuple|Protocol|ABC)$")


def _class_fields(node: cst.ClassDef) -> tuple[set[str], set[str], set[str]]:
    """Numeric fields, container fields and all fields of a class (class body or ``__init__``)."""
    numeric: set[str] = set()
    containers: set[str] = set()
    every: set[str] = set()
    for statement in _body_statements(node.body):
        for small in _small(statement):
            if isinstance(small, cst.AnnAssign) and isinstance(small.target, cst.Name):
                every.add(small.target.value)
                value = small.value
                if _is_number(value):
                    numeric.add(small.target.value)
                elif isinstance(value, cst.Call) and call_name(value) in ("field", "Field"):
                    for arg in value.args:
                        if arg.keyword and arg.keyword.value == "default" and _is_number(arg.value):
                            numeric.add(small.target.value)
                        if arg.keyword and arg.keyword.value == "default_factory":
                            containers.add(small.target.value)
    for method in _methods(node):
        if method.name.value not in ("__init__", "__post_init__"):
            continue
        for statement in _walk(_body_statements(method.body)):
            for small in _small(statement):
                for target in unpacked_targets(small):
                    attr = self_attr(target)
                    if attr:
                        every.add(attr)
                    value = _small_value(small)
                    if attr and _is_number(value):
                        numeric.add(attr)
                    elif attr and (isinstance(value, (cst.Dict, cst.List)) or isinstance(value, cst.Call)
                                   and call_name(value) in _MAP_FACTORIES | _SEQUENCE_FACTORIES):
                        containers.add(attr)
    return numeric, containers, every


def _field_types(node: cst.ClassDef) -> set[str]:
    """Class names in the annotations of a class body's fields."""
    names: set[str] = set()
    for statement in _body_statements(node.body):
        for small in _small(statement):
            if isinstance(small, cst.AnnAssign):
                names |= set(re.findall(r"\b[A-Z]\w*", _annotation_text(small.annotation)))
    return names


def _is_enum(node: cst.ClassDef) -> bool:
    from omnimix.analysis.nodes import base_names

    return any(base.endswith("Enum") for base in base_names(node))


def _counts_fields(node: cst.ClassDef, records: set[str]) -> bool:
    """At least half of the annotated fields are numbers or other records (a record of counters)."""
    fields = [small for statement in _body_statements(node.body) for small in _small(statement)
              if isinstance(small, cst.AnnAssign) and isinstance(small.target, cst.Name)]
    counting = [f for f in fields if _numeric_annotation(text := _annotation_text(f.annotation))
                or set(re.findall(r"\b[A-Z]\w*", text)) & records]
    return bool(fields) and 2 * len(counting) >= len(fields)


def _is_frozen(node: cst.ClassDef) -> bool:
    for decorator in node.decorators:
        value = decorator.decorator
        if isinstance(value, cst.Call):
            for arg in value.args:
                if arg.keyword and arg.keyword.value == "frozen" and isinstance(arg.value, cst.Name) \
                        and arg.value.value == "True":
                    return True
    return False


def _is_metrics_model(node: cst.ClassDef, module: cst.Module) -> bool:
    """A class of running counters and timings with recording methods and computed rates or averages."""
    from omnimix.analysis.nodes import base_names

    if any(_NOT_MODEL_BASES.search(base) for base in base_names(node)) or _is_frozen(node):
        return False
    if _is_breaker_class(node):
        return False
    numeric, containers, every = _class_fields(node)
    if len(numeric) < 2 or 2 * len(numeric | containers) < len(every):
        return False
    internal: set[str] = set()
    divides = False
    for method in _methods(node):
        for statement in _walk(_body_statements(method.body)):
            for small in _small(statement):
                if isinstance(small, cst.AugAssign):
                    attr = self_attr(small.target)
                    if attr in numeric:
                        internal.add(attr)
        for operation in nodes_of(method, cst.BinaryOperation):
            if isinstance(operation.operator, cst.Divide):
                divides = True
    if _stores_data(node, numeric | containers) or _works_with_collaborators(node, numeric | containers):
        return False
    if internal and (divides or len(internal) >= 2):
        return True
    external = {target.attr.value for target in _aug_targets(module)
                if isinstance(target, cst.Attribute) and self_attr(target) is None and target.attr.value in numeric}
    return len(external) >= 2 and divides


def _stores_data(node: cst.ClassDef, fields: set[str]) -> bool:
    """The class files values into its containers (a cache, a registry), not counts or timings."""
    for method in _methods(node):
        for statement in _walk(_body_statements(method.body)):
            for small in _small(statement):
                if not isinstance(small, cst.Assign):
                    continue
                for target in unpacked_targets(small):
                    if isinstance(target, cst.Subscript) and self_attr(_root(target)) is not None \
                            and not _numeric_value(small.value):
                        return True
    return False


def _works_with_collaborators(node: cst.ClassDef, fields: set[str]) -> bool:
    """The class awaits or calls objects it holds (a transport, a client): it does work, not bookkeeping."""
    methods = {method.name.value for method in _methods(node)}
    held_fields = _class_fields(node)[2]
    for method in _methods(node):
        refs = _refs(method.body)
        if refs.awaited:
            return True
        for call in nodes_of(method.body, cst.Call):
            func = call.func
            held = self_attr(func)
            if held is not None and held not in methods and held in held_fields:
                return True  # calls an object it holds: self._transport(query)
            if isinstance(func, cst.Attribute):
                owner = self_attr(func.value)
                if owner is not None and owner not in fields and func.attr.value not in _CLOCK_CALLS:
                    return True
    return False


def _numeric_value(node: cst.BaseExpression) -> bool:
    if _is_number(node) or isinstance(node, (cst.BinaryOperation, cst.UnaryOperation)):
        return True
    return isinstance(node, cst.Call) and call_name(node) in _NUMERIC_WRAPPERS | {"len", "sum"}


def _aug_targets(module: cst.Module) -> list[cst.BaseExpression]:
    return [node.target for node in nodes_of(module, cst.AugAssign)]


def _is_breaker_class(node: cst.ClassDef) -> bool:
    """A circuit breaker (it has open / half-open states) keeps call statistics of the breaker concern."""
    for method in _methods(node):
        for item in nodes_of(method.body, (cst.Attribute, cst.SimpleString)):
            text = item.attr.value if isinstance(item, cst.Attribute) else str(item.evaluated_value)
            if _BREAKER_STATES.fullmatch(text) and "half" in text.lower():
                return True
    return False


@dataclass
class _Span:
    """One finding in the making: lines, symbol, and what metric state it holds."""

    start: int
    end: int
    symbol: str | None
    what: str  # init | statement | method | class | helper | builder | constant
    attrs: set[str] = field(default_factory=set)
    info: _ClassMetrics | None = None
    method_kind: str = ""


class _FileMetrics:
    """Every hand-kept metric of one file, with per-class facts the migration reuses."""

    def __init__(self, ctx: FileContext, sibling_models: set[str] | None = None) -> None:
        self.ctx = ctx
        module = ctx.module
        self.module = module
        top = list(module.body)
        self.class_nodes = {s.name.value: s for s in top if isinstance(s, cst.ClassDef)}
        self.function_nodes = {s.name.value: s for s in top if isinstance(s, cst.FunctionDef)}
        self.node_classes = _node_class_names(module)
        self.model_classes = {name for name, node in self.class_nodes.items()
                              if name not in self.node_classes and _is_metrics_model(node, module)}
        models = self.model_classes | (sibling_models or set())
        self.classes: dict[str, _ClassMetrics] = {}
        for name, node in self.class_nodes.items():
            if name in self.model_classes or not _methods(node):
                continue
            if name not in self.node_classes and _is_breaker_class(node):
                continue
            self.classes[name] = _ClassMetrics(node, models)

    # -- shapes and module helpers ---------------------------------------------------------
    def shapes(self, used_names: set[str]) -> set[str]:
        """Classes of this file that only describe metrics (a TypedDict of counters, a snapshot type)."""
        found = set()
        for name, node in self.class_nodes.items():
            if name in self.model_classes or name in self.classes and _methods(node):
                continue
            if name in used_names and not _OTHER_CONCERN_ATTR.search(name):
                found.add(name)
        return self._shape_parts(found)

    def _shape_parts(self, shapes: set[str]) -> set[str]:
        """Shapes plus the record types their fields are made of (per-operation counters of a snapshot)."""
        found = set(shapes)
        pending = list(shapes)
        while pending:
            for name in _field_types(self.class_nodes[pending.pop()]):
                node = self.class_nodes.get(name)
                if node is None or name in found or _methods(node) or _OTHER_CONCERN_ATTR.search(name) \
                        or _is_enum(node) or not _counts_fields(node, found | set(self.class_nodes)):
                    continue
                found.add(name)
                pending.append(name)
        return found

    def shape_builders(self, shapes: set[str]) -> set[str]:
        """Module functions that build or summarise a metrics shape (zeroed counters, computed averages)."""
        builders = set()
        for name, node in self.function_nodes.items():
            if node.returns is None or _refs(node.body).awaited or _OTHER_CONCERN_ATTR.search(name):
                continue
            if set(re.findall(r"\b[A-Z]\w*", _annotation_text(node.returns))) & shapes:
                builders.add(name)
        return builders

    def shape_uses(self) -> set[str]:
        """Names used as the type of metric state or built/returned by metric accessors."""
        used: set[str] = set()
        for info in self.classes.values():
            for attr in info.kinds:
                record = info.attrs[attr]
                used |= set(re.findall(r"\b[A-Z]\w*", record.annotation))
            for method in info.accessors:
                node = info.functions[method].node
                if node.returns is not None:
                    used |= set(re.findall(r"\b[A-Z]\w*", _annotation_text(node.returns)))
                used |= {call_name(call) for call in nodes_of(node, cst.Call)}
        return used

    def module_helpers(self) -> set[str]:
        """Module functions called only from metric methods or metric statements of this file."""
        helpers: set[str] = set()
        for name, node in self.function_nodes.items():
            if _refs(node.body).awaited:
                continue
            sites = 0
            ok = True
            for info in self.classes.values():
                metric_methods = info.metric_methods()
                for function in info.functions.values():
                    for statement in _walk(function.statements):
                        parts: list[cst.CSTNode] = [statement] if _small(statement) else list(_header(statement))
                        if not any(name in _refs(part).names for part in parts):
                            continue
                        sites += 1
                        if function.name not in metric_methods and id(statement) not in info.statement_metric_ids(
                                function):
                            ok = False
            for other in self.function_nodes.values():
                if other is not node and name in _refs(other.body).names:
                    ok = False
            if sites and ok:
                helpers.add(name)
        return helpers

    # -- spans ----------------------------------------------------------------------------
    def spans(self, used_shapes: set[str]) -> list[_Span]:
        ctx = self.ctx
        spans: list[_Span] = []
        for name in sorted(self.model_classes | self.shapes(used_shapes)):
            symbol = ctx.symbols.of(self.class_nodes[name])
            if symbol is not None:
                spans.append(_Span(symbol.start_line, symbol.end_line, symbol.name, "class"))
        builders = self.shape_builders(self.shapes(used_shapes))
        helpers = self.module_helpers() - builders
        for name in sorted(helpers | builders):
            symbol = ctx.symbols.of(self.function_nodes[name])
            if symbol is not None:
                spans.append(_Span(symbol.start_line, symbol.end_line, symbol.name,
                                   "builder" if name in builders else "helper"))
        for info in self.classes.values():
            if not info.kinds:
                continue
            for function in info.functions.values():
                symbol = ctx.symbols.of(function.node)
                if symbol is None:
                    continue
                if function.name in info.metric_methods():
                    kind = ("updater" if function.name in info.updaters
                            else "accessor" if function.name in info.accessors else "helper")
                    spans.append(_Span(symbol.start_line, symbol.end_line, symbol.name, "method",
                                       info.state_reached(_refs(function.node.body)), info, kind))
                    continue
                for run in info.metric_runs(function):
                    start, end = _lines(ctx, run[0], run[-1])
                    attrs = set().union(*(info.state_reached(_refs(node)) for node in run))
                    what = "init" if function.name in _INIT_METHODS else "statement"
                    spans.append(_Span(start, end, None, what, attrs, info))
        return spans + self._constant_spans(spans)

    def _constant_spans(self, spans: list[_Span]) -> list[_Span]:
        """Blocks of module constants (window lengths, buffer sizes, cache TTLs) used only by metric code."""
        covered = {line for span in spans if span.what != "class" for line in range(span.start, span.end + 1)}
        if not covered:
            return []
        uses: dict[str, list[int]] = {}
        for name in nodes_of(self.module, cst.Name):
            uses.setdefault(name.value, []).append(self.ctx.positions[name].start.line)
        found: list[_Span] = []
        block: list[cst.SimpleStatementLine] = []

        def close() -> None:
            if block and all(self._metric_constant(s, uses, covered) for s in block):
                found.append(_Span(self.ctx.positions[block[0]].start.line,
                                   self.ctx.positions[block[-1]].end.line, "<module>", "constant"))
            block.clear()

        for statement in self.module.body:
            if not isinstance(statement, cst.SimpleStatementLine) or _after_blank_line(statement):
                close()
            if isinstance(statement, cst.SimpleStatementLine):
                block.append(statement)
        close()
        return found

    def _metric_constant(self, statement: cst.SimpleStatementLine, uses: dict[str, list[int]],
                         covered: set[int]) -> bool:
        small = statement.body[0] if len(statement.body) == 1 else None
        if not isinstance(small, (cst.Assign, cst.AnnAssign)) or not _is_number(small.value):
            return False
        targets = unpacked_targets(small)
        if len(targets) != 1 or not isinstance(targets[0], cst.Name):
            return False
        own = self.ctx.positions[statement].start.line
        lines = [line for line in uses.get(targets[0].value, []) if line != own]
        return bool(lines) and all(line in covered for line in lines)


# --------------------------------------------------------------------------------------------
# Neighbouring files: metric models imported from them, metric shapes used by them
# --------------------------------------------------------------------------------------------
_MODELS: dict[int, tuple[cst.Module, set[str]]] = {}  # by module id, least recently used first


def _parsed(path: Path) -> tuple[cst.Module, set[str]] | None:
    """A neighbouring file's module and its metric model classes (one parse per text, shared)."""
    module = parse_file(path)
    if module is None:
        return None
    entry = _MODELS.pop(id(module), None)
    if entry is None or entry[0] is not module:
        try:
            entry = (module, {s.name.value for s in module.body
                              if isinstance(s, cst.ClassDef) and _is_metrics_model(s, module)})
        except RecursionError:
            return None
        if len(_MODELS) >= 32:
            del _MODELS[next(iter(_MODELS))]
    _MODELS[id(module)] = entry
    return entry


def _import_source(path: Path, node: cst.ImportFrom) -> Path | None:
    """The file an ``from X import ...`` in ``path`` reads, when it is part of the same tree."""
    parts: list[str] = []
    module = node.module
    while isinstance(module, cst.Attribute):
        parts.insert(0, module.attr.value)
        module = module.value
    if isinstance(module, cst.Name):
        parts.insert(0, module.value)
    level = len(node.relative)
    if level:
        base = path.parent
        for _ in range(level - 1):
            base = base.parent
    else:
        if not parts:
            return None
        base = next((p.parent for p in path.parents if p.name == parts[0]), None)
        if base is None:
            return None
    candidate = base.joinpath(*parts)
    for option in (candidate.with_suffix(".py"), candidate / "__init__.py"):
        if option.is_file():
            return option
    return None


def _imported_names(node: cst.ImportFrom) -> dict[str, str]:
    """Local name -> imported name."""
    if isinstance(node.names, cst.ImportStar):
        return {}
    names = {}
    for alias in node.names:
        if isinstance(alias.name, cst.Name):
            local = alias.asname.name.value if alias.asname and isinstance(alias.asname.name, cst.Name) \
                else alias.name.value
            names[local] = alias.name.value
    return names


def _walk_classes(module: cst.Module) -> list[cst.BaseStatement]:
    """Every statement of every method of the module's top-level classes."""
    return [statement for node in module.body if isinstance(node, cst.ClassDef)
            for method in _methods(node) for statement in _walk(_body_statements(method.body))]


def _import_froms(module: cst.Module) -> list[cst.ImportFrom]:
    return [small for statement in module.body for small in _small(statement) if isinstance(small, cst.ImportFrom)]


def _imported_models(ctx: FileContext) -> set[str]:
    """Names this file imports that are metric model classes where they are defined."""
    found: set[str] = set()
    built = {call_name(small.value) for statement in _walk_classes(ctx.module) for small in _small(statement)
             if isinstance(small, (cst.Assign, cst.AnnAssign)) and isinstance(small.value, cst.Call)
             and any(self_attr(t) for t in unpacked_targets(small))}
    for node in _import_froms(ctx.module):
        if not built & set(_imported_names(node)):
            continue
        source = _import_source(ctx.path, node)
        if source is None or source.resolve() == ctx.path.resolve():
            continue
        parsed = _parsed(source)
        if parsed is None:
            continue
        found |= {local for local, name in _imported_names(node).items() if name in parsed[1]}
    return found


def _shapes_used_by_neighbours(ctx: FileContext) -> set[str]:
    """Classes of this file that neighbouring modules use as metric types."""
    used: set[str] = set()
    shapes = {s.name.value for s in ctx.module.body if isinstance(s, cst.ClassDef) and not _methods(s)}
    if not shapes:
        return used
    try:
        neighbours = sorted(p for p in ctx.path.parent.glob("*.py") if p.resolve() != ctx.path.resolve())
    except OSError:
        return used
    for neighbour in neighbours:
        try:
            text = neighbour.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        if ctx.path.stem not in text or not any(name in text for name in shapes):
            continue
        parsed = _parsed(neighbour)
        if parsed is None:
            continue
        module = parsed[0]
        imported: dict[str, str] = {}
        for node in _import_froms(module):
            source = _import_source(neighbour, node)
            if source is not None and source.resolve() == ctx.path.resolve():
                imported.update(_imported_names(node))
        if not imported:
            continue
        used |= {imported[name] for name in _neighbour_shape_uses(neighbour, text, module) if name in imported}
    return used


def _neighbour_shape_uses(path: Path, text: str, module: cst.Module) -> set[str]:
    return _file_metrics(FileContext(path, str(path), text, _module=module)).shape_uses()


#: The analysis of the files read last, by path and text: a node module is analysed once, whether it is
#: scanned itself or read as the neighbour of its models module.
_ANALYSED: dict[tuple[str, str, frozenset[str]], _FileMetrics] = {}


@on_forget
def _forget(module: cst.Module) -> None:
    """A module the parse cache let go of: its analyses go, and the per-node facts (they hold its nodes)."""
    _MODELS.pop(id(module), None)
    for key in [key for key, facts in _ANALYSED.items() if facts.module is module]:
        del _ANALYSED[key]
    for cache in (_REFS_CACHE, _SUITE_LINES, _BLOCKS_CACHE, _WALK_CACHE):
        cache.clear()


def _file_metrics(ctx: FileContext) -> _FileMetrics:
    models = frozenset(_imported_models(ctx))
    key = (str(ctx.path.resolve()), ctx.text, models)
    found = _ANALYSED.pop(key, None)
    if found is None or found.module is not ctx.module:
        found = _FileMetrics(ctx, set(models))
    if len(_ANALYSED) >= 8:
        del _ANALYSED[next(iter(_ANALYSED))]
    _ANALYSED[key] = found
    return found


def _node_class_names(module: cst.Module) -> set[str]:
    from omnimix.analysis.nodes import find_node_classes

    return {node.name for node in find_node_classes({Path("<module>"): module})}
