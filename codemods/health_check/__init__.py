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

from pathlib import Path
from typing import ClassVar

import libcst as cst

from codemods.base import Codemod, Example
from codemods.health_check.detect import (
    _ADAPTER,
    _GROUP_KINDS,
    _VERDICTS,
    _belongs_to,
    _Item,
    _item_span,
    _kept_note,
    _ModuleHealth,
)
from codemods.health_check.examples import (
    _COMPONENTS_NODE,
    _COMPONENTS_NODE_MIGRATED,
    _CONTRACT,
    _LOCAL_MIXIN_NODE,
    _LOCAL_MIXIN_NODE_MIGRATED,
    _LOOKALIKE_NODE,
    _NOT_LITERAL_NODE,
)
from codemods.health_check.plan import NO_LOCAL_MIXIN, _Plan, _Planner, _Refused
from codemods.health_check.transform import _apply, _shared_note
from omnimix.analysis.context import FileContext
from omnimix.concerns import Concern, Safety
from omnimix.consolidation.health_base import (
    CORE_MIXIN,
    Rebuild,
)
from omnimix.findings import Finding
from omnimix.migration_state import MigrationState, Outcome


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
        planner = _Planner(state)
        shared = planner.shared_base()
        if isinstance(shared, Rebuild):
            if shared.after is not None:
                state.shared_texts[shared.path] = shared.after
            state.inherited.add(CORE_MIXIN)
            self._decide(state, in_group, kinds, Outcome.APPLIED, _shared_note(shared), shared=True)
            return
        if shared != NO_LOCAL_MIXIN:
            state.warnings.append(f"{state.node_class}: the shared health mixin is not rebuilt on MixinHealthCheck: "
                                  f"{shared}")
        try:
            plan = planner.plan()
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
