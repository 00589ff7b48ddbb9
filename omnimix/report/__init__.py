"""Migration and scan reports: the JSON document (rendered by ``markdown`` and ``html``), rich tables."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from omnimix import OMNIBASE_CORE_VERSION, __version__
from omnimix.gate.results import GateReport, StageStatus
from omnimix.analysis.loc import ZERO, LineCount, count_lines
from omnimix.migration_state import Outcome
from omnimix.report.matrix import concern_matrix, matrix_json
from omnimix.report.model import REPORT_VERSION, feature_parity, node_size, summary
from omnimix.report.payoff import DISPOSITIONS, node_payoff, payoff_json, run_totals
from omnimix.results import FileScan, NodeResult


def _count(count: LineCount | None) -> dict[str, int] | None:
    return None if count is None else {"lines": count.lines, "code_lines": count.code_lines}


def node_totals(result: NodeResult) -> tuple[LineCount, LineCount]:
    """Lines of the node's files before and after (deleted files count zero after)."""
    before = after = ZERO
    for change in result.changes:
        before = before + count_lines(change.before or "")
        if change.after is not None:
            after = after + count_lines(change.after)
    return before, after


def migration_json(
    results: Sequence[NodeResult],
    *,
    mode: str,
    gates: Mapping[Path, GateReport] | None = None,
    verification: str | None = None,
    base: Path | None = None,
) -> dict[str, object]:
    """The report as JSON. ``gates`` holds the gate report of each verified node (by directory);
    ``verification`` says why nothing was verified when it is off; paths are shown relative to ``base``
    (default: the current directory). It holds all that the Markdown and HTML reports show."""
    gates = gates or {}
    nodes = []
    total_before = total_after = ZERO
    for result in results:
        before, after = node_totals(result)
        total_before, total_after = total_before + before, total_after + after
        nodes.append({
            "node": result.display,
            "contract": str(result.contract) if result.contract else None,
            "class": result.node_class,
            "status": str(result.status),
            "message": result.message,
            "loc": {"before": _count(before), "after": _count(after)},
            "files": [
                {
                    "path": change.display,
                    "status": "deleted" if change.after is None else ("changed" if change.changed else "unchanged"),
                    "before": _count(count_lines(change.before or "")),
                    "after": _count(None if change.after is None else count_lines(change.after)),
                }
                for change in result.changes
            ],
            "concerns": [
                {"concern": delta.concern, "before": _count(delta.before), "after": _count(delta.after)}
                for delta in result.concern_deltas
            ],
            "decisions": [
                {
                    **decision.finding.to_json(),
                    "path": _display(result, decision.path),
                    "outcome": str(decision.outcome),
                    "note": decision.note,
                }
                for decision in result.decisions
            ],
            "mixins_applied": list(result.mixins_applied),
            "warnings": list(result.warnings),
            "quality_gates": _gate_json(result, gates.get(result.directory), verification),
            "size": node_size(result),
            "feature_parity": feature_parity(result),
            "consolidated": list(result.extra.get("consolidated", [])),
        })
    return {
        "report_version": REPORT_VERSION,
        "omnimix_version": __version__,
        "omnibase_core_version": OMNIBASE_CORE_VERSION,
        "mode": mode,
        "payoff": payoff_json(results),
        "verification": verification or "on",
        "nodes": nodes,
        "totals": {"before": _count(total_before), "after": _count(total_after),
                   "nodes": len(results),
                   "changed": sum(1 for r in results if r.changed_files),
                   "gates_passed": sum(1 for g in gates.values() if g.passed),
                   "gates_failed": sum(1 for g in gates.values() if not g.passed)},
        "summary": summary(results, gates, base or Path.cwd()),
        "matrix": matrix_json(*concern_matrix(results)),
    }


def _gate_json(result: NodeResult, gate: GateReport | None, verification: str | None) -> dict[str, object]:
    if gate is not None:
        return gate.to_json()
    return {"status": "not_run", "reason": _not_run(result, verification), "stages": []}


def _not_run(result: NodeResult, verification: str | None) -> str:
    if verification:
        return verification
    return f"nothing to verify ({result.status})"


def _display(result: NodeResult, path) -> str:
    for change in result.changes:
        if change.path == path:
            return change.display
    return str(path)


def scan_json(scans: Sequence[FileScan], nodes: Sequence[dict[str, object]] = ()) -> dict[str, object]:
    return {
        "omnimix_version": __version__,
        "omnibase_core_version": OMNIBASE_CORE_VERSION,
        "files": [
            {
                "path": scan.display,
                "lines": scan.count.lines,
                "code_lines": scan.count.code_lines,
                "findings": [finding.to_json() for finding in scan.findings],
                **({"error": scan.error} if scan.error else {}),
            }
            for scan in scans
        ],
        "nodes": list(nodes),
    }


def payoff_line(results: Sequence[NodeResult]) -> str:
    """One line: code lines before and after, and the findings' code lines by disposition."""
    before, after = run_totals(results)
    sums = {label: 0 for label in DISPOSITIONS.values()}
    for payoff in map(node_payoff, results):
        for label, lines in payoff.by_disposition.items():
            sums[label] += lines
    change = after.code_lines - before.code_lines
    percent = f" ({100.0 * change / before.code_lines:+.1f}%)" if before.code_lines else ""
    parts = ", ".join(f"{label} {lines}" for label, lines in sums.items() if lines)
    return f"code lines {before.code_lines} → {after.code_lines}{percent}" + (f"; in findings: {parts}" if parts else "")


def print_migration_summary(
    console: Console, results: Sequence[NodeResult], *, mode: str, verification: str | None = None
) -> None:
    """The summary table and notes; ``verification`` is the line saying whether the gate ran."""
    table = Table(title=f"omnimix migrate ({mode})", show_lines=False)
    for column in ("node", "status", "lines", "code lines", "applied", "unsafe", "kept", "mixins"):
        table.add_column(column, justify="right" if column in ("lines", "code lines", "applied", "unsafe", "kept") else "left")
    total_before = total_after = ZERO
    for result in results:
        before, after = node_totals(result)
        total_before, total_after = total_before + before, total_after + after
        outcomes = [d.outcome for d in result.decisions]
        table.add_row(
            result.display, str(result.status),
            f"{before.lines} → {after.lines}", f"{before.code_lines} → {after.code_lines}",
            str(outcomes.count(Outcome.APPLIED)), str(outcomes.count(Outcome.PENDING_UNSAFE)),
            str(outcomes.count(Outcome.KEPT)), ", ".join(result.mixins_applied) or "-",
        )
    if len(results) > 1:
        total_before, total_after = run_totals(results)
        table.add_row("total", "", f"{total_before.lines} → {total_after.lines}",
                      f"{total_before.code_lines} → {total_after.code_lines}", "", "", "", "")
    console.print(table)
    console.print(payoff_line(results))
    for result in results:
        if result.message:
            console.print(f"[bold]{result.display}[/bold]: {result.message}")
        for warning in result.warnings:
            console.print(f"[yellow]warning[/yellow] {result.display}: {warning}")
        pending = [d for d in result.decisions if d.outcome is Outcome.PENDING_UNSAFE]
        for decision in pending:
            f = decision.finding
            console.print(f"[magenta]unsafe, not applied[/magenta] {_display(result, decision.path)}:{f.start_line} "
                          f"{f.concern} `{f.symbol}`: {decision.note} (use --unsafe to apply)")
        kept = [d for d in result.decisions if d.outcome is Outcome.KEPT]
        for decision in kept:
            f = decision.finding
            console.print(f"[cyan]kept[/cyan] {_display(result, decision.path)}:{f.start_line} {f.concern} "
                          f"`{f.symbol}`: {decision.note}")
    if verification:
        console.print(f"verification: {verification}")


_STATUS_STYLE = {StageStatus.PASSED: "green", StageStatus.FAILED: "red", StageStatus.SKIPPED: "yellow"}


def print_gate(console: Console, gate: GateReport, *, failures_only: bool = False) -> None:
    """One line per stage (status, seconds, reason) under a line with the node and the verdict."""
    verdict = "[green]passed[/green]" if gate.passed else "[red]failed[/red]"
    console.print(f"[bold]{escape(gate.node)}[/bold]: gate {verdict} in {gate.seconds:.1f}s", soft_wrap=True)
    for stage in gate.stages:
        if failures_only and not stage.failed:
            continue
        style = _STATUS_STYLE[stage.status]
        console.print(f"  {stage.name:<12} [{style}]{stage.status!s:<8}[/{style}] {stage.seconds:6.2f}s  "
                      f"{escape(stage.reason)}", soft_wrap=True)
        trace = stage.details.get("traceback")
        if stage.failed and isinstance(trace, str):
            console.print(trace, markup=False)


def print_scan_table(console: Console, scans: Sequence[FileScan]) -> None:
    table = Table(title="omnimix scan")
    for column in ("file", "line", "concern", "symbol", "action", "safety", "replacement"):
        table.add_column(column)
    for scan in scans:
        for finding in scan.findings:
            table.add_row(scan.display, f"{finding.start_line}-{finding.end_line}", str(finding.concern),
                          finding.symbol, str(finding.action), str(finding.safety), finding.replacement)
    console.print(table)
    by_concern: dict[str, int] = {}
    for scan in scans:
        for finding in scan.findings:
            by_concern[str(finding.concern)] = by_concern.get(str(finding.concern), 0) + finding.line_count
    files = sum(1 for scan in scans if scan.findings)
    console.print(f"{sum(len(s.findings) for s in scans)} findings in {files} of {len(scans)} files; "
                  + ", ".join(f"{k}: {v} lines" for k, v in sorted(by_concern.items())))
    for scan in scans:
        if scan.error:
            console.print(f"[red]error[/red] {scan.error}")
