"""Circuit breakers: hand-written breakers found by structure, replaced by omnibase-core's
ModelCircuitBreaker where the contract asks for it.

Three families are recognised: a breaker class written in the project (its own module, or built by
a shared ``create_*`` factory), breakers kept as plain node fields (a failure counter that trips an
"open until" timestamp), and omnibase-core's ModelCircuitBreaker driven by hand (also through the
node's own guard and failure-recording helpers, and breakers kept in a dict per dependency). Breaker
objects are identified by what they are built from (a class that guards a callable, counts failures
against a threshold and has an open state), never by attribute names alone. Besides construction and
guarded calls, the statements that read a breaker's state or metrics (health and metrics code) and
that catch or test its open-circuit error are reported, at statement granularity.
"""

from __future__ import annotations

import ast
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import ClassVar

import libcst as cst

from codemods.base import Codemod, Example
from omnimix.analysis.context import FileContext
from omnimix.analysis.module_cache import parse_file
from omnimix.analysis.syntax import (
    LOG_METHODS,
    Imported,
    annotation_names,
    assign_targets,
    body_statements,
    child_blocks,
    dotted_name,
    function_symbols,
    import_table,
    is_logging_statement,
    merge_spans,
    module_constants_used_only_in,
    module_file,
    resolve_symbol,
    self_attr,
    span_of,
    top_level_names,
    walk_body,
)
from omnimix.analysis.tree import walk
from omnimix.catalog import load_catalog
from omnimix.concerns import Action, Concern, Safety
from omnimix.findings import Finding
from omnimix.migration_state import MigrationState, Outcome

# =============================================================================================
# Source helpers
# =============================================================================================
TIME_METHODS = frozenset({"monotonic", "time", "perf_counter", "now", "utcnow", "monotonic_ns", "time_ns"})
_DEF_NODES = (cst.FunctionDef, cst.ClassDef, cst.Lambda)


def is_time_call(node: cst.CSTNode) -> bool:
    return isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute) and node.func.attr.value in TIME_METHODS


# -- imports and other modules ----------------------------------------------------------------


def imported_modules(path: Path, text: str) -> set[Path]:
    """Project files imported by a Python source (by any import form)."""
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return set()
    found: set[Path] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            base = node.module or ""
            target = module_file(path, base, node.level)
            if target is not None:
                found.add(target.resolve())
            for alias in node.names:
                sub = module_file(path, f"{base}.{alias.name}" if base else alias.name, node.level)
                if sub is not None:
                    found.add(sub.resolve())
        elif isinstance(node, ast.Import):
            for alias in node.names:
                target = module_file(path, alias.name, 0)
                if target is not None:
                    found.add(target.resolve())
    return found


# -- module constants used only by concern code ------------------------------------------------


# =============================================================================================
# Breaker classes, factories and modules
# =============================================================================================
_ENUM_BASES = {"Enum", "StrEnum", "IntEnum"}
_CORE_MODULE_PREFIX = "omnibase_core"
_CORE_BREAKER = "ModelCircuitBreaker"
_CORE_STATE_ENUM = "EnumCircuitBreakerState"
_DRIFT_RENAMES = {"can_execute": "should_allow_request", "allow_request": "should_allow_request",
                  "is_request_allowed": "should_allow_request", "get_state": "get_current_state"}
_CORE_GUARDS = {"should_allow_request"}
_CORE_MUTATORS = {"record_success", "record_failure", "record_slow_call", "reset", "reset_state",
                  "force_open", "force_close"}
_CORE_KWARG_RENAMES = {"recovery_timeout": "timeout_seconds", "reset_timeout": "timeout_seconds",
                       "half_open_max_calls": "half_open_max_requests"}
_OPEN_LITERALS = {"'open'", '"open"'}


@dataclass
class ClassSpec:
    """A hand-written breaker class: what it guards with, counts, and how it is configured."""

    name: str
    path: Path
    guard_methods: set[str]
    mutators: set[str]
    async_methods: set[str]
    dict_methods: set[str]
    remaining_time_methods: set[str]
    params: list[tuple[str, cst.BaseExpression | None]]
    param_attr: dict[str, str]
    state_enums: set[str]
    open_errors: set[str]
    resets_on_success: bool
    injected_clock: bool
    accepts_sync_callables: bool
    counted_param: str | None
    excluded_param: str | None
    state_moves_on_read: bool = False  # its ``state`` property turns OPEN into HALF_OPEN once the timeout passed
    state_methods: set[str] = field(default_factory=set)  # ``get_state()``: methods returning the state enum
    dict_keys: dict[str, list[str]] = field(default_factory=dict)  # dict method -> the keys of the dict it returns
    excluded_as_success: bool = False  # its excluded exceptions are recorded as successes, not passed through
    state_attrs: set[str] = field(default_factory=set)  # public attributes holding the state enum
    roles: dict[str, str] = field(default_factory=dict)  # constructor parameter -> role

    def role(self, param: str) -> str | None:
        return self.roles.get(param) or _param_role(param)


@dataclass
class FactorySpec:
    """A function that builds and returns a breaker class instance."""

    name: str
    path: Path
    spec: ClassSpec
    params: list[tuple[str, cst.BaseExpression | None]]
    forward: dict[str, str]  # factory parameter -> class parameter


def _param_role(name: str) -> str | None:
    lowered = name.lower()
    if lowered == "name":
        return "name"
    if "clock" in lowered or "time_source" in lowered:
        return "clock"
    if "exclude" in lowered or "ignore" in lowered:
        return "excluded"
    if "exception" in lowered or "errors" in lowered:
        return "counted"
    if "success" in lowered:
        return "success"
    if "half_open" in lowered or "trial" in lowered:
        return "half_open"
    if "failure" in lowered and any(word in lowered for word in ("threshold", "max", "limit")):
        return "failure"
    if any(word in lowered for word in ("timeout", "recovery", "reset", "cooldown", "cool_down")):
        return "timeout_ms" if lowered.endswith("_ms") or "millis" in lowered else "timeout"
    return None


def _params(func: cst.FunctionDef) -> list[tuple[str, cst.BaseExpression | None]]:
    params = [*func.params.posonly_params, *func.params.params, *func.params.kwonly_params]
    return [(p.name.value, p.default) for p in params if p.name.value not in {"self", "cls"}]


def _methods(cls: cst.ClassDef) -> dict[str, cst.FunctionDef]:
    if not isinstance(cls.body, cst.IndentedBlock):
        return {}
    return {stmt.name.value: stmt for stmt in cls.body.body if isinstance(stmt, cst.FunctionDef)}


def _is_property(func: cst.FunctionDef) -> bool:
    return any(dotted_name(d.decorator) in {"property", "functools.cached_property", "cached_property"}
               for d in func.decorators)


def _self_calls(func: cst.FunctionDef) -> set[str]:
    return {node.func.attr.value for node in walk_body(func)
            if isinstance(node, cst.Call) and self_attr(node.func) is not None}


def enum_with_open_state(cls: cst.ClassDef) -> bool:
    """An Enum whose members include CLOSED and OPEN: a breaker state enum."""
    if not any((dotted_name(arg.value) or "").rsplit(".", 1)[-1] in _ENUM_BASES for arg in cls.bases):
        return False
    members = set()
    for stmt in cls.body.body if isinstance(cls.body, cst.IndentedBlock) else []:
        if isinstance(stmt, cst.SimpleStatementLine):
            for small in stmt.body:
                if isinstance(small, cst.Assign):
                    members.update(t.target.value.upper() for t in small.targets if isinstance(t.target, cst.Name))
    return {"OPEN", "CLOSED"} <= members


def _literal_key(key: cst.BaseExpression | None) -> str | None:
    return key.evaluated_value if isinstance(key, cst.SimpleString) else None  # type: ignore[return-value]


def _breaker_class_spec(path: Path, cls: cst.ClassDef, enums: set[str]) -> ClassSpec | None:
    methods = _methods(cls)
    init = methods.get("__init__")
    guard_methods: set[str] = set()
    for name, func in methods.items():
        if name.startswith("__"):
            continue
        params = {p for p, _ in _params(func)}
        if any(isinstance(n, cst.Call) and isinstance(n.func, cst.Name) and n.func.value in params
               for n in walk_body(func)):
            guard_methods.add(name)
    if not guard_methods:
        return None
    everything = list(walk(cls, into_defs=True))
    counters = {self_attr(n.target) for n in everything
                if isinstance(n, cst.AugAssign) and isinstance(n.operator, cst.AddAssign) and self_attr(n.target)}
    threshold_compare = any(
        isinstance(n, cst.Comparison) and self_attr(n.left) in counters
        and any(isinstance(c.operator, (cst.GreaterThanEqual, cst.GreaterThan)) for c in n.comparisons)
        for n in everything
    )
    open_refs = {dotted_name(n.value) for n in everything
                 if isinstance(n, cst.Attribute) and n.attr.value == "OPEN"}
    has_open = bool(open_refs) or any(isinstance(n, cst.SimpleString) and n.value in _OPEN_LITERALS
                                      for n in everything)
    if not (threshold_compare and has_open):
        return None

    params = _params(init) if init else []
    param_names = {p for p, _ in params}
    param_attr: dict[str, str] = {}
    if init is not None:
        for node in walk_body(init):
            if isinstance(node, (cst.Assign, cst.AnnAssign)) and node.value is not None:
                targets = [t.target for t in node.targets] if isinstance(node, cst.Assign) else [node.target]
                used = {n.value for n in walk(node.value) if isinstance(n, cst.Name)} & param_names
                for target in targets:
                    attr = self_attr(target)
                    if attr and len(used) == 1:
                        param_attr[used.pop()] = attr
    attr_param = {attr: param for param, attr in param_attr.items()}
    roles = _structural_roles(cls, counters, attr_param)

    mutators: set[str] = set()
    for name, func in methods.items():
        if name.startswith("__") or name in guard_methods or _is_property(func):
            continue
        if any(isinstance(n, (cst.Assign, cst.AugAssign, cst.AnnAssign))
               and any(self_attr(t) or (isinstance(t, cst.Subscript) and self_attr(t.value))
                       for t in assign_targets(n))
               for n in walk_body(func)):
            mutators.add(name)
    changed = True
    while changed:
        changed = False
        for name, func in methods.items():
            if name not in mutators and not name.startswith("__") and name not in guard_methods \
                    and not _is_property(func) and _self_calls(func) & mutators:
                mutators.add(name)
                changed = True

    timeout_attr = next((attr for param, attr in param_attr.items()
                         if (roles.get(param) or _param_role(param)) in {"timeout", "timeout_ms"}), None)
    dict_methods, remaining, state_methods = set(), set(), set()
    dict_keys: dict[str, list[str]] = {}
    state_holders = {self_attr(t.target) for n in everything if isinstance(n, cst.Assign) for t in n.targets
                     if self_attr(t.target) and isinstance(n.value, cst.Attribute) and n.value.attr.value == "CLOSED"}
    state_holders |= {"state"} if "state" in methods and _is_property(methods["state"]) else set()
    for name, func in methods.items():
        if name.startswith("_") or name in mutators or name in guard_methods or _params(func):
            continue
        returns = [n for n in walk_body(func) if isinstance(n, cst.Return) and n.value is not None]
        if returns and all(isinstance(r.value, cst.Dict) for r in returns):
            dict_methods.add(name)
            dict_keys[name] = sorted({_literal_key(e.key) for r in returns for e in r.value.elements  # type: ignore[union-attr]
                                      if isinstance(e, cst.DictElement) and _literal_key(e.key)})
        elif returns and not _is_property(func) and all(self_attr(r.value) in state_holders for r in returns):
            state_methods.add(name)
        elif timeout_attr and not _is_property(func) and any(self_attr(n) == timeout_attr for n in walk_body(func)) \
                and any(is_time_call(n) for n in walk_body(func)):
            remaining.add(name)

    # which exceptions count as failures, which pass through untouched
    counted_param = excluded_param = None
    success_methods: set[str] = set()
    success_zeroing: list[cst.CSTNode] = []
    excluded_as_success = False
    for name in guard_methods:
        func = methods[name]
        body = body_statements(func)
        for node in walk_body(func):
            if isinstance(node, cst.Try):
                after = [*body[next((i for i, s in enumerate(body) if s is node), len(body)) + 1:],
                         *([node.orelse] if node.orelse else [])]
                on_success = {n.func.attr.value for a in after for n in walk(a)
                              if isinstance(n, cst.Call) and self_attr(n.func)}
                for handler in node.handlers:
                    attr = self_attr(handler.type) if handler.type is not None else None
                    only_raise = all(isinstance(s, cst.SimpleStatementLine) and all(isinstance(x, cst.Raise) for x in s.body)
                                     for s in handler.body.body)
                    recorded = {n.func.attr.value for n in walk(handler.body)
                                if isinstance(n, cst.Call) and self_attr(n.func)}
                    reraised = any(isinstance(n, cst.Raise) and n.exc is None for n in walk(handler.body))
                    if attr and attr in attr_param:
                        if only_raise:
                            excluded_param = attr_param[attr]
                        elif reraised and recorded and recorded <= on_success:  # counted as a success
                            excluded_param = attr_param[attr]
                            excluded_as_success = True
                        else:
                            counted_param = attr_param[attr]
                if node.orelse:
                    success_methods |= {n.func.attr.value for n in walk(node.orelse)
                                        if isinstance(n, cst.Call) and self_attr(n.func)}
        body = body_statements(func)
        for index, stmt in enumerate(body):
            if isinstance(stmt, cst.Try):
                for after in [*body[index + 1:], *([stmt.orelse] if stmt.orelse else [])]:
                    success_methods |= {n.func.attr.value for n in walk(after)
                                        if isinstance(n, cst.Call) and self_attr(n.func)}
                    success_zeroing.extend(walk(after))
    resets = any(
        isinstance(n, cst.Assign) and any(self_attr(t.target) in counters for t in n.targets)
        and isinstance(n.value, cst.Integer) and n.value.value == "0" for n in success_zeroing
    ) or any(
        isinstance(n, cst.Assign) and any(self_attr(t.target) in counters for t in n.targets)
        and isinstance(n.value, cst.Integer) and n.value.value == "0"
        for name in success_methods if name in methods for n in walk_body(methods[name])
    )
    state_enums = {name for name in open_refs if name in enums} or {
        name for name in open_refs if name and "." not in name}
    open_errors = {dotted_name(n.exc.func) for n in everything
                   if isinstance(n, cst.Raise) and isinstance(n.exc, cst.Call) and dotted_name(n.exc.func)}
    open_errors -= {"ValueError", "TypeError", "RuntimeError", "KeyError"}
    return ClassSpec(
        name=cls.name.value,
        path=path,
        guard_methods=guard_methods,
        mutators=mutators,
        async_methods={name for name, func in methods.items() if func.asynchronous is not None},
        dict_methods=dict_methods,
        remaining_time_methods=remaining,
        params=params,
        param_attr=param_attr,
        state_enums={e for e in state_enums if e},
        open_errors={e for e in open_errors if e},
        resets_on_success=resets,
        injected_clock=any((roles.get(p) or _param_role(p)) == "clock" for p, _ in params),
        accepts_sync_callables=any(dotted_name(n.func) in {"inspect.isawaitable", "asyncio.iscoroutine",
                                                            "inspect.iscoroutine"}
                                   for n in everything if isinstance(n, cst.Call)),
        counted_param=counted_param,
        excluded_param=excluded_param,
        roles=roles,
        state_attrs={self_attr(t.target) or "" for n in everything if isinstance(n, cst.Assign)
                     for t in n.targets if self_attr(t.target) and not (self_attr(t.target) or "_").startswith("_")
                     and isinstance(n.value, cst.Attribute) and dotted_name(n.value.value) in state_enums},
        state_methods=state_methods,
        dict_keys=dict_keys,
        excluded_as_success=excluded_as_success,
        state_moves_on_read="state" in methods and _is_property(methods["state"])
        and bool(_self_calls(methods["state"]) & (mutators | {n for n in methods if "transition" in n})),
    )


@dataclass
class BreakerModule:
    """The breaker classes, factories, state enums and open errors a module defines."""

    path: Path
    classes: dict[str, ClassSpec] = field(default_factory=dict)
    factories: dict[str, FactorySpec] = field(default_factory=dict)
    enums: set[str] = field(default_factory=set)
    errors: set[str] = field(default_factory=set)

    @classmethod
    def analyze(cls, path: Path, module: cst.Module) -> BreakerModule:
        result = cls(path)
        enums = {stmt.name.value for stmt in module.body
                 if isinstance(stmt, cst.ClassDef) and enum_with_open_state(stmt)}
        for stmt in module.body:
            if isinstance(stmt, cst.ClassDef):
                spec = _breaker_class_spec(path, stmt, enums)
                if spec is not None:
                    result.classes[spec.name] = spec
        if not result.classes:
            return result
        for spec in result.classes.values():
            result.enums |= spec.state_enums & enums
            result.errors |= spec.open_errors
        for stmt in module.body:
            if isinstance(stmt, cst.FunctionDef):
                factory = _factory_spec(path, stmt, result.classes)
                if factory is not None:
                    result.factories[factory.name] = factory
        return result


def _structural_roles(cls: cst.ClassDef, counters: set[str | None], attr_param: dict[str, str]) -> dict[str, str]:
    """Roles of constructor parameters read from how the class uses the attributes they set."""
    roles: dict[str, str] = {}
    timed = {t.target.value for n in walk(cls, into_defs=True) if isinstance(n, cst.Assign)
             and any(is_time_call(x) for x in walk(n.value)) for t in n.targets if isinstance(t.target, cst.Name)}

    def time_in(node: cst.CSTNode) -> bool:  # a clock reading, or a local computed from one
        return any(is_time_call(n) or (isinstance(n, cst.Name) and n.value in timed) for n in walk(node))

    for node in walk(cls, into_defs=True):
        if isinstance(node, cst.Comparison):
            sides = [node.left, *(c.comparator for c in node.comparisons)]
            if self_attr(node.left) in counters:
                for comparator in sides[1:]:
                    if self_attr(comparator) in attr_param:
                        roles[attr_param[self_attr(comparator) or ""]] = "failure"
            if any(time_in(side) for side in sides):
                for side in sides:
                    if self_attr(side) in attr_param and not time_in(side):
                        roles.setdefault(attr_param[self_attr(side) or ""], "timeout")
        elif isinstance(node, cst.BinaryOperation) and isinstance(node.operator, (cst.Add, cst.Subtract)):
            if time_in(node):
                for side in (node.left, node.right):
                    if self_attr(side) in attr_param:
                        roles.setdefault(attr_param[self_attr(side) or ""], "timeout")
        elif is_time_call(node) and self_attr(node.func.value) in attr_param:  # type: ignore[attr-defined]
            roles[attr_param[self_attr(node.func.value) or ""]] = "clock"  # type: ignore[attr-defined]
    for param, role in list(roles.items()):
        if role == "timeout" and _param_role(param) == "timeout_ms":
            roles[param] = "timeout_ms"
    return roles


def _factory_spec(path: Path, func: cst.FunctionDef, classes: dict[str, ClassSpec]) -> FactorySpec | None:
    built: dict[str, cst.Call] = {}
    returned_call: cst.Call | None = None
    for node in walk_body(func):
        if isinstance(node, cst.Assign) and isinstance(node.value, cst.Call) and dotted_name(node.value.func) in classes:
            for target in node.targets:
                if isinstance(target.target, cst.Name):
                    built[target.target.value] = node.value
        if isinstance(node, cst.Return) and node.value is not None:
            if isinstance(node.value, cst.Call) and dotted_name(node.value.func) in classes:
                returned_call = node.value
            elif isinstance(node.value, cst.Name) and node.value.value in built:
                returned_call = built[node.value.value]
    if returned_call is None:
        return None
    spec = classes[dotted_name(returned_call.func) or ""]
    params = _params(func)
    factory_params = {p for p, _ in params}
    forward: dict[str, str] = {}
    positional = [p for p, _ in spec.params]
    for index, arg in enumerate(returned_call.args):
        if isinstance(arg.value, cst.Name) and arg.value.value in factory_params:
            if arg.keyword is not None:
                forward[arg.value.value] = arg.keyword.value
            elif arg.star == "" and index < len(positional):
                forward[arg.value.value] = positional[index]
    return FactorySpec(func.name.value, path, spec, params, forward)


@lru_cache(maxsize=32)
def _module_breakers_cached(path: str, mtime_ns: int) -> BreakerModule:
    module = parse_file(Path(path))
    return BreakerModule.analyze(Path(path), module) if module is not None else BreakerModule(Path(path))


def module_breakers(path: Path) -> BreakerModule:
    try:
        return _module_breakers_cached(str(path), path.stat().st_mtime_ns)
    except OSError:
        return BreakerModule(path)


def breaker_module_findings(ctx: FileContext, breakers: BreakerModule) -> list[tuple[int, int]]:
    """Spans of a module that defines a breaker class: every definition that is about breakers."""
    symbols: set[str] = set(breakers.classes) | breakers.enums | breakers.errors | set(breakers.factories)
    symbols |= {stmt.name.value for stmt in ctx.module.body
                if isinstance(stmt, cst.ClassDef) and _holds_only_breakers(stmt, set(breakers.classes))}
    spans: list[tuple[int, int]] = []
    chosen: set[int] = set()
    changed = True
    while changed:
        changed = False
        for stmt in ctx.module.body:
            if id(stmt) in chosen:
                continue
            name = stmt.name.value if isinstance(stmt, (cst.ClassDef, cst.FunctionDef)) else None
            if isinstance(stmt, cst.ClassDef) and name not in symbols:
                continue  # other classes (a node using the breaker) are not breaker code
            if name in symbols or _references(stmt, symbols):
                chosen.add(id(stmt))
                changed = True
                if name:
                    symbols.add(name)
                for target in _statement_targets(stmt):
                    symbols.add(target)
    for stmt in ctx.module.body:
        if id(stmt) in chosen:
            spans.append(span_of(ctx, stmt))
    return spans


def _holds_only_breakers(cls: cst.ClassDef, classes: set[str]) -> bool:
    """A registry of breakers: every attribute its constructor sets is typed or built as a breaker class."""
    init = _methods(cls).get("__init__")
    if init is None or cls.name.value in classes:
        return False
    held = 0
    for node in walk_body(init):
        if isinstance(node, (cst.Assign, cst.AnnAssign)) and any(self_attr(t) for t in assign_targets(node)):
            names = annotation_names(node.annotation) if isinstance(node, cst.AnnAssign) else set()
            names |= {dotted_name(n.func) or "" for n in walk(node.value) if isinstance(n, cst.Call)} \
                if node.value is not None else set()
            if not names & classes:
                return False
            held += 1
    return held > 0


def _references(stmt: cst.CSTNode, symbols: set[str]) -> bool:
    if isinstance(stmt, cst.SimpleStatementLine):
        if any(isinstance(small, (cst.Import, cst.ImportFrom)) for small in stmt.body):
            return False
        names: set[str] = set()
        for small in stmt.body:
            if isinstance(small, cst.AnnAssign):
                names |= annotation_names(small.annotation)
            names |= {n.value for n in walk(small, into_defs=True) if isinstance(n, cst.Name)}
            names -= {dotted_name(t) for t in assign_targets(small) if isinstance(t, cst.Name)}
        return bool(names & symbols)
    imports = [n for n in walk(stmt, into_defs=True) if isinstance(n, (cst.Import, cst.ImportFrom))]
    imported = {id(n) for node in imports for n in walk(node)}
    return any(isinstance(n, cst.Name) and n.value in symbols and id(n) not in imported
               for n in walk(stmt, into_defs=True))


def _is_main_block(stmt: cst.CSTNode) -> bool:
    return isinstance(stmt, cst.If) and "__main__" in cst.Module([]).code_for_node(stmt.test)


def _statement_targets(stmt: cst.CSTNode) -> set[str]:
    if not isinstance(stmt, cst.SimpleStatementLine):
        return set()
    return {t.value for small in stmt.body for t in assign_targets(small) if isinstance(t, cst.Name)}


# =============================================================================================
# Breakers used by a file
# =============================================================================================
LOCAL, FACTORY, CORE, FIELDS = "local", "factory", "core", "fields"


@dataclass
class Breaker:
    """One breaker object (or one set of breaker fields) of a file, keyed by how the code names it."""

    key: str  # "self._breaker", "breaker", "fields:<Class>", "param:<function>.<name>"
    kind: str
    spec: ClassSpec | None = None
    factory: FactorySpec | None = None
    calls: list[cst.Call] = field(default_factory=list)
    fields: set[str] = field(default_factory=set)
    collection: bool = False  # a dict or list of breakers (one per host or dependency), not one breaker
    alias: bool = False  # a name bound to a breaker built elsewhere (an element of a collection, a getter's result)

    @property
    def attr(self) -> str | None:
        return self.key[5:] if self.key.startswith("self.") else None


@dataclass
class Symbols:
    """What the names of a file refer to, as far as breakers are concerned."""

    classes: dict[str, ClassSpec] = field(default_factory=dict)
    factories: dict[str, FactorySpec] = field(default_factory=dict)
    enums: dict[str, tuple[str, str]] = field(default_factory=dict)  # local name -> (defining path, name)
    errors: dict[str, tuple[str, str]] = field(default_factory=dict)
    core: set[str] = field(default_factory=set)
    core_enums: set[str] = field(default_factory=set)

    def errors_of(self, spec: ClassSpec) -> set[str]:
        """Local names of the open errors ``spec`` raises."""
        return {local for local, (path, name) in self.errors.items()
                if path == str(spec.path) and name in spec.open_errors}

    def enums_of(self, spec: ClassSpec) -> set[str]:
        return {local for local, (path, name) in self.enums.items()
                if path == str(spec.path) and name in spec.state_enums}


def file_symbols(path: Path, module: cst.Module, own: BreakerModule) -> Symbols:
    symbols = Symbols()
    symbols.classes.update(own.classes)
    symbols.factories.update(own.factories)
    symbols.enums.update({name: (str(path), name) for name in own.enums})
    symbols.errors.update({name: (str(path), name) for name in own.errors})
    for local, imported in import_table(module).items():
        if imported.name is None:
            continue
        if imported.module.startswith(_CORE_MODULE_PREFIX) and imported.level == 0:
            if imported.name == _CORE_BREAKER:
                symbols.core.add(local)
            elif imported.name == _CORE_STATE_ENUM:
                symbols.core_enums.add(local)
            continue
        resolved = resolve_symbol(path, module, local)
        if resolved is None:
            continue
        target, name = resolved
        breakers = module_breakers(target)
        if name in breakers.classes:
            symbols.classes[local] = breakers.classes[name]
        elif name in breakers.factories:
            symbols.factories[local] = breakers.factories[name]
        elif name in breakers.enums:
            symbols.enums[local] = (str(target), name)
        elif name in breakers.errors:
            symbols.errors[local] = (str(target), name)
    return symbols


def _built_breaker(value: cst.BaseExpression | None, symbols: Symbols) -> tuple[str, object] | None:
    """(kind, spec or factory) when ``value`` builds a breaker."""
    if not isinstance(value, cst.Call):
        return None
    func = value.func
    name = dotted_name(func)
    if name in symbols.classes:
        return LOCAL, symbols.classes[name]
    if name in symbols.factories:
        return FACTORY, symbols.factories[name]
    if name in symbols.core or (isinstance(func, cst.Attribute) and dotted_name(func.value) in symbols.core
                                and func.attr.value.startswith("create_")):
        return CORE, None
    return None


def _annotated_breaker(annotation: cst.CSTNode | None, symbols: Symbols) -> tuple[str, object] | None:
    names = annotation_names(annotation)
    spec = next((symbols.classes[n] for n in sorted(names) if n in symbols.classes), None)
    if spec is not None:
        return LOCAL, spec
    if names & symbols.core:
        return CORE, None
    return None


_OPTIONAL_WRAPPERS = {"Optional", "Union", "Annotated", "ClassVar", "Final"}


def _annotates_collection(annotation: cst.CSTNode | None) -> bool:
    """``dict[str, B]`` / ``list[B]``: a container of breakers (``B | None`` and ``Optional[B]`` are not)."""
    node = annotation.annotation if isinstance(annotation, cst.Annotation) else annotation
    while isinstance(node, cst.Subscript) and (dotted_name(node.value) or "").rsplit(".", 1)[-1] in _OPTIONAL_WRAPPERS:
        inner = [e.slice.value for e in node.slice if isinstance(e.slice, cst.Index)]
        node = inner[0] if inner else None
    if isinstance(node, cst.BinaryOperation):  # X | None
        return _annotates_collection(node.left) or _annotates_collection(node.right)
    return isinstance(node, cst.Subscript)


_COLLECTION_GETTERS = {"get", "pop", "setdefault"}
_COLLECTION_ITERATORS = {"values", "items"}


def _element_of(expr: cst.BaseExpression, found: dict[str, Breaker], getters: dict[str, Breaker]) -> Breaker | None:
    """The breaker an expression yields: a breaker name itself, an element of a breaker collection,
    or the result of a method that returns a breaker."""
    if isinstance(expr, cst.Subscript):
        holder = found.get(dotted_name(expr.value) or "")
        return holder if holder is not None and holder.collection else None
    if isinstance(expr, cst.Call) and isinstance(expr.func, cst.Attribute):
        holder = found.get(dotted_name(expr.func.value) or "")
        if holder is not None and holder.collection and expr.func.attr.value in _COLLECTION_GETTERS:
            return holder
        return getters.get(self_attr(expr.func) or "")
    if isinstance(expr, (cst.Name, cst.Attribute)):
        held = found.get(dotted_name(expr) or "")
        return held if held is not None and not held.collection and held.kind != FIELDS else None
    return None


def _held_elements(expr: cst.BaseExpression, found: dict[str, Breaker], getters: dict[str, Breaker]) -> Breaker | None:
    """A literal dict or list whose values are all breakers held elsewhere (one per dependency)."""
    if isinstance(expr, cst.Dict):
        items = [e.value for e in expr.elements if isinstance(e, cst.DictElement)]
    elif isinstance(expr, (cst.List, cst.Tuple)):
        items = [e.value for e in expr.elements if isinstance(e, cst.Element)]
    else:
        return None
    elements = [_element_of(item, found, getters) for item in items]
    if not elements or any(e is None for e in elements) or len({e.kind for e in elements if e}) != 1:
        return None
    return elements[0]


def _iterated_elements(target: cst.BaseExpression, iterable: cst.BaseExpression, found: dict[str, Breaker]
                       ) -> tuple[cst.BaseExpression, Breaker] | None:
    """``for b in coll.values()`` / ``for k, b in coll.items()``: the loop target bound to a breaker."""
    if not isinstance(iterable, cst.Call) or not isinstance(iterable.func, cst.Attribute):
        return None
    holder = found.get(dotted_name(iterable.func.value) or "")
    if holder is None or not holder.collection or iterable.func.attr.value not in _COLLECTION_ITERATORS:
        return None
    if iterable.func.attr.value == "values":
        return target, holder
    if isinstance(target, cst.Tuple) and len(target.elements) == 2:
        return target.elements[1].value, holder
    return None


def _breaker_getter(func: cst.FunctionDef, symbols: Symbols) -> Breaker | None:
    """A method whose return annotation is a breaker class (``def _get_breaker(self, host) -> B``)."""
    if func.returns is None or _annotates_collection(func.returns):
        return None
    annotated = _annotated_breaker(func.returns, symbols)
    if annotated is None:
        return None
    kind, spec = annotated
    return Breaker(func.name.value, kind, spec=spec if kind == LOCAL else None, alias=True)  # type: ignore[arg-type]


def _target_key(target: cst.CSTNode) -> str | None:
    attr = self_attr(target)
    if attr:
        return f"self.{attr}"
    return target.value if isinstance(target, cst.Name) else None


def find_breakers(module: cst.Module, symbols: Symbols) -> dict[str, Breaker]:
    """Breaker objects built in a file (attributes or names), collections of them, names bound to
    them, and breakers kept as node fields."""
    found: dict[str, Breaker] = {}

    def record(key: str, kind: str, spec: object, call: cst.Call | None, collection: bool = False) -> None:
        breaker = found.get(key)
        if breaker is None or (call is not None and not breaker.calls):
            breaker = Breaker(key, kind, calls=breaker.calls if breaker else [], collection=collection)
            if kind == FACTORY:
                breaker.factory = spec  # type: ignore[assignment]
                breaker.spec = breaker.factory.spec  # type: ignore[union-attr]
            elif kind == LOCAL:
                breaker.spec = spec  # type: ignore[assignment]
            found[key] = breaker
        if call is not None:
            breaker.calls.append(call)

    assignments: list[tuple[list[cst.BaseAssignTargetExpression], cst.BaseExpression]] = []
    loops: list[tuple[cst.BaseExpression, cst.BaseExpression]] = []
    getters: dict[str, Breaker] = {}
    for node in walk(module, into_defs=True):
        if isinstance(node, (cst.Assign, cst.AnnAssign)):
            targets = [t.target for t in node.targets] if isinstance(node, cst.Assign) else [node.target]
            built = _built_breaker(node.value, symbols)
            annotated = _annotated_breaker(node.annotation, symbols) if isinstance(node, cst.AnnAssign) else None
            collection = _collection_of(node, symbols)
            for target in targets:
                key = _target_key(target)
                if key is None:
                    continue
                if built is not None:
                    record(key, built[0], built[1], node.value)  # type: ignore[arg-type]
                elif collection is not None:
                    record(key, collection[0], collection[1], None, collection=True)
                elif annotated is not None:
                    record(key, annotated[0], annotated[1], None)
            if node.value is not None and built is None and collection is None:
                assignments.append((targets, node.value))
        elif isinstance(node, cst.FunctionDef):
            for param in [*node.params.params, *node.params.kwonly_params]:
                annotated = _annotated_breaker(param.annotation, symbols)
                if annotated is not None:
                    record(param.name.value, annotated[0], annotated[1], None,
                           collection=_annotates_collection(param.annotation))
            getter = _breaker_getter(node, symbols)
            if getter is not None:
                getters[node.name.value] = getter
        elif isinstance(node, (cst.For, cst.CompFor)):
            loops.append((node.target, node.iter))
    changed = True
    while changed:  # names bound to breakers held elsewhere
        changed = False
        for targets, value in assignments:
            element = _element_of(value, found, getters)
            held = _held_elements(value, found, getters) if element is None else None
            for target in targets:
                key = _target_key(target)
                if key is None or key in found:
                    continue
                if element is not None:
                    found[key] = Breaker(key, element.kind, spec=element.spec, factory=element.factory, alias=True)
                    changed = True
                elif held is not None:
                    found[key] = Breaker(key, held.kind, spec=held.spec, factory=held.factory, alias=True,
                                         collection=True)
                    changed = True
        for target, iterable in loops:
            bound = _iterated_elements(target, iterable, found)
            key = _target_key(bound[0]) if bound is not None else None
            if bound is not None and key is not None and key not in found:
                holder = bound[1]
                found[key] = Breaker(key, holder.kind, spec=holder.spec, factory=holder.factory, alias=True)
                changed = True
    for cls in (stmt for stmt in module.body if isinstance(stmt, cst.ClassDef)):
        if cls.name.value in symbols.classes:
            continue
        fields = _tripping_fields(cls)
        if fields:
            key = f"fields:{cls.name.value}"
            found[key] = Breaker(key, FIELDS, fields=fields)
    return found


def _collection_of(node: cst.Assign | cst.AnnAssign, symbols: Symbols) -> tuple[str, object] | None:
    """(kind, spec) when the assignment holds several breakers: annotated ``dict[str, B]`` or a
    literal dict / list whose values build breakers."""
    if isinstance(node, cst.AnnAssign) and _annotates_collection(node.annotation):
        annotated = _annotated_breaker(node.annotation, symbols)
        if annotated is not None:
            return annotated
    value = node.value
    items: list[cst.BaseExpression] = []
    if isinstance(value, cst.Dict):
        items = [e.value for e in value.elements if isinstance(e, cst.DictElement)]
    elif isinstance(value, (cst.List, cst.Tuple)):
        items = [e.value for e in value.elements if isinstance(e, cst.Element)]
    built = [_built_breaker(item, symbols) for item in items]
    if built and all(b is not None for b in built) and len({b[0] for b in built}) == 1:  # type: ignore[index]
        return built[0]
    return None


def _tripping_fields(cls: cst.ClassDef) -> set[str]:
    """Fields of an ad-hoc breaker: a failure counter that, past a threshold, sets an open marker."""
    fields: set[str] = set()
    for func in _methods(cls).values():
        counters = {self_attr(n.target) for n in walk_body(func)
                    if isinstance(n, cst.AugAssign) and isinstance(n.operator, cst.AddAssign) and self_attr(n.target)}
        if not counters:
            continue
        for node in walk_body(func):
            if not isinstance(node, cst.If) or not isinstance(node.test, cst.Comparison):
                continue
            test = node.test
            if self_attr(test.left) not in counters or not any(
                    isinstance(c.operator, (cst.GreaterThanEqual, cst.GreaterThan, cst.Equal)) for c in test.comparisons):
                continue
            for inner in walk(node.body):
                if not isinstance(inner, cst.Assign):
                    continue
                opened = [self_attr(t.target) for t in inner.targets if self_attr(t.target)]
                opens = any(is_time_call(n) for n in walk(inner.value)) or any(
                    (isinstance(n, cst.SimpleString) and n.value in _OPEN_LITERALS)
                    or (isinstance(n, cst.Attribute) and n.attr.value == "OPEN") for n in walk(inner.value))
                if opened and opens and _guards(cls, {o for o in opened if o}):
                    fields.add(self_attr(test.left) or "")
                    fields.update(o for o in opened if o)
                    fields.update(self_attr(c.comparator) or "" for c in test.comparisons)
                    fields.update(_value_attrs(inner.value))
    fields.discard("")
    return fields


def _guards(cls: cst.ClassDef, markers: set[str]) -> bool:
    """Whether some method refuses work (raises) depending on an open marker."""
    return any(isinstance(node, cst.If) and any(self_attr(n) in markers for n in walk(node.test))
               and any(isinstance(n, cst.Raise) for n in walk(node.body))
               for func in _methods(cls).values() for node in walk_body(func))


def _value_attrs(value: cst.BaseExpression) -> set[str]:
    """``self.x`` attributes read by an expression, except receivers of time calls (the clock)."""
    receivers = {id(n.func.value) for n in walk(value) if is_time_call(n)}  # type: ignore[attr-defined]
    return {self_attr(n) or "" for n in walk(value) if self_attr(n) and id(n) not in receivers}


# =============================================================================================
# Detection in one file
# =============================================================================================
@dataclass
class BreakerUse:
    """One stretch of breaker code: the breakers it touches and what it is."""

    start: int
    end: int
    keys: set[str]
    drift: set[str] = field(default_factory=set)  # ModelCircuitBreaker methods that no longer exist
    module_level: bool = False  # a definition of a breaker module (class, enum, error, factory, demo)
    reads_only: bool = False  # it only reads breaker state (health and metrics code)


@dataclass
class FileAnalysis:
    """The breakers of one file and the stretches of code about them."""

    symbols: Symbols
    own: BreakerModule
    breakers: dict[str, Breaker]
    uses: list[BreakerUse] = field(default_factory=list)
    operations: dict[str, bool] = field(default_factory=dict)  # dedicated method -> mutates or guards
    method_keys: dict[str, set[str]] = field(default_factory=dict)
    open_errors: set[str] = field(default_factory=set)


@lru_cache(maxsize=1)
def _core_members() -> frozenset[str]:
    entry = load_catalog().get(_CORE_BREAKER)
    if entry is None:
        return frozenset()
    return frozenset({m.name for m in entry.methods} | set(entry.config_keys) | {"model_dump", "model_copy"})


def analyze_file(ctx: FileContext) -> FileAnalysis:
    own = BreakerModule.analyze(ctx.path, ctx.module)
    symbols = file_symbols(ctx.path, ctx.module, own)
    analysis = FileAnalysis(symbols, own, find_breakers(ctx.module, symbols), open_errors=set(symbols.errors))
    if own.classes:
        for start, end in breaker_module_findings(ctx, own):
            analysis.uses.append(BreakerUse(start, end, {f"module:{ctx.path}"}, module_level=True))
    if analysis.breakers:
        _find_dedicated(ctx, analysis)
        _find_statements(ctx, analysis)
    _add_constants(ctx, analysis)
    return analysis


def _operation(call: cst.Call, analysis: FileAnalysis) -> tuple[set[str], str | None]:
    """(breaker keys, kind) of a call on a breaker; kinds: guard, call, mutate, drift (None: inspection)."""
    func = call.func
    if not isinstance(func, cst.Attribute):
        return set(), None
    receiver = dotted_name(func.value) or ""
    method = func.attr.value
    breaker = analysis.breakers.get(receiver)
    if breaker is None and isinstance(func.value, (cst.Subscript, cst.Call)):  # ``self._breakers[name].record_success()``
        breaker = _element_of(func.value, analysis.breakers, {})
        receiver = breaker.key if breaker is not None else receiver
    if breaker is not None and breaker.collection and dotted_name(func.value) == receiver:
        return {receiver}, None
    if breaker is not None and breaker.kind != FIELDS:
        if breaker.kind == CORE:
            if method in _CORE_GUARDS:
                return {receiver}, "guard"
            if method in _CORE_MUTATORS:
                return {receiver}, "mutate"
            return {receiver}, (None if method in _core_members() else "drift")
        spec = breaker.spec
        if spec is not None and method in spec.guard_methods:
            return {receiver}, "call"
        if spec is not None and method in spec.mutators:
            return {receiver}, "mutate"
        return {receiver}, None
    attr = self_attr(func)
    if attr is not None and analysis.operations.get(attr):
        return analysis.method_keys.get(attr, set()), "mutate"
    return set(), None


def _field_owner(analysis: FileAnalysis) -> dict[str, str]:
    return {f: b.key for b in analysis.breakers.values() if b.kind == FIELDS for f in b.fields}


def _find_dedicated(ctx: FileContext, analysis: FileAnalysis) -> None:
    """Methods wholly about breakers: every attribute they touch belongs to a breaker."""
    breakers = analysis.breakers
    breaker_attrs = {b.attr for b in breakers.values() if b.attr}
    field_owner = _field_owner(analysis)
    typed = set(analysis.symbols.errors) | set(analysis.symbols.classes) | analysis.symbols.core
    candidates: dict[str, tuple[cst.FunctionDef, set[str], set[str], set[str]]] = {}
    for name, func in function_symbols(ctx):
        owner = ctx.symbols.named(name.rsplit(".", 1)[0]) if "." in name else None
        if owner is None or not owner.is_class or func.name.value in {"__init__", "initialize", "__post_init__"}:
            continue
        ignored = {id(n.func.value) for n in walk_body(func)
                   if isinstance(n, cst.Call) and isinstance(n.func, cst.Attribute)
                   and n.func.attr.value in TIME_METHODS | LOG_METHODS and self_attr(n.func.value)}
        attrs = {self_attr(n) or "" for n in walk_body(func) if self_attr(n) and id(n) not in ignored}
        calls = {n.func.attr.value for n in walk_body(func) if isinstance(n, cst.Call) and self_attr(n.func)}  # type: ignore[attr-defined]
        typed_names = set()
        for param in [*func.params.params, *func.params.kwonly_params]:
            typed_names |= annotation_names(param.annotation) & typed
        candidates[func.name.value] = (func, attrs - calls, calls, typed_names)
    dedicated: set[str] = set()
    changed = True
    while changed:
        changed = False
        for short, (func, attrs, calls, typed_names) in candidates.items():
            if short in dedicated:
                continue
            own_attrs = attrs & (breaker_attrs | set(field_owner))
            others = attrs - breaker_attrs - set(field_owner)
            helpers = calls & dedicated
            unrelated_calls = calls - dedicated - {n for n in calls if n not in candidates}
            if not others and not unrelated_calls and (own_attrs or helpers or typed_names):
                dedicated.add(short)
                changed = True
    driven = _hand_driving_helpers(candidates, dedicated, analysis)
    dedicated |= set(driven)
    for short in dedicated:
        func, attrs, calls, typed_names = candidates[short]
        keys = {f"self.{a}" for a in attrs if a in breaker_attrs} | {field_owner[a] for a in attrs if a in field_owner}
        keys |= driven.get(short, set())
        for error in typed_names & set(analysis.symbols.errors):
            keys |= {b.key for b in breakers.values() if b.spec and error in analysis.symbols.errors_of(b.spec)}
        if typed_names & analysis.symbols.core:
            keys |= {b.key for b in breakers.values() if b.kind == CORE}
        analysis.method_keys[short] = keys
    for short in dedicated:  # helpers called by a dedicated method lend it their breakers
        for callee in candidates[short][2] & dedicated:
            analysis.method_keys[short] |= analysis.method_keys[callee]
    field_attrs = set(field_owner)
    for short in dedicated:
        func, attrs, _, _ = candidates[short]
        is_op = False
        for n in walk_body(func):
            if isinstance(n, cst.Call) and self_attr(n.func) is None and _operation(n, analysis)[1] is not None:
                is_op = True
            elif isinstance(n, (cst.Assign, cst.AugAssign)) and any(self_attr(t) in field_attrs for t in assign_targets(n)):
                is_op = True
            elif isinstance(n, cst.Raise) and isinstance(n.exc, cst.Call) and attrs & field_attrs:
                is_op = True
                name = dotted_name(n.exc.func)
                if name:
                    analysis.open_errors.add(name)
        analysis.operations[short] = is_op
    changed = True
    while changed:
        changed = False
        for short in dedicated:
            if not analysis.operations[short] and candidates[short][2] & {s for s, op in analysis.operations.items() if op}:
                analysis.operations[short] = changed = True
    for short in dedicated:
        func = candidates[short][0]
        start, end = span_of(ctx, func)
        analysis.uses.append(BreakerUse(start, end, set(analysis.method_keys[short]), drift=_drift_in(func, analysis)))
    # an open error a field breaker raises, defined in this file, is breaker code too
    fields_keys = {b.key for b in breakers.values() if b.kind == FIELDS}
    for stmt in ctx.module.body:
        if fields_keys and isinstance(stmt, cst.ClassDef) and stmt.name.value in analysis.open_errors - set(analysis.symbols.errors):
            start, end = span_of(ctx, stmt)
            analysis.uses.append(BreakerUse(start, end, set(fields_keys)))


_DRIVING = {"guard", "mutate", "drift"}


def _hand_driving_helpers(candidates: dict[str, tuple[cst.FunctionDef, set[str], set[str], set[str]]],
                          dedicated: set[str], analysis: FileAnalysis) -> dict[str, set[str]]:
    """Methods that drive a breaker by hand for their callers (a guard that raises when the breaker
    refuses, a failure recorder that also re-opens a failed probe, a recovery check on the node's
    clock): they change or consult breaker state and do no I/O of their own. Name -> breaker keys."""
    found: dict[str, set[str]] = {}
    changed = True
    while changed:
        changed = False
        for short, (func, _, calls, _) in candidates.items():
            if short in dedicated or short in found:
                continue
            keys: set[str] = set()
            driving = bool(calls & set(found))
            for node in walk_body(func):
                if isinstance(node, (cst.For, cst.While)):
                    break
                if isinstance(node, cst.Await):
                    expression = node.expression
                    if not (isinstance(expression, cst.Call) and _operation(expression, analysis)[0]):
                        break
                if isinstance(node, cst.Call) and self_attr(node.func) is None:
                    call_keys, kind = _operation(node, analysis)
                    if kind in _DRIVING:
                        keys |= call_keys
                        driving = True
            else:
                if driving:
                    found[short] = keys | set().union(*(found[c] for c in calls & set(found)))
                    changed = True
    return found


def _drift_in(node: cst.CSTNode, analysis: FileAnalysis) -> set[str]:
    return {n.func.attr.value for n in walk(node)  # type: ignore[attr-defined]
            if isinstance(n, cst.Call) and _operation(n, analysis)[1] == "drift"}


def _find_statements(ctx: FileContext, analysis: FileAnalysis) -> None:
    """Breaker statements inside methods (and module code) about something else: calls through a
    breaker, its guards and outcome recording, reads of its state in health and metrics code, and
    handlers or checks of its open-circuit error."""
    found: list[_Stretch] = []
    for name, func in function_symbols(ctx):
        owner = ctx.symbols.named(name.rsplit(".", 1)[0]) if "." in name else None
        if owner is not None and owner.is_class and func.name.value in analysis.operations:
            continue
        scan = _BlockScan(ctx, analysis, _derived_names(func, analysis))
        found.extend(scan.block(body_statements(func)))
    module_scan = _BlockScan(ctx, analysis, set())
    found.extend(module_scan.block([s for s in ctx.module.body if isinstance(s, cst.SimpleStatementLine)
                                    and not any(isinstance(x, (cst.Import, cst.ImportFrom)) for x in s.body)]))
    for start, end, keys, drift, operates in found:
        analysis.uses.append(BreakerUse(start, end, keys, drift=drift, reads_only=not operates))


#: (start, end, breaker keys, drift names, whether it operates on a breaker rather than only reading it)
_Stretch = tuple[int, int, set[str], set[str], bool]


def _reads_breaker(node: cst.CSTNode, analysis: FileAnalysis) -> set[str] | None:
    """Breaker keys ``node`` reads (``b.state``, ``b.get_metrics()``), None if none.

    Reading the counters of a breaker kept in plain node fields is not counted: those are ordinary
    integers until the code that trips and guards on them (which is reported) is replaced."""
    if isinstance(node, cst.Attribute):
        breaker = analysis.breakers.get(dotted_name(node.value) or "")
        if breaker is None and isinstance(node.value, (cst.Subscript, cst.Call)):  # ``self._breakers[name].state``
            breaker = _element_of(node.value, analysis.breakers, {})
        if breaker is not None and breaker.kind != FIELDS:
            return {breaker.key}
    return None


def _derived_names(func: cst.FunctionDef, analysis: FileAnalysis) -> set[str]:
    """Local names holding what a breaker reported (``state = b.get_state()``, a dict of breaker states),
    or what a guard answered; not the result of a call made through the breaker."""
    derived: set[str] = set()
    for node in walk_body(func):  # one step only: what is computed from such a name is the method's own business
        if isinstance(node, (cst.Assign, cst.AnnAssign)) and node.value is not None \
                and _yields_breaker_data(node.value, analysis):
            derived |= {t.value for t in assign_targets(node) if isinstance(t, cst.Name)
                        and t.value not in analysis.breakers}
    return derived


def _yields_breaker_data(value: cst.BaseExpression, analysis: FileAnalysis) -> bool:
    for node in walk(value):
        if isinstance(node, cst.Call) and _operation(node, analysis)[1] == "call":
            return False
    return any(_reads_breaker(n, analysis) is not None for n in walk(value))


def _only_reraises(handler: cst.ExceptHandler) -> bool:
    body = handler.body.body if isinstance(handler.body, cst.IndentedBlock) else []
    return all(isinstance(stmt, cst.SimpleStatementLine) and all(isinstance(x, cst.Raise) and x.exc is None
                                                                  for x in stmt.body) for stmt in body)


def _presence_test(test: cst.BaseExpression) -> str | None:
    """``x`` for the tests ``x``, ``not x``, ``x is None`` and ``x is not None`` (x a name or attribute)."""
    if isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not):
        test = test.expression
    if isinstance(test, cst.Comparison) and len(test.comparisons) == 1 \
            and isinstance(test.comparisons[0].operator, (cst.Is, cst.IsNot)) \
            and isinstance(test.comparisons[0].comparator, cst.Name) and test.comparisons[0].comparator.value == "None":
        test = test.left
    return dotted_name(test) if isinstance(test, (cst.Name, cst.Attribute)) else None


_SMALL_BRANCHES = 6  # statements of other work an ``if`` on breaker state may hold and still be breaker code


class _BlockScan:
    """Finds the breaker statements of one function body (or of module-level statements)."""

    def __init__(self, ctx: FileContext, analysis: FileAnalysis, derived: set[str]) -> None:
        self.ctx = ctx
        self.analysis = analysis
        self.derived = derived
        self.field_owner = _field_owner(analysis)
        self.seen: dict[tuple[int, bool], tuple[set[str], set[str], bool, bool]] = {}

    def ops(self, node: cst.CSTNode, *, test: bool = False) -> tuple[set[str], set[str], bool, bool]:
        """(breaker keys, drift names, operates, reads) of an expression or statement.

        In a test (``if``), a bare breaker or collection reference (``if self._breaker is None``) reads it.
        """
        known = self.seen.get((id(node), test))
        if known is None:
            known = self.seen[(id(node), test)] = self._ops(node, test)
        return known

    def _ops(self, node: cst.CSTNode, test: bool) -> tuple[set[str], set[str], bool, bool]:
        keys, drift, any_op, reads = set(), set(), False, False
        analysis = self.analysis
        for n in walk(node):
            if isinstance(n, cst.Call):
                call_keys, kind = _operation(n, analysis)
                if kind is not None:
                    keys |= call_keys
                    any_op = True
                    if kind == "drift":
                        drift.add(n.func.attr.value)  # type: ignore[attr-defined]
            elif isinstance(n, (cst.Assign, cst.AnnAssign, cst.AugAssign)):
                for target in assign_targets(n):
                    key = _target_key(target)
                    if key in analysis.breakers and analysis.breakers[key].kind != FIELDS:
                        keys.add(key)
                        any_op = True
                    if self_attr(target) in self.field_owner:
                        keys.add(self.field_owner[self_attr(target) or ""])
                        any_op = True
            elif isinstance(n, cst.Attribute):
                read = _reads_breaker(n, analysis)
                if read is not None:
                    keys |= read
                    reads = True
                elif dotted_name(n) in analysis.open_errors:
                    keys |= self.error_keys(n)
                    reads = True
            elif isinstance(n, cst.Name) and n.value in analysis.open_errors:
                keys |= self.error_keys(n)
                reads = True
            elif isinstance(n, cst.Name) and n.value in self.derived:
                reads = True
        if test:
            bare = _presence_test(node)
            if bare is not None and bare in analysis.breakers:
                keys.add(bare)
                reads = True
        return keys, drift, any_op, reads

    def block(self, stmts: list[cst.BaseStatement]) -> list[_Stretch]:
        found: list[_Stretch] = []
        for stmt in stmts:
            if isinstance(stmt, (cst.FunctionDef, cst.ClassDef)):
                continue
            if isinstance(stmt, cst.SimpleStatementLine):
                keys, drift, any_op, reads = self.ops(stmt)
                if any_op or reads:
                    found.append((*self.narrowed(stmt), keys, drift, any_op))
                continue
            if isinstance(stmt, cst.If) and isinstance(stmt.body, cst.IndentedBlock):
                keys, drift, any_op, reads = self.ops(stmt.test, test=True)
                inner = self.block(list(stmt.body.body))
                guarded = any_op and any(isinstance(n, cst.Raise) for n in walk(stmt.body))
                only_breaker = stmt.orelse is None and inner and _covers(self.ctx, inner, stmt.body.body)
                if guarded or only_breaker or ((any_op or reads) and self.small_branches(stmt)):
                    found.append((*self.ctx.span(stmt), keys.union(*(k for _, _, k, _, _ in inner)),
                                  drift.union(*(d for _, _, _, d, _ in inner)),
                                  any_op or any(op for *_, op in inner)))
                    continue
                if any_op or reads:
                    found.append((self.ctx.span(stmt)[0], self.ctx.positions[stmt.test].end.line, keys, drift, any_op))
                found.extend(inner)
                for block in child_blocks(stmt)[1:]:
                    found.extend(self.block(block))
                continue
            if isinstance(stmt, (cst.Try, cst.TryStar)):
                body_keys = self.ops(stmt.body)[0]
                for handler in stmt.handlers:  # a handler that only re-raises leaves the open circuit to its caller
                    if handler.type is not None and _names(handler.type) & self.analysis.open_errors \
                            and not _only_reraises(handler):
                        start, end = self.ctx.positions[handler].start.line, self.ctx.positions[handler].end.line
                        found.append((start, end, set(body_keys) or self.error_keys(handler.type), set(), True))
            for block in child_blocks(stmt):
                found.extend(item for item in self.block(block)
                             if not any(s <= item[0] and item[1] <= e for s, e, *_ in found))
        return found

    def error_keys(self, handler_type: cst.BaseExpression) -> set[str]:
        """The breakers that raise the open error a handler catches."""
        names = _names(handler_type)
        symbols = self.analysis.symbols
        return {b.key for b in self.analysis.breakers.values()
                if b.spec is not None and not b.alias and not b.collection and names & symbols.errors_of(b.spec)}

    def small_branches(self, stmt: cst.If) -> bool:
        """Whether every branch of an ``if`` on breaker state is short: no loops, few statements of other work."""
        other = 0
        for node in walk(stmt):
            if isinstance(node, (cst.For, cst.While)):
                return False
            if isinstance(node, cst.SimpleStatementLine) and not is_logging_statement(node):
                keys, _, any_op, reads = self.ops(node)
                other += not (any_op or reads)
        return other <= _SMALL_BRANCHES

    def narrowed(self, stmt: cst.SimpleStatementLine) -> tuple[int, int]:
        """The statement's lines, or only those of the one dict entry or argument holding its breaker
        reads when the statement is a long literal about other things too."""
        start, end = self.ctx.span(stmt)
        if end - start < 3:
            return start, end
        relevant = [n for n in walk(stmt) if (isinstance(n, cst.Call) and _operation(n, self.analysis)[1] is not None)
                    or _reads_breaker(n, self.analysis) is not None
                    or (isinstance(n, cst.Name) and (n.value in self.derived or n.value in self.analysis.open_errors))]
        if not relevant:
            return start, end
        inside = {id(n) for r in relevant for n in walk(r)}
        best: tuple[int, int] | None = None
        for node in walk(stmt):
            if not isinstance(node, (cst.DictElement, cst.Arg, cst.Element)) or node not in self.ctx.positions:
                continue
            contained = {id(n) for n in walk(node)}
            if all(id(r) in contained for r in relevant):
                pos = self.ctx.positions[node]
                if best is None or pos.end.line - pos.start.line < best[1] - best[0]:
                    best = (pos.start.line, pos.end.line)
        del inside
        return best if best is not None and best != (start, end) else (start, end)


def _covers(ctx: FileContext, spans: list[_Stretch], stmts: Iterable[cst.CSTNode]) -> bool:
    lines = {line for start, end, *_ in spans for line in range(start, end + 1)}
    return all(ctx.span(s)[0] in lines for s in stmts)


def _names(node: cst.CSTNode) -> set[str]:
    return {dotted_name(n) or "" for n in walk(node) if isinstance(n, (cst.Name, cst.Attribute))}


def _add_constants(ctx: FileContext, analysis: FileAnalysis) -> None:
    if not analysis.uses:
        return
    covered = {line for use in analysis.uses for line in range(use.start, use.end + 1)}
    passed = frozenset(id(arg) for node in walk(ctx.module, into_defs=True) if isinstance(node, cst.Call)
                       and _operation(node, analysis)[1] == "call" for arg in node.args[1:])
    for start, end, _ in module_constants_used_only_in(ctx, covered, passed):
        if any(use.start <= start and end <= use.end for use in analysis.uses):
            continue
        reading = [u for u in analysis.uses if any(u.start <= line <= u.end for line in covered)]
        keys = set().union(*(u.keys for u in reading)) if reading else set()
        analysis.uses.append(BreakerUse(start, end, keys))


# =============================================================================================
# Reasons
# =============================================================================================
def _differences(spec: ClassSpec | None, timeout: float | None = None, fields: bool = False) -> list[str]:
    notes = []
    if fields or spec is None or spec.resets_on_success:
        notes.append("it counts consecutive failures (a success resets the count), ModelCircuitBreaker counts "
                     "failures within window_size_seconds and a success does not reset them")
    notes.append("ModelCircuitBreaker opens only after minimum_request_threshold requests, and also on a failure "
                 "rate >= failure_rate_threshold (so it is built with minimum_request_threshold=failure_threshold "
                 "and failure_rate_threshold=1.0)")
    if fields or spec is None or spec.injected_clock:
        notes.append("its clock is injected, ModelCircuitBreaker reads datetime.now(UTC): a fake clock no longer "
                     "drives recovery")
    if timeout is not None and timeout < 10:
        notes.append(f"its {timeout:g}s recovery timeout becomes 10s (timeout_seconds must be an int >= 10)")
    elif timeout is None:
        notes.append("timeout_seconds must be an int >= 10")
    return notes


def _reason(use: BreakerUse, analysis: FileAnalysis) -> tuple[Action, Safety, str]:
    kinds = {analysis.breakers[k].kind for k in use.keys if k in analysis.breakers}
    if use.drift:
        fixes = ", ".join(f"{name}() -> {_DRIFT_RENAMES[name]}()" if name in _DRIFT_RENAMES else f"{name}()"
                          for name in sorted(use.drift))
        known = all(name in _DRIFT_RENAMES for name in use.drift)
        return (Action.REPLACE, Safety.SAFE if known else Safety.UNSAFE,
                f"API drift: not a method of ModelCircuitBreaker in omnibase-core 0.47.57 ({fixes})")
    if kinds == {CORE}:
        return (Action.KEEP, Safety.SAFE,
                "already omnibase-core's ModelCircuitBreaker, driven by hand (omnibase-core has no call wrapper "
                "for it)")
    if FIELDS in kinds:
        return (Action.REPLACE, Safety.UNSAFE,
                "breaker kept in plain node fields (failure counter and open-until time): ModelCircuitBreaker "
                "could replace it, but " + "; ".join(_differences(None, fields=True))
                + "; omnimix does not rewrite field-based breakers")
    spec = next((analysis.breakers[k].spec for k in sorted(use.keys) if k in analysis.breakers
                 and analysis.breakers[k].spec is not None), None)
    if spec is None:
        spec = next(iter(analysis.own.classes.values()), None)
    return (Action.REPLACE, Safety.UNSAFE,
            "hand-written circuit breaker: ModelCircuitBreaker replaces it, but " + "; ".join(_differences(spec)))


# =============================================================================================
# Transform: one plan per breaker
# =============================================================================================
@dataclass
class Plan:
    """What replacing one breaker takes, or why it cannot be replaced."""

    breaker: Breaker
    kwargs: list[tuple[str, int | float]] = field(default_factory=list)
    blocked: str | None = None
    notes: list[str] = field(default_factory=list)
    excluded: cst.BaseExpression | None = None
    counted: cst.BaseExpression | None = None
    name_literal: str | None = None


def _literal(expr: cst.BaseExpression | None) -> int | float | str | None:
    if expr is None:
        return None
    try:
        value = ast.literal_eval(cst.Module([]).code_for_node(expr))
    except (ValueError, SyntaxError):
        return None
    return value if isinstance(value, (int, float, str)) and not isinstance(value, bool) else None


def _source(expr: cst.CSTNode) -> str:
    return cst.Module([]).code_for_node(expr)


def _call_arguments(breaker: Breaker) -> dict[str, cst.BaseExpression | None]:
    """Class parameter -> expression, from the construction call and the defaults it relies on."""
    spec = breaker.spec
    assert spec is not None
    call = breaker.calls[-1]
    values: dict[str, cst.BaseExpression | None] = dict(spec.params)
    if breaker.kind == FACTORY and breaker.factory is not None:
        passed = _bind(call, breaker.factory.params)
        for factory_param, class_param in breaker.factory.forward.items():
            values[class_param] = passed.get(factory_param)
        return values
    values.update(_bind(call, spec.params))
    return values


def _bind(call: cst.Call, params: list[tuple[str, cst.BaseExpression | None]]) -> dict[str, cst.BaseExpression | None]:
    bound: dict[str, cst.BaseExpression | None] = dict(params)
    order = [name for name, _ in params]
    for index, arg in enumerate(call.args):
        if arg.keyword is not None:
            bound[arg.keyword.value] = arg.value
        elif arg.star == "" and index < len(order):
            bound[order[index]] = arg.value
    return bound


def _plan(breaker: Breaker, state: MigrationState, module_names: set[str]) -> Plan:
    plan = Plan(breaker)
    spec = breaker.spec
    if breaker.kind == FIELDS:
        plan.blocked = "a breaker kept in plain node fields: omnimix does not rewrite those, replace it by hand"
        return plan
    if spec is None or not breaker.calls:
        plan.blocked = "could not find where this breaker is built"
        return plan
    feature = state.contract.feature("circuit_breaker")
    explicit = feature.model_fields_set if feature is not None else set()
    values = _call_arguments(breaker)
    by_role: dict[str, cst.BaseExpression | None] = {}
    for param, expr in values.items():
        role = spec.role(param)
        if role and role not in by_role:
            by_role[role] = expr
    from_config = False

    def pick(roles: tuple[str, ...], contract_key: str, scale: float = 1.0) -> float | None:
        nonlocal from_config
        if feature is not None and contract_key in explicit and getattr(feature, contract_key) is not None:
            setting = getattr(feature, contract_key)
            if isinstance(setting, str):  # a ${ENV} placeholder: its value is known only at deployment
                plan.blocked = plan.blocked or (
                    f"the contract's advanced_features.circuit_breaker.{contract_key} is {setting!r}, a deployment "
                    "placeholder; omnimix writes settings as literals only, so the breaker is kept")
                return None
            value = setting * scale
            if any(by_role.get(role) is not None and _literal(by_role[role]) is None for role in roles):
                from_config = True
            return float(value)
        for role in roles:
            expr = by_role.get(role)
            value = _literal(expr)
            if isinstance(value, (int, float)):
                return float(value) / (1000.0 if role.endswith("_ms") else 1.0)
            if expr is not None:
                plan.blocked = plan.blocked or (
                    f"{_source(expr)} is not a literal and the contract's advanced_features.circuit_breaker does "
                    f"not set {contract_key}")
                return None
        return None

    failure = pick(("failure",), "failure_threshold")
    timeout = pick(("timeout", "timeout_ms"), "recovery_timeout_ms", 0.001)
    success = pick(("success",), "success_threshold")
    half_open = pick(("half_open",), "half_open_max_calls")
    if plan.blocked:
        return plan
    if failure is None or timeout is None:
        missing = "failure_threshold" if failure is None else "recovery_timeout_ms"
        plan.blocked = (f"could not tell which setting of {spec.name} is its "
                        f"{'failure threshold' if failure is None else 'recovery timeout'}; set {missing} in the "
                        "contract's advanced_features.circuit_breaker")
        return plan
    failure_n, timeout_s = int(failure), max(int(math.ceil(timeout)), 10)
    if not 1 <= failure_n <= 100 or timeout_s > 3600:
        plan.blocked = f"failure threshold {failure_n} or timeout {timeout:g}s is outside ModelCircuitBreaker's range"
        return plan
    plan.kwargs = [("failure_threshold", failure_n), ("minimum_request_threshold", failure_n),
                   ("failure_rate_threshold", 1.0), ("timeout_seconds", timeout_s)]
    plan.notes = _differences(spec, timeout)
    for value, key, low, high, default in ((success, "success_threshold", 1, 20, 3),
                                           (half_open, "half_open_max_requests", 1, 10, 3)):
        if value is None:
            plan.notes.append(f"the original has no {key.replace('_', ' ')} setting: ModelCircuitBreaker uses "
                              f"{key}={default}")
            continue
        if not low <= int(value) <= high:
            plan.blocked = f"{key} {value:g} is outside ModelCircuitBreaker's {low}..{high}"
            return plan
        plan.kwargs.append((key, int(value)))
    if from_config:
        plan.notes.append("its thresholds came from configuration: the contract's values are now literals, so a "
                          "configuration override no longer applies")
    for role in ("excluded", "counted"):
        param = spec.excluded_param if role == "excluded" else spec.counted_param
        expr = values.get(param) if param else None
        if expr is None or (role == "counted" and dotted_name(expr) in {"Exception", "BaseException"}) \
                or (isinstance(expr, (cst.Tuple, cst.List)) and not expr.elements):  # nothing is excluded
            continue
        if not _module_level_expression(expr, module_names):
            plan.blocked = (f"the breaker's {role} exceptions ({_source(expr)}) are not module-level names the "
                            "guarded-call helper could use")
            return plan
        setattr(plan, role, expr)
        if role == "excluded" and spec.excluded_as_success:
            plan.notes.append(f"exceptions in {_source(expr)} count as successes in the original (they reset its "
                              "failure count); through ModelCircuitBreaker they are re-raised without being recorded")
    name = _literal(by_role.get("name"))
    plan.name_literal = name if isinstance(name, str) else None
    return plan


_BUILTIN_ERRORS = {"Exception", "BaseException", "ConnectionError", "TimeoutError", "OSError", "ValueError",
                   "RuntimeError", "LookupError"}


def _module_level_expression(expr: cst.BaseExpression, module_names: set[str]) -> bool:
    roots = {(dotted_name(n) or "").split(".")[0] for n in walk(expr) if isinstance(n, (cst.Name, cst.Attribute))}
    roots.discard("")
    return bool(roots) and roots <= (module_names | _BUILTIN_ERRORS)


def _map_member(member: str, spec: ClassSpec) -> str | None:
    """How ``breaker.<member>`` reads on ModelCircuitBreaker ("<...>" marks a rewrite, None: no mapping)."""
    if member in spec.guard_methods:
        return "<call>"
    if member in spec.state_attrs:
        return "state"
    if member in {"state", "is_open", "failure_count", "failure_threshold", "success_threshold", "reset",
                  "record_success", "record_failure"}:
        return member
    if member in spec.dict_methods:
        return "<dict>"
    if member in spec.state_methods:
        return "<state>"
    if member in spec.remaining_time_methods:
        return "<remaining>"
    attr_param = {attr: param for param, attr in spec.param_attr.items()}
    role = spec.role(attr_param[member]) if member in attr_param else None
    return {"timeout": "<timeout>", "timeout_ms": None, "name": "<name>", "failure": "failure_threshold",
            "success": "success_threshold", "half_open": "half_open_max_requests"}.get(role or "")


def _reader_notes(module: cst.Module, key: str, spec: ClassSpec) -> list[str]:
    """How the node's reads of the breaker's state and metrics change on ModelCircuitBreaker."""
    used = {node.attr.value for node in walk(module, into_defs=True)
            if isinstance(node, cst.Attribute) and dotted_name(node.value) == key}
    notes = []
    for method in sorted(used & spec.state_methods):
        notes.append(f"{method}() reads ModelCircuitBreaker.state (the same closed/open/half_open values; like "
                     f"{method}() it does not move an expired open circuit to half-open, only should_allow_request() "
                     "and get_current_state() do, on the wall clock)")
    if "state" in used and spec.state_moves_on_read:
        notes.append("its state property moved an expired open circuit to half-open on the injected clock; "
                     "get_current_state() does so on the wall clock")
    known = _core_members()
    for method in sorted(used & spec.dict_methods):
        lost = [k for k in spec.dict_keys.get(method, []) if k not in known]
        detail = f"; its keys {', '.join(lost)} have no counterpart (a reader gets its .get() default or a KeyError)" if lost else ""
        notes.append(f"{method}() becomes model_dump(mode=\"json\") of ModelCircuitBreaker{detail}")
    if used & {"failure_count"} or any(spec.dict_keys.get(m) and "failure_count" in spec.dict_keys[m]
                                       for m in used & spec.dict_methods):
        notes.append("failure_count is the failures within window_size_seconds, not the consecutive failures")
    return notes


def _error_attr_role(attr: str) -> str | None:
    lowered = attr.lower()
    if "state" in lowered:
        return "state"
    if any(word in lowered for word in ("retry", "after", "until", "remaining", "wait")):
        return "remaining"
    if "name" in lowered:
        return "name"
    return None


def _member_problems(module: cst.Module, key: str, spec: ClassSpec) -> list[str]:
    problems = {node.attr.value for node in walk(module, into_defs=True)
                if isinstance(node, cst.Attribute) and dotted_name(node.value) == key
                and _map_member(node.attr.value, spec) is None}
    return sorted(problems)


def _error_attribute_reads(module: cst.Module, error: str) -> set[str]:
    """Attributes read from an open error where it is caught (``except E as e``) or received (``e: E``)."""
    reads: set[str] = set()
    for node in walk(module, into_defs=True):
        scopes: list[tuple[str, cst.CSTNode]] = []
        if isinstance(node, cst.ExceptHandler) and node.type is not None and error in _names(node.type) \
                and node.name is not None and isinstance(node.name.name, cst.Name):
            scopes.append((node.name.name.value, node.body))
        elif isinstance(node, cst.FunctionDef):
            for param in [*node.params.params, *node.params.kwonly_params]:
                if param.annotation is not None and error in annotation_names(param.annotation):
                    scopes.append((param.name.value, node.body))
        for variable, body in scopes:
            reads |= {n.attr.value for n in walk(body, into_defs=True) if isinstance(n, cst.Attribute)
                      and isinstance(n.value, cst.Name) and n.value.value == variable}
    return reads


def _defines(stmt: cst.CSTNode, names: set[str]) -> bool:
    return isinstance(stmt, (cst.ClassDef, cst.FunctionDef)) and stmt.name.value in names


def _check_errors(module: cst.Module, analysis: FileAnalysis, plans: dict[str, Plan]) -> None:
    """Open-error handlers become ModelOnexError handlers only if every breaker raising the error goes."""
    own = set(analysis.own.classes) | analysis.own.enums | analysis.own.errors | set(analysis.own.factories)
    for local in analysis.symbols.errors:
        keys = [k for k, b in analysis.breakers.items() if b.spec and local in analysis.symbols.errors_of(b.spec)]
        live = [k for k in keys if k in plans and not plans[k].blocked]
        if not live:
            continue
        blocked = [k for k in keys if k not in live]
        reason = None
        if blocked:
            reason = f"another breaker raising {local} cannot be replaced"
        elif any(isinstance(n, cst.Raise) and n.exc is not None and local in _names(n.exc)
                 for stmt in module.body if not _defines(stmt, own) for n in walk(stmt, into_defs=True)):
            reason = f"the node raises {local} itself"
        reads = _error_attribute_reads(module, local)
        unknown = sorted(a for a in reads if _error_attr_role(a) is None)
        if unknown and reason is None:
            reason = f"handlers read {', '.join(unknown)} of {local}, which has no ModelCircuitBreaker counterpart"
        for key in live:
            if reason:
                plans[key].blocked = reason
                continue
            plans[key].notes.append(f"handlers of {local} now catch ModelOnexError, also any other ModelOnexError "
                                    "raised in the same try block")
            if {a for a in reads if _error_attr_role(a) == "remaining"}:
                plans[key].notes.append("the retry-after reported on rejection is the full timeout_seconds "
                                        "(ModelCircuitBreaker does not expose the time left)")


def _check_helper(plans: dict[str, Plan]) -> None:
    """One guarded-call helper serves every breaker of the node: their exception rules must agree."""
    ready = [p for p in plans.values() if not p.blocked]
    shapes = {(_source(p.excluded) if p.excluded is not None else None,
               _source(p.counted) if p.counted is not None else None,
               bool(p.breaker.spec and p.breaker.spec.accepts_sync_callables),
               _guard_is_async(p)) for p in ready}
    if len(shapes) > 1:
        for plan in ready:
            plan.blocked = "the node's breakers count different exceptions as failures; replace them by hand"


# =============================================================================================
# Examples (documentation and unit tests)
# =============================================================================================
_LOCAL_BREAKER_NODE = (
    '"""Key-value store node guarded by its own breaker."""\n'
    '\n'
    'import asyncio\n'
    'import enum\n'
    '\n'
    'from omnibase_core.nodes import NodeEffect\n'
    '\n'
    '\n'
    'class BreakerState(enum.Enum):\n'
    '    CLOSED = "closed"\n'
    '    OPEN = "open"\n'
    '\n'
    '\n'
    'class BreakerOpen(Exception):\n'
    '    """The store is failing: calls are refused for a while."""\n'
    '\n'
    '\n'
    'class StoreBreaker:\n'
    '    def __init__(self, threshold: int = 3, reset_after: float = 30.0) -> None:\n'
    '        self.threshold = threshold\n'
    '        self.reset_after = reset_after\n'
    '        self.state = BreakerState.CLOSED\n'
    '        self._failures = 0\n'
    '        self._opened_at = 0.0\n'
    '\n'
    '    async def call(self, fn, *args):\n'
    '        loop = asyncio.get_running_loop()\n'
    '        if self.state is BreakerState.OPEN:\n'
    '            if loop.time() - self._opened_at < self.reset_after:\n'
    '                raise BreakerOpen()\n'
    '            self.state = BreakerState.CLOSED\n'
    '        try:\n'
    '            result = await fn(*args)\n'
    '        except Exception:\n'
    '            self._failures += 1\n'
    '            if self._failures >= self.threshold:\n'
    '                self.state = BreakerState.OPEN\n'
    '                self._opened_at = loop.time()\n'
    '            raise\n'
    '        self._failures = 0\n'
    '        return result\n'
    '\n'
    '\n'
    'class NodeKvStoreEffect(NodeEffect):\n'
    '    def __init__(self, container, pool) -> None:\n'
    '        super().__init__(container)\n'
    '        self._pool = pool\n'
    '        self._breaker = StoreBreaker(threshold=4, reset_after=5.0)\n'
    '\n'
    '    async def fetch(self, key: str):\n'
    '        try:\n'
    '            return await self._breaker.call(self._pool.fetchrow, "SELECT v FROM kv WHERE k = $1", key)\n'
    '        except BreakerOpen:\n'
    '            return None\n'
    '\n'
    '    def store_available(self) -> bool:\n'
    '        return self._breaker.state is not BreakerState.OPEN\n'
)

_LOCAL_BREAKER_REPLACED = (
    '"""Key-value store node guarded by its own breaker."""\n'
    '\n'
    'from omnibase_core.enums.enum_circuit_breaker_state import EnumCircuitBreakerState\n'
    'from omnibase_core.enums.enum_core_error_code import EnumCoreErrorCode\n'
    'from omnibase_core.errors.model_onex_error import ModelOnexError\n'
    'from omnibase_core.models.configuration.model_circuit_breaker import ModelCircuitBreaker\n'
    'from omnibase_core.nodes import NodeEffect\n'
    'from typing import Any\n'
    '\n'
    '\n'
    'class NodeKvStoreEffect(NodeEffect):\n'
    '    def __init__(self, container, pool) -> None:\n'
    '        super().__init__(container)\n'
    '        self._pool = pool\n'
    '        self._breaker = ModelCircuitBreaker(\n'
    '            failure_threshold=4,\n'
    '            minimum_request_threshold=4,\n'
    '            failure_rate_threshold=1.0,\n'
    '            timeout_seconds=10,\n'
    '        )\n'
    '\n'
    '    async def fetch(self, key: str):\n'
    '        try:\n'
    '            return await self._call_through_breaker(\n'
    '                self._breaker, self._pool.fetchrow, "SELECT v FROM kv WHERE k = $1", key\n'
    '            )\n'
    '        except ModelOnexError:\n'
    '            return None\n'
    '\n'
    '    def store_available(self) -> bool:\n'
    '        return self._breaker.state is not EnumCircuitBreakerState.OPEN\n'
    '\n'
    '    async def _call_through_breaker(\n'
    '        self, breaker: ModelCircuitBreaker, fn: Any, *args: Any, **kwargs: Any\n'
    '    ) -> Any:\n'
    '        """Call ``fn(*args, **kwargs)`` if ``breaker`` allows it, and record the outcome."""\n'
    '        if not breaker.should_allow_request():\n'
    '            raise ModelOnexError(\n'
    '                message=f"circuit breaker is {breaker.get_current_state()}",\n'
    '                error_code=EnumCoreErrorCode.RESOURCE_UNAVAILABLE,\n'
    '            )\n'
    '        try:\n'
    '            result = await fn(*args, **kwargs)\n'
    '        except Exception:\n'
    '            breaker.record_failure()\n'
    '            raise\n'
    '        breaker.record_success()\n'
    '        return result\n'
)

_LOCAL_READERS_NODE = _LOCAL_BREAKER_NODE.replace(
    '        self._failures = 0\n        return result\n',
    '        self._failures = 0\n        return result\n'
    '\n'
    '    def get_state(self) -> BreakerState:\n'
    '        return self.state\n'
    '\n'
    '    def get_metrics(self) -> dict:\n'
    '        return {"state": self.state.value, "failure_count": self._failures, "calls": 0}\n',
).replace(
    '    def store_available(self) -> bool:\n        return self._breaker.state is not BreakerState.OPEN\n',
    '    def health(self) -> dict:\n'
    '        state = self._breaker.get_state()\n'
    '        return {"store": "down" if state is BreakerState.OPEN else "up", "breaker": self._breaker.get_metrics()}\n',
)

_LOCAL_READERS_REPLACED = _LOCAL_BREAKER_REPLACED.replace(
    '    def store_available(self) -> bool:\n'
    '        return self._breaker.state is not EnumCircuitBreakerState.OPEN\n',
    '    def health(self) -> dict:\n'
    '        state = self._breaker.state\n'
    '        return {\n'
    '            "store": "down" if state is EnumCircuitBreakerState.OPEN else "up",\n'
    '            "breaker": self._breaker.model_dump(mode="json"),\n'
    '        }\n',
)

_DRIFT_NODE = (
    'from omnibase_core.enums.enum_core_error_code import EnumCoreErrorCode\n'
    'from omnibase_core.errors.model_onex_error import ModelOnexError\n'
    'from omnibase_core.models.configuration.model_circuit_breaker import ModelCircuitBreaker\n'
    'from omnibase_core.nodes import NodeEffect\n'
    '\n'
    '\n'
    'class NodeLlmEffect(NodeEffect):\n'
    '    def __init__(self, container, client) -> None:\n'
    '        super().__init__(container)\n'
    '        self._client = client\n'
    '        self._breaker = ModelCircuitBreaker(failure_threshold=3, minimum_request_threshold=3, failure_rate_threshold=1.0)\n'
    '\n'
    '    async def complete(self, prompt: str) -> str:\n'
    '        if not self._breaker.can_execute():\n'
    '            raise ModelOnexError(message="provider circuit open", error_code=EnumCoreErrorCode.RESOURCE_UNAVAILABLE)\n'
    '        try:\n'
    '            text = await self._client.complete(prompt)\n'
    '        except ConnectionError:\n'
    '            self._breaker.record_failure()\n'
    '            raise\n'
    '        self._breaker.record_success()\n'
    '        return text\n'
)

_SETTINGS_LOOKALIKE = (
    "from pydantic import BaseModel\n"
    "from omnibase_core.nodes import NodeEffect\n\n\n"
    "class CircuitBreakerSettings(BaseModel):\n"
    "    failure_threshold: int = 5\n"
    "    recovery_timeout_seconds: float = 60.0\n\n\n"
    "class NodeGatewayEffect(NodeEffect):\n"
    "    def __init__(self, container, settings: CircuitBreakerSettings | None = None) -> None:\n"
    "        super().__init__(container)\n"
    "        self._breaker_settings = settings or CircuitBreakerSettings()\n\n"
    "    def describe(self) -> dict:\n"
    '        return {"circuit_breaker": self._breaker_settings.model_dump(), "state": "open"}\n'
)
_BREAKER_CONTRACT = "name: n\nnode_type: EFFECT\nadvanced_features:\n  circuit_breaker: {enabled: true}\n"
_THRESHOLD_CONTRACT = (
    "name: n\nnode_type: EFFECT\nadvanced_features:\n  circuit_breaker: {enabled: true, failure_threshold: 3}\n"
)


# =============================================================================================
# The codemod
# =============================================================================================
_HELPER = "_call_through_breaker"


class ReplaceCircuitBreaker(Codemod):
    """Hand-written circuit breakers to omnibase-core's ModelCircuitBreaker; API drift fixed."""

    name = "replace-circuit-breaker"
    concern = Concern.CIRCUIT_BREAKER
    description = (
        "Finds hand-written circuit breakers (a local class, a factory-built breaker, breaker fields on the node) "
        "and ModelCircuitBreaker driven by hand; renames ModelCircuitBreaker calls that no longer exist and, with "
        "--unsafe, replaces hand-written breakers by ModelCircuitBreaker."
    )
    enabled_by = ("advanced_features.circuit_breaker",)
    keywords = ("breaker", "circuit", "open", "trip", "fuse")
    examples: ClassVar[tuple[Example, ...]] = (
        Example(
            title="API drift: can_execute() becomes should_allow_request()",
            before=_DRIFT_NODE,
            after=_DRIFT_NODE.replace("can_execute()", "should_allow_request()"),
            contract=_THRESHOLD_CONTRACT,
        ),
        Example(
            title="ModelCircuitBreaker driven by hand with the current API is kept",
            before=_DRIFT_NODE.replace("can_execute()", "should_allow_request()"),
            after=_DRIFT_NODE.replace("can_execute()", "should_allow_request()"),
            contract=_THRESHOLD_CONTRACT,
        ),
        Example(
            title="a hand-written breaker is only replaced with --unsafe",
            before=_LOCAL_BREAKER_NODE,
            after=_LOCAL_BREAKER_NODE,
            contract=_BREAKER_CONTRACT,
        ),
        Example(
            title="with --unsafe a hand-written breaker becomes ModelCircuitBreaker behind one guarded-call helper",
            before=_LOCAL_BREAKER_NODE,
            after=_LOCAL_BREAKER_REPLACED,
            contract=_BREAKER_CONTRACT,
            unsafe=True,
        ),
        Example(
            title="state and metrics readers of a hand-written breaker are kept without --unsafe",
            before=_LOCAL_READERS_NODE,
            after=_LOCAL_READERS_NODE,
            contract=_BREAKER_CONTRACT,
        ),
        Example(
            title="with --unsafe get_state() reads ModelCircuitBreaker.state and get_metrics() its model_dump()",
            before=_LOCAL_READERS_NODE,
            after=_LOCAL_READERS_REPLACED,
            contract=_BREAKER_CONTRACT,
            unsafe=True,
        ),
        Example(
            title="breaker settings in a configuration model are not a breaker",
            before=_SETTINGS_LOOKALIKE,
            after=_SETTINGS_LOOKALIKE,
            contract=_BREAKER_CONTRACT,
        ),
    )

    # -- detection ----------------------------------------------------------------------------
    def detect(self, ctx: FileContext) -> list[Finding]:
        return [finding for finding, _ in self._findings(ctx, analyze_file(ctx))]

    def _findings(self, ctx: FileContext, analysis: FileAnalysis) -> list[tuple[Finding, BreakerUse]]:
        uses = [u for u in analysis.uses
                if not any(o is not u and o.start <= u.start and u.end <= o.end and (o.start, o.end) != (u.start, u.end)
                           for o in analysis.uses)]
        results = []
        groups: dict[frozenset[str], list[BreakerUse]] = {}
        for use in uses:  # statements about different breakers stay apart, unless they only read them
            groups.setdefault(frozenset({"<reads>"}) if use.reads_only else frozenset(use.keys), []).append(use)
        spans = [(start, end, group) for group in groups.values()
                 for start, end in merge_spans(ctx, [(u.start, u.end) for u in group])]
        for start, end, group in sorted(spans, key=lambda item: (item[0], item[1])):
            members = [u for u in group if start <= u.start and u.end <= end]
            combined = BreakerUse(start, end, set().union(*(u.keys for u in members)),
                                  drift=set().union(*(u.drift for u in members)),
                                  module_level=any(u.module_level for u in members),
                                  reads_only=all(u.reads_only for u in members))
            action, safety, reason = _reason(combined, analysis)
            finding = self.finding(ctx, start, end, action=action, safety=safety,
                                   replacement="omnibase_core ModelCircuitBreaker", reason=reason)
            results.append((finding, combined))
        return results

    # -- transformation -----------------------------------------------------------------------
    def transform(self, state: MigrationState) -> None:
        if not any(state.declared(switch) for switch in self.enabled_by):
            return
        found = state.findings_of(str(self.concern))
        if not found:
            return
        uses: dict[tuple[Path, int, int], BreakerUse] = {}
        for path in {p for p, _ in found}:
            for finding, use in self._findings(state.files[path], analyze_file(state.files[path])):
                uses[(path, finding.start_line, finding.end_line)] = use
        current = analyze_file(FileContext(state.node_path, "node", state.module.code))
        plans = self._plans(state, current)
        allowed = state.allows(Safety.UNSAFE)
        drift_fixed = _fix_drift(state, current)
        applied = {key for key, plan in plans.items() if plan.blocked is None and allowed}
        if applied:
            self._replace(state, current, {key: plans[key] for key in applied})
        deleted = self._delete_modules(state, current, applied)
        for path, finding in found:
            use = uses.get((path, finding.start_line, finding.end_line))
            outcome, note = self._outcome(state, path, finding, use, plans, applied, drift_fixed, deleted)
            state.decide(finding, path, outcome, note)

    def _plans(self, state: MigrationState, current: FileAnalysis) -> dict[str, Plan]:
        module_names = _module_names(state.module)
        plans: dict[str, Plan] = {}
        for key, breaker in current.breakers.items():
            if breaker.kind == CORE or breaker.collection or breaker.alias \
                    or not (key.startswith("self.") or breaker.kind == FIELDS or breaker.calls):
                continue
            plan = _plan(breaker, state, module_names)
            if plan.blocked is None and breaker.spec is not None:
                problems = _member_problems(state.module, key, breaker.spec)
                if problems:
                    plan.blocked = (f"the node uses {', '.join(problems)} of {key}, which ModelCircuitBreaker has "
                                    "no equivalent for")
                else:
                    plan.notes.extend(_reader_notes(state.module, key, breaker.spec))
            plans[key] = plan
        _check_errors(state.module, current, plans)
        _check_helper(plans)
        if current.own.classes and any(not p.blocked for p in plans.values()):
            users = [p for p in state.repository_files if p.resolve() != state.node_path.resolve()
                     and state.node_path.resolve() in imported_modules(p, _read(p))]
            if users:
                for plan in plans.values():
                    plan.blocked = plan.blocked or (f"{users[0].name} imports the breaker defined in the node module")
        return plans

    def _replace(self, state: MigrationState, analysis: FileAnalysis, plans: dict[str, Plan]) -> None:
        catalog = load_catalog()
        entries = {name: catalog.get(name) for name in (_CORE_BREAKER, "ModelOnexError", "EnumCoreErrorCode",
                                                          _CORE_STATE_ENUM)}
        assert all(entries.values()), "catalog lacks circuit-breaker entries"
        own = set(analysis.own.classes) | analysis.own.enums | analysis.own.errors | set(analysis.own.factories)
        transformer = _ReplaceBreakers(analysis, plans, own)
        state.rewrite(transformer)
        if own:
            imports = import_table(state.module)
            remover = _RemoveDefinitions(own)
            state.rewrite(remover)
            for local in remover.used & set(imports):
                item = imports[local]
                if item.name is None:
                    state.remove_import(item.module)
                else:
                    state.remove_import((_absolute(state, item) if item.level else item.module) or item.module, item.name)
        state.add_import(entries[_CORE_BREAKER].import_from, _CORE_BREAKER)  # type: ignore[union-attr]
        if transformer.used_helper:
            plan = next(iter(plans.values()))
            state.rewrite(_AddHelper(state.node_class, plan))
            state.add_import(entries["ModelOnexError"].import_from, "ModelOnexError")  # type: ignore[union-attr]
            state.add_import(entries["EnumCoreErrorCode"].import_from, "EnumCoreErrorCode")  # type: ignore[union-attr]
            state.add_import("typing", "Any")
            if plan.breaker.spec is not None and plan.breaker.spec.accepts_sync_callables and _guard_is_async(plan):
                state.add_import("inspect")
        if transformer.used_enum:
            state.add_import(entries[_CORE_STATE_ENUM].import_from, _CORE_STATE_ENUM)  # type: ignore[union-attr]
        if transformer.used_error:
            state.add_import(entries["ModelOnexError"].import_from, "ModelOnexError")  # type: ignore[union-attr]
        symbols = analysis.symbols
        for local, imported in import_table(state.files[state.node_path].module).items():
            if imported.name is not None and (local in symbols.classes or local in symbols.factories
                                              or local in symbols.enums or local in symbols.errors):
                module = _absolute(state, imported) if imported.level else imported.module
                state.remove_import(module or imported.module, imported.name)

    def _delete_modules(self, state: MigrationState, current: FileAnalysis, applied: set[str]) -> set[Path]:
        """Delete the node's local breaker modules that nothing imports any more."""
        deleted: set[Path] = set()
        if not applied:
            return deleted
        for path in state.files:
            if path == state.node_path or not module_breakers(path).classes:
                continue
            if not _imported_after_migration(state, path):
                state.delete_file(path)
                deleted.add(path)
        return deleted

    def _outcome(self, state: MigrationState, path: Path, finding: Finding, use: BreakerUse | None,
                 plans: dict[str, Plan], applied: set[str], drift_fixed: bool, deleted: set[Path]
                 ) -> tuple[Outcome, str]:
        if path in deleted:
            return Outcome.APPLIED, f"deleted {path.name}: nothing imports it after the replacement"
        if use is None:
            return Outcome.KEPT, finding.reason
        if use.drift:
            if drift_fixed and all(name in _DRIFT_RENAMES for name in use.drift):
                return Outcome.APPLIED, "renamed " + ", ".join(
                    f"{name}() to {_DRIFT_RENAMES[name]}()" for name in sorted(use.drift))
            return Outcome.KEPT, f"{', '.join(sorted(use.drift))}: no known ModelCircuitBreaker equivalent"
        if any(key.startswith("module:") for key in use.keys):  # a definition in a breaker module
            related = [p for p in plans.values() if p.breaker.spec is not None and p.breaker.spec.path == path]
            if path != state.node_path and any(p.breaker.key in applied for p in related):
                return Outcome.KEPT, f"{path.name} is still imported elsewhere, so it stays"
            return self._outcome_of(related, applied, finding, removed=path == state.node_path)
        return self._outcome_of([plans[k] for k in use.keys if k in plans], applied, finding)

    @staticmethod
    def _outcome_of(related: list[Plan], applied: set[str], finding: Finding, removed: bool = False
                    ) -> tuple[Outcome, str]:
        if not related:
            return Outcome.KEPT, finding.reason
        blocked = sorted({p.blocked for p in related if p.blocked})
        if blocked:
            return Outcome.KEPT, "not replaced: " + "; ".join(blocked)
        plan = related[0]
        if all(p.breaker.key in applied for p in related):
            built = ", ".join(f"{k}={v!r}" for k, v in plan.kwargs)
            what = "removed, replaced" if removed else "replaced"
            return Outcome.APPLIED, f"{what} by ModelCircuitBreaker({built}); differences: " + "; ".join(plan.notes)
        return Outcome.PENDING_UNSAFE, "ModelCircuitBreaker would replace it, but " + "; ".join(plan.notes)


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return ""


def _absolute(state: MigrationState, imported: Imported) -> str | None:
    module = cst.parse_expression(imported.module) if imported.module else None
    node = cst.ImportFrom(module=module, names=[cst.ImportAlias(name=cst.Name(imported.name or "_"))],  # type: ignore[arg-type]
                          relative=[cst.Dot()] * imported.level)
    return state.absolute_module(node)


def _module_names(module: cst.Module) -> set[str]:
    names = set(import_table(module)) | top_level_names(module)
    for node in walk(module):
        if isinstance(node, (cst.Assign, cst.AnnAssign)):
            names |= {t.value for t in assign_targets(node) if isinstance(t, cst.Name)}
    return names


def _imported_after_migration(state: MigrationState, target: Path) -> bool:
    """Whether any repository file still imports ``target`` once this migration's imports are applied.

    The node module's imports of names no longer used are removed by the shared import pass, so for
    it the question is whether any name it imports from ``target`` is still referenced.
    """
    target = target.resolve()
    node_path = state.node_path.resolve()
    for path in {p.resolve() for p in (*state.repository_files, *state.files)}:
        if path == target or path in {p.resolve() for p in state.deleted}:
            continue
        if path == node_path:
            if _still_uses(state.module, state.node_path, target):
                return True
            continue
        node_file = next((p for p in state.files if p.resolve() == path), None)
        text = state.text_of(node_file) if node_file is not None else _read(path)
        if target.stem in text and target in imported_modules(path, text):
            return True
    return False


def _still_uses(module: cst.Module, path: Path, target: Path) -> bool:
    imported = {local for local, item in import_table(module).items()
                if (module_file(path, item.module, item.level) or Path()).resolve() == target
                or (item.name is not None and (module_file(path, f"{item.module}.{item.name}".lstrip("."), item.level)
                                               or Path()).resolve() == target)}
    if not imported:
        return False
    imports = {id(n) for n in walk(module) if isinstance(n, (cst.Import, cst.ImportFrom))}
    inside_imports = {id(child) for n in walk(module) if id(n) in imports for child in walk(n)}
    return any(isinstance(n, cst.Name) and n.value in imported and id(n) not in inside_imports
               for n in walk(module, into_defs=True))


def _fix_drift(state: MigrationState, analysis: FileAnalysis) -> bool:
    keys = {key for key, breaker in analysis.breakers.items() if breaker.kind == CORE}
    if not keys:
        return False
    fixer = _FixDrift(keys, analysis.symbols.core)
    state.rewrite(fixer)
    return fixer.changed


class _FixDrift(cst.CSTTransformer):
    """Renames ModelCircuitBreaker methods and constructor keywords that omnibase-core 0.47.57 renamed."""

    def __init__(self, keys: set[str], core_names: set[str]) -> None:
        self.keys = keys
        self.core_names = core_names
        self.changed = False

    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.BaseExpression:
        func = updated_node.func
        if isinstance(func, cst.Attribute) and dotted_name(func.value) in self.keys and func.attr.value in _DRIFT_RENAMES:
            self.changed = True
            return updated_node.with_changes(func=func.with_changes(attr=cst.Name(_DRIFT_RENAMES[func.attr.value])))
        if dotted_name(func) in self.core_names and any(
                a.keyword is not None and a.keyword.value in _CORE_KWARG_RENAMES for a in updated_node.args):
            self.changed = True
            return updated_node.with_changes(args=[
                a.with_changes(keyword=cst.Name(_CORE_KWARG_RENAMES[a.keyword.value]))
                if a.keyword is not None and a.keyword.value in _CORE_KWARG_RENAMES else a
                for a in updated_node.args])
        return updated_node


class _ReplaceBreakers(cst.CSTTransformer):
    """Rewrites construction, call sites, inspections, state-enum members and open-error handlers."""

    def __init__(self, analysis: FileAnalysis, plans: dict[str, Plan], own: set[str]) -> None:
        self.plans = plans
        self.own = own
        self.used_helper = self.used_enum = self.used_error = False
        specs = [p.breaker.spec for p in plans.values() if p.breaker.spec is not None]
        symbols = analysis.symbols
        self.classes = {n for n, s in symbols.classes.items() if any(s is spec for spec in specs)}
        self.factories = {n for n, f in symbols.factories.items() if any(f.spec is spec for spec in specs)}
        self.enums = set().union(*(symbols.enums_of(s) for s in specs)) if specs else set()
        self.errors = set().union(*(symbols.errors_of(s) for s in specs)) if specs else set()
        self.scopes: list[dict[str, str | None]] = []
        self.followed: set[int] = set()  # ``x.state`` nodes read as ``x.state.value``
        self.default_key = next(iter(plans)) if len(plans) == 1 else None

    def visit_Import(self, node: cst.Import) -> bool:
        return False

    def visit_ImportFrom(self, node: cst.ImportFrom) -> bool:
        return False

    def visit_ClassDef(self, node: cst.ClassDef) -> bool:
        return node.name.value not in self.own

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        if node.name.value in self.own:
            return False
        scope: dict[str, str | None] = {}
        for param in [*node.params.params, *node.params.kwonly_params]:
            if param.annotation is not None and annotation_names(param.annotation) & self.errors:
                scope[param.name.value] = self.default_key
        self.scopes.append(scope)
        return True

    def leave_FunctionDef(self, original_node: cst.FunctionDef, updated_node: cst.FunctionDef) -> cst.FunctionDef:
        if original_node.name.value not in self.own:
            self.scopes.pop()
        return updated_node

    def visit_Try(self, node: cst.Try) -> None:
        keys = {dotted_name(n.func.value) for n in walk(node.body)  # type: ignore[attr-defined]
                if isinstance(n, cst.Call) and isinstance(n.func, cst.Attribute) and dotted_name(n.func.value) in self.plans}
        key = next(iter(keys)) if len(keys) == 1 else self.default_key
        self.scopes.append({h.name.name.value: key for h in node.handlers  # type: ignore[union-attr]
                            if h.name is not None and isinstance(h.name.name, cst.Name) and h.type is not None
                            and _names(h.type) & self.errors})

    def leave_Try(self, original_node: cst.Try, updated_node: cst.Try) -> cst.Try:
        self.scopes.pop()
        return updated_node

    def visit_Attribute(self, node: cst.Attribute) -> None:
        if node.attr.value == "value" and isinstance(node.value, cst.Attribute):
            self.followed.add(id(node.value))

    def _value_follows(self, node: cst.Attribute) -> bool:
        return id(node) in self.followed

    def _error_key(self, name: str) -> tuple[bool, str | None]:
        for scope in reversed(self.scopes):
            if name in scope:
                return True, scope[name]
        return False, None

    # -- construction -------------------------------------------------------------------------
    def leave_Assign(self, original_node: cst.Assign, updated_node: cst.Assign) -> cst.Assign:
        return self._construct(original_node, updated_node, [t.target for t in original_node.targets])

    def leave_AnnAssign(self, original_node: cst.AnnAssign, updated_node: cst.AnnAssign) -> cst.AnnAssign:
        return self._construct(original_node, updated_node, [original_node.target])

    def _construct(self, original, updated, targets):  # type: ignore[no-untyped-def]
        value = original.value
        if not isinstance(value, cst.Call) or dotted_name(value.func) not in self.classes | self.factories:
            return updated
        for target in targets:
            plan = self.plans.get(_target_key(target) or "")
            if plan is not None:
                return updated.with_changes(value=_core_call(value, plan.kwargs))
        return updated

    # -- names: annotations, handler types, enum members --------------------------------------
    def leave_Name(self, original_node: cst.Name, updated_node: cst.Name) -> cst.Name:
        if updated_node.value in self.classes:
            return updated_node.with_changes(value=_CORE_BREAKER)
        if updated_node.value in self.enums:
            self.used_enum = True
            return updated_node.with_changes(value=_CORE_STATE_ENUM)
        if updated_node.value in self.errors:
            self.used_error = True
            return updated_node.with_changes(value="ModelOnexError")
        return updated_node

    def leave_Attribute(self, original_node: cst.Attribute, updated_node: cst.Attribute) -> cst.BaseExpression:
        updated_node = updated_node.with_changes(attr=original_node.attr)  # attribute names are not renamed
        value, member = updated_node.value, updated_node.attr.value
        if member == "value" and isinstance(value, cst.Attribute) and value.attr.value == "state" \
                and dotted_name(value.value) in self.plans:
            return cst.Call(func=cst.Attribute(value=value.value, attr=cst.Name("get_current_state")))
        key = dotted_name(value)
        if key in self.plans:
            plan = self.plans[key]
            spec = plan.breaker.spec
            if member == "state" and spec is not None and spec.state_moves_on_read \
                    and not self._value_follows(original_node):
                self.used_enum = True
                return cst.Call(func=cst.Name(_CORE_STATE_ENUM), args=[cst.Arg(cst.Call(
                    func=cst.Attribute(value=value, attr=cst.Name("get_current_state"))))])
            mapped = _map_member(member, spec)  # type: ignore[arg-type]
            if mapped == "<timeout>":
                return updated_node.with_changes(attr=cst.Name("timeout_seconds"))
            if mapped == "<name>" and plan.name_literal is not None:
                return cst.SimpleString(repr(plan.name_literal))
            if mapped and not mapped.startswith("<") and mapped != member:
                return updated_node.with_changes(attr=cst.Name(mapped))
            return updated_node
        if isinstance(value, cst.Name):
            known, error_key = self._error_key(value.value)
            if known and error_key is not None:
                breaker = cst.parse_expression(error_key)
                role = _error_attr_role(member)
                if role == "state":
                    return cst.Attribute(value=breaker, attr=cst.Name("state"))
                if role == "remaining":
                    return _float_timeout(breaker)
                if role == "name" and self.plans[error_key].name_literal is not None:
                    return cst.SimpleString(repr(self.plans[error_key].name_literal))
        return updated_node

    # -- calls on the breaker -----------------------------------------------------------------
    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.BaseExpression:
        func = updated_node.func
        key = dotted_name(func.value) if isinstance(func, cst.Attribute) else None
        if key not in self.plans or not isinstance(func, cst.Attribute):
            return updated_node
        mapped = _map_member(func.attr.value, self.plans[key].breaker.spec)  # type: ignore[arg-type]
        if mapped == "<call>":
            self.used_helper = True
            args = updated_node.args
            comma = args[0].comma if args else cst.MaybeSentinel.DEFAULT
            separator = comma.whitespace_after if isinstance(comma, cst.Comma) and isinstance(
                comma.whitespace_after, cst.ParenthesizedWhitespace) else cst.SimpleWhitespace(" ")
            first = cst.Arg(value=func.value, comma=cst.Comma(whitespace_after=separator))
            return updated_node.with_changes(func=cst.Attribute(value=cst.Name("self"), attr=cst.Name(_HELPER)),
                                             args=[first, *updated_node.args])
        if mapped == "<dict>":
            return updated_node.with_changes(func=func.with_changes(attr=cst.Name("model_dump")), args=[
                cst.Arg(keyword=cst.Name("mode"), value=cst.SimpleString('"json"'), equal=_EQUAL)])
        if mapped == "<remaining>":
            return _float_timeout(func.value)
        if mapped == "<state>":
            return cst.Attribute(value=func.value, attr=cst.Name("state"), lpar=updated_node.lpar, rpar=updated_node.rpar)
        if mapped == "record_failure":
            return updated_node.with_changes(args=[])
        return updated_node

    def leave_Await(self, original_node: cst.Await, updated_node: cst.Await) -> cst.BaseExpression:
        expression = updated_node.expression
        if isinstance(expression, cst.Call) and isinstance(expression.func, cst.Attribute) \
                and dotted_name(expression.func.value) in self.plans \
                and expression.func.attr.value in {"record_success", "record_failure", "reset"}:
            return expression.with_changes(lpar=updated_node.lpar, rpar=updated_node.rpar)
        return updated_node


_EQUAL = cst.AssignEqual(whitespace_before=cst.SimpleWhitespace(""), whitespace_after=cst.SimpleWhitespace(""))


def _float_timeout(breaker: cst.BaseExpression) -> cst.Call:
    return cst.Call(func=cst.Name("float"), args=[cst.Arg(cst.Attribute(value=breaker, attr=cst.Name("timeout_seconds")))])


def _core_call(original: cst.Call, kwargs: list[tuple[str, int | float]]) -> cst.Call:
    """``ModelCircuitBreaker(k=v, ...)`` laid out like the call it replaces (one line, or one per line)."""
    args = list(original.args)
    first_comma = args[0].comma if args else cst.MaybeSentinel.DEFAULT
    multiline = isinstance(first_comma, cst.Comma) and isinstance(first_comma.whitespace_after,
                                                                  cst.ParenthesizedWhitespace)
    separator = first_comma.whitespace_after if multiline else cst.SimpleWhitespace(" ")  # type: ignore[union-attr]
    last_comma = args[-1].comma if multiline else cst.MaybeSentinel.DEFAULT
    new_args = []
    for index, (key, value) in enumerate(kwargs):
        literal: cst.BaseExpression = cst.Integer(str(value)) if isinstance(value, int) else cst.Float(repr(value))
        comma = last_comma if index == len(kwargs) - 1 else cst.Comma(whitespace_after=separator)
        new_args.append(cst.Arg(keyword=cst.Name(key), value=literal, comma=comma, equal=_EQUAL))
    return original.with_changes(func=cst.Name(_CORE_BREAKER), args=new_args)


class _RemoveDefinitions(cst.CSTTransformer):
    """Drops the node module's own breaker class, state enum, open error and factory once unused."""

    def __init__(self, names: set[str]) -> None:
        self.names = names
        self.used: set[str] = set()  # names the removed definitions referred to (their imports may go)

    def leave_Module(self, original_node: cst.Module, updated_node: cst.Module) -> cst.Module:
        body = []
        for stmt in updated_node.body:
            if (isinstance(stmt, (cst.ClassDef, cst.FunctionDef)) and stmt.name.value in self.names) \
                    or (_is_main_block(stmt) and _references(stmt, self.names)):
                self.used |= {(dotted_name(n) or "").split(".")[0] for n in walk(stmt, into_defs=True)
                              if isinstance(n, (cst.Name, cst.Attribute))}
                continue
            body.append(stmt)
        return updated_node.with_changes(body=body)


class _AddHelper(cst.CSTTransformer):
    """Appends the guarded-call helper to the node class."""

    def __init__(self, class_name: str, plan: Plan) -> None:
        self.class_name = class_name
        self.plan = plan
        self.depth = 0

    def visit_ClassDef(self, node: cst.ClassDef) -> bool:
        self.depth += 1
        return self.depth == 1

    def leave_ClassDef(self, original_node: cst.ClassDef, updated_node: cst.ClassDef) -> cst.ClassDef:
        self.depth -= 1
        body = updated_node.body
        if self.depth or updated_node.name.value != self.class_name or not isinstance(body, cst.IndentedBlock):
            return updated_node
        if any(isinstance(s, cst.FunctionDef) and s.name.value == _HELPER for s in body.body):
            return updated_node
        return updated_node.with_changes(body=body.with_changes(body=[*body.body, _helper_method(self.plan)]))


def _guard_is_async(plan: Plan) -> bool:
    spec = plan.breaker.spec
    return spec is None or bool(spec.guard_methods & spec.async_methods)


def _helper_method(plan: Plan) -> cst.FunctionDef:
    """The one private helper the replacement adds: guard, call, record the outcome."""
    is_async = _guard_is_async(plan)
    sync = is_async and plan.breaker.spec is not None and plan.breaker.spec.accepts_sync_callables
    lines = [
        f"{'async ' if is_async else ''}def {_HELPER}(",
        "    self, breaker: ModelCircuitBreaker, fn: Any, *args: Any, **kwargs: Any",
        ") -> Any:",
        '    """Call ``fn(*args, **kwargs)`` if ``breaker`` allows it, and record the outcome."""',
        "    if not breaker.should_allow_request():",
        "        raise ModelOnexError(",
        '            message=f"circuit breaker is {breaker.get_current_state()}",',
        "            error_code=EnumCoreErrorCode.RESOURCE_UNAVAILABLE,",
        "        )",
        "    try:",
    ]
    if sync:
        lines += ["        result = fn(*args, **kwargs)", "        if inspect.isawaitable(result):",
                  "            result = await result"]
    else:
        lines += [f"        result = {'await ' if is_async else ''}fn(*args, **kwargs)"]
    if plan.excluded is not None:
        lines += ["    except __EXCLUDED__:", "        raise"]
    lines += [f"    except {'__COUNTED__' if plan.counted is not None else 'Exception'}:",
              "        breaker.record_failure()", "        raise", "    breaker.record_success()", "    return result"]
    helper = cst.parse_statement("\n".join(lines) + "\n")
    helper = helper.visit(_Placeholders({"__EXCLUDED__": plan.excluded, "__COUNTED__": plan.counted}))
    assert isinstance(helper, cst.FunctionDef)
    return helper.with_changes(leading_lines=[cst.EmptyLine(indent=False)])


class _Placeholders(cst.CSTTransformer):
    def __init__(self, values: dict[str, cst.BaseExpression | None]) -> None:
        self.values = values

    def leave_Name(self, original_node: cst.Name, updated_node: cst.Name) -> cst.BaseExpression:
        value = self.values.get(updated_node.value)
        return value.deep_clone() if value is not None else updated_node
