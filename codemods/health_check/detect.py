"""Health checks, detection: what the codemod finds in one file, and the facts it reads."""

from __future__ import annotations

import builtins
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import libcst as cst

from omnimix.analysis.context import FileContext
from omnimix.analysis.syntax import self_attr
from omnimix.analysis.tree import descendants
from omnimix.concerns import Action, Safety
from omnimix.consolidation.health_base import (
    state_of,
)
from omnimix.findings import Finding
from omnimix.migration_state import MigrationState

_STATUS_MEMBERS = {"HEALTHY": "healthy", "DEGRADED": "degraded", "UNHEALTHY": "unhealthy"}
_STATUS_WORDS = frozenset(_STATUS_MEMBERS.values())
_CORE_STATUS_VALUES = frozenset({"healthy", "degraded", "unhealthy", "unknown"})
_REGISTER_API = re.compile(r"(?:register|add)_?\w*(?:check|probe)\w*")
_SETUP_CALL = re.compile(r"(?:init|initialize|initialise|setup|set_up|configure|enable)_?\w*health\w*")
_HELPER_NAME = re.compile(r"check|probe|ping|health")
_CONSTANT_NAME = re.compile(r"[A-Z][A-Z0-9_]*")
_HEALTH_CONSTANT = re.compile(r"HEALTH|DEGRADED|PROBE|STALE")
_SUPPORT_NAME = re.compile(r"_?[A-Z][A-Za-z0-9_]*")
_MUTATORS = frozenset({"append", "appendleft", "extend", "add", "update", "clear", "pop", "popleft",
                       "discard", "remove", "insert", "setdefault"})
_CHECK_ARG_NAMES = ("check_func", "check", "func", "fn", "callback", "probe")
_MIGRATED_TYPE = "ModelHealthStatus"
_ADAPTER = "_health_check_adapter"
_BUILTINS = frozenset(dir(builtins))

# -- the emitted code (fixed text; values only ever enter through repr) ------------------------
_ADAPTER_SOURCE = '''\
def _health_check_adapter(
    name: str, check: Callable[[], Any], *, critical: bool, timeout_seconds: float
) -> Callable[[], Awaitable[ModelHealthStatus]]:
    """Run a ``(status, message, details)`` component check as a MixinHealthCheck check.

    As with the former local health mixin: an async check times out after ``timeout_seconds``,
    a check that raises or times out fails, a failing critical check makes the node unhealthy
    and any other non-healthy result only degraded.
    """

    async def run_check() -> ModelHealthStatus:
        try:
            outcome = check()
            if inspect.isawaitable(outcome):
                outcome = await asyncio.wait_for(outcome, timeout=timeout_seconds)
            if isinstance(outcome, tuple) and len(outcome) in (2, 3):
                status, message = outcome[0], str(outcome[1])
            else:
                status, message = outcome.status, str(outcome.message)
        except (asyncio.TimeoutError, TimeoutError):
            status, message = "unhealthy", f"health check timed out after {timeout_seconds:.1f}s"
        except Exception as exc:
            status, message = "unhealthy", f"health check failed: {exc}"
        value = str(getattr(status, "value", status)).lower()
        if value == "healthy":
            return ModelHealthStatus.create_healthy()
        issue = ModelHealthIssue.create_connectivity_issue(
            f"{name}: {message}", "critical" if critical else "medium"
        )
        if critical and value == "unhealthy":
            return ModelHealthStatus.create_unhealthy(issues=[issue])
        return ModelHealthStatus.create_degraded(issues=[issue])

    run_check.__name__ = f"check_{name}"
    return run_check
'''
_ADAPTER_IMPORTS = (("asyncio", None), ("inspect", None), ("typing", "Any"),
                    ("collections.abc", "Awaitable"), ("collections.abc", "Callable"))


# == syntax helpers ===============================================================================
def _walk(node: cst.CSTNode, *, own_scope: bool = False) -> Iterator[cst.CSTNode]:
    """Every descendant of ``node`` in source order; ``own_scope`` stops at nested definitions."""
    return descendants(node, into_defs=not own_scope)


def _string(node: cst.CSTNode | None) -> str | None:
    if isinstance(node, (cst.SimpleString, cst.ConcatenatedString)):
        value = node.evaluated_value
        return value if isinstance(value, str) else None
    return None


def _self_attr(node: cst.CSTNode | None) -> str | None:
    return None if node is None else self_attr(node)


def _last_name(node: cst.CSTNode) -> str:
    if isinstance(node, cst.Subscript):
        node = node.value
    if isinstance(node, cst.Attribute):
        return node.attr.value
    return node.value if isinstance(node, cst.Name) else ""


def _names(node: cst.CSTNode) -> set[str]:
    return {n.value for n in _walk(node) if isinstance(n, cst.Name)} | (
        {node.value} if isinstance(node, cst.Name) else set())


def _status_word(node: cst.CSTNode) -> str | None:
    if isinstance(node, cst.Attribute) and node.attr.value in _STATUS_MEMBERS:
        return _STATUS_MEMBERS[node.attr.value]
    word = _string(node)
    return word if word in _STATUS_WORDS else None


def _literal_value(node: cst.BaseExpression) -> object:
    """The value of a literal number, string or bool (``_NO_LITERAL`` otherwise)."""
    if isinstance(node, cst.Integer | cst.Float):
        return node.evaluated_value
    if isinstance(node, cst.UnaryOperation) and isinstance(node.operator, cst.Minus):
        value = _literal_value(node.expression)
        return -value if isinstance(value, int | float) and not isinstance(value, bool) else _NO_LITERAL
    if isinstance(node, cst.Name) and node.value in ("True", "False"):
        return node.value == "True"
    text = _string(node)
    return text if text is not None else _NO_LITERAL


_NO_LITERAL = object()


def _is_constant_value(node: cst.BaseExpression) -> bool:
    if isinstance(node, cst.BinaryOperation):
        return _is_constant_value(node.left) and _is_constant_value(node.right)
    return _literal_value(node) is not _NO_LITERAL and not isinstance(node, cst.Name)


def _annotation_names(func: cst.FunctionDef) -> set[str]:
    return _names(func.returns.annotation) if func.returns else set()


def _docstring_only(statement: cst.CSTNode) -> bool:
    return (isinstance(statement, cst.SimpleStatementLine) and len(statement.body) == 1
            and isinstance(statement.body[0], cst.Expr) and _string(statement.body[0].value) is not None)


def _methods(cls: cst.ClassDef) -> dict[str, cst.FunctionDef]:
    body = cls.body.body if isinstance(cls.body, cst.IndentedBlock) else ()
    return {stmt.name.value: stmt for stmt in body if isinstance(stmt, cst.FunctionDef)}


def _imports(module: cst.Module) -> dict[str, tuple[cst.ImportFrom | cst.Import, str, str]]:
    """Local name -> (import statement, source module with leading dots, imported name)."""
    found: dict[str, tuple[cst.ImportFrom | cst.Import, str, str]] = {}
    for node in _walk(module):
        if isinstance(node, cst.ImportFrom) and not isinstance(node.names, cst.ImportStar):
            source = "." * len(node.relative) + (cst.Module([]).code_for_node(node.module) if node.module else "")
            for alias in node.names:
                original = cst.Module([]).code_for_node(alias.name)
                local = alias.asname.name.value if alias.asname else original
                found[local] = (node, source, original)
        elif isinstance(node, cst.Import):
            for alias in node.names:
                dotted = cst.Module([]).code_for_node(alias.name)
                local = alias.asname.name.value if alias.asname else dotted.split(".")[0]
                found[local] = (node, dotted, dotted)
    return found


def _is_core(module: str) -> bool:
    return module.startswith("omnibase_core") or module.startswith("omnibase_spi")


def _call_target(call: cst.Call) -> str | None:
    """``m`` for a call ``self.m(...)``."""
    return _self_attr(call.func)


def _register_calls(func: cst.FunctionDef, api: set[str] | None = None) -> list[cst.Call]:
    calls = []
    for node in _walk(func.body):
        if isinstance(node, cst.Call):
            target = _call_target(node)
            if target and not target.startswith("_") and _REGISTER_API.fullmatch(target) and (
                    api is None or target in api):
                calls.append(node)
    return calls


def _registered_check(call: cst.Call) -> cst.BaseExpression | None:
    positional = [arg for arg in call.args if arg.keyword is None and not arg.star]
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value in _CHECK_ARG_NAMES:
            return arg.value
    return positional[1].value if len(positional) > 1 else None


def _returns_status_tuple(func: cst.FunctionDef) -> bool:
    for node in _walk(func.body, own_scope=True):
        if isinstance(node, cst.Return) and isinstance(node.value, cst.Tuple):
            elements = node.value.elements
            if 2 <= len(elements) <= 3 and _status_word(elements[0].value):
                return True
    return False


def _builds_health_dict(func: cst.FunctionDef) -> bool:
    """A hand-assembled health document: a ``"status"`` entry valued with health words."""
    status_key = False
    words: set[str] = set()
    for node in _walk(func.body):
        if isinstance(node, cst.DictElement) and _string(node.key) == "status":
            status_key = True
        elif isinstance(node, cst.SubscriptElement) and isinstance(node.slice, cst.Index) \
                and _string(node.slice.value) == "status":
            status_key = True
        elif isinstance(node, cst.Arg) and node.keyword is not None and node.keyword.value == "status":
            status_key = True
        word = _status_word(node)
        if word:
            words.add(word)
    name = func.name.value.lower()
    return status_key and (len(words) >= 2 or ("health" in name and bool(words)))


def _is_health_mixin(cls: cst.ClassDef) -> bool:
    """A class offering check registration (a public ``register_*check``) and speaking of health."""
    methods = _methods(cls)
    registers = any(not name.startswith("_") and _REGISTER_API.fullmatch(name) for name in methods)
    if not registers:
        return False
    return ("health" in cls.name.value.lower() or any("health" in name for name in methods)
            or any(isinstance(n, cst.Attribute) and n.attr.value in _STATUS_MEMBERS for n in _walk(cls.body)))


def _is_status_enum(cls: cst.ClassDef) -> bool:
    if not any(_last_name(arg.value).endswith("Enum") for arg in cls.bases):
        return False
    members = set()
    for stmt in cls.body.body if isinstance(cls.body, cst.IndentedBlock) else ():
        if isinstance(stmt, cst.SimpleStatementLine):
            for small in stmt.body:
                if isinstance(small, cst.Assign):
                    members |= {t.target.value for t in small.targets if isinstance(t.target, cst.Name)}
    return "HEALTHY" in members and bool(members & {"DEGRADED", "UNHEALTHY"})


# == the detector's model of one module ===========================================================
@dataclass
class _Item:
    """One hand-written piece of the health family, before it becomes a finding."""

    kind: str
    nodes: tuple[cst.CSTNode, ...]
    name: str = ""
    detail: str = ""


@dataclass
class _ClassHealth:
    node: cst.ClassDef
    methods: dict[str, cst.FunctionDef]
    kinds: dict[str, str] = field(default_factory=dict)  # method -> check|hook|dict|helper
    migrated: set[str] = field(default_factory=set)


class _ModuleHealth:
    """Classifies the health code of one module; shared by the detector and the transform."""

    def __init__(self, module: cst.Module) -> None:
        self.module = module
        self.imports = _imports(module)
        self.items: list[_Item] = []
        self.top = list(module.body)
        self.classes = {s.name.value: s for s in self.top if isinstance(s, cst.ClassDef)}
        self.functions = {s.name.value: s for s in self.top if isinstance(s, cst.FunctionDef)}
        self.mixins = {name for name, cls in self.classes.items() if _is_health_mixin(cls)}
        self.status_enums = {name for name, cls in self.classes.items() if _is_status_enum(cls)}
        self.probes = {name for name, func in self.functions.items()
                       if not self._migrated(func) and (_returns_status_tuple(func) or self._health_annotated(func))}
        self.support = self._support_defs(self.mixins | self.probes) if self.mixins else set()
        self.class_health: dict[str, _ClassHealth] = {}
        self.state_names: set[int] = set()  # id() of the names read by statements reported as health state
        for name, cls in self.classes.items():
            if name not in self.mixins and name not in self.support:
                self.class_health[name] = self._classify_class(cls)
        self._collect()

    # -- predicates -------------------------------------------------------------------------
    def _migrated(self, func: cst.FunctionDef) -> bool:
        return _MIGRATED_TYPE in _annotation_names(func)

    def _health_annotated(self, func: cst.FunctionDef) -> bool:
        for name in _annotation_names(func):
            if name in self.status_enums:
                return True
            source = self.imports.get(name)
            if source and not _is_core(source[1].lstrip(".")) and "health" in source[1].lower():
                return True
        return False

    def local_mixin_bases(self, cls: cst.ClassDef) -> list[cst.Arg]:
        """Bases that are a project-local health mixin: defined here, or imported and named so.

        When none is named so but the class registers checks, its one project-local base is it.
        """
        bases, local = [], []
        for arg in cls.bases:
            name = _last_name(arg.value)
            source = self.imports.get(name)
            if name in self.mixins:
                bases.append(arg)
            elif source and not _is_core(source[1].lstrip(".")):
                local.append(arg)
                if "health" in name.lower() or "health" in source[1].lower():
                    bases.append(arg)
        if not bases and len(local) == 1 and any(_register_calls(f) for f in _methods(cls).values()):
            bases = local
        return bases

    # -- classes ----------------------------------------------------------------------------
    def _classify_class(self, cls: cst.ClassDef) -> _ClassHealth:
        info = _ClassHealth(cls, _methods(cls))
        mixin_based = any(_last_name(a.value) == "MixinHealthCheck" for a in cls.bases)
        for name, func in info.methods.items():
            if self._migrated(func) or (name == "get_health_checks" and mixin_based):
                info.migrated.add(name)
                info.migrated |= {a for n in _walk(func.body) if (a := _self_attr(n))}
        for name, func in info.methods.items():
            if name in info.migrated:
                continue
            calls = _register_calls(func)
            if calls:
                info.kinds[name] = "hook"
                for call in calls:
                    target = _self_attr(_registered_check(call))
                    if target and target in info.methods and target not in info.migrated:
                        info.kinds.setdefault(target, "check")
        for name, func in info.methods.items():
            if name in info.migrated or name in info.kinds:
                continue
            if _returns_status_tuple(func) or self._health_annotated(func):
                info.kinds[name] = "check"
            elif _builds_health_dict(func):
                info.kinds[name] = "dict"
        if info.kinds:
            self._add_helpers(info)
        return info

    def _add_helpers(self, info: _ClassHealth) -> None:
        """Probe-like methods that only health methods call."""
        uses: dict[str, set[str]] = {}
        for caller, func in info.methods.items():
            for node in _walk(func):
                target = _self_attr(node)
                if target in info.methods and target != caller:
                    uses.setdefault(target, set()).add(caller)
        changed = True
        while changed:
            changed = False
            for name, callers in uses.items():
                if name in info.kinds or name in info.migrated or not _HELPER_NAME.search(name):
                    continue
                if callers and all(caller in info.kinds for caller in callers):
                    info.kinds[name] = "helper"
                    changed = True

    # -- collecting items -------------------------------------------------------------------
    def _collect(self) -> None:
        items = self.items
        for name in self.mixins:
            state = state_of(self.module, self.classes[name])
            if state != "done":  # a mixin already on MixinHealthCheck is migrated
                items.append(_Item("mixin", (self.classes[name],), name, state or ""))
        health_defs = self.mixins | self.probes | self.support
        for name in self.status_enums - health_defs:
            if any(name in _names(self.functions[p]) for p in self.probes) or any(
                    name in _names(info.methods[m]) for info in self.class_health.values()
                    for m, kind in info.kinds.items() if kind == "check"):
                items.append(_Item("support", (self.classes[name],), name))
                health_defs.add(name)
        for name in self.probes:
            items.append(_Item("probe", (self.functions[name],), name, _probe_kind(self.functions[name])))
        for name in sorted(health_defs - self.mixins - self.probes - {i.name for i in items}):
            node = self.classes.get(name) or self.functions.get(name)
            items.append(_Item("support", (node,), name))
        for cls_name, info in self.class_health.items():
            self._collect_class(cls_name, info)
        self._collect_constants(health_defs)

    def _support_defs(self, seeds: set[str]) -> set[str]:
        """Top-level classes and functions the local mixin (or its probes) depends on."""
        found: set[str] = set()
        frontier = set(seeds)
        candidates = {**self.classes, **self.functions}
        while frontier:
            referenced = set()
            for name in frontier:
                referenced |= _names(candidates[name])
            frontier = {n for n in referenced if n in candidates and n not in found and n not in seeds}
            found |= frontier
        return found

    def _collect_class(self, cls_name: str, info: _ClassHealth) -> None:
        # A node listing the local mixin among its bases is not health code of its own: the mixin module
        # is reported, and the migration removes the base along with the registration hook.
        for name, kind in info.kinds.items():
            self.items.append(_Item(kind, (info.methods[name],), f"{cls_name}.{name}"))
        blocks = [(name, block) for name, func in info.methods.items()
                  if name not in info.kinds and name not in info.migrated for block in _blocks(func)]
        state = self._health_only_attributes(info, set(info.kinds)) - _lifecycle_flags(info)
        # Outside the constructor, an attribute updated amid other bookkeeping (counters next to it)
        # belongs to that bookkeeping; when every update of it is so, it is not health state.
        mixed: set[int] = set()
        for name, block in blocks:
            if name != "__init__":
                mixed |= _mixed_paragraphs(block, state)
        for attr in sorted(state):
            updates = [s for name, block in blocks if name != "__init__" for s in block
                       if isinstance(s, cst.SimpleStatementLine)
                       and any(attr in _written_attributes(small) for small in s.body)]
            if updates and all(id(s) in mixed for s in updates):
                state.discard(attr)
        uptime = _uptime_origins(info) - state
        for name, block in blocks:
            symbol = f"{cls_name}.{name}"
            run: list[cst.BaseStatement] = []
            for statement in [*block, None]:
                kind = self._statement_kind(statement, info, state) if statement is not None else None
                if kind is None and name == "__init__" and _writes_only(statement, uptime):
                    kind = "uptime"
                if kind == "state" and id(statement) not in mixed:
                    run.append(statement)
                    continue
                if run:
                    self.items.append(_Item("state", (run[0], run[-1]), symbol))
                    self.state_names |= {id(n) for statement in run for n in _walk(statement) if isinstance(n, cst.Name)}
                    run = []
                if kind == "setup":
                    self.items.append(_Item("setup", (statement,), symbol, _call_target(statement.body[0].value)))
                elif kind == "uptime":
                    self.items.append(_Item("uptime", (statement,), symbol))

    def _statement_kind(self, statement: cst.BaseStatement, info: _ClassHealth, state: set[str]) -> str | None:
        if not isinstance(statement, cst.SimpleStatementLine):
            return None
        if len(statement.body) == 1 and isinstance(statement.body[0], cst.Expr) \
                and isinstance(statement.body[0].value, cst.Call):
            target = _call_target(statement.body[0].value)
            if target and target not in info.methods and _SETUP_CALL.fullmatch(target):
                return "setup"
        written = [_written_attributes(small) for small in statement.body]
        if all(names and names <= state for names in written):
            return "state"
        return None

    def _health_only_attributes(self, info: _ClassHealth, health_methods: set[str]) -> set[str]:
        readers: dict[str, set[str]] = {}
        assigned: set[str] = set()
        for name, func in info.methods.items():
            reads, writes = _attribute_uses(func)
            assigned |= writes
            for attr in reads:
                readers.setdefault(attr, set()).add(name)
        return {attr for attr, methods in readers.items()
                if attr in assigned and attr not in info.methods and methods <= health_methods}

    def _collect_constants(self, health_defs: set[str]) -> None:
        health_names: set[str] = set()
        other_names: set[str] = set()
        constants: dict[int, str] = {}
        for index, statement in enumerate(self.top):
            name = _support_binding_name(statement) if self.mixins else _constant_name(statement)
            if name:
                constants[index] = name
                continue
            if isinstance(statement, cst.FunctionDef):
                (health_names if statement.name.value in health_defs else other_names).update(_names(statement))
            elif isinstance(statement, cst.ClassDef) and statement.name.value in health_defs:
                health_names |= _names(statement)
            elif isinstance(statement, cst.ClassDef) and statement.name.value in self.class_health:
                info = self.class_health[statement.name.value]
                for item in statement.body.body if isinstance(statement.body, cst.IndentedBlock) else ():
                    if isinstance(item, cst.FunctionDef) and item.name.value in info.kinds:
                        health_names |= _names(item)
                        continue
                    # A health-named default read only where the method keeps health state (a threshold
                    # read with the config fallback) is the health code's too.
                    for node in _walk(item):
                        if isinstance(node, cst.Name):
                            health = id(node) in self.state_names and _HEALTH_CONSTANT.search(node.value)
                            (health_names if health else other_names).add(node.value)
                for arg in statement.bases:
                    other_names |= _names(arg.value)
            elif not isinstance(statement, cst.SimpleStatementLine) or not all(
                    isinstance(s, cst.ImportFrom | cst.Import) for s in statement.body):
                other_names |= _names(statement)
        for index in constants:
            other_names |= _names(self.top[index].body[0].value)
        health_only = {i for i, name in constants.items() if name in health_names and name not in other_names}
        run: list[int] = []
        for index in [*sorted(health_only), None]:
            if run and (index is None or index != run[-1] + 1):
                # In a health-mixin module every such constant is the mixin's; elsewhere a lone or
                # unnamed one is more often shared tuning than a health threshold.
                if self.mixins or (len(run) >= 2 and any(_HEALTH_CONSTANT.search(constants[i]) for i in run)) \
                        or all("HEALTH" in constants[i] for i in run):
                    self.items.append(_Item("constants", (self.top[run[0]], self.top[run[-1]]), "<module>"))
                run = []
            if index is not None:
                run.append(index)


def _constant_name(statement: cst.CSTNode) -> str | None:
    if not isinstance(statement, cst.SimpleStatementLine) or len(statement.body) != 1:
        return None
    small = statement.body[0]
    if isinstance(small, cst.Assign) and len(small.targets) == 1:
        target, value = small.targets[0].target, small.value
    elif isinstance(small, cst.AnnAssign) and small.value is not None:
        target, value = small.target, small.value
    else:
        return None
    if isinstance(target, cst.Name) and _CONSTANT_NAME.fullmatch(target.value) and _is_constant_value(value):
        return target.value
    return None


def _support_binding_name(statement: cst.CSTNode) -> str | None:
    """In a health-mixin module, a module constant, a constant table (``_SEVERITY = {Status.OK: 0}``)
    or a type alias (``CheckResult = tuple[...]``); calls (loggers, clients) are not support."""
    name = _constant_name(statement)
    if name or not isinstance(statement, cst.SimpleStatementLine) or len(statement.body) != 1:
        return name
    small = statement.body[0]
    if isinstance(small, cst.Assign) and len(small.targets) == 1:
        target, value = small.targets[0].target, small.value
    elif isinstance(small, cst.AnnAssign) and small.value is not None:
        target, value = small.target, small.value
    else:
        return None
    if not isinstance(target, cst.Name) or not _SUPPORT_NAME.fullmatch(target.value):
        return None
    if isinstance(value, cst.Subscript) and isinstance(value.value, cst.Name | cst.Attribute):
        return target.value
    if isinstance(value, cst.Dict):
        parts = [p for e in value.elements if isinstance(e, cst.DictElement) for p in (e.key, e.value)]
        complete = len(parts) == 2 * len(value.elements)
    elif isinstance(value, cst.Set | cst.Tuple | cst.List):
        parts = [e.value for e in value.elements if isinstance(e, cst.Element)]
        complete = len(parts) == len(value.elements)
    else:
        return None
    if complete and parts and all(_is_constant_value(p) or isinstance(p, cst.Attribute) for p in parts):
        return target.value
    return None


_LIFECYCLE_STEPS = frozenset({"initialize", "initialise", "start", "startup", "shutdown", "stop", "close",
                              "aclose", "cleanup", "connect", "disconnect", "__aenter__", "__aexit__"})


def _self_assignments(info: _ClassHealth) -> list[tuple[str, str, cst.BaseExpression | None]]:
    """``(method, attribute, value)`` for every assignment to ``self.<attribute>`` in the class."""
    found = []
    for method, func in info.methods.items():
        for node in _walk(func):
            kind = type(node)  # LibCST's node classes are final: type tests, not isinstance through ABCMeta
            if kind is cst.Assign:
                targets, value = [t.target for t in node.targets], node.value  # type: ignore[attr-defined]
            elif kind is cst.AnnAssign or kind is cst.AugAssign:
                targets = [node.target]  # type: ignore[attr-defined]
                value = node.value if kind is cst.AnnAssign else None  # type: ignore[attr-defined]
            else:
                continue
            found.extend((method, attr, value) for t in targets if (attr := _self_attr(t)))
    return found


_CLOCK_READINGS = frozenset({"monotonic", "monotonic_ns", "perf_counter", "perf_counter_ns", "time", "time_ns",
                             "now", "utcnow"})
_METRICS_METHOD = re.compile(r"metric|stat|snapshot|telemetry", re.IGNORECASE)


def _uptime_origins(info: _ClassHealth) -> set[str]:
    """Start times taken once in the constructor that only health and metrics methods read (for uptime).

    Reads in the constructor itself hand the origin over while wiring (to a metrics model) and do not count.
    """
    assigned: dict[str, list[tuple[str, cst.BaseExpression | None]]] = {}
    for method, attr, value in _self_assignments(info):
        assigned.setdefault(attr, []).append((method, value))
    origins = {attr for attr, values in assigned.items()
               if len(values) == 1 and values[0][0] == "__init__" and isinstance(values[0][1], cst.Call)
               and _last_name(values[0][1].func) in _CLOCK_READINGS}
    if not origins:
        return set()
    readers: dict[str, set[str]] = {}
    for name, func in info.methods.items():
        if name != "__init__":
            for attr in _attribute_uses(func)[0] & origins:
                readers.setdefault(attr, set()).add(name)
    return {attr for attr, methods in readers.items()
            if methods & set(info.kinds)
            and all(m in info.kinds or _METRICS_METHOD.search(m) for m in methods)}


def _writes_only(statement: cst.BaseStatement | None, attributes: set[str]) -> bool:
    """A simple statement whose every part assigns some of ``attributes`` of ``self`` and nothing else."""
    if not attributes or not isinstance(statement, cst.SimpleStatementLine):
        return False
    return all((names := _written_attributes(small)) and names <= attributes for small in statement.body)


def _lifecycle_flags(info: _ClassHealth) -> set[str]:
    """Boolean attributes that initialize()/shutdown() set: lifecycle state the health method only reports."""
    values: dict[str, list[tuple[str, cst.BaseExpression | None]]] = {}
    for method, attr, value in _self_assignments(info):
        values.setdefault(attr, []).append((method, value))
    return {attr for attr, assigned in values.items()
            if any(method in _LIFECYCLE_STEPS for method, _ in assigned)
            and all(isinstance(value, cst.Name) and value.value in ("True", "False") for _, value in assigned)}


def _blocks(func: cst.FunctionDef) -> Iterator[list[cst.BaseStatement]]:
    """The statement lists of a function body and of every block nested in it."""
    stack: list[cst.CSTNode] = [func.body]
    while stack:
        node = stack.pop()
        if isinstance(node, cst.IndentedBlock):
            yield list(node.body)
        for child in node.children:
            if not isinstance(child, (cst.FunctionDef, cst.ClassDef, cst.Lambda, cst.SimpleStatementLine)):
                stack.append(child)


def _paragraphs(block: list[cst.BaseStatement]) -> list[list[cst.BaseStatement]]:
    """Runs of statements not separated by a blank line."""
    paragraphs: list[list[cst.BaseStatement]] = []
    for statement in block:
        if not paragraphs or any(line.comment is None for line in statement.leading_lines):
            paragraphs.append([])
        paragraphs[-1].append(statement)
    return paragraphs


def _mixed_paragraphs(block: list[cst.BaseStatement], state: set[str]) -> set[int]:
    """Statements of paragraphs that also keep other attributes: bookkeeping of another concern."""
    mixed: set[int] = set()
    for paragraph in _paragraphs(block):
        written: set[str] = set()
        for statement in paragraph:
            if isinstance(statement, cst.SimpleStatementLine):
                for small in statement.body:
                    written |= _written_attributes(small)
        if written - state:
            mixed |= {id(statement) for statement in paragraph}
    return mixed


def _written_attributes(small: cst.CSTNode) -> set[str]:
    """Attributes of ``self`` that a small statement assigns or mutates (empty if it does more)."""
    if isinstance(small, cst.Assign):
        targets = [t.target for t in small.targets]
    elif isinstance(small, cst.AnnAssign | cst.AugAssign):
        targets = [small.target]
    elif isinstance(small, cst.Expr) and isinstance(small.value, cst.Call) \
            and isinstance(small.value.func, cst.Attribute) and small.value.func.attr.value in _MUTATORS:
        targets = [small.value.func.value]
    else:
        return set()
    names = set()
    for target in targets:
        if isinstance(target, cst.Subscript):
            target = target.value
        name = _self_attr(target)
        if name is None:
            return set()
        names.add(name)
    return names


_ASSIGNMENTS = frozenset({cst.Assign, cst.AnnAssign, cst.AugAssign})


def _attribute_uses(func: cst.FunctionDef) -> tuple[set[str], set[str]]:
    """Attributes of ``self`` read and written in ``func``; a statement updating itself is no read."""
    reads: set[str] = set()
    writes: set[str] = set()
    skip: set[int] = set()
    for node in _walk(func):
        kind = type(node)
        if kind in _ASSIGNMENTS or (kind is cst.Expr and _written_attributes(node)):
            targets = _written_attributes(node)
            writes |= targets
            for inner in [node, *_walk(node)]:
                if _self_attr(inner) in targets:
                    skip.add(id(inner))
        elif id(node) not in skip:
            name = _self_attr(node)
            if name is not None:
                reads.add(name)
    return reads, writes


def _probe_kind(func: cst.FunctionDef) -> str:
    code = cst.Module([]).code_for_node(func)
    if "SELECT 1" in code or "fetchval" in code or ".execute(" in code:
        return "postgresql"
    if "bootstrap_connected" in code or "list_topics" in code:
        return "kafka"
    if "/health" in code or "status_code" in code:
        return "http"
    if ".ping(" in code:
        return "redis"
    return ""


_PROBE_REPLACEMENTS = {
    "postgresql": ("check_postgresql_health", "it returns HEALTHY for a pool type it does not recognise "
                   "(an asyncpg pool offering only fetchval is not probed)"),
    "kafka": ("check_kafka_health", "it reports a failed or timed-out producer as DEGRADED, never UNHEALTHY"),
    "http": ("check_http_service_health", "it needs a ProtocolHttpClient and returns UNHEALTHY without one"),
    "redis": ("check_redis_health", "its result is a ModelHealthStatus, not a (status, message, details) tuple"),
}


def _verdict_mixin(item: _Item) -> tuple[Action, Safety, str, str]:
    if not item.detail:
        return (Action.REPLACE, Safety.SAFE, "omnibase_core MixinHealthCheck as its base, with get_health_checks()",
                f"project-local health mixin {item.name}; migrating a node that inherits it rebuilds it once on "
                "MixinHealthCheck: get_health_checks() hands over its registered checks, and its roll-up, "
                "timeouts, cache and public surface stay as they are")
    return (Action.REPLACE, Safety.UNSAFE, "omnibase_core MixinHealthCheck.get_health_checks()",
            f"project-local health mixin {item.name}; omnimix cannot rebuild it on MixinHealthCheck ({item.detail}), "
            "and replacing it in each node loses what MixinHealthCheck lacks: the result cache and the "
            "per-component results")


def _verdict_support(item: _Item) -> tuple[Action, Safety, str, str]:
    return (Action.REPLACE, Safety.UNSAFE, "omnibase_core ModelHealthStatus / EnumHealthStatusValue",
            f"{item.name} belongs to the local health-check machinery that MixinHealthCheck replaces")


def _verdict_probe(item: _Item) -> tuple[Action, Safety, str, str]:
    replacement = _PROBE_REPLACEMENTS.get(item.detail)
    if replacement is None:
        return (Action.KEEP, Safety.SAFE, "",
                f"probe helper {item.name} has no omnibase-core counterpart; wrap it as a MixinHealthCheck check")
    helper, caveat = replacement
    return (Action.SIMPLIFY, Safety.UNSAFE, f"omnibase_core {helper}",
            f"probe helper {item.name} ({item.detail}); {helper} covers it, but {caveat}")


def _verdict_check(item: _Item) -> tuple[Action, Safety, str, str]:
    return (Action.REPLACE, Safety.SAFE, "MixinHealthCheck.get_health_checks() (through an adapter)",
            f"component check {item.name}; it stays and MixinHealthCheck runs it through an adapter")


def _verdict_hook(item: _Item) -> tuple[Action, Safety, str, str]:
    return (Action.REPLACE, Safety.UNSAFE, "MixinHealthCheck.get_health_checks()",
            f"{item.name} registers component checks with the local health mixin; it becomes "
            "get_health_checks(), safe when callers read only .status of check_health()")


def _verdict_setup(item: _Item) -> tuple[Action, Safety, str, str]:
    return (Action.REPLACE, Safety.UNSAFE, "MixinHealthCheck (no set-up)",
            f"self.{item.detail}() sets up the local health mixin (result cache, clock); MixinHealthCheck "
            "needs no set-up and has no cache")


def _verdict_dict(item: _Item) -> tuple[Action, Safety, str, str]:
    return (Action.KEEP, Safety.SAFE, "",
            f"hand-built health document {item.name}: its public dict shape (keys, per-component details, "
            "thresholds) has no omnibase-core equivalent; MixinHealthCheck returns a ModelHealthStatus")


def _verdict_helper(item: _Item) -> tuple[Action, Safety, str, str]:
    return (Action.KEEP, Safety.SAFE, "",
            f"probe {item.name} feeds only the node's hand-built health methods; it stays with them")


def _verdict_uptime(item: _Item) -> tuple[Action, Safety, str, str]:
    return (Action.KEEP, Safety.SAFE, "",
            "uptime origin read only by the node's health and metrics methods; it stays with them")


def _verdict_state(item: _Item) -> tuple[Action, Safety, str, str]:
    return (Action.KEEP, Safety.SAFE, "",
            "state read only by the node's health methods; it stays with them")


_VERDICTS = {
    "mixin": _verdict_mixin, "support": _verdict_support, "probe": _verdict_probe,
    "check": _verdict_check, "hook": _verdict_hook, "setup": _verdict_setup,
    "dict": _verdict_dict, "helper": _verdict_helper, "state": _verdict_state, "constants": _verdict_state,
    "uptime": _verdict_uptime,
}
_GROUP_KINDS = frozenset({"setup", "hook", "check"})


def _kept_note(finding: Finding, path: Path, state: MigrationState) -> str:
    if path != state.node_path:
        return f"outside the node module, unchanged: {finding.reason}"
    return finding.reason


def _item_span(ctx: FileContext, item: _Item) -> tuple[int, int]:
    first, last = item.nodes[0], item.nodes[-1]
    symbol = ctx.symbols.of(first) if isinstance(first, cst.FunctionDef | cst.ClassDef) else None
    if symbol is not None:
        return symbol.start_line, symbol.end_line
    return ctx.span(first)[0], ctx.span(last)[1]


def _belongs_to(item: _Item, class_name: str) -> bool:
    return item.name == class_name or item.name.startswith(class_name + ".")
