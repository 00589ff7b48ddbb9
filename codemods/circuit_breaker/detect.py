"""Circuit breakers, detection: what the codemod finds in one file, and the facts it reads."""

from __future__ import annotations

import ast
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import libcst as cst

from omnimix.analysis.context import FileContext
from omnimix.analysis.module_cache import parse_file
from omnimix.analysis.syntax import (
    LOG_METHODS,
    annotation_names,
    assign_targets,
    body_statements,
    child_blocks,
    dotted_name,
    function_symbols,
    import_table,
    is_logging_statement,
    module_constants_used_only_in,
    module_file,
    resolve_symbol,
    self_attr,
    span_of,
    walk_body,
)
from omnimix.analysis.tree import nodes_of, walk
from omnimix.catalog import load_catalog
from omnimix.concerns import Action, Safety

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


_BREAKER_SITES = (cst.Assign, cst.AnnAssign, cst.FunctionDef, cst.For, cst.CompFor)
_ASSIGNMENTS = frozenset({cst.Assign, cst.AnnAssign, cst.AugAssign})


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
    for node in nodes_of(module, _BREAKER_SITES):  # in source order, from the module's index
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
            node_type = type(n)  # LibCST's node classes are final: type tests, not isinstance through ABCMeta
            if node_type is cst.Call:
                call_keys, kind = _operation(n, analysis)  # type: ignore[arg-type]
                if kind is not None:
                    keys |= call_keys
                    any_op = True
                    if kind == "drift":
                        drift.add(n.func.attr.value)  # type: ignore[attr-defined]
            elif node_type in _ASSIGNMENTS:
                for target in assign_targets(n):  # type: ignore[arg-type]
                    key = _target_key(target)
                    if key in analysis.breakers and analysis.breakers[key].kind != FIELDS:
                        keys.add(key)
                        any_op = True
                    if self_attr(target) in self.field_owner:
                        keys.add(self.field_owner[self_attr(target) or ""])
                        any_op = True
            elif node_type is cst.Attribute:
                read = _reads_breaker(n, analysis)  # type: ignore[arg-type]
                if read is not None:
                    keys |= read
                    reads = True
                elif dotted_name(n) in analysis.open_errors:  # type: ignore[arg-type]
                    keys |= self.error_keys(n)
                    reads = True
            elif node_type is cst.Name and n.value in analysis.open_errors:  # type: ignore[attr-defined]
                keys |= self.error_keys(n)
                reads = True
            elif node_type is cst.Name and n.value in self.derived:  # type: ignore[attr-defined]
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
