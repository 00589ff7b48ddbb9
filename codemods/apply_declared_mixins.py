"""Add the contract's declared mixins to the node class, node base first; drop replaced bases."""

from __future__ import annotations

from typing import ClassVar

import libcst as cst

from codemods.base import Codemod, Example
from omnimix.analysis.context import FileContext
from omnimix.catalog import load_catalog
from omnimix.findings import Finding
from omnimix.migration_state import MigrationState, Outcome


class ApplyDeclaredMixins(Codemod):
    """Bases and imports: runs last, after the concern codemods decided what they replaced."""

    name = "apply-declared-mixins"
    concern = None
    description = (
        "Adds each enabled mixin of the contract to the node class after its node base, imports it "
        "from where omnibase-core really exports it, removes bases that other codemods replaced, and "
        "refuses compositions omnibase-core cannot build."
    )
    examples: ClassVar[tuple[Example, ...]] = (
        Example(
            title="declared mixins follow the node base; MixinMetrics comes from its module",
            contract="name: n\nnode_type: EFFECT\nmixins:\n  - {name: MixinMetrics}\n  - {name: MixinHealthCheck}\n",
            before=(
                "from omnibase_core.nodes import NodeEffect\n\n\n"
                "class NodeStoreEffect(NodeEffect):\n    pass\n"
            ),
            after=(
                "from omnibase_core.mixins import MixinHealthCheck\n"
                "from omnibase_core.mixins.mixin_metrics import MixinMetrics\n"
                "from omnibase_core.nodes import NodeEffect\n\n\n"
                "class NodeStoreEffect(NodeEffect, MixinMetrics, MixinHealthCheck):\n    pass\n"
            ),
        ),
        Example(
            title="a mixin omnibase-core cannot compose with a node base is refused",
            contract="name: n\nnode_type: EFFECT\nmixins:\n  - {name: MixinEventDrivenNode}\n",
            before=(
                "from omnibase_core.nodes import NodeEffect\n\n\n"
                "class NodeStoreEffect(NodeEffect):\n    pass\n"
            ),
            after=(
                "from omnibase_core.nodes import NodeEffect\n\n\n"
                "class NodeStoreEffect(NodeEffect):\n    pass\n"
            ),
            warning="MixinEventDrivenNode cannot be combined with NodeEffect",
        ),
    )

    def detect(self, ctx: FileContext) -> list[Finding]:
        return []

    def transform(self, state: MigrationState) -> None:
        catalog = load_catalog()
        wanted: list[str] = []
        node_type = state.contract.kind.value if state.contract.kind else ""
        present = _current_bases(state.module, state.node_class)
        for mixin in state.contract.enabled_mixins():
            entry = catalog.get(mixin.name)
            if entry is None:
                continue  # unknown names are rejected before any codemod runs
            composition = entry.composition
            if composition is not None:
                if "node_base" in composition.incompatible_with or node_type not in composition.node_types:
                    state.refuse(
                        f"{mixin.name} cannot be combined with {state.node_base} in omnibase-core "
                        f"{catalog.omnibase_core_version}: {composition.reason}"
                    )
                    continue
                if state.node_base in composition.already_in:
                    state.warnings.append(f"{mixin.name} is already part of {state.node_base}; not added again")
                    continue
            if mixin.name in present or mixin.name in state.inherited:
                continue  # already applied (a second run, or written by hand), or inherited through a project base
            blocked = _unapplied_reason(state, entry.replaces)
            if blocked:
                state.warnings.append(f"{mixin.name} is declared but not added: {blocked}")
                continue
            wanted.append(mixin.name)
            state.add_import(entry.import_from, mixin.name)
        for name in wanted:
            state.add_mixin(name)
        if wanted or state.bases_to_remove:
            state.rewrite(_RewriteBases(state.node_class, wanted, state.bases_to_remove))


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
