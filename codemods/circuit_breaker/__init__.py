"""Circuit breakers: hand-written breakers found by structure, replaced by omnibase-core's
ModelCircuitBreaker where the contract asks for it.

Three families are recognised: a breaker class written in the project (its own module, or built by
a shared ``create_*`` factory), breakers kept as plain node fields (a failure counter that trips an
"open until" timestamp), and omnibase-core's ModelCircuitBreaker driven by hand (also through the
node's own guard and failure-recording helpers, and breakers kept in a dict per dependency). Breaker
objects are identified by what they are built from (a class that guards a callable, counts failures
against a threshold and has an open state), never by attribute names alone. Besides construction and
guarded calls, the statements that read a breaker's state or metrics (health and metrics code) and
that catch or test its open-circuit error are reported, at statement granularity.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from codemods.base import Codemod, Example
from codemods.circuit_breaker.detect import (
    _CORE_BREAKER,
    _CORE_STATE_ENUM,
    _DRIFT_RENAMES,
    CORE,
    FIELDS,
    BreakerUse,
    FileAnalysis,
    _reason,
    analyze_file,
    imported_modules,
    module_breakers,
)
from codemods.circuit_breaker.examples import (
    _BREAKER_CONTRACT,
    _DRIFT_NODE,
    _LOCAL_BREAKER_NODE,
    _LOCAL_BREAKER_REPLACED,
    _LOCAL_READERS_NODE,
    _LOCAL_READERS_REPLACED,
    _SETTINGS_LOOKALIKE,
    _THRESHOLD_CONTRACT,
)
from codemods.circuit_breaker.plan import (
    Plan,
    _check_errors,
    _check_helper,
    _guard_is_async,
    _member_problems,
    _plan,
    _reader_notes,
)
from codemods.circuit_breaker.transform import (
    _absolute,
    _AddHelper,
    _fix_drift,
    _imported_after_migration,
    _module_names,
    _read,
    _RemoveDefinitions,
    _ReplaceBreakers,
)
from omnimix.analysis.context import FileContext
from omnimix.analysis.syntax import (
    import_table,
    merge_spans,
)
from omnimix.catalog import load_catalog
from omnimix.concerns import Concern, Safety
from omnimix.findings import Finding
from omnimix.migration_state import MigrationState, Outcome


class ReplaceCircuitBreaker(Codemod):
    """Hand-written circuit breakers to omnibase-core's ModelCircuitBreaker; API drift fixed."""

    name = "replace-circuit-breaker"
    concern = Concern.CIRCUIT_BREAKER
    description = (
        "Finds hand-written circuit breakers (a local class, a factory-built breaker, breaker fields on the node) "
        "and ModelCircuitBreaker driven by hand; renames ModelCircuitBreaker calls that no longer exist and, with "
        "--unsafe, replaces hand-written breakers by ModelCircuitBreaker."
    )
    enabled_by = ("advanced_features.circuit_breaker",)
    keywords = ("breaker", "circuit", "open", "trip", "fuse")
    examples: ClassVar[tuple[Example, ...]] = (
        Example(
            title="API drift: can_execute() becomes should_allow_request()",
            before=_DRIFT_NODE,
            after=_DRIFT_NODE.replace("can_execute()", "should_allow_request()"),
            contract=_THRESHOLD_CONTRACT,
        ),
        Example(
            title="ModelCircuitBreaker driven by hand with the current API is kept",
            before=_DRIFT_NODE.replace("can_execute()", "should_allow_request()"),
            after=_DRIFT_NODE.replace("can_execute()", "should_allow_request()"),
            contract=_THRESHOLD_CONTRACT,
        ),
        Example(
            title="a hand-written breaker is only replaced with --unsafe",
            before=_LOCAL_BREAKER_NODE,
            after=_LOCAL_BREAKER_NODE,
            contract=_BREAKER_CONTRACT,
        ),
        Example(
            title="with --unsafe a hand-written breaker becomes ModelCircuitBreaker behind one guarded-call helper",
            before=_LOCAL_BREAKER_NODE,
            after=_LOCAL_BREAKER_REPLACED,
            contract=_BREAKER_CONTRACT,
            unsafe=True,
        ),
        Example(
            title="state and metrics readers of a hand-written breaker are kept without --unsafe",
            before=_LOCAL_READERS_NODE,
            after=_LOCAL_READERS_NODE,
            contract=_BREAKER_CONTRACT,
        ),
        Example(
            title="with --unsafe get_state() reads ModelCircuitBreaker.state and get_metrics() its model_dump()",
            before=_LOCAL_READERS_NODE,
            after=_LOCAL_READERS_REPLACED,
            contract=_BREAKER_CONTRACT,
            unsafe=True,
        ),
        Example(
            title="breaker settings in a configuration model are not a breaker",
            before=_SETTINGS_LOOKALIKE,
            after=_SETTINGS_LOOKALIKE,
            contract=_BREAKER_CONTRACT,
        ),
    )

    # -- detection ----------------------------------------------------------------------------
    def detect(self, ctx: FileContext) -> list[Finding]:
        return [finding for finding, _ in self._findings(ctx, analyze_file(ctx))]

    def _findings(self, ctx: FileContext, analysis: FileAnalysis) -> list[tuple[Finding, BreakerUse]]:
        uses = [u for u in analysis.uses
                if not any(o is not u and o.start <= u.start and u.end <= o.end and (o.start, o.end) != (u.start, u.end)
                           for o in analysis.uses)]
        results = []
        groups: dict[frozenset[str], list[BreakerUse]] = {}
        for use in uses:  # statements about different breakers stay apart, unless they only read them
            groups.setdefault(frozenset({"<reads>"}) if use.reads_only else frozenset(use.keys), []).append(use)
        spans = [(start, end, group) for group in groups.values()
                 for start, end in merge_spans(ctx, [(u.start, u.end) for u in group])]
        for start, end, group in sorted(spans, key=lambda item: (item[0], item[1])):
            members = [u for u in group if start <= u.start and u.end <= end]
            combined = BreakerUse(start, end, set().union(*(u.keys for u in members)),
                                  drift=set().union(*(u.drift for u in members)),
                                  module_level=any(u.module_level for u in members),
                                  reads_only=all(u.reads_only for u in members))
            action, safety, reason = _reason(combined, analysis)
            finding = self.finding(ctx, start, end, action=action, safety=safety,
                                   replacement="omnibase_core ModelCircuitBreaker", reason=reason)
            results.append((finding, combined))
        return results

    # -- transformation -----------------------------------------------------------------------
    def transform(self, state: MigrationState) -> None:
        if not any(state.declared(switch) for switch in self.enabled_by):
            return
        found = state.findings_of(str(self.concern))
        if not found:
            return
        uses: dict[tuple[Path, int, int], BreakerUse] = {}
        for path in {p for p, _ in found}:
            for finding, use in self._findings(state.files[path], analyze_file(state.files[path])):
                uses[(path, finding.start_line, finding.end_line)] = use
        current = analyze_file(FileContext(state.node_path, "node", state.module.code))
        plans = self._plans(state, current)
        allowed = state.allows(Safety.UNSAFE)
        drift_fixed = _fix_drift(state, current)
        applied = {key for key, plan in plans.items() if plan.blocked is None and allowed}
        if applied:
            self._replace(state, current, {key: plans[key] for key in applied})
        deleted = self._delete_modules(state, current, applied)
        for path, finding in found:
            use = uses.get((path, finding.start_line, finding.end_line))
            outcome, note = self._outcome(state, path, finding, use, plans, applied, drift_fixed, deleted)
            state.decide(finding, path, outcome, note)

    def _plans(self, state: MigrationState, current: FileAnalysis) -> dict[str, Plan]:
        module_names = _module_names(state.module)
        plans: dict[str, Plan] = {}
        for key, breaker in current.breakers.items():
            if breaker.kind == CORE or breaker.collection or breaker.alias \
                    or not (key.startswith("self.") or breaker.kind == FIELDS or breaker.calls):
                continue
            plan = _plan(breaker, state, module_names)
            if plan.blocked is None and breaker.spec is not None:
                problems = _member_problems(state.module, key, breaker.spec)
                if problems:
                    plan.blocked = (f"the node uses {', '.join(problems)} of {key}, which ModelCircuitBreaker has "
                                    "no equivalent for")
                else:
                    plan.notes.extend(_reader_notes(state.module, key, breaker.spec))
            plans[key] = plan
        _check_errors(state.module, current, plans)
        _check_helper(plans)
        if current.own.classes and any(not p.blocked for p in plans.values()):
            users = [p for p in state.repository_files if p.resolve() != state.node_path.resolve()
                     and state.node_path.resolve() in imported_modules(p, _read(p))]
            if users:
                for plan in plans.values():
                    plan.blocked = plan.blocked or (f"{users[0].name} imports the breaker defined in the node module")
        return plans

    def _replace(self, state: MigrationState, analysis: FileAnalysis, plans: dict[str, Plan]) -> None:
        catalog = load_catalog()
        entries = {name: catalog.get(name) for name in (_CORE_BREAKER, "ModelOnexError", "EnumCoreErrorCode",
                                                          _CORE_STATE_ENUM)}
        assert all(entries.values()), "catalog lacks circuit-breaker entries"
        own = set(analysis.own.classes) | analysis.own.enums | analysis.own.errors | set(analysis.own.factories)
        transformer = _ReplaceBreakers(analysis, plans, own)
        state.rewrite(transformer)
        if own:
            imports = import_table(state.module)
            remover = _RemoveDefinitions(own)
            state.rewrite(remover)
            for local in remover.used & set(imports):
                item = imports[local]
                if item.name is None:
                    state.remove_import(item.module)
                else:
                    state.remove_import((_absolute(state, item) if item.level else item.module) or item.module, item.name)
        state.add_import(entries[_CORE_BREAKER].import_from, _CORE_BREAKER)  # type: ignore[union-attr]
        if transformer.used_helper:
            plan = next(iter(plans.values()))
            state.rewrite(_AddHelper(state.node_class, plan))
            state.add_import(entries["ModelOnexError"].import_from, "ModelOnexError")  # type: ignore[union-attr]
            state.add_import(entries["EnumCoreErrorCode"].import_from, "EnumCoreErrorCode")  # type: ignore[union-attr]
            state.add_import("typing", "Any")
            if plan.breaker.spec is not None and plan.breaker.spec.accepts_sync_callables and _guard_is_async(plan):
                state.add_import("inspect")
        if transformer.used_enum:
            state.add_import(entries[_CORE_STATE_ENUM].import_from, _CORE_STATE_ENUM)  # type: ignore[union-attr]
        if transformer.used_error:
            state.add_import(entries["ModelOnexError"].import_from, "ModelOnexError")  # type: ignore[union-attr]
        symbols = analysis.symbols
        for local, imported in import_table(state.files[state.node_path].module).items():
            if imported.name is not None and (local in symbols.classes or local in symbols.factories
                                              or local in symbols.enums or local in symbols.errors):
                module = _absolute(state, imported) if imported.level else imported.module
                state.remove_import(module or imported.module, imported.name)

    def _delete_modules(self, state: MigrationState, current: FileAnalysis, applied: set[str]) -> set[Path]:
        """Delete the node's local breaker modules that nothing imports any more."""
        deleted: set[Path] = set()
        if not applied:
            return deleted
        for path in state.files:
            if path == state.node_path or not module_breakers(path).classes:
                continue
            if not _imported_after_migration(state, path):
                state.delete_file(path)
                deleted.add(path)
        return deleted

    def _outcome(self, state: MigrationState, path: Path, finding: Finding, use: BreakerUse | None,
                 plans: dict[str, Plan], applied: set[str], drift_fixed: bool, deleted: set[Path]
                 ) -> tuple[Outcome, str]:
        if path in deleted:
            return Outcome.APPLIED, f"deleted {path.name}: nothing imports it after the replacement"
        if use is None:
            return Outcome.KEPT, finding.reason
        if use.drift:
            if drift_fixed and all(name in _DRIFT_RENAMES for name in use.drift):
                return Outcome.APPLIED, "renamed " + ", ".join(
                    f"{name}() to {_DRIFT_RENAMES[name]}()" for name in sorted(use.drift))
            return Outcome.KEPT, f"{', '.join(sorted(use.drift))}: no known ModelCircuitBreaker equivalent"
        if any(key.startswith("module:") for key in use.keys):  # a definition in a breaker module
            related = [p for p in plans.values() if p.breaker.spec is not None and p.breaker.spec.path == path]
            if path != state.node_path and any(p.breaker.key in applied for p in related):
                return Outcome.KEPT, f"{path.name} is still imported elsewhere, so it stays"
            return self._outcome_of(related, applied, finding, removed=path == state.node_path)
        return self._outcome_of([plans[k] for k in use.keys if k in plans], applied, finding)

    @staticmethod
    def _outcome_of(related: list[Plan], applied: set[str], finding: Finding, removed: bool = False
                    ) -> tuple[Outcome, str]:
        if not related:
            return Outcome.KEPT, finding.reason
        blocked = sorted({p.blocked for p in related if p.blocked})
        if blocked:
            return Outcome.KEPT, "not replaced: " + "; ".join(blocked)
        plan = related[0]
        if all(p.breaker.key in applied for p in related):
            built = ", ".join(f"{k}={v!r}" for k, v in plan.kwargs)
            what = "removed, replaced" if removed else "replaced"
            return Outcome.APPLIED, f"{what} by ModelCircuitBreaker({built}); differences: " + "; ".join(plan.notes)
        return Outcome.PENDING_UNSAFE, "ModelCircuitBreaker would replace it, but " + "; ".join(plan.notes)
