"""Health checks, the LibCST rewrite of the files with applied findings."""

from __future__ import annotations

import libcst as cst

from codemods.health_check.detect import (
    _ADAPTER,
    _ADAPTER_IMPORTS,
    _ADAPTER_SOURCE,
    _docstring_only,
    _walk,
)
from codemods.health_check.plan import _Plan, _Registration
from omnimix.catalog import load_catalog
from omnimix.consolidation.health_base import (
    Rebuild,
)
from omnimix.migration_state import MigrationState


def _shared_note(shared: Rebuild) -> str:
    done = "derives from it" if shared.done else "is rebuilt on it (once, for every node that uses it)"
    registry = f" in self.{shared.checks}" if shared.checks else ""
    return (f"runs through MixinHealthCheck: the shared {shared.class_name} ({shared.path.name}) {done}, and its "
            f"get_health_checks() hands over every check registered{registry}, each run as check_health() runs it; "
            "check_health(), its cache and its callers are unchanged")


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
