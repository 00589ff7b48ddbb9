"""Hand-kept operational metrics: find them all, move provable scalar counters to MixinMetrics."""

from __future__ import annotations

import re
from typing import ClassVar

from codemods.base import Codemod, Example
from codemods.metrics.detect import (
    _file_metrics,
    _FileMetrics,
    _imported_models,
    _node_class_names,
    _shapes_used_by_neighbours,
)
from codemods.metrics.examples import (
    _CACHE_AFTER,
    _CACHE_BEFORE,
    _EFFECT_CONTRACT,
    _PERCENTILE,
    _REDUCER_AFTER,
    _REDUCER_BEFORE,
    _REDUCER_CONTRACT,
    _RESET,
    _TYPED_DICT,
    _WINDOW_AFTER,
    _WINDOW_BEFORE,
)
from codemods.metrics.plan import _KEPT_MARK, _WHY_KEPT, _counter_plan
from codemods.metrics.transform import (
    _judge,
    _migrate_counters,
    _removable_locks,
    _replacement,
)
from omnimix.analysis.context import FileContext
from omnimix.analysis.counters import (
    MIXIN,
)
from omnimix.concerns import Concern
from omnimix.findings import Finding
from omnimix.migration_state import MigrationState, Outcome


# --------------------------------------------------------------------------------------------
# The codemod
# --------------------------------------------------------------------------------------------
class ReplaceHandKeptMetrics(Codemod):
    """Metrics: report hand-kept counters, latency buffers and snapshots; move provable counters."""

    name = "replace-hand-kept-metrics"
    concern = Concern.METRICS
    description = (
        "Finds hand-kept operational metrics (counters, per-type counts, latency buffers, percentiles, "
        "throughput windows, metrics dicts and models, snapshots) and, when the contract declares "
        "MixinMetrics, turns scalar counters into increment_counter calls read back through MixinMetrics."
    )
    enabled_by = (MIXIN,)
    keywords = ("+=", "append(", "deque", "metric", "stat", "counter", "percentile", "latenc", "perf_counter",
                "monotonic")
    examples: ClassVar[tuple[Example, ...]] = (
        Example(
            title="scalar counters move to increment_counter; reads come back through MixinMetrics",
            contract=_EFFECT_CONTRACT,
            before=_CACHE_BEFORE,
            after=_CACHE_AFTER,
        ),
        Example(
            title="a reducer's domain counts stay; only its operational counter moves",
            contract=_REDUCER_CONTRACT,
            before=_REDUCER_BEFORE,
            after=_REDUCER_AFTER,
        ),
        Example(
            title="a latency buffer used for a percentile is kept (record_histogram keeps only the last value)",
            contract=_EFFECT_CONTRACT,
            before=_PERCENTILE,
            after=_PERCENTILE,
            warning="MixinMetrics is declared but not added",
        ),
        Example(
            title="a counter that a method resets is kept (MixinMetrics has no per-counter reset)",
            contract=_EFFECT_CONTRACT,
            before=_RESET,
            after=_RESET,
            warning="MixinMetrics is declared but not added",
        ),
        Example(
            title="a TypedDict of counters built by a factory and counted entry by entry is kept with its type",
            contract=_EFFECT_CONTRACT,
            before=_TYPED_DICT,
            after=_TYPED_DICT,
            warning="MixinMetrics is declared but not added",
        ),
        Example(
            title="counters under a metrics lock move; the lock, the sliding window and its peak stay",
            contract=_EFFECT_CONTRACT,
            before=_WINDOW_BEFORE,
            after=_WINDOW_AFTER,
        ),
    )

    # -- detection --------------------------------------------------------------------------
    def detect(self, ctx: FileContext) -> list[Finding]:
        try:
            return self._detect(ctx)
        except RecursionError:  # pathologically deep expressions: report nothing rather than fail
            return []

    def _detect(self, ctx: FileContext) -> list[Finding]:
        facts = _file_metrics(ctx)
        nodes = _node_class_names(ctx.module)
        plans = {name: _counter_plan(info, ctx.module, name in nodes) for name, info in facts.classes.items()}
        for name, info in facts.classes.items():
            movable = {attr for attr, why in plans[name].items() if why is None}
            plans[name].update({lock: None for lock in _removable_locks(info, movable)})
        findings = []
        for span in facts.spans(_shapes_used_by_neighbours(ctx) | facts.shape_uses()):
            action, safety, reason = _judge(span, plans.get(span.info.name, {}) if span.info else {})
            findings.append(self.finding(ctx, span.start, span.end, action=action, safety=safety,
                                         replacement=_replacement(action), reason=reason, symbol=span.symbol))
        return findings

    # -- migration --------------------------------------------------------------------------
    def transform(self, state: MigrationState) -> None:
        if not any(state.declared(switch) for switch in self.enabled_by):
            return
        before = state.files[state.node_path]
        original = _FileMetrics(before, _imported_models(before)).classes.get(state.node_class)
        moved, dropped_locks = _migrate_counters(state)
        plan = _counter_plan(original, before.module, True) if original else {}
        for path, finding in state.findings_of(str(self.concern)):
            touched: set[str] = set()
            if path == state.node_path and (finding.symbol == state.node_class
                                            or finding.symbol.startswith(f"{state.node_class}.")):
                lines = before.lines[finding.start_line - 1:finding.end_line]
                touched = {m for line in lines for m in re.findall(r"\bself\.(\w+)", line)}
            counters = sorted(a for a in touched if a in moved)
            locks = sorted(a for a in touched if a in dropped_locks)
            if not counters and not locks:
                state.decide(finding, path, Outcome.KEPT, finding.reason)
                continue
            parts = []
            if counters:
                parts.append(f"{', '.join(counters)} now counted by {MIXIN}.increment_counter and read back "
                             f"through {MIXIN}.get_metrics(self)")
            if locks:
                parts.append(f"{', '.join(locks)} guarded only those counters and was removed")
            kinds = original.kinds if original else {}
            rest = sorted(a for a in touched if a in kinds and a not in moved and a not in dropped_locks)
            kept = [plan.get(a) or _WHY_KEPT.get(kinds[a], "") for a in rest]
            if _WHY_KEPT["accessor"] in finding.reason:
                kept.insert(0, "the snapshot method stays: " + _WHY_KEPT["accessor"])
            kept = [k for k in dict.fromkeys(kept) if k]
            if kept:
                parts.append(_KEPT_MARK + "; ".join(kept))
            state.decide(finding, path, Outcome.APPLIED, "; ".join(parts))
