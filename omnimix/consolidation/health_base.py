"""The project's shared health mixin, rebuilt once on MixinHealthCheck for every node that inherits it.

A project-local health mixin (component checks registered with ``register_component_check``, run
with a timeout each, rolled up and cached by ``check_health()``) gains ``MixinHealthCheck`` as its
base and answers its ``get_health_checks()`` hook: each registered check, run by the mixin's own
runner (same timeout, same failure handling), becomes a ``ModelHealthStatus`` that MixinHealthCheck's
roll-up combines into the verdict ``check_health()`` gives. Nothing else in the mixin changes: its
public surface, roll-up, cache and callers stay as they are, so every node and test that uses it
keeps working, and the nodes' ``health_check_async()`` now reports their real components.

The rebuild is refused, with the reason, when omnimix cannot read the mixin that way: no registry
written by the register method, no single runner returning a result with ``status`` and
``critical``, a roll-up it does not recognise, or a name MixinHealthCheck also defines.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import libcst as cst

from omnimix.analysis.imports import add_imports
from omnimix.analysis.module_cache import parse_text
from omnimix.analysis.syntax import dotted_name
from omnimix.analysis.tree import descendants
from omnimix.analysis.wrap import line_limit, wrap_long_lines
from omnimix.catalog import load_catalog
from omnimix.discovery import dotted_module_name
from omnimix.source import SourceError, read_source

CORE_MIXIN = "MixinHealthCheck"
CORE_MIXIN_MODULE = "omnibase_core.mixins"
#: What MixinHealthCheck defines; a local mixin that defines one of these would change meaning under it.
CORE_METHODS = frozenset({"get_health_checks", "health_check", "health_check_async", "get_health_status",
                          "get_health_report", "check_dependency_health"})
HOOK = "get_health_checks"
ADAPTER = "_core_check"
_REGISTER_API = re.compile(r"(?:register|add)_?\w*(?:check|probe)\w*")
_STATUS_MEMBERS = {"HEALTHY": "healthy", "DEGRADED": "degraded", "UNHEALTHY": "unhealthy"}

#: The emitted methods: fixed text, with only names read from the mixin itself filled in.
_METHODS = '''\
def get_health_checks(self) -> list[Callable[[], Awaitable[ModelHealthStatus]]]:
    """Every registered check, run as check_health() runs it."""
{prepare}{registry}    return [self.{adapter}(name, check) for name, check in {checks}.items()]

def {adapter}(self, name: str, check: Any) -> Callable[[], Awaitable[ModelHealthStatus]]:
    """One check, in check_health()'s roll-up, for MixinHealthCheck."""

    async def run_check() -> ModelHealthStatus:
        result = {wait}self.{runner}(check)
        status = str(getattr(result.{status}, "value", result.{status})).lower()
        if status == "healthy":
            return ModelHealthStatus.create_healthy()
        severity = "critical" if result.{critical} else "medium"
        issue = ModelHealthIssue.create_connectivity_issue({message}, severity)
        if result.{critical} and status == "unhealthy":
            return ModelHealthStatus.create_unhealthy(issues=[issue])
        return ModelHealthStatus.create_degraded(issues=[issue])

    run_check.__name__ = f"check_{{name}}"
    return run_check
'''
_IMPORTS = ((CORE_MIXIN_MODULE, CORE_MIXIN), ("collections.abc", "Awaitable"), ("collections.abc", "Callable"),
            ("typing", "Any"))


@dataclass(frozen=True)
class Rebuild:
    """The mixin module's text before and after (``after`` is None when it is on MixinHealthCheck already)."""

    path: Path
    class_name: str
    before: str
    after: str | None
    checks: str  # the registry attribute the hook reads

    @property
    def done(self) -> bool:
        return self.after is None


def rebuild_on_core(path: Path, class_name: str) -> Rebuild | str:
    """The rebuild of ``class_name`` in ``path`` on MixinHealthCheck, or why omnimix will not make it."""
    try:
        text = read_source(path).text
    except SourceError as exc:
        return f"cannot read {path.name}: {exc}"
    return _rebuild(path, class_name, text, line_limit(path.parent))


@dataclass(frozen=True)
class _Reading:
    """What the rebuild needs from the mixin: where checks are kept, what runs one, what comes first."""

    registry: str
    runner: str
    fields: dict[str, str]
    prepare: list[str]
    asynchronous: bool


def state_of(module: cst.Module, cls: cst.ClassDef) -> str | None:
    """None when ``cls`` of ``module`` can be rebuilt on MixinHealthCheck, "done" when it is on it already,
    else the reason omnimix will not rebuild it."""
    reading = _read(module, cls, "this module")
    return None if isinstance(reading, _Reading) else reading


def _read(module: cst.Module, cls: cst.ClassDef, where: str) -> _Reading | str:
    class_name = cls.name.value
    methods = {s.name.value: s for s in cls.body.body if isinstance(s, cst.FunctionDef)} \
        if isinstance(cls.body, cst.IndentedBlock) else {}
    bases = [_last(arg.value) for arg in cls.bases]
    if CORE_MIXIN in bases:
        if HOOK in methods:
            return "done"
        return f"{class_name} derives from {CORE_MIXIN} but has no {HOOK}(), which omnimix will not guess"
    others = [b for b in bases if b not in ("object", "ABC")]
    if others or cls.keywords:
        return f"{class_name} derives from {', '.join(others) or 'a metaclass'}, which omnimix does not follow"
    clash = sorted((CORE_METHODS | {ADAPTER}) & set(methods))
    if clash:
        return f"{class_name} defines {', '.join(clash)}, which {CORE_MIXIN} would take over or which omnimix adds"
    if "__init__" in methods:
        return f"{class_name} has its own __init__; under {CORE_MIXIN} it would have to pass keywords on"
    registry = _registry(methods)
    if registry is None:
        return (f"no public register_*check method of {class_name} stores its checks in a self attribute keyed "
                "by name")
    runner = _runner(module, methods, registry)
    if isinstance(runner, str):
        return runner
    name, fields, asynchronous = runner
    if not any(rolls_up(func) for func in descendants(module) if isinstance(func, cst.FunctionDef)):
        return (f"omnimix does not recognise the roll-up in {where} as MixinHealthCheck's when each check is "
                "handed over as failing (critical and unhealthy) or degraded (any other non-healthy result)")
    return _Reading(registry, name, fields, _preparation(methods, name), asynchronous)


@lru_cache(maxsize=16)
def _rebuild(path: Path, class_name: str, text: str, limit: int) -> Rebuild | str:
    try:
        module = parse_text(text)
    except cst.ParserSyntaxError as exc:
        return f"{path.name} does not parse: {exc.message}"
    cls = next((s for s in module.body if isinstance(s, cst.ClassDef) and s.name.value == class_name), None)
    if cls is None or not isinstance(cls.body, cst.IndentedBlock):
        return f"{class_name} is not a class at the top level of {path.name}"
    reading = _read(module, cls, path.name)
    if reading == "done":
        methods = {s.name.value: s for s in cls.body.body if isinstance(s, cst.FunctionDef)}
        return Rebuild(path, class_name, text, None, _registry(methods) or "")
    if isinstance(reading, str):
        return reading
    fields = reading.fields
    message = f'f"{{name}}: {{result.{fields["message"]}}}"' if "message" in fields else "name"
    source = _METHODS.format(prepare="".join(f"    self.{m}()\n" for m in reading.prepare), adapter=ADAPTER,
                             **_registry_read(reading.registry, cls), runner=reading.runner,
                             status=fields["status"], wait="await " if reading.asynchronous else "",
                             critical=fields["critical"], message=message)
    after = _with_methods(module, cls, source)
    after = _with_imports(after, path)
    after = wrap_long_lines(after, limit, leave=frozenset(text.splitlines()))
    return Rebuild(path, class_name, text, after, reading.registry)


# -- reading the mixin -------------------------------------------------------------------------
def _last(node: cst.BaseExpression) -> str:
    name = dotted_name(node) or ""
    return name.rsplit(".", 1)[-1]


def _self_attribute(node: cst.CSTNode) -> str | None:
    if isinstance(node, cst.Attribute) and isinstance(node.value, cst.Name) and node.value.value == "self":
        return node.attr.value
    return None


def _parameters(func: cst.FunctionDef) -> list[str]:
    params = func.params
    if params.star_arg is not cst.MaybeSentinel.DEFAULT and isinstance(params.star_arg, cst.Param):
        return ["*"]
    return [p.name.value for p in (*params.posonly_params, *params.params)][1:]


def _registry(methods: dict[str, cst.FunctionDef]) -> str | None:
    """The attribute the public register method stores checks in: ``self.<registry>[name] = ...``."""
    for name, func in methods.items():
        if name.startswith("_") or not _REGISTER_API.fullmatch(name):
            continue
        params = _parameters(func)
        if not params:
            continue
        for node in descendants(func.body, into_defs=False):
            if not isinstance(node, cst.Assign):
                continue
            for target in node.targets:
                subscript = target.target
                if (isinstance(subscript, cst.Subscript) and _self_attribute(subscript.value)
                        and len(subscript.slice) == 1 and isinstance(subscript.slice[0].slice, cst.Index)
                        and isinstance(subscript.slice[0].slice.value, cst.Name)
                        and subscript.slice[0].slice.value.value == params[0]):
                    return _self_attribute(subscript.value)
    return None


def _runner(module: cst.Module, methods: dict[str, cst.FunctionDef],
            registry: str) -> tuple[str, dict[str, str], bool] | str:
    """The one method that runs a registered check and returns its result built with ``status`` and
    ``critical`` (``message`` too, when there is one), by keyword or in the order of the result class's
    fields, and that is called on the registry's entries; and whether it is async."""
    fields_of = _field_orders(module)
    found = []
    for name, func in methods.items():
        if len(_parameters(func)) != 1 or _parameters(func) == ["*"]:
            continue
        for node in descendants(func.body, into_defs=False):
            if not (isinstance(node, cst.Return) and isinstance(node.value, cst.Call)):
                continue
            order = fields_of.get(_last(node.value.func), [])
            named = {arg.keyword.value for arg in node.value.args if arg.keyword is not None}
            positional = [arg for arg in node.value.args if arg.keyword is None and not arg.star]
            named |= set(order[:len(positional)])
            if {"status", "critical"} <= named:
                fields = {k: k for k in ("status", "critical", "message") if k in named}
                found.append((name, fields, func.asynchronous is not None))
                break
    if len(found) != 1:
        return (f"omnimix looks for one method that runs a single check and returns a result with status "
                f"and critical, and found {len(found) or 'none'}" + (
                    f" ({', '.join(n for n, _, _ in found)})" if found else ""))
    name = found[0][0]
    callers = [func for func in methods.values() if _reads(func, registry) and _calls(func, name)]
    if not callers:
        return f"no method both reads self.{registry} and runs its checks through {name}()"
    return found[0]


def _field_orders(module: cst.Module) -> dict[str, list[str]]:
    """The annotated fields of each top-level class, in order (a dataclass's positional parameters)."""
    orders = {}
    for statement in module.body:
        if isinstance(statement, cst.ClassDef) and isinstance(statement.body, cst.IndentedBlock):
            orders[statement.name.value] = [
                small.target.value for line in statement.body.body if isinstance(line, cst.SimpleStatementLine)
                for small in line.body if isinstance(small, cst.AnnAssign) and isinstance(small.target, cst.Name)]
    return orders


def _calls(func: cst.FunctionDef, method: str) -> bool:
    return any(isinstance(n, cst.Call) and _self_attribute(n.func) == method for n in descendants(func.body))


def _reads(func: cst.FunctionDef, attribute: str) -> bool:
    """``func`` reads ``self.<attribute>``, or ``getattr(self, "<attribute>", ...)``."""
    return any(_self_attribute(n) == attribute or _self_getattr(n) == attribute for n in descendants(func.body))


def _registry_read(registry: str, cls: cst.ClassDef) -> dict[str, str]:
    """How the hook reads the registry: as the mixin does, with ``getattr(self, ..., {})`` (on a line of its
    own) where the mixin allows it to be missing (no check registered yet), else as ``self.<registry>``."""
    if any(_self_getattr(node) == registry for node in descendants(cls.body)):
        return {"registry": f'    checks = getattr(self, "{registry}", {{}})\n', "checks": "checks"}
    return {"registry": "", "checks": f"self.{registry}"}


def _self_getattr(node: cst.CSTNode) -> str | None:
    if not (isinstance(node, cst.Call) and isinstance(node.func, cst.Name) and node.func.value == "getattr"
            and len(node.args) >= 2 and isinstance(node.args[0].value, cst.Name)
            and node.args[0].value.value == "self" and isinstance(node.args[1].value, cst.SimpleString)):
        return None
    value = node.args[1].value.evaluated_value
    return value if isinstance(value, str) else None


def _preparation(methods: dict[str, cst.FunctionDef], runner: str) -> list[str]:
    """The argument-less ``self.x()`` calls that open the public method running the checks, before it
    reads them (registering them on first use, checking the set-up...): the hook makes them too."""
    reaching = {runner}
    for _ in range(3):  # methods that reach the runner through at most a few private steps
        reaching |= {name for name, func in methods.items() if any(_calls(func, m) for m in reaching)}
    public = sorted((func for name, func in methods.items() if not name.startswith("_") and name in reaching),
                    key=lambda func: func.asynchronous is None)  # an async check_health() first
    if not public:
        return []
    prepare = []
    for statement in public[0].body.body if isinstance(public[0].body, cst.IndentedBlock) else ():
        if _docstring(statement):
            continue
        call = _bare_self_call(statement)
        if call is None or call in reaching or call not in methods:
            break
        prepare.append(call)
    return prepare


def _docstring(statement: cst.CSTNode) -> bool:
    return (isinstance(statement, cst.SimpleStatementLine) and len(statement.body) == 1
            and isinstance(statement.body[0], cst.Expr)
            and isinstance(statement.body[0].value, cst.SimpleString | cst.ConcatenatedString))


def _bare_self_call(statement: cst.CSTNode) -> str | None:
    if not (isinstance(statement, cst.SimpleStatementLine) and len(statement.body) == 1
            and isinstance(statement.body[0], cst.Expr) and isinstance(statement.body[0].value, cst.Call)):
        return None
    call = statement.body[0].value
    return _self_attribute(call.func) if not call.args else None


# -- recognising the roll-up -------------------------------------------------------------------
def _names(node: cst.CSTNode) -> set[str]:
    found = {n.value for n in descendants(node) if isinstance(n, cst.Name)}
    return found | ({node.value} if isinstance(node, cst.Name) else set())


def _status_word(node: cst.CSTNode | None) -> str | None:
    if isinstance(node, cst.Attribute) and node.attr.value in _STATUS_MEMBERS:
        return _STATUS_MEMBERS[node.attr.value]
    if isinstance(node, cst.SimpleString):
        value = node.evaluated_value
        return value if value in _STATUS_MEMBERS.values() else None
    return None


def _words(node: cst.CSTNode) -> set[str]:
    """The statuses ``node`` names, as enum members or as strings."""
    return {word for n in descendants(node) if (word := _status_word(n))}


def rolls_up(func: cst.FunctionDef) -> bool:
    """A roll-up in which a failing critical check makes the node unhealthy and any other non-healthy
    check only degraded: written as guarded returns, or as a worst-of loop over contributions."""
    return _guarded_returns(func) or _worst_of(func)


def _guarded_returns(func: cst.FunctionDef) -> bool:
    """``if <critical and UNHEALTHY>: return UNHEALTHY; if <is not HEALTHY>: return DEGRADED; return HEALTHY``."""
    body = list(descendants(func.body, into_defs=False))
    returns = [n for n in body if isinstance(n, cst.Return) and n.value is not None]
    if [_status_word(r.value) for r in returns] != ["unhealthy", "degraded", "healthy"]:
        return False
    guards = [n for n in body if isinstance(n, cst.If)]
    if len(guards) < 2:
        return False
    critical_guard = "critical" in _names(guards[0].test) and "unhealthy" in _words(guards[0].test)
    other_guard = "healthy" in _words(guards[1].test) and any(
        isinstance(n, cst.ComparisonTarget) and isinstance(n.operator, cst.IsNot | cst.NotEqual)
        for n in descendants(guards[1].test))
    return critical_guard and other_guard


def _worst_of(func: cst.FunctionDef) -> bool:
    """``contribution = c.status if c.critical else DEGRADED`` (as an if/else), healthy components skipped,
    and the worst contribution by severity returned."""
    body = list(descendants(func.body, into_defs=False))
    loops = [n for n in body if isinstance(n, cst.For)]
    for branch in (n for n in body if isinstance(n, cst.If) and isinstance(n.orelse, cst.Else)):
        if not (isinstance(branch.test, cst.Attribute) and branch.test.attr.value == "critical"):
            continue
        taken, other = _assigned(branch.body), _assigned(branch.orelse.body)
        if taken is None or other is None or taken[0] != other[0]:
            continue
        own = isinstance(taken[1], cst.Attribute) and taken[1].attr.value == "status"
        skips_healthy = any(isinstance(n, cst.If) and "HEALTHY" in _names(n.test)
                            and any(isinstance(s, cst.Continue) for s in descendants(n.body)) for n in body)
        if own and _status_word(other[1]) == "degraded" and skips_healthy and loops:
            return True
    return False


def _assigned(block: cst.BaseSuite) -> tuple[str, cst.BaseExpression] | None:
    statements = block.body if isinstance(block, cst.IndentedBlock) else ()
    if len(statements) != 1 or not isinstance(statements[0], cst.SimpleStatementLine):
        return None
    small = statements[0].body[0]
    if isinstance(small, cst.Assign) and len(small.targets) == 1 and isinstance(small.targets[0].target, cst.Name):
        return small.targets[0].target.value, small.value
    return None


# -- writing the rebuilt mixin -----------------------------------------------------------------
def _with_methods(module: cst.Module, cls: cst.ClassDef, source: str) -> str:
    indent = module.default_indent
    text = "\n".join(indent + line if line else "" for line in source.replace("    ", indent).splitlines())
    added = cst.parse_module(f"class _X:\n{text}\n", config=module.config_for_parsing).body[0]
    assert isinstance(added, cst.ClassDef) and isinstance(added.body, cst.IndentedBlock)
    spaced = [s.with_changes(leading_lines=[cst.EmptyLine(indent=False)]) for s in added.body.body]
    body = cls.body
    assert isinstance(body, cst.IndentedBlock)
    core = cst.Arg(cst.Name(CORE_MIXIN))
    rebuilt = cls.with_changes(
        bases=[core], lpar=cst.LeftParen(), rpar=cst.RightParen(),
        body=body.with_changes(body=[*body.body, *spaced]))
    return module.with_changes(body=[rebuilt if s is cls else s for s in module.body]).code


def _with_imports(text: str, path: Path) -> str:
    from libcst.codemod import CodemodContext
    from libcst.codemod.visitors import AddImportsVisitor

    module_name = dotted_module_name(path)
    context = CodemodContext(full_module_name=module_name or None,
                             full_package_name=(module_name or "").rpartition(".")[0] or None)
    catalog = load_catalog()
    for module, name in (*_IMPORTS, *((catalog.get(m).import_from, m) for m in ("ModelHealthStatus",
                                                                                 "ModelHealthIssue"))):
        AddImportsVisitor.add_needed_import(context, module, name)
    return add_imports(context, cst.parse_module(text)).code
