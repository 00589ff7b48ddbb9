"""Health checks, planning: what the migration decides for each finding, and why."""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import libcst as cst

from codemods.health_check.detect import (
    _ADAPTER,
    _BUILTINS,
    _CORE_STATUS_VALUES,
    _MIGRATED_TYPE,
    _NO_LITERAL,
    _REGISTER_API,
    _SETUP_CALL,
    _annotation_names,
    _attribute_uses,
    _call_target,
    _constant_name,
    _docstring_only,
    _imports,
    _is_status_enum,
    _last_name,
    _literal_value,
    _methods,
    _ModuleHealth,
    _names,
    _register_calls,
    _registered_check,
    _self_attr,
    _string,
    _walk,
)
from omnimix.analysis.lines import Lines
from omnimix.analysis.module_cache import parse_file, parse_text, read_text
from omnimix.analysis.tree import Parents, index_module
from omnimix.consolidation.health_base import (
    ADAPTER,
    CORE_METHODS,
    CORE_MIXIN,
    HOOK,
    Rebuild,
    rebuild_on_core,
    rolls_up,
)
from omnimix.discovery import display_path, dotted_module_name
from omnimix.migration_state import MigrationState


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
            return NO_LOCAL_MIXIN
        try:
            mixin = self._resolve(_last_name(bases[0].value))
        except _Refused as refused:
            return str(refused)
        taken = sorted({HOOK, ADAPTER} & set(_methods(node_class)))
        if taken:
            return f"{self.state.node_class} defines {', '.join(taken)} itself"
        obstacle = _repository_obstacle(tuple(self.state.repository_files), mixin.class_name)
        return obstacle or rebuild_on_core(mixin.path, mixin.class_name)

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


NO_LOCAL_MIXIN = "the node class has no single project-local health mixin base"


def _repository_obstacle(files: tuple[Path, ...], mixin: str) -> str | None:
    """Why a repository file keeps ``mixin`` off MixinHealthCheck, reading each file once: a hasattr/getattr
    of a MixinHealthCheck method name (the answer would change), or a class listing ``mixin`` before another
    base (that base's ``__init__`` would be reached through ``MixinHealthCheck.__init__(**kwargs)``)."""
    for path in files:
        text = read_text(path)
        if text is None:
            continue
        if any(name in text for name in CORE_METHODS):
            match = _PROBE.search(text)
            if match is not None:
                return (f"{path.name}:{text.count(chr(10), 0, match.start()) + 1} asks whether an object has a "
                        "MixinHealthCheck method, which it would then have")
        found = _bases_after(text, mixin) if mixin in text else None
        if found is not None:
            return (f"{path.name}:{found[0]} lists {mixin} before {found[1]}; MixinHealthCheck's __init__ takes no "
                    f"positional arguments, so {found[1]}'s would no longer get them")
    return None


@lru_cache(maxsize=256)
def _bases_after(text: str, mixin: str) -> tuple[int, str] | None:
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return None
    for node in ast.walk(tree):
        if not isinstance(node, ast.ClassDef):
            continue
        names = [ast.unparse(base).rsplit(".", 1)[-1] for base in node.bases]
        if mixin in names and any(name != "object" for name in names[names.index(mixin) + 1:]):
            return node.lineno, names[names.index(mixin) + 1]
    return None


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
    if not any(rolls_up(func) for func in functions):
        raise _Refused(f"omnimix does not recognise the roll-up of {mixin.module_name} as the one its adapter "
                       "reproduces (a failing critical check unhealthy, any other non-healthy check degraded)")
    if not any(_fails_like_the_adapter(func) for func in functions):
        raise _Refused(f"{mixin.module_name} does not visibly count a raising or timed-out check as unhealthy, "
                       "as omnimix's adapter does")
    if not any(_unknown_like_the_adapter(func) for func in functions):
        raise _Refused(f"omnimix cannot tell how {mixin.module_name} treats a status it does not know (the "
                       "adapter counts it as UNKNOWN, that is degraded)")


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
