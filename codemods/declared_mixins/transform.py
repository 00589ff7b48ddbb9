"""Declared mixins, the LibCST rewrite of the files with applied findings."""

from __future__ import annotations

import libcst as cst

from omnimix.migration_state import MigrationState, Outcome


def _current_bases(module: cst.Module, class_name: str) -> set[str]:
    for statement in module.body:
        if isinstance(statement, cst.ClassDef) and statement.name.value == class_name:
            return {_name(arg) for arg in statement.bases}
    return set()


def _unapplied_reason(state: MigrationState, concerns: list[str]) -> str | None:
    """Why a declared mixin should not be added: its concern's findings were all left in place."""
    relevant = [d for d in state.decisions if str(d.finding.concern) in concerns]
    if not relevant or any(d.outcome is Outcome.APPLIED for d in relevant):
        return None
    pending = [d for d in relevant if d.outcome is Outcome.PENDING_UNSAFE]
    if pending:
        return f"{len(pending)} change(s) it needs are unsafe and wait for --unsafe"
    return "nothing it would replace could be migrated (see kept findings)"


class _RewriteBases(cst.CSTTransformer):
    """Reuse the slots of removed bases for new mixins, append the rest in the same comma style."""

    def __init__(self, class_name: str, add: list[str], remove: set[str]) -> None:
        self.class_name = class_name
        self.add = add
        self.remove = remove
        self.depth = 0

    def visit_ClassDef(self, node: cst.ClassDef) -> bool:
        self.depth += 1
        return self.depth == 1

    def leave_ClassDef(self, original_node: cst.ClassDef, updated_node: cst.ClassDef) -> cst.ClassDef:
        self.depth -= 1
        if self.depth or updated_node.name.value != self.class_name:
            return updated_node
        present = {_name(arg) for arg in updated_node.bases}
        queue = [name for name in self.add if name not in present]
        bases: list[cst.Arg] = []
        for arg in updated_node.bases:
            if _name(arg) in self.remove:
                if queue:
                    bases.append(arg.with_changes(value=cst.Name(queue.pop(0))))
                elif bases:
                    bases[-1] = bases[-1].with_changes(comma=arg.comma)
                continue
            bases.append(arg)
        for name in queue:
            if bases:
                last = bases[-1]
                separator = last.comma if isinstance(last.comma, cst.Comma) else cst.Comma(
                    whitespace_after=cst.SimpleWhitespace(" "))
                bases[-1] = last.with_changes(comma=separator)
                bases.append(cst.Arg(value=cst.Name(name), comma=last.comma))
            else:
                bases.append(cst.Arg(value=cst.Name(name)))
        return updated_node.with_changes(bases=bases)


def _name(arg: cst.Arg) -> str:
    value = arg.value
    if isinstance(value, cst.Subscript):
        value = value.value
    if isinstance(value, cst.Attribute):
        return value.attr.value
    return value.value if isinstance(value, cst.Name) else ""
