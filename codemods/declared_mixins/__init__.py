"""Add the contract's declared mixins to the node class, node base first; drop replaced bases."""

from __future__ import annotations

from typing import ClassVar

from codemods.base import Codemod, Example
from codemods.declared_mixins.transform import (
    _current_bases,
    _RewriteBases,
    _unapplied_reason,
)
from omnimix.analysis.context import FileContext
from omnimix.catalog import load_catalog
from omnimix.findings import Finding
from omnimix.migration_state import MigrationState


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
