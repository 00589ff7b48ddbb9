"""The mutable state of one node's migration, shared by the codemods that run on it in turn."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

import libcst as cst
from libcst.helpers import get_absolute_module_from_package_for_import

from omnimix.analysis.context import FileContext
from omnimix.concerns import Safety
from omnimix.contract import NodeContract
from omnimix.discovery import dotted_module_name
from omnimix.findings import Finding

if TYPE_CHECKING:  # libcst.codemod costs a quarter of a second to import; scans never need it
    from libcst.codemod import CodemodContext


class Outcome(StrEnum):
    """What a migration did with a finding."""

    APPLIED = "applied"
    PENDING_UNSAFE = "pending-unsafe"  # listed; applied only with --unsafe
    CONSOLIDATED = "consolidated"  # moved into a project mixin shared by several nodes
    KEPT = "kept"  # no behaviour-preserving equivalent
    NOT_DECLARED = "not-declared"  # the contract does not ask for it


@dataclass(frozen=True)
class Decision:
    finding: Finding
    path: Path
    outcome: Outcome
    note: str


@dataclass
class MigrationState:
    """One node being migrated: its contract, its files, the node module being rewritten."""

    contract: NodeContract
    files: dict[Path, FileContext]
    node_path: Path
    node_class: str
    node_base: str
    findings: dict[Path, list[Finding]]
    #: True applies every unsafe change; a tuple of concerns applies only theirs ([tool.omnimix] unsafe_concerns).
    allow_unsafe: bool | tuple[str, ...] = False
    repository_files: tuple[Path, ...] = ()
    #: The concern of the codemod now transforming the node (set by the engine).
    current_concern: str | None = None
    codemod_context: CodemodContext = field(init=False)
    mixins_to_add: list[str] = field(default_factory=list)
    bases_to_remove: set[str] = field(default_factory=set)
    decisions: list[Decision] = field(default_factory=list)
    deleted: set[Path] = field(default_factory=set)
    new_texts: dict[Path, str] = field(default_factory=dict)
    #: Files outside the node that every node using them changes the same way (the shared health mixin).
    shared_texts: dict[Path, str] = field(default_factory=dict)
    #: Declared mixins the node gets through a project base that derives from them; not added again.
    inherited: set[str] = field(default_factory=set)
    warnings: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    module: cst.Module = field(init=False)
    _rendered: tuple[cst.Module, str] | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        self.module = self.files[self.node_path].module
        from libcst.codemod import CodemodContext

        module_name = dotted_module_name(self.node_path)
        self.codemod_context = CodemodContext(
            full_module_name=module_name or None,
            full_package_name=(module_name or "").rpartition(".")[0] or None,
        )

    def absolute_module(self, node: cst.ImportFrom) -> str | None:
        """The absolute module an ``ImportFrom`` in the node module refers to."""
        return get_absolute_module_from_package_for_import(self.codemod_context.full_package_name, node)

    def refuse(self, message: str) -> None:
        """Stop this node's migration with an input error (for example an impossible composition)."""
        self.errors.append(message)

    # -- what the contract asks for -------------------------------------------------------
    def declared(self, switch: str) -> bool:
        """True when the contract enables ``switch``: a mixin name or ``advanced_features.<key>``."""
        if switch.startswith("advanced_features."):
            return self.contract.feature(switch.split(".", 1)[1]) is not None
        return any(mixin.name == switch for mixin in self.contract.enabled_mixins())

    # -- decisions ------------------------------------------------------------------------
    def allows(self, safety: Safety) -> bool:
        if safety is Safety.SAFE or self.allow_unsafe is True:
            return True
        return isinstance(self.allow_unsafe, tuple) and self.current_concern in self.allow_unsafe

    def decide(self, finding: Finding, path: Path, outcome: Outcome, note: str) -> None:
        self.decisions.append(Decision(finding, path, outcome, note))

    def findings_of(self, concern: str, path: Path | None = None) -> list[tuple[Path, Finding]]:
        return [
            (file, finding)
            for file, found in self.findings.items()
            if path is None or file == path
            for finding in found
            if finding.concern == concern
        ]

    # -- edits ----------------------------------------------------------------------------
    def rewrite(self, transformer: cst.CSTTransformer) -> None:
        """Apply ``transformer`` to the node module."""
        self.module = self.module.visit(transformer)

    def add_import(self, module: str, obj: str | None = None, asname: str | None = None) -> None:
        from libcst.codemod.visitors import AddImportsVisitor

        AddImportsVisitor.add_needed_import(self.codemod_context, module, obj, asname)

    def remove_import(self, module: str, obj: str | None = None) -> None:
        from libcst.codemod.visitors import RemoveImportsVisitor

        RemoveImportsVisitor.remove_unused_import(self.codemod_context, module, obj)

    def add_mixin(self, name: str) -> None:
        if name not in self.mixins_to_add:
            self.mixins_to_add.append(name)

    def remove_base(self, name: str) -> None:
        self.bases_to_remove.add(name)

    def delete_file(self, path: Path) -> None:
        self.deleted.add(path)

    def text_of(self, path: Path) -> str:
        if path == self.node_path:
            # Rendering a large module costs as much as parsing it: render each tree once.
            if self._rendered is None or self._rendered[0] is not self.module:
                self._rendered = (self.module, self.module.code)
            return self._rendered[1]
        return self.new_texts.get(path, self.files[path].text)
