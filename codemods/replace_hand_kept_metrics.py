"""Hand-kept operational metrics: find them all, move provable scalar counters to MixinMetrics."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

import libcst as cst

from codemods.base import Codemod, Example
from omnimix.concerns import Action, Concern, Safety
from omnimix.context import FileContext
from omnimix.findings import Finding
from omnimix.migration_state import MigrationState, Outcome

MIXIN = "MixinMetrics"
MIXIN_MODULE = "omnibase_core.mixins.mixin_metrics"

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
_BREAKER_STATES = re.compile(r"half[_-]?open", re.IGNORECASE)
_MIXIN_CALLS = frozenset({"increment_counter", "record_metric", "record_histogram"})

_REPLACEMENT = f"omnibase_core {MIXIN}"


# --------------------------------------------------------------------------------------------
# Small syntax helpers
# --------------------------------------------------------------------------------------------
def _self_attr(node: cst.BaseExpression) -> str | None:
    """``X`` for the expression ``self.X``."""
    if isinstance(node, cst.Attribute) and isinstance(node.value, cst.Name) and node.value.value == "self":
        return node.attr.value
    return None


def _root(node: cst.BaseExpression) -> cst.BaseExpression:
    """The object an access chain starts from: ``self.x`` for ``self.x[k].y``; the name for ``n[k]``."""
    while True:
        if _self_attr(node) is not None:
            return node
        if isinstance(node, cst.Subscript):
            node = node.value
        elif isinstance(node, cst.Attribute):
            node = node.value
        else:
            return node


def _call_name(call: cst.Call) -> str:
    func = call.func
    if isinstance(func, cst.Attribute):
        return func.attr.value
    if isinstance(func, cst.Name):
        return func.value
    return ""


def _is_number(node: cst.BaseExpression | None) -> bool:
    if isinstance(node, cst.UnaryOperation) and isinstance(node.operator, cst.Minus):
        node = node.expression
    return isinstance(node, (cst.Integer, cst.Float))


def _int_literal(node: cst.BaseExpression | None) -> int | None:
    if isinstance(node, cst.Integer):
        try:
            return int(node.evaluated_value)
        except ValueError:
            return None
    return None


def _is_none(node: cst.BaseExpression | None) -> bool:
    return isinstance(node, cst.Name) and node.value == "None"


def _annotation_text(annotation: cst.Annotation | None) -> str:
    if annotation is None:
        return ""
    return cst.Module([]).code_for_node(annotation.annotation)


def _numeric_annotation(text: str) -> bool:
    return bool(re.search(r"\b(float|int)\b", text)) and not re.search(r"\b(str|bytes)\b\s*\]", text)


class _Refs(cst.CSTVisitor):
    """What an expression or statement refers to: ``self`` attributes, names, calls, clocks, awaits."""

    def __init__(self) -> None:
        self.attrs: set[str] = set()
        self.names: set[str] = set()
        self.self_calls: set[str] = set()
        self.other_calls: set[str] = set()
        self.clock = False
        self.awaited: list[cst.Call] = []
        self.mixin_calls = False

    def visit_Attribute(self, node: cst.Attribute) -> bool:
        attr = _self_attr(node)
        if attr is not None:
            self.attrs.add(attr)
            return False
        node.value.visit(self)
        return False

    def visit_Name(self, node: cst.Name) -> None:
        self.names.add(node.value)

    def visit_Arg(self, node: cst.Arg) -> bool:
        node.value.visit(self)
        return False

    def visit_Call(self, node: cst.Call) -> bool:
        name = _call_name(node)
        if name in _CLOCK_CALLS:
            self.clock = True
        method = _self_attr(node.func)
        if method is not None:
            self.self_calls.add(method)
            if method in _MIXIN_CALLS:
                self.mixin_calls = True
            for arg in node.args:
                arg.visit(self)
            return False
        if name:
            self.other_calls.add(name)
        return True

    def visit_Await(self, node: cst.Await) -> None:
        if isinstance(node.expression, cst.Call):
            self.awaited.append(node.expression)


def _refs(*nodes: cst.CSTNode | None) -> _Refs:
    refs = _Refs()
    for node in nodes:
        if node is not None:
            node.visit(refs)
    return refs


def _body_statements(body: cst.BaseSuite) -> list[cst.BaseStatement]:
    if isinstance(body, cst.IndentedBlock):
        return list(body.body)
    if isinstance(body, cst.SimpleStatementSuite):
        return [cst.SimpleStatementLine(body=body.body)]
    return []


def _blocks(statement: cst.BaseStatement) -> list[list[cst.BaseStatement]]:
    """The statement lists nested directly in a compound statement."""
    blocks: list[list[cst.BaseStatement]] = []
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


def _walk(statements: Iterable[cst.BaseStatement]) -> Iterator[cst.BaseStatement]:
    """Every statement, compound ones before their contents; nested definitions are not entered."""
    for statement in statements:
        yield statement
        if isinstance(statement, (cst.FunctionDef, cst.ClassDef)):
            continue
        for block in _blocks(statement):
            yield from _walk(block)


def _small(statement: cst.BaseStatement) -> list[cst.BaseSmallStatement]:
    return list(statement.body) if isinstance(statement, cst.SimpleStatementLine) else []


def _assign_targets(small: cst.BaseSmallStatement) -> list[cst.BaseExpression]:
    if isinstance(small, cst.Assign):
        targets: list[cst.BaseExpression] = []
        for target in small.targets:
            if isinstance(target.target, (cst.Tuple, cst.List)):
                targets.extend(element.value for element in target.target.elements)
            else:
                targets.append(target.target)
        return targets
    if isinstance(small, (cst.AnnAssign, cst.AugAssign)):
        return [small.target]
    return []


def _small_value(small: cst.BaseSmallStatement) -> cst.BaseExpression | None:
    if isinstance(small, (cst.Assign, cst.AnnAssign, cst.AugAssign)):
        return small.value
    if isinstance(small, (cst.Expr, cst.Return)):
        return small.value
    return None


def _methods(node: cst.ClassDef) -> list[cst.FunctionDef]:
    return [s for s in _body_statements(node.body) if isinstance(s, cst.FunctionDef)]


def _is_static(function: cst.FunctionDef) -> bool:
    for decorator in function.decorators:
        value = decorator.decorator
        if isinstance(value, cst.Name) and value.value in ("staticmethod", "classmethod"):
            return True
    return False


def _is_clock_expression(node: cst.CSTNode | None, timers: set[str]) -> bool:
    if node is None:
        return False
    refs = _refs(node)
    return refs.clock or bool(refs.names & timers)


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
    """Per-function facts: locals that alias metric state and locals that hold timers."""

    node: cst.FunctionDef
    name: str
    aliases: dict[str, str] = field(default_factory=dict)  # local name -> attribute it aliases
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
        for target in _assign_targets(small):
            direct = _self_attr(target)
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
                owner = self._owner(function, call.func.value)
                if owner is not None:
                    self._attr(owner).mutations.append((method, call.func.attr.value, call))
        if isinstance(small, cst.Del):
            owner = self._owner(function, small.target)
            if owner is not None:
                self._attr(owner).mutations.append((method, "del", None))

    def _owner(self, function: _Function, target: cst.BaseExpression) -> str | None:
        """The attribute a target expression changes: ``self.x[k]``, ``self.x.y`` or an alias of them."""
        root = _root(target)
        attr = _self_attr(root)
        if attr is not None:
            return attr if root is not target else None
        if isinstance(root, cst.Name) and root is not target:
            return function.aliases.get(root.value)
        return None

    # -- classification -------------------------------------------------------------------
    def _seed_kind(self, record: _Attr) -> str | None:
        value = record.first_value
        if _OTHER_CONCERN_ATTR.search(record.name):
            return None
        if _is_number(value):
            if record.augs:
                return "counter"
            if any(_is_clock_expression(v, set()) for m, v in record.assigns if m not in _INIT_METHODS):
                return "gauge"
            return None
        if isinstance(value, cst.Call):
            factory = _call_name(value)
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
        if isinstance(value, cst.List) and not value.elements and self._numeric_samples(record):
            return "samples"
        if isinstance(value, cst.Dict):
            numeric = [e for e in value.elements if isinstance(e, cst.DictElement)
                       and (_is_number(e.value) or _is_none(e.value))]
            if record.item_augs and (not value.elements or 2 * len(numeric) >= len(value.elements) >= 2):
                return "dict" if value.elements else "map"
        return None

    def _numeric_samples(self, record: _Attr) -> bool:
        """Appends of durations, timestamps or other numbers (not of domain objects)."""
        appended = [call for _m, name, call in record.mutations if name in ("append", "appendleft") and call]
        if not appended:
            return False
        if _numeric_annotation(record.annotation):
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
            if function and any(_numeric_annotation(function.params.get(n, "")) for n in names):
                return True
        return False

    def _classify(self) -> None:
        for record in self.attrs.values():
            kind = self._seed_kind(record)
            if kind:
                self.kinds[record.name] = kind
        for _ in range(4):
            self._veto()
            before = (dict(self.kinds), set(self.updaters), set(self.accessors), set(self.helpers))
            self._classify_methods()
            self._adopt_private_state()
            if before == (self.kinds, self.updaters, self.accessors, self.helpers):
                break

    def _veto(self) -> None:
        """Drop attributes whose value is the node's output or steers its behaviour."""
        domain = _domain_attributes(self)
        for name in list(self.kinds):
            if name in domain or self._steers_behaviour(name):
                del self.kinds[name]

    def _steers_behaviour(self, attr: str) -> bool:
        for function in self.functions.values():
            if function.name in self.updaters | self.accessors:
                continue
            for statement in _walk(function.statements):
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
                            if isinstance(small, cst.Raise):
                                return True
                            inner_refs = _refs(small)
                            if any(_self_attr(c.func) not in self.kinds for c in inner_refs.awaited):
                                return True
                            for target in _assign_targets(small):
                                owner = _self_attr(_root(target))
                                if owner is not None and owner not in self.kinds and owner != attr:
                                    return True
        return False

    def _classify_methods(self) -> None:
        for function in self.functions.values():
            name = function.name
            if name in _LIFECYCLE:
                continue
            if self._is_updater(function):
                self.updaters.add(name)
                self.accessors.discard(name)
            elif self._is_accessor(function):
                self.accessors.add(name)
            elif self._is_helper(function):
                self.helpers.add(name)

    def metric_methods(self) -> set[str]:
        return self.updaters | self.accessors | self.helpers

    def _adopt_private_state(self) -> None:
        """State touched only by metric methods (locks, caches, peaks) is metric state too."""
        metric_methods = self.metric_methods()
        for record in self.attrs.values():
            if record.name in self.kinds or _OTHER_CONCERN_ATTR.search(record.name) or record.name in self.functions:
                continue
            users = record.methods - _INIT_METHODS
            value = record.first_value
            if isinstance(value, cst.Call) and _call_name(value) in _LOCK_FACTORIES:
                if self._guards_only_metrics(record.name):
                    self.kinds[record.name] = "lock"
                continue
            if users and users <= metric_methods and record.init_statements and (
                _is_number(value) or _is_none(value) or isinstance(value, (cst.Dict, cst.List))
            ):
                self.kinds[record.name] = "cache" if _is_none(value) else "gauge"

    def _guards_only_metrics(self, lock: str) -> bool:
        used = False
        for function in self.functions.values():
            for statement in _walk(function.statements):
                if isinstance(statement, cst.With) and any(_self_attr(i.item) == lock for i in statement.items):
                    used = True
                    if function.name not in self.metric_methods() and not all(
                        self.is_metric_statement(function, s) for s in _body_statements(statement.body)
                    ):
                        return False
                elif lock in _refs(*_header(statement)).attrs or any(
                    lock in _refs(s).attrs for s in _small(statement)
                ):
                    if function.name not in _INIT_METHODS and function.name not in self.metric_methods():
                        return False
        return used

    # -- statements -----------------------------------------------------------------------
    def writes_metrics(self, function: _Function, small: cst.BaseSmallStatement) -> bool:
        """The small statement changes metric state (directly, through an alias, or by a recording call)."""
        for target in _assign_targets(small):
            owner = _self_attr(target) or self._owner(function, target)
            if owner in self.kinds:
                return True
            if isinstance(target, cst.Name) and function.aliases.get(target.value) in self.kinds:
                return True
        if isinstance(small, cst.Del) and self._owner(function, small.target) in self.kinds:
            return True
        value = small.value if isinstance(small, cst.Expr) else None
        if isinstance(value, cst.Await):
            value = value.expression
        if isinstance(value, cst.Call):
            method = _self_attr(value.func)
            if method is not None:
                return method in self.updaters
            if isinstance(value.func, cst.Attribute) and self._owner(function, value.func.value) in self.kinds:
                return True
        return False

    def is_metric_statement(self, function: _Function, statement: cst.BaseStatement,
                            metric_locals: set[str] | None = None) -> bool:
        """True when every part of ``statement`` is metric bookkeeping (mixin calls count as done ones)."""
        metric_locals = metric_locals if metric_locals is not None else set()
        if isinstance(statement, cst.SimpleStatementLine):
            return all(self._metric_small(function, s, metric_locals) for s in statement.body)
        if isinstance(statement, (cst.FunctionDef, cst.ClassDef)):
            return False
        blocks = _blocks(statement)
        if not blocks:
            return False
        inner = [s for block in blocks for s in block]
        header_refs = _refs(*_header(statement))
        if header_refs.awaited and isinstance(statement, (cst.If, cst.While)):
            return False
        return all(self.is_metric_statement(function, s, metric_locals) for s in inner) and any(
            self._touches_metrics(function, s, metric_locals) for s in inner
        )

    def _touches_metrics(self, function: _Function, statement: cst.BaseStatement, metric_locals: set[str]) -> bool:
        for inner in _walk([statement]):
            for small in _small(inner):
                if self.writes_metrics(function, small) or _refs(small).mixin_calls:
                    return True
        return False

    def _metric_small(self, function: _Function, small: cst.BaseSmallStatement, metric_locals: set[str]) -> bool:
        if self.writes_metrics(function, small):
            return True
        if isinstance(small, cst.Pass):
            return True
        refs = _refs(small)
        if refs.mixin_calls and isinstance(small, cst.Expr):
            return True
        targets = _assign_targets(small)
        if targets and all(isinstance(t, cst.Name) for t in targets):
            names = {t.value for t in targets if isinstance(t, cst.Name)}
            if names & metric_locals:
                return True
            if all(function.aliases.get(n) in self.kinds for n in names):
                return True
        return False


def _root_parent(target: cst.BaseExpression) -> cst.BaseExpression:
    """The access one step below the root of a chain (``self.x[k]`` for ``self.x[k].y``)."""
    node = target
    previous = target
    while True:
        if _self_attr(node) is not None:
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
                root = _root(small.value)
                attr = _self_attr(root)
                if attr is None or not isinstance(small.value, (cst.Attribute, cst.Subscript)):
                    continue
                for target in _assign_targets(small):
                    if isinstance(target, cst.Name):
                        function.aliases[target.value] = attr
    return function


def _timers(function: _Function) -> set[str]:
    """Locals of ``function`` bound to a clock reading (or computed from one)."""
    timers: set[str] = set()
    for _ in range(3):
        for statement in _walk(function.statements):
            for small in _small(statement):
                if isinstance(small, (cst.Assign, cst.AnnAssign)) and _is_clock_expression(small.value, timers):
                    timers.update(t.value for t in _assign_targets(small) if isinstance(t, cst.Name))
    return timers


# --------------------------------------------------------------------------------------------
# Where values flow: node output versus operational read-outs
# --------------------------------------------------------------------------------------------
def _domain_attributes(info: _ClassMetrics) -> set[str]:
    """Candidate attributes whose values reach the node's output.

    A value is output when it is returned by ``process`` or passed (possibly through locals and
    through methods returning it) to an awaited call: a publish, a write, a response.
    """
    candidates = set(info.kinds)
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
                        for target in _assign_targets(small):
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
                        if _self_attr(call.func) in info.updaters:
                            continue
                        sinks |= set().union(*(flows(arg.value) for arg in call.args)) if call.args else set()
        if not changed:
            break
    for entry in ("process",):
        sinks |= returns.get(entry, set())
    return sinks
