"""Health checks: a project-local health mixin's registrations become MixinHealthCheck checks.

The detector reports the hand-written health family (local health mixins and their support types,
probe helpers, component checks and their registration hook, hand-built health dicts, and the
state only they read). The transform migrates a node that inherits a local health mixin: its
``_register_component_checks`` override becomes ``get_health_checks()``, one adapter per
registration turns ``(status, message, details)`` checks into ``ModelHealthStatus`` with the same
timeouts and roll-up, and the public ``check_health()`` stays as a delegate when callers only read
its ``.status``.
"""

from __future__ import annotations

import builtins
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import ClassVar

import libcst as cst

from codemods.base import Codemod, Example
from omnimix.analysis.context import FileContext
from omnimix.analysis.lines import Lines
from omnimix.analysis.module_cache import parse_file, parse_text, read_text
from omnimix.analysis.tree import Parents, descendants, index_module
from omnimix.catalog import load_catalog
from omnimix.concerns import Action, Concern, Safety
from omnimix.consolidation.health_base import ADAPTER, CORE_METHODS, CORE_MIXIN, HOOK, Rebuild, rebuild_on_core
from omnimix.consolidation.health_base import state_of
from omnimix.discovery import display_path, dotted_module_name
from omnimix.findings import Finding
from omnimix.migration_state import MigrationState, Outcome

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
    if (isinstance(node, cst.Attribute) and isinstance(node.value, cst.Name)
            and node.value.value == "self"):
        return node.attr.value
    return None


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
            if isinstance(node, cst.Assign):
                targets, value = [t.target for t in node.targets], node.value
            elif isinstance(node, cst.AnnAssign | cst.AugAssign):
                targets, value = [node.target], (node.value if isinstance(node, cst.AnnAssign) else None)
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


def _attribute_uses(func: cst.FunctionDef) -> tuple[set[str], set[str]]:
    """Attributes of ``self`` read and written in ``func``; a statement updating itself is no read."""
    reads: set[str] = set()
    writes: set[str] = set()
    skip: set[int] = set()
    for node in _walk(func):
        if isinstance(node, cst.Assign | cst.AnnAssign | cst.AugAssign) or (
                isinstance(node, cst.Expr) and _written_attributes(node)):
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



# == the codemod ==================================================================================
class ReplaceHealthChecks(Codemod):
    """Local health-mixin registrations to MixinHealthCheck; hand-built health dicts are reported."""

    name = "replace-health-checks"
    concern = Concern.HEALTH_CHECK
    description = (
        "Replaces a project-local health mixin's component-check registration with "
        "MixinHealthCheck.get_health_checks() (same timeouts and roll-up) and keeps check_health() "
        "as a delegate; reports hand-built health dicts and probe helpers with the reason they stay."
    )
    enabled_by = ("MixinHealthCheck",)
    keywords = ("health", "probe")
    examples: ClassVar[tuple[Example, ...]] = ()  # assigned at the end of the module, after their texts

    # -- detection ----------------------------------------------------------------------------
    def detect(self, ctx: FileContext) -> list[Finding]:
        return [self._finding(ctx, item) for item in _ModuleHealth(ctx.module).items]

    def _finding(self, ctx: FileContext, item: _Item) -> Finding:
        action, safety, replacement, reason = _VERDICTS[item.kind](item)
        start, end = _item_span(ctx, item)
        symbol = ctx.symbols.of(item.nodes[0]) if isinstance(item.nodes[0], cst.FunctionDef | cst.ClassDef) else None
        return self.finding(ctx, start, end, action=action, safety=safety, replacement=replacement,
                            reason=reason, symbol=symbol.name if symbol else None)

    # -- transformation -----------------------------------------------------------------------
    def transform(self, state: MigrationState) -> None:
        if not any(state.declared(switch) for switch in self.enabled_by):
            return
        found = state.findings_of(str(self.concern))
        if not found:
            return
        ctx = state.files[state.node_path]
        kinds = {_item_span(ctx, item): item.kind for item in _ModuleHealth(ctx.module).items
                 if item.kind in _GROUP_KINDS and _belongs_to(item, state.node_class)}
        in_group = [(p, f) for p, f in found if p == state.node_path and (f.start_line, f.end_line) in kinds]
        for path, finding in found:
            if (path, finding) not in in_group:
                state.decide(finding, path, Outcome.KEPT, _kept_note(finding, path, state))
        if not in_group:
            return
        shared = _Planner(state).shared_base()
        if isinstance(shared, Rebuild):
            if shared.after is not None:
                state.shared_texts[shared.path] = shared.after
            state.inherited.add(CORE_MIXIN)
            self._decide(state, in_group, kinds, Outcome.APPLIED, _shared_note(shared), shared=True)
            return
        try:
            plan = _Planner(state).plan()
        except _Refused as refusal:
            state.warnings.append(f"{state.node_class}: health checks not migrated: {refusal}")
            self._decide(state, in_group, kinds, Outcome.KEPT, str(refusal))
            return
        if plan.unsafe_uses and not state.allows(Safety.UNSAFE):
            note = plan.unsafe_note()
            state.warnings.append(f"{state.node_class}: health-check migration is unsafe and waits for "
                                  f"--unsafe: {note}")
            self._decide(state, in_group, kinds, Outcome.PENDING_UNSAFE, note)
            return
        _apply(state, plan)
        self._decide(state, in_group, kinds, Outcome.APPLIED, plan.applied_note(), plan)

    @staticmethod
    def _decide(state: MigrationState, group: list[tuple[Path, Finding]], kinds: dict[tuple[int, int], str],
                outcome: Outcome, reason: str, plan: _Plan | None = None, *, shared: bool = False) -> None:
        """The registration hook carries the whole reason; the rest of its family says what became of it."""
        for path, finding in group:
            kind = kinds[(finding.start_line, finding.end_line)]
            if kind == "hook":
                note = reason
            elif shared:
                note = "unchanged; the shared mixin hands it to MixinHealthCheck with the node's other checks"
            elif outcome is not Outcome.APPLIED:
                note = f"left as it is with the registration it belongs to: {reason.split('; ')[0]}"
            elif kind == "setup":
                note = "removed: MixinHealthCheck needs no set-up (the local result cache and its TTL are dropped)"
            else:
                note = f"unchanged; MixinHealthCheck runs it through {_ADAPTER}"
            state.decide(finding, path, outcome, note)


def _shared_note(shared: Rebuild) -> str:
    done = "derives from it" if shared.done else "is rebuilt on it (once, for every node that uses it)"
    registry = f" in self.{shared.checks}" if shared.checks else ""
    return (f"runs through MixinHealthCheck: the shared {shared.class_name} ({shared.path.name}) {done}, and its "
            f"get_health_checks() hands over every check registered{registry}, each run as check_health() runs it; "
            "check_health(), its cache and its callers are unchanged")


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


# == migration planning ===========================================================================
class _Refused(Exception):
    """The node's health code cannot be migrated as it is written; the message says why."""


@dataclass
class _LocalMixin:
    """The project-local health mixin class the node inherits, read from its own module."""

    base_name: str
    class_name: str
    import_node: cst.ImportFrom
    import_module: str
    module_name: str
    path: Path
    module: cst.Module
    node: cst.ClassDef

    @property
    def methods(self) -> dict[str, cst.FunctionDef]:
        return _methods(self.node)

    @property
    def state(self) -> set[str]:
        """Attributes the mixin assigns on ``self``."""
        assigned: set[str] = set()
        for func in self.methods.values():
            assigned |= _attribute_uses(func)[1]
        return assigned

    def public(self) -> dict[str, cst.FunctionDef]:
        return {name: func for name, func in self.methods.items() if not name.startswith("_")}

    def constant(self, name: str) -> object:
        return _module_constant(self.module, name)


@dataclass
class _Registration:
    name: str
    check_source: str
    critical: bool
    timeout_seconds: float
    imports: tuple[tuple[str, str], ...] = ()


@dataclass
class _Plan:
    mixin: _LocalMixin
    hook: cst.FunctionDef
    registrations: list[_Registration]
    setup: list[cst.SimpleStatementLine]
    delegates: list[cst.FunctionDef]
    unsafe_uses: list[str]
    dropped: list[str]
    reuse_adapter: bool

    def unsafe_note(self) -> str:
        shown = self.unsafe_uses[:6]
        more = f" (and {len(self.unsafe_uses) - len(shown)} more)" if len(self.unsafe_uses) > len(shown) else ""
        return ("callers use more of the local mixin than MixinHealthCheck offers (its ModelHealthStatus "
                "has only .status, no components or to_dict()): " + "; ".join(shown) + more)

    def applied_note(self) -> str:
        names = ", ".join(repr(r.name) for r in self.registrations) or "no checks"
        note = (f"{self.mixin.class_name} replaced by MixinHealthCheck ({self.mixin.base_name} removed from the "
                f"node's bases): get_health_checks() runs {names} with "
                "the same timeouts and critical/non-critical roll-up; the local result cache is dropped")
        if self.delegates:
            note += "; " + ", ".join(f"{d.name.value}()" for d in self.delegates) + " delegates to health_check_async()"
        if self.dropped:
            note += f"; no longer offered (no caller in the repository): {', '.join(self.dropped)}"
        return note


class _Planner:
    """Reads the node, its local health mixin and their callers; refuses what it cannot keep literal."""

    def __init__(self, state: MigrationState) -> None:
        self.state = state
        self.health = _ModuleHealth(state.module)
        self.parents = Parents(index_module(state.module))
        self.positions = Lines(state.module)
        self.display = state.files[state.node_path].display_path
        parts = Path(self.display).parts  # relative to the base the engine displays paths from
        inside = ".." not in parts and len(parts) <= len(state.node_path.parents)
        self.base = state.node_path.parents[len(parts) - 1] if inside else Path.cwd()

    def line(self, node: cst.CSTNode) -> int:
        position = self.positions.get(node)
        return position.start.line if position else 0

    def plan(self) -> _Plan:
        state = self.state
        node_class = self.health.classes.get(state.node_class)
        bases = self.health.local_mixin_bases(node_class) if node_class is not None else []
        if not bases:
            raise _Refused("no project-local health mixin base of the node class was found")
        if len(bases) > 1:
            raise _Refused("the node inherits several local health mixins: "
                           + ", ".join(_last_name(b.value) for b in bases))
        mixin = self._resolve(_last_name(bases[0].value))
        self.mixin = mixin
        self.node_methods = _methods(node_class)
        self.api = {name for name in mixin.public() if _REGISTER_API.fullmatch(name)}
        if not self.api:
            raise _Refused(f"{mixin.class_name} has no public register_*check method")
        hooks = [func for func in self.node_methods.values() if _register_calls(func, self.api)]
        if len(hooks) != 1 or hooks[0].name.value not in mixin.methods:
            raise _Refused(f"{state.node_class} registers checks outside a single override of a "
                           f"{mixin.class_name} hook")
        hook = hooks[0]
        _check_semantics(mixin)
        reuse_adapter = self._adapter_present()
        try:
            registrations, refusal = self._registrations(hook), None
        except _Refused as refused:  # still look at the callers, to report everything that stands in the way
            registrations, refusal = [], refused
        checks = {r.check_source.removeprefix("self.") for r in registrations if r.check_source.startswith("self.")}
        delegates, dropped = self._delegates()
        setup, uses = self._node_uses(hook, checks, {d.name.value for d in delegates})
        uses += self._repository_uses({d.name.value for d in delegates})
        if delegates and not _status_values_compatible(mixin):
            uses.append(f"{mixin.module_name}: the local status enum's values differ from omnibase-core's, so "
                        ".status comparisons change meaning")
        plan = _Plan(mixin, hook, registrations, setup, delegates, uses, dropped, reuse_adapter)
        if refusal is not None:
            raise _Refused(f"{refusal}" + (f"; besides, {plan.unsafe_note()}" if uses else ""))
        return plan

    def shared_base(self) -> Rebuild | str:
        """The node's project-local health mixin rebuilt on MixinHealthCheck (or already on it), or why not."""
        node_class = self.health.classes.get(self.state.node_class)
        bases = self.health.local_mixin_bases(node_class) if node_class is not None else []
        if len(bases) != 1:
            return "the node class has no single project-local health mixin base"
        try:
            mixin = self._resolve(_last_name(bases[0].value))
        except _Refused as refused:
            return str(refused)
        taken = sorted({HOOK, ADAPTER} & set(_methods(node_class)))
        if taken:
            return f"{self.state.node_class} defines {', '.join(taken)} itself"
        probed = _probed_core_names(tuple(self.state.repository_files))
        if probed:
            return f"{probed[0]} asks whether an object has a MixinHealthCheck method, which it would then have"
        return rebuild_on_core(mixin.path, mixin.class_name)

    # -- the mixin ----------------------------------------------------------------------------
    def _resolve(self, base: str) -> _LocalMixin:
        source = self.health.imports.get(base)
        if source is None or not isinstance(source[0], cst.ImportFrom):
            raise _Refused(f"{base} is not imported with `from ... import`; omnimix cannot read it")
        import_node, _, original = source
        absolute = self.state.absolute_module(import_node)
        if absolute is None:
            raise _Refused(f"cannot resolve the module {base} is imported from")
        module_name, name = absolute, original
        for _ in range(4):  # follow re-exports through packages
            path = self._module_file(module_name)
            if path is None:
                raise _Refused(f"cannot read the local health mixin {base}: module {module_name} is not "
                               "among the repository files")
            module = parse_file(path)
            if module is None:
                raise _Refused(f"cannot read or parse {path.name}, where the local health mixin {base} lives")
            classes = {s.name.value: s for s in module.body if isinstance(s, cst.ClassDef)}
            if name in classes:
                cls = classes[name]
                if any(_last_name(arg.value) not in ("object", "ABC", CORE_MIXIN) for arg in cls.bases):
                    raise _Refused(f"{name} derives from other classes, which omnimix does not follow")
                if "__init__" in _methods(cls):
                    raise _Refused(f"{name} has its own __init__, which removing it would skip")
                return _LocalMixin(base, name, import_node, absolute, module_name, path, module, cls)
            imported = _imports(module).get(name)
            if imported is None or not isinstance(imported[0], cst.ImportFrom):
                break
            package = module_name if path.name == "__init__.py" else module_name.rpartition(".")[0]
            relative = len(imported[0].relative)
            if relative:
                parts = package.split(".")
                parent = ".".join(parts[: len(parts) - relative + 1])
                module_name = ".".join(p for p in (parent, imported[1].lstrip(".")) if p)
            else:
                module_name = imported[1]
            name = imported[2]
        raise _Refused(f"cannot find the class {base} in {absolute}")

    def _module_file(self, module_name: str) -> Path | None:
        last = module_name.rsplit(".", 1)[-1]
        for path in self.state.repository_files:
            if (path.stem == last or (path.name == "__init__.py" and path.parent.name == last)) \
                    and dotted_module_name(path) == module_name:
                return path
        return None

    def _adapter_present(self) -> bool:
        existing = [s for s in self.state.module.body if isinstance(s, cst.FunctionDef) and s.name.value == _ADAPTER]
        if existing and _MIGRATED_TYPE not in _annotation_names(existing[0]):
            raise _Refused(f"the node module already defines a different {_ADAPTER}")
        if _ADAPTER in _module_names(self.state.module) and not existing:
            raise _Refused(f"the node module already uses the name {_ADAPTER}")
        return bool(existing)

    # -- registrations ------------------------------------------------------------------------
    def _registrations(self, hook: cst.FunctionDef) -> list[_Registration]:
        result: dict[str, _Registration] = {}  # a later registration of a name replaces the earlier one
        body = hook.body.body if isinstance(hook.body, cst.IndentedBlock) else ()
        for index, statement in enumerate(body):
            if (index == 0 and _docstring_only(statement)) or _is_pass(statement):
                continue
            call = _statement_call(statement)
            if call is not None and _is_super_call(call, hook.name.value):
                for registration in self._base_registrations(hook.name.value):
                    result[registration.name] = registration
                continue
            if call is None or _call_target(call) not in self.api:
                raise _Refused(f"{hook.name.value} does more than register checks (line {self.line(statement)}); "
                               "only literal registrations are migrated")
            registration = self._registration(call, f"line {self.line(statement)}", base=False)
            result[registration.name] = registration
        return list(result.values())

    def _base_registrations(self, hook: str) -> list[_Registration]:
        mixin = self.mixin
        base_hook = mixin.methods[hook]
        body = base_hook.body.body if isinstance(base_hook.body, cst.IndentedBlock) else ()
        registrations = []
        for index, statement in enumerate(body):
            if (index == 0 and _docstring_only(statement)) or _is_pass(statement):
                continue
            call = _statement_call(statement)
            if call is None or _call_target(call) not in self.api:
                raise _Refused(f"{mixin.class_name}.{hook} does more than register checks, so what "
                               "super() registered cannot be reproduced")
            method = _self_attr(_registered_check(call))
            if method is not None and method not in self.node_methods:
                reads = sorted(_attribute_uses(mixin.methods[method])[0] & mixin.state) \
                    if method in mixin.methods else []
                needs = f", which reads the mixin's private state {', '.join(reads)}" if reads else ""
                name = _string(_arg(call, 0, "name"))
                raise _Refused(f"super().{hook}() registers the local mixin's own check {name!r} "
                               f"({mixin.class_name}.{method}{needs}); MixinHealthCheck has no such check "
                               "or state, so it cannot be reproduced")
            registrations.append(self._registration(call, f"{mixin.class_name}.{hook}", base=True))
        return registrations

    def _registration(self, call: cst.Call, place: str, *, base: bool) -> _Registration:
        mixin = self.mixin
        api_func = mixin.methods[_call_target(call)]
        params = [p.name.value for p in api_func.params.params][1:]
        defaults = {p.name.value: p for p in [*api_func.params.params[1:], *api_func.params.kwonly_params]}
        if any(arg.star for arg in call.args):
            raise _Refused(f"the registration at {place} passes *args or **kwargs; not literal")
        values: dict[str, cst.BaseExpression] = {}
        positional = [arg for arg in call.args if arg.keyword is None]
        if len(positional) > len(params):
            raise _Refused(f"the registration at {place} passes more positional arguments than "
                           f"{api_func.name.value} takes")
        for param, arg in zip(params, positional):
            values[param] = arg.value
        values |= {arg.keyword.value: arg.value for arg in call.args if arg.keyword is not None}
        name_param, check_param = (params + ["name", "check_func"])[:2]
        unknown = set(values) - {name_param, check_param, "critical", "timeout_seconds"}
        if unknown or name_param not in values or check_param not in values:
            raise _Refused(f"the registration at {place} uses arguments omnimix does not reproduce "
                           f"({', '.join(sorted(unknown)) or 'no name or check'})")
        name = _literal_value(values[name_param])
        if name is _NO_LITERAL and isinstance(values[name_param], cst.Name):
            name = _module_constant(mixin.module if base else self.state.module, values[name_param].value)
        if not isinstance(name, str) or not name:
            raise _Refused(f"the check name registered at {place} is not a literal string; registrations "
                           "that are not literal are not migrated")
        critical = self._keyword(values, defaults, "critical")
        if not isinstance(critical, bool):
            raise _Refused(f"critical= of check {name!r} ({place}) is not a literal True/False; "
                           "registrations that are not literal are not migrated")
        timeout = self._keyword(values, defaults, "timeout_seconds")
        if isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout <= 0:
            raise _Refused(f"timeout_seconds= of check {name!r} ({place}) is not a positive literal number; "
                           "registrations that are not literal are not migrated")
        source, imports = self._check_source(values[check_param], name, place, base)
        return _Registration(name, source, critical, float(timeout), imports)

    def _keyword(self, values: dict[str, cst.BaseExpression], defaults: dict[str, cst.Param], key: str) -> object:
        if key in values:
            return _literal_value(values[key])
        param = defaults.get(key)
        if param is None or param.default is None:
            return _NO_LITERAL
        value = _literal_value(param.default)
        if value is _NO_LITERAL and isinstance(param.default, cst.Name):
            value = self.mixin.constant(param.default.value)
        return value

    def _check_source(self, check: cst.BaseExpression, name: str, place: str, base: bool
                      ) -> tuple[str, tuple[tuple[str, str], ...]]:
        mixin = self.mixin
        method = _self_attr(check)
        if method is not None:
            if method in mixin.methods and method not in self.node_methods:
                raise _Refused(f"check {name!r} ({place}) is the local mixin's own method {method}, which "
                               "goes away with the mixin")
            return f"self.{method}", ()
        if base and isinstance(check, cst.Name):
            if check.value in {s.name.value for s in mixin.module.body if isinstance(s, cst.FunctionDef)}:
                return check.value, ((mixin.module_name, check.value),)
        elif not base and isinstance(check, cst.Lambda) and _no_parameters(check.params):
            free = _names(check.body) - _attribute_names(check.body)
            unknown = free - _module_names(self.state.module) - _BUILTINS - {"self"}
            if not unknown:
                return cst.Module([]).code_for_node(check), ()
            raise _Refused(f"the check of {name!r} ({place}) uses local names ({', '.join(sorted(unknown))}); "
                           "registrations that are not literal are not migrated")
        elif not base and isinstance(check, cst.Name) and check.value in _module_names(self.state.module):
            return check.value, ()
        raise _Refused(f"the check of {name!r} ({place}) is not a method, a module function or a simple "
                       "lambda; registrations that are not literal are not migrated")

    # -- the node's own use of the mixin ------------------------------------------------------
    def _delegates(self) -> tuple[list[cst.FunctionDef], list[str]]:
        """Delegates for the mixin's public async methods whose result has a ``status``."""
        results = _status_result_classes(self.mixin)
        delegates, dropped = [], []
        for name, func in self.mixin.public().items():
            if func.asynchronous is not None and _annotation_names(func) & results:
                delegates.append(_delegate(name, func, self.mixin))
            else:
                dropped.append(name)
        clash = set(self.node_methods) & ({d.name.value for d in delegates} | {"get_health_checks"})
        if clash:
            raise _Refused(f"{self.state.node_class} already defines {', '.join(sorted(clash))}")
        return delegates, dropped

    def _node_uses(self, hook: cst.FunctionDef, checks: set[str], delegated: set[str]
                   ) -> tuple[list[cst.SimpleStatementLine], list[str]]:
        mixin = self.mixin
        overridden = (set(self.node_methods) & set(mixin.methods)) - {hook.name.value} - checks
        if overridden:
            raise _Refused(f"{self.state.node_class} overrides {', '.join(sorted(overridden))} of the local mixin")
        members = set(mixin.methods) | mixin.state
        setup: list[cst.SimpleStatementLine] = []
        uses: list[str] = []
        for func in self.node_methods.values():
            if func is hook:
                continue
            for node in _walk(func.body):
                member = _self_attr(node)
                if member is None or member not in members or member in self.node_methods:
                    continue
                line = self.line(node)
                statement = self._statement(node)
                call = _statement_call(statement) if statement is not None else None
                if call is not None and call.func is node and _SETUP_CALL.fullmatch(member) \
                        and member in mixin.public():
                    if any(isinstance(n, cst.Call) for arg in call.args for n in [arg.value, *_walk(arg.value)]):
                        raise _Refused(f"self.{member}(...) at line {line} has arguments with side effects")
                    setup.append(statement)
                elif member in delegated:
                    problem = _result_use(node, self.parents)
                    if problem:
                        uses.append(f"{self.display}:{line}: {problem}")
                else:
                    raise _Refused(f"{self.state.node_class} uses the local mixin's {member} (line {line}), "
                                   "which MixinHealthCheck does not provide")
        return setup, uses

    def _statement(self, node: cst.CSTNode) -> cst.SimpleStatementLine | None:
        current: cst.CSTNode | None = node
        while current is not None and not isinstance(current, cst.SimpleStatementLine):
            current = self.parents.get(current)
        return current

    def _repository_uses(self, delegated: set[str]) -> list[str]:
        """Calls of the mixin's public API anywhere in the repository that the migration would break."""
        public = set(self.mixin.public())
        uses: list[tuple[bool, str]] = []  # files naming the node class first
        for path in self.state.repository_files:
            if path.resolve() == self.mixin.path.resolve():
                continue
            try:
                text = path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                continue
            if not any(f".{name}(" in text for name in public):
                continue
            display = display_path(path, self.base)
            elsewhere = self.state.node_class not in text
            for name, line, problem in _method_calls(text, frozenset(public)):
                if name in delegated:
                    if problem:
                        uses.append((elsewhere, f"{display}:{line}: {problem}"))
                else:
                    uses.append((elsewhere, f"{display}:{line}: calls {name}(), which "
                                            "MixinHealthCheck does not offer"))
        return [use for _, use in sorted(uses, key=lambda use: use[0])]


_PROBE = re.compile(r"\b(?:hasattr|getattr)\([^()]*?['\"](" + "|".join(sorted(CORE_METHODS)) + r")['\"]")


def _probed_core_names(files: tuple[Path, ...]) -> list[str]:
    """``file:line`` of every hasattr/getattr of a MixinHealthCheck method name in the repository."""
    found = []
    for path in files:
        text = read_text(path)
        if text is None or not any(name in text for name in CORE_METHODS):
            continue
        for match in _PROBE.finditer(text):
            found.append(f"{path.name}:{text.count(chr(10), 0, match.start()) + 1}")
    return found


@lru_cache(maxsize=256)
def _method_calls(text: str, names: frozenset[str]) -> tuple[tuple[str, int, str | None], ...]:
    """``(name, line, problem with how the result is used)`` for every ``x.name(...)`` call in ``text``
    on something other than self/super; cached, since every node of a run asks about the same files."""
    try:
        module = parse_text(text)
    except cst.ParserSyntaxError:
        return ()
    tree = index_module(module)
    parents = Parents(tree)
    positions = Lines(module)
    found = []
    for node in tree.walk(module, itself=False):
        if not (isinstance(node, cst.Attribute) and node.attr.value in names):
            continue
        call = parents.get(node)
        if not isinstance(call, cst.Call) or call.func is not node or _is_self_or_super(node.value):
            continue
        found.append((node.attr.value, positions[node].start.line, _result_use(node, parents)))
    return tuple(found)


def _no_parameters(params: cst.Parameters) -> bool:
    return not (params.params or params.kwonly_params or params.posonly_params or params.star_kwarg
                or isinstance(params.star_arg, cst.Param))


def _is_self_or_super(receiver: cst.BaseExpression) -> bool:
    if isinstance(receiver, cst.Name):
        return receiver.value == "self"
    return isinstance(receiver, cst.Call) and _last_name(receiver.func) == "super"


def _check_semantics(mixin: _LocalMixin) -> None:
    """The adapter reproduces one roll-up and one failure rule; refuse a mixin that works otherwise."""
    functions = [n for n in _walk(mixin.module) if isinstance(n, cst.FunctionDef)]
    if not any(_rolls_up_like_the_adapter(func) for func in functions):
        raise _Refused(f"omnimix does not recognise the roll-up of {mixin.module_name} as the one its adapter "
                       "reproduces (a failing critical check unhealthy, any other non-healthy check degraded)")
    if not any(_fails_like_the_adapter(func) for func in functions):
        raise _Refused(f"{mixin.module_name} does not visibly count a raising or timed-out check as unhealthy, "
                       "as omnimix's adapter does")
    if not any(_unknown_like_the_adapter(func) for func in functions):
        raise _Refused(f"omnimix cannot tell how {mixin.module_name} treats a status it does not know (the "
                       "adapter counts it as UNKNOWN, that is degraded)")


def _rolls_up_like_the_adapter(func: cst.FunctionDef) -> bool:
    returns = [n for n in _walk(func.body, own_scope=True) if isinstance(n, cst.Return) and n.value is not None]
    if [_status_word(r.value) for r in returns] != ["unhealthy", "degraded", "healthy"]:
        return False
    guards = [n for n in _walk(func.body, own_scope=True) if isinstance(n, cst.If)]
    if len(guards) < 2:
        return False
    critical_guard = {"critical", "UNHEALTHY"} <= _names(guards[0].test)
    other_guard = "HEALTHY" in _names(guards[1].test) and any(
        isinstance(n, cst.ComparisonTarget) and isinstance(n.operator, cst.IsNot | cst.NotEqual)
        for n in _walk(guards[1].test))
    return critical_guard and other_guard


def _fails_like_the_adapter(func: cst.FunctionDef) -> bool:
    caught: set[str] = set()
    for node in _walk(func.body, own_scope=True):
        if isinstance(node, cst.ExceptHandler) and node.type is not None and "UNHEALTHY" in _names(node.body):
            caught |= _names(node.type)
    return {"TimeoutError", "Exception"} <= caught


def _unknown_like_the_adapter(func: cst.FunctionDef) -> bool:
    """A status coercion that maps a value it cannot read to UNKNOWN (``except ValueError``)."""
    return any(isinstance(node, cst.ExceptHandler) and node.type is not None and "ValueError" in _names(node.type)
               and "UNKNOWN" in _names(node.body) for node in _walk(func.body, own_scope=True))


def _statement_call(statement: cst.CSTNode | None) -> cst.Call | None:
    if isinstance(statement, cst.SimpleStatementLine) and len(statement.body) == 1 \
            and isinstance(statement.body[0], cst.Expr) and isinstance(statement.body[0].value, cst.Call):
        return statement.body[0].value
    return None


def _is_super_call(call: cst.Call, hook: str) -> bool:
    func = call.func
    return (isinstance(func, cst.Attribute) and func.attr.value == hook and isinstance(func.value, cst.Call)
            and _last_name(func.value.func) == "super")


def _is_pass(statement: cst.CSTNode) -> bool:
    """``pass``, ``...``, ``return`` or ``return None``: a statement that registers nothing."""
    def empty(small: cst.BaseSmallStatement) -> bool:
        if isinstance(small, cst.Return):
            return small.value is None or (isinstance(small.value, cst.Name) and small.value.value == "None")
        return isinstance(small, cst.Pass) or (isinstance(small, cst.Expr) and isinstance(small.value, cst.Ellipsis))

    return isinstance(statement, cst.SimpleStatementLine) and all(empty(s) for s in statement.body)


def _arg(call: cst.Call, index: int, keyword: str) -> cst.BaseExpression | None:
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == keyword:
            return arg.value
    positional = [arg for arg in call.args if arg.keyword is None]
    return positional[index].value if len(positional) > index else None


def _module_names(module: cst.Module) -> set[str]:
    names = set(_imports(module))
    for statement in module.body:
        if isinstance(statement, cst.FunctionDef | cst.ClassDef):
            names.add(statement.name.value)
        elif isinstance(statement, cst.SimpleStatementLine):
            for small in statement.body:
                if isinstance(small, cst.Assign):
                    names |= {t.target.value for t in small.targets if isinstance(t.target, cst.Name)}
                elif isinstance(small, cst.AnnAssign) and isinstance(small.target, cst.Name):
                    names.add(small.target.value)
    return names


def _module_constant(module: cst.Module, name: str) -> object:
    """The literal value of a module-level constant assigned exactly once (``_NO_LITERAL`` otherwise)."""
    found = [s for s in module.body if _constant_name(s) == name]
    assignments = sum(1 for n in _walk(module) if isinstance(n, cst.AssignTarget | cst.AnnAssign | cst.AugAssign)
                      and isinstance(getattr(n, "target", None), cst.Name) and n.target.value == name)
    if len(found) == 1 and assignments == 1:
        return _literal_value(found[0].body[0].value)
    return _NO_LITERAL


def _attribute_names(node: cst.CSTNode) -> set[str]:
    return {n.attr.value for n in _walk(node) if isinstance(n, cst.Attribute)} | {
        n.keyword.value for n in _walk(node) if isinstance(n, cst.Arg) and n.keyword is not None}


def _status_result_classes(mixin: _LocalMixin) -> set[str]:
    names = set()
    for statement in mixin.module.body:
        if isinstance(statement, cst.ClassDef) and any(
                isinstance(n, cst.AnnAssign) and isinstance(n.target, cst.Name) and n.target.value == "status"
                for n in _walk(statement)):
            names.add(statement.name.value)
    return names


def _delegate(name: str, func: cst.FunctionDef, mixin: _LocalMixin) -> cst.FunctionDef:
    params = func.params
    extra = [*params.params[1:], *params.kwonly_params]
    for param in extra:
        annotation_ok = param.annotation is None or _names(param.annotation.annotation) <= {
            "bool", "int", "float", "str", "None"}
        if not annotation_ok or (param.default is not None and _literal_value(param.default) is _NO_LITERAL
                                 and not (isinstance(param.default, cst.Name) and param.default.value == "None")):
            raise _Refused(f"the signature of {mixin.class_name}.{name} cannot be reproduced literally")
    if isinstance(params.star_arg, cst.Param) or params.star_kwarg is not None or params.posonly_params:
        raise _Refused(f"the signature of {mixin.class_name}.{name} cannot be reproduced literally")
    ignored = ", ".join(f"``{p.name.value}``" for p in extra)
    note = f", so {ignored} is ignored" if ignored else ""
    signature = cst.Module([]).code_for_node(params)
    source = (f"async def {name}({signature}) -> ModelHealthStatus:\n"
              f'    """MixinHealthCheck roll-up of get_health_checks(); nothing is cached{note}."""\n'
              f"    return await self.health_check_async()\n")
    return cst.ensure_type(cst.parse_statement(source), cst.FunctionDef)


def _result_use(node: cst.Attribute, parents) -> str | None:
    """Why a call of a delegated method reads more than ``.status`` of its result (None: it does not)."""
    method = node.attr.value
    call = parents.get(node)
    outer: cst.CSTNode = call
    parent = parents.get(outer)
    while isinstance(parent, cst.Await):
        outer, parent = parent, parents.get(parent)
    if isinstance(parent, cst.Attribute) and parent.value is outer:
        return _status_read(parent, parents, f"{method}()")
    if isinstance(parent, cst.Assign) and len(parent.targets) == 1 and isinstance(parent.targets[0].target, cst.Name):
        variable = parent.targets[0].target
        scope: cst.CSTNode | None = parent
        while scope is not None and not isinstance(scope, cst.FunctionDef | cst.Module):
            scope = parents.get(scope)
        for use in _walk(scope):
            if not isinstance(use, cst.Name) or use.value != variable.value or use is variable:
                continue
            holder = parents.get(use)
            if isinstance(holder, cst.Attribute) and holder.attr is use:
                continue
            if isinstance(holder, cst.Attribute) and holder.value is use:
                problem = _status_read(holder, parents, variable.value)
                if problem:
                    return problem
            elif not isinstance(holder, cst.AssignTarget):
                return f"uses {variable.value} = {method}() beyond .status"
        return None
    return f"uses the result of {method}() beyond .status"


def _status_read(attribute: cst.Attribute, parents, what: str) -> str | None:
    if attribute.attr.value != "status":
        return f"reads {what}.{attribute.attr.value}"
    holder = parents.get(attribute)
    comparison = holder if isinstance(holder, cst.Comparison) else parents.get(holder)
    if isinstance(comparison, cst.Comparison) and any(
            isinstance(t.operator, cst.Is | cst.IsNot) for t in comparison.comparisons):
        return f"compares {what}.status with `is`, which fails for omnibase-core's status enum"
    return None


def _status_values_compatible(mixin: _LocalMixin) -> bool:
    for statement in mixin.module.body:
        if isinstance(statement, cst.ClassDef) and _is_status_enum(statement):
            for node in _walk(statement):
                if isinstance(node, cst.Assign) and len(node.targets) == 1 \
                        and isinstance(node.targets[0].target, cst.Name):
                    value = _string(node.value)
                    if value not in _CORE_STATUS_VALUES or value != node.targets[0].target.value.lower():
                        return False
    return True


# == applying the plan ============================================================================
def _apply(state: MigrationState, plan: _Plan) -> None:
    catalog = load_catalog()
    names_before = _name_counts(state.module)
    indent, newline = state.module.default_indent, state.module.default_newline
    longest = max((len(line) for line in state.module.code.splitlines()), default=0)
    get_checks = _get_health_checks(plan.registrations, indent, newline, max(88, min(120, longest)))
    adapter = None if plan.reuse_adapter else _parse_top_level(_reindent(_ADAPTER_SOURCE, indent), newline)
    delegates = [_parse_in_class(_indented(_reindent(state.module.code_for_node(d), indent), indent), newline)
                 for d in plan.delegates]
    state.rewrite(_Rewrite(state.node_class, plan.hook, get_checks, delegates, {id(s) for s in plan.setup}, adapter))
    for module, name in _ADAPTER_IMPORTS:
        state.add_import(module, name)
    for model in ("ModelHealthStatus", "ModelHealthIssue"):
        state.add_import(catalog.get(model).import_from, model)
    for registration in plan.registrations:
        for module, name in registration.imports:
            state.add_import(module, name)
    state.remove_base(plan.mixin.base_name)
    names_after = _name_counts(state.module)
    for alias in plan.mixin.import_node.names:
        local = alias.asname.name.value if alias.asname else cst.Module([]).code_for_node(alias.name)
        if local == plan.mixin.base_name or (names_before.get(local, 0) and not names_after.get(local, 0)):
            state.remove_import(plan.mixin.import_module, cst.Module([]).code_for_node(alias.name))


def _name_counts(module: cst.Module) -> dict[str, int]:
    counts: dict[str, int] = {}
    for statement in module.body:
        if isinstance(statement, cst.SimpleStatementLine) and all(
                isinstance(s, cst.Import | cst.ImportFrom) for s in statement.body):
            continue
        for node in [statement, *_walk(statement)]:
            if isinstance(node, cst.Name):
                counts[node.value] = counts.get(node.value, 0) + 1
    return counts


def _reindent(source: str, indent: str) -> str:
    if indent == "    ":
        return source
    lines = []
    for line in source.split("\n"):
        stripped = line.lstrip(" ")
        lines.append(indent * ((len(line) - len(stripped)) // 4) + stripped)
    return "\n".join(lines)


def _get_health_checks(registrations: list[_Registration], indent: str, newline: str,
                       line_length: int) -> cst.FunctionDef:
    """The method, written as it sits in the class, one adapter per line as the module's width allows."""
    lines = [f"{indent}def get_health_checks(self) -> list[Callable[[], Awaitable[ModelHealthStatus]]]:"]
    if registrations:
        lines.append(f"{indent * 2}return [")
        for r in registrations:
            arguments = [_quoted(r.name), r.check_source, f"critical={r.critical!r}",
                         f"timeout_seconds={r.timeout_seconds!r}"]
            one_line = f"{indent * 3}{_ADAPTER}({', '.join(arguments)}),"
            wrapped = f"{indent * 4}{', '.join(arguments)}"
            if len(one_line) <= line_length and "\n" not in one_line:
                lines.append(one_line)
            elif len(wrapped) <= line_length and "\n" not in wrapped:
                lines += [f"{indent * 3}{_ADAPTER}(", wrapped, f"{indent * 3}),"]
            else:
                lines += [f"{indent * 3}{_ADAPTER}(", *(f"{indent * 4}{a}," for a in arguments), f"{indent * 3}),"]
        lines.append(f"{indent * 2}]")
    else:
        lines.append(f"{indent * 2}return []")
    return _parse_in_class("\n".join(lines) + "\n", newline)


def _quoted(text: str) -> str:
    """``repr`` of a string, in double quotes when it holds none (the usual style of node modules)."""
    literal = repr(text)
    if literal.startswith("'") and '"' not in text:
        return '"' + literal[1:-1].replace("\\'", "'") + '"'
    return literal


def _parse_top_level(source: str, newline: str) -> cst.FunctionDef:
    return cst.ensure_type(cst.parse_module(source.replace("\n", newline)).body[0], cst.FunctionDef)


def _parse_in_class(source: str, newline: str) -> cst.FunctionDef:
    """Parse a method written with its class indentation, so continuation lines keep their place."""
    holder = cst.ensure_type(cst.parse_module(("class _Holder:\n" + source).replace("\n", newline)).body[0],
                             cst.ClassDef)
    return cst.ensure_type(holder.body.body[0], cst.FunctionDef)


def _indented(source: str, indent: str) -> str:
    return "".join(f"{indent}{line}\n" if line else "\n" for line in source.rstrip("\n").split("\n"))


class _Rewrite(cst.CSTTransformer):
    """Hook -> get_health_checks() and delegates; set-up calls dropped; the adapter after the imports."""

    def __init__(self, class_name: str, hook: cst.FunctionDef, get_checks: cst.FunctionDef,
                 delegates: list[cst.FunctionDef], setup: set[int], adapter: cst.FunctionDef | None) -> None:
        self.class_name = class_name
        self.hook = hook
        self.get_checks = get_checks
        self.delegates = delegates
        self.setup = setup
        self.adapter = adapter
        self.depth = 0

    def visit_ClassDef(self, node: cst.ClassDef) -> bool:
        self.depth += 1
        return self.depth == 1 and node.name.value == self.class_name

    def leave_ClassDef(self, original_node: cst.ClassDef, updated_node: cst.ClassDef) -> cst.ClassDef:
        self.depth -= 1
        return updated_node

    def leave_FunctionDef(self, original_node: cst.FunctionDef, updated_node: cst.FunctionDef
                          ) -> cst.FunctionDef | cst.FlattenSentinel[cst.FunctionDef]:
        if original_node is not self.hook:
            return updated_node
        separator = [line for line in original_node.leading_lines if line.comment is None][:1] or [cst.EmptyLine()]
        return cst.FlattenSentinel([self.get_checks.with_changes(leading_lines=original_node.leading_lines),
                                    *(d.with_changes(leading_lines=separator) for d in self.delegates)])

    def leave_SimpleStatementLine(self, original_node: cst.SimpleStatementLine,
                                  updated_node: cst.SimpleStatementLine
                                  ) -> cst.SimpleStatementLine | cst.RemovalSentinel:
        return cst.RemoveFromParent() if id(original_node) in self.setup else updated_node

    def leave_IndentedBlock(self, original_node: cst.IndentedBlock, updated_node: cst.IndentedBlock
                            ) -> cst.IndentedBlock:
        if updated_node.body:
            return updated_node
        return updated_node.with_changes(body=[cst.SimpleStatementLine([cst.Pass()])])

    def leave_Module(self, original_node: cst.Module, updated_node: cst.Module) -> cst.Module:
        if self.adapter is None:
            return updated_node
        body = list(updated_node.body)
        position = _after_imports(body)
        if position < len(body):
            following = body[position]
            blank = 0
            for line in following.leading_lines:
                if line.comment is not None:
                    break
                blank += 1
            if blank < 2:
                body[position] = following.with_changes(
                    leading_lines=[*([cst.EmptyLine()] * (2 - blank)), *following.leading_lines])
        body.insert(position, self.adapter.with_changes(leading_lines=[cst.EmptyLine(), cst.EmptyLine()]))
        return updated_node.with_changes(body=body)


def _after_imports(body: list[cst.BaseStatement]) -> int:
    """The index after the first import block (past the docstring), where LibCST also adds imports."""
    index = 1 if body and _docstring_only(body[0]) else 0
    while index < len(body) and isinstance(body[index], cst.SimpleStatementLine) and all(
            isinstance(s, cst.Import | cst.ImportFrom) for s in body[index].body):
        index += 1
    return index


# == examples =====================================================================================
#: The project-local health mixin the examples import as ``pkg.health`` (their tests write it there).
EXAMPLE_HEALTH_MIXIN = '''\
"""Health checks shared by the bridge nodes."""

import asyncio
import inspect
from dataclasses import dataclass, field
from enum import Enum


class HealthStatus(str, Enum):
    HEALTHY = "healthy"
    DEGRADED = "degraded"
    UNHEALTHY = "unhealthy"
    UNKNOWN = "unknown"


@dataclass
class NodeHealth:
    status: HealthStatus
    components: dict[str, HealthStatus] = field(default_factory=dict)


def _coerce(value) -> HealthStatus:
    try:
        return HealthStatus(str(getattr(value, "value", value)).lower())
    except ValueError:
        return HealthStatus.UNKNOWN


def _roll_up(statuses: dict[str, HealthStatus], critical: dict[str, bool]) -> HealthStatus:
    if any(critical[name] and status is HealthStatus.UNHEALTHY for name, status in statuses.items()):
        return HealthStatus.UNHEALTHY
    if any(status is not HealthStatus.HEALTHY for status in statuses.values()):
        return HealthStatus.DEGRADED
    return HealthStatus.HEALTHY


class HealthCheckMixin:
    def initialize_health_checks(self, *, cache_ttl_seconds: float = 5.0) -> None:
        self._health_checks = {}
        self._health_ttl = cache_ttl_seconds

    def _register_component_checks(self) -> None:
        """Hook: nodes call super() first, then register their checks."""

    def register_component_check(self, name, check_func, *, critical=True, timeout_seconds=5.0) -> None:
        self._health_checks[name] = (check_func, critical, timeout_seconds)

    async def check_health(self, *, force: bool = False) -> NodeHealth:
        self._register_component_checks()
        statuses = {}
        for name, (check, critical, timeout) in self._health_checks.items():
            try:
                outcome = check()
                if inspect.isawaitable(outcome):
                    outcome = await asyncio.wait_for(outcome, timeout)
                statuses[name] = _coerce(outcome[0])
            except (asyncio.TimeoutError, TimeoutError):
                statuses[name] = HealthStatus.UNHEALTHY
            except Exception:
                statuses[name] = HealthStatus.UNHEALTHY
        critical = {name: entry[1] for name, entry in self._health_checks.items()}
        return NodeHealth(_roll_up(statuses, critical), statuses)
'''
EXAMPLE_SUPPORT_FILES = {"pkg/health.py": EXAMPLE_HEALTH_MIXIN}

_CONTRACT = "name: store\nnode_type: EFFECT\nmixins:\n  - {name: MixinHealthCheck}\n"

_LOCAL_MIXIN_NODE = '''\
from omnibase_core.nodes import NodeEffect

from pkg.health import HealthCheckMixin, HealthStatus


async def ping_database(pool):
    await pool.fetchval("SELECT 1")
    return HealthStatus.HEALTHY, "database answers", {}


class NodeStoreEffect(NodeEffect, HealthCheckMixin):
    def __init__(self, container, *, pool=None, cache=None):
        super().__init__(container)
        self._pool = pool
        self._cache = cache
        self.initialize_health_checks(cache_ttl_seconds=5.0)

    async def save(self, key, value):
        await self._pool.execute("INSERT INTO kv VALUES ($1, $2)", key, value)

    def _register_component_checks(self) -> None:
        super()._register_component_checks()
        self.register_component_check("database", lambda: ping_database(self._pool), timeout_seconds=3.0)
        self.register_component_check("cache", self._check_cache, critical=False, timeout_seconds=1.0)

    def _check_cache(self):
        if self._cache is None:
            return HealthStatus.DEGRADED, "no cache configured", {}
        return HealthStatus.HEALTHY, "cache ok", {}
'''

_LOOKALIKE_NODE = '''\
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from omnibase_core.mixins import MixinHealthCheck
from omnibase_core.models.health.model_health_status import ModelHealthStatus
from omnibase_core.nodes import NodeEffect


@dataclass(frozen=True)
class HealthReport:
    """How well one LLM model generated code during a window (a domain result, not node health)."""

    model: str
    success_rate: float

    @property
    def verdict(self) -> str:
        return "healthy" if self.success_rate >= 0.9 else "failing"


class NodeCodegenMetricsEffect(NodeEffect, MixinHealthCheck):
    def build_report(self, model: str, success_rate: float) -> HealthReport:
        return HealthReport(model, success_rate)

    def get_health_checks(self) -> list[Callable[[], Awaitable[ModelHealthStatus]]]:
        return [self._check_window]

    async def _check_window(self) -> ModelHealthStatus:
        return ModelHealthStatus.create_healthy()
'''

_NOT_LITERAL_NODE = '''\
from omnibase_core.nodes import NodeEffect

from pkg.health import HealthCheckMixin, HealthStatus


class NodeStoreEffect(NodeEffect, HealthCheckMixin):
    def __init__(self, container, *, pool=None, database_is_critical=True):
        super().__init__(container)
        self._pool = pool
        self._database_is_critical = database_is_critical
        self.initialize_health_checks()

    def _register_component_checks(self) -> None:
        super()._register_component_checks()
        self.register_component_check("database", self._check_database, critical=self._database_is_critical)

    async def _check_database(self):
        await self._pool.fetchval("SELECT 1")
        return HealthStatus.HEALTHY, "database answers", {}
'''

_COMPONENTS_NODE = '''\
from omnibase_core.nodes import NodeEffect

from pkg.health import HealthCheckMixin, HealthStatus


class NodeStoreEffect(NodeEffect, HealthCheckMixin):
    def __init__(self, container, *, pool=None):
        super().__init__(container)
        self._pool = pool
        self.initialize_health_checks()

    def _register_component_checks(self) -> None:
        super()._register_component_checks()
        self.register_component_check("database", self._check_database, critical=True, timeout_seconds=3.0)

    async def _check_database(self):
        await self._pool.fetchval("SELECT 1")
        return HealthStatus.HEALTHY, "database answers", {}

    async def health_payload(self) -> dict:
        result = await self.check_health()
        return {"status": result.status.value, "components": result.components}
'''

_LOCAL_MIXIN_NODE_MIGRATED = '''\
from omnibase_core.mixins import MixinHealthCheck
from omnibase_core.models.health.model_health_issue import ModelHealthIssue
from omnibase_core.models.health.model_health_status import ModelHealthStatus
from omnibase_core.nodes import NodeEffect

from pkg.health import HealthStatus
import asyncio
import inspect
from collections.abc import Awaitable, Callable
from typing import Any


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


async def ping_database(pool):
    await pool.fetchval("SELECT 1")
    return HealthStatus.HEALTHY, "database answers", {}


class NodeStoreEffect(NodeEffect, MixinHealthCheck):
    def __init__(self, container, *, pool=None, cache=None):
        super().__init__(container)
        self._pool = pool
        self._cache = cache

    async def save(self, key, value):
        await self._pool.execute("INSERT INTO kv VALUES ($1, $2)", key, value)

    def get_health_checks(self) -> list[Callable[[], Awaitable[ModelHealthStatus]]]:
        return [
            _health_check_adapter(
                "database", lambda: ping_database(self._pool), critical=True, timeout_seconds=3.0
            ),
            _health_check_adapter("cache", self._check_cache, critical=False, timeout_seconds=1.0),
        ]

    async def check_health(self, *, force: bool = False) -> ModelHealthStatus:
        """MixinHealthCheck roll-up of get_health_checks(); nothing is cached, so ``force`` is ignored."""
        return await self.health_check_async()

    def _check_cache(self):
        if self._cache is None:
            return HealthStatus.DEGRADED, "no cache configured", {}
        return HealthStatus.HEALTHY, "cache ok", {}
'''

_COMPONENTS_NODE_MIGRATED = '''\
from omnibase_core.mixins import MixinHealthCheck
from omnibase_core.models.health.model_health_issue import ModelHealthIssue
from omnibase_core.models.health.model_health_status import ModelHealthStatus
from omnibase_core.nodes import NodeEffect

from pkg.health import HealthStatus
import asyncio
import inspect
from collections.abc import Awaitable, Callable
from typing import Any


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


class NodeStoreEffect(NodeEffect, MixinHealthCheck):
    def __init__(self, container, *, pool=None):
        super().__init__(container)
        self._pool = pool

    def get_health_checks(self) -> list[Callable[[], Awaitable[ModelHealthStatus]]]:
        return [
            _health_check_adapter(
                "database", self._check_database, critical=True, timeout_seconds=3.0
            ),
        ]

    async def check_health(self, *, force: bool = False) -> ModelHealthStatus:
        """MixinHealthCheck roll-up of get_health_checks(); nothing is cached, so ``force`` is ignored."""
        return await self.health_check_async()

    async def _check_database(self):
        await self._pool.fetchval("SELECT 1")
        return HealthStatus.HEALTHY, "database answers", {}

    async def health_payload(self) -> dict:
        result = await self.check_health()
        return {"status": result.status.value, "components": result.components}
'''

ReplaceHealthChecks.examples = (
    Example(
        title="a local health mixin's registrations become get_health_checks() with one adapter per check; "
              "check_health() stays as a delegate",
        contract=_CONTRACT,
        before=_LOCAL_MIXIN_NODE,
        after=_LOCAL_MIXIN_NODE_MIGRATED,
    ),
    Example(
        title="a HealthReport domain class and checks already on MixinHealthCheck are left alone",
        contract=_CONTRACT,
        before=_LOOKALIKE_NODE,
        after=_LOOKALIKE_NODE,
    ),
    Example(
        title="a registration that is not literal is not migrated",
        contract=_CONTRACT,
        before=_NOT_LITERAL_NODE,
        after=_NOT_LITERAL_NODE,
        warning="critical= of check 'database' (line 15) is not a literal True/False",
    ),
    Example(
        title="a caller reading more than .status of check_health() makes the migration unsafe",
        contract=_CONTRACT,
        before=_COMPONENTS_NODE,
        after=_COMPONENTS_NODE,
        warning="pkg/example_node/node.py:21: reads result.components",
    ),
    Example(
        title="with --unsafe the same node is migrated; health_payload() then needs a rewrite by hand",
        contract=_CONTRACT,
        before=_COMPONENTS_NODE,
        after=_COMPONENTS_NODE_MIGRATED,
        unsafe=True,
    ),
)
