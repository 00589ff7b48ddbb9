"""Circuit breakers, the LibCST rewrite of the files with applied findings."""

from __future__ import annotations

from pathlib import Path

import libcst as cst

from codemods.circuit_breaker.detect import (
    _CORE_BREAKER,
    _CORE_KWARG_RENAMES,
    _CORE_STATE_ENUM,
    _DRIFT_RENAMES,
    CORE,
    FileAnalysis,
    _is_main_block,
    _names,
    _references,
    _target_key,
    imported_modules,
)
from codemods.circuit_breaker.plan import (
    Plan,
    _error_attr_role,
    _guard_is_async,
    _map_member,
)
from omnimix.analysis.syntax import (
    Imported,
    annotation_names,
    assign_targets,
    dotted_name,
    import_table,
    module_file,
    top_level_names,
)
from omnimix.analysis.tree import walk
from omnimix.migration_state import MigrationState

# =============================================================================================
# The codemod
# =============================================================================================
_HELPER = "_call_through_breaker"


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
