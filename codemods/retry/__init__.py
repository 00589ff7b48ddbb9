"""Retries: hand-written retry loops, retry decorators and re-scheduling failure handlers.

A retry is recognised by what the code does, not by names: a loop that sleeps and leaves on
success (``for attempt in range(...)`` / ``while attempts < max`` with backoff; a loop whose only
exit is a cycle count is a periodic job), a function that sleeps for an exponential delay computed
from its attempt argument, a failure handler that re-schedules work ``2 ** retry_count`` seconds
out (a due time kept on the node or on the work item, or a due check), the schedule it keeps and
the loop that runs due work, the decorator or wrapper that holds a retry loop and the places
applying it, errors that carry retry advice to a loop (a Retry-After) and the helpers computing
delays, the settings only that code reads (with their configuration fallback block), and consumer
loops that back off in an error handler or a branch that logs and sleeps.
omnibase-core's ModelRetryPolicy always adds jitter to its delays and matches errors by class
name, so a loop is only rewritten when its delays are provably identical to
``ModelRetryConfig.calculate_delay(n, include_jitter=False)``; everything else is kept with the reason.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

import libcst as cst

from codemods.base import Codemod, Example
from codemods.retry.detect import (
    RETRY_CONFIG,
    RETRY_CONFIG_MODULE,
    FileRetries,
    _calls_helper,
    _enclosing_params,
    analyze_retries,
)
from codemods.retry.examples import (
    _DOUBLING_LOOP,
    _DOUBLING_LOOP_ON_CONFIG,
    _RESCHEDULING_HANDLER,
    _RETRY_CONTRACT,
    _RETRY_LOOKALIKES,
    _STATUS_LOOP,
)
from codemods.retry.plan import (
    _KEEP_BASE,
    Doubling,
    _differences,
    _module_tuples,
    identical_doubling,
)
from codemods.retry.transform import _UseRetryConfig
from omnimix.analysis.context import FileContext
from omnimix.analysis.syntax import (
    merge_spans,
    span_of,
)
from omnimix.analysis.tree import walk
from omnimix.concerns import Action, Concern, Safety
from omnimix.findings import Finding
from omnimix.migration_state import MigrationState, Outcome


# =============================================================================================
# The codemod
# =============================================================================================
class ReplaceRetryLoops(Codemod):
    """Hand-written retries: rewritten only when omnibase-core computes the very same delays."""

    name = "replace-retry-loops"
    concern = Concern.RETRY
    description = (
        "Finds hand-written retry loops, retry decorators, re-scheduling failure handlers and error back-off in "
        "consumer loops; replaces a loop's delay computation by ModelRetryConfig.calculate_delay() only when the "
        "delays are provably identical, and keeps everything else with the reason."
    )
    enabled_by = ("advanced_features.retry_policy",)
    keywords = ("sleep", "retry", "retries", "backoff", "attempt")
    examples: ClassVar[tuple[Example, ...]] = (
        Example(
            title="delays that are exactly ModelRetryConfig's doubling come from it; the loop stays",
            before=_DOUBLING_LOOP,
            after=_DOUBLING_LOOP_ON_CONFIG,
            contract=_RETRY_CONTRACT,
        ),
        Example(
            title="a status-code retry with a tripling, capped delay has no identical equivalent and is kept",
            before=_STATUS_LOOP,
            after=_STATUS_LOOP,
            contract=_RETRY_CONTRACT,
        ),
        Example(
            title="work re-scheduled 2 ** retry_count seconds out, its schedule and the loop running it are kept",
            before=_RESCHEDULING_HANDLER,
            after=_RESCHEDULING_HANDLER,
            contract=_RETRY_CONTRACT,
        ),
        Example(
            title="client retry flags, retry_count fields and retry settings read from config are not retries",
            before=_RETRY_LOOKALIKES,
            after=_RETRY_LOOKALIKES,
            contract=_RETRY_CONTRACT,
        ),
    )

    def detect(self, ctx: FileContext) -> list[Finding]:
        return [finding for finding, _ in self._findings(ctx, analyze_retries(ctx))]

    def _findings(self, ctx: FileContext, retries: FileRetries) -> list[tuple[Finding, Doubling | None]]:
        spans = [(s, e) for s, e, _ in retries.spans
                 if not any((s2, e2) != (s, e) and s2 <= s and e <= e2 for s2, e2, _ in retries.spans)]
        results = []
        tuples = _module_tuples(ctx.module)
        for start, end in merge_spans(ctx, spans):
            kinds = {what for s, e, what in retries.spans if start <= s and e <= end}
            loops = [loop for loop in retries.loops if start <= loop.start and loop.end <= end]
            doubling = identical_doubling(loops[0].loop) if len(loops) == 1 else None
            nodes: list[cst.CSTNode] = [loop.loop for loop in loops]
            nodes += [f for f in retries.helpers.values() if start <= span_of(ctx, f)[0] <= end]
            if any(_calls_helper(n, retries.helpers) for loop in loops for n in walk(loop.loop)):
                nodes += list(retries.helpers.values())
            params = set().union(*(_enclosing_params(ctx, loop.function) for loop in loops)) if loops else set()
            action, safety, reason = self._judge(kinds, doubling, nodes, tuples, params)
            results.append((self.finding(ctx, start, end, action=action, safety=safety,
                                         replacement="omnibase_core ModelRetryPolicy / ModelRetryConfig",
                                         reason=reason), doubling))
        return results

    @staticmethod
    def _judge(kinds: set[str], doubling: Doubling | None, nodes: list[cst.CSTNode], tuples: dict[str, list[str]],
               params: set[str]) -> tuple[Action, Safety, str]:
        if doubling is not None:
            return (Action.SIMPLIFY, Safety.SAFE,
                    f"its delays {doubling.base:g} * 2 ** (n - 1) over {doubling.attempts} attempts are exactly "
                    f"ModelRetryConfig(max_attempts={doubling.attempts}, backoff_seconds={doubling.base:g})"
                    ".calculate_delay(n, include_jitter=False); the loop itself stays")
        if kinds == {"backoff"}:
            return (Action.KEEP, Safety.SAFE,
                    "error back-off of a loop that goes on after success (a consumer loop): not a retry policy, "
                    "omnibase-core has no equivalent")
        if kinds <= {"applied"}:
            return (Action.KEEP, Safety.SAFE, "applies the hand-written retry wrapper; it goes when the wrapper does")
        scheduling = {"reschedule", "schedule", "scheduler"}
        if kinds <= {"setting", "constant", "budget"}:
            return (Action.KEEP, Safety.SAFE, "settings read only by the hand-written retry code; they go with it")
        if kinds & scheduling and kinds <= scheduling | {"setting", "constant", "budget"}:
            return (Action.KEEP, Safety.SAFE,
                    "work re-scheduled 2 ** retry_count seconds out and run when due: omnibase-core has no scheduler "
                    "for failed work (ModelRetryPolicy only computes delays, with jitter)")
        if kinds <= {"error", "helper", "constant"} and "error" in kinds:
            return (Action.KEEP, Safety.SAFE,
                    "an error that carries retry advice (a Retry-After) to the hand-written retry loop; it goes with it")
        notes = _differences(nodes, tuples, params)
        detail = ("; it differs: " + "; ".join(notes)) if notes else ""
        return (Action.KEEP, Safety.SAFE,
                f"no behaviour-preserving omnibase-core equivalent: {_KEEP_BASE}; NodeEffect's contract retry "
                "(retry_delay_ms * 2**attempt, +-10% jitter) retries any exception" + detail)

    def transform(self, state: MigrationState) -> None:
        if not any(state.declared(switch) for switch in self.enabled_by):
            return
        found = state.findings_of(str(self.concern))
        if not found:
            return
        judged: dict[tuple[Path, int, int], Doubling | None] = {}
        for path in {p for p, _ in found}:
            ctx = state.files[path]
            for finding, doubling in self._findings(ctx, analyze_retries(ctx)):
                judged[(path, finding.start_line, finding.end_line)] = doubling
        rewriter = _UseRetryConfig()
        if any(d is not None for (path, _, _), d in judged.items() if path == state.node_path):
            state.rewrite(rewriter)
            if rewriter.rewritten:
                state.add_import(RETRY_CONFIG_MODULE, RETRY_CONFIG)
        for path, finding in found:
            doubling = judged.get((path, finding.start_line, finding.end_line))
            if doubling is not None and path == state.node_path and rewriter.rewritten:
                state.decide(finding, path, Outcome.APPLIED,
                             f"delay now ModelRetryConfig(max_attempts={doubling.attempts}, backoff_seconds="
                             f"{doubling.base:g}).calculate_delay(n, include_jitter=False): same values")
            else:
                state.decide(finding, path, Outcome.KEPT, finding.reason)
