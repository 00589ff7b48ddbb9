"""Migration and scan reports: the JSON document (rendered by ``markdown`` and ``html``), rich tables."""

from __future__ import annotations

import posixpath
from collections.abc import Mapping, Sequence
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from omnimix import OMNIBASE_CORE_VERSION, __version__
from omnimix.analysis.loc import ZERO, LineCount, count_lines
from omnimix.gate.results import GateReport, StageStatus
from omnimix.report.codes import finding_code
from omnimix.report.matrix import concern_matrix, matrix_json
from omnimix.report.model import REPORT_VERSION, feature_parity, node_size, summary
from omnimix.report.payoff import (
    DISPOSITIONS,
    is_shared,
    node_payoff,
    payoff_json,
    run_totals,
)
from omnimix.results import FileChange, FileScan, NodeResult


def _count(count: LineCount | None) -> dict[str, int] | None:
    return None if count is None else {"lines": count.lines, "code_lines": count.code_lines}


def node_totals(result: NodeResult) -> tuple[LineCount, LineCount]:
    """Lines of the node's own files before and after (deleted files count zero after; a shared
    mixin the run creates is counted once for the run, not in each node)."""
    payoff = node_payoff(result)
    return payoff.before, payoff.after


def _file_json(change: FileChange) -> dict[str, object]:
    return {
        "path": change.display,
        "status": ("created" if change.before is None else "deleted" if change.after is None
                   else "changed" if change.changed else "unchanged"),
        "before": _count(count_lines(change.before or "")),
        "after": _count(None if change.after is None else count_lines(change.after)),
    }


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
            "files": [_file_json(change) for change in result.changes if not is_shared(change, result)],
            # created or changed for several nodes at once (a consolidated mixin, the shared health mixin),
            # counted once in the summary
            "shared_files": [_file_json(change) for change in result.changes if is_shared(change, result)],
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
    """The findings as a table (the replacement of each is in ``--format json`` and ``omnimix explain``); cells
    wrap rather than being cut, files are shown under their common folder."""
    shown = [scan for scan in scans if scan.findings]
    common = posixpath.commonpath([scan.display for scan in shown]) if len(shown) > 1 else ""
    if common and any(scan.display == common for scan in shown):
        common = posixpath.dirname(common)
    table = Table(title="omnimix scan" + (f" of {escape(common)}/" if common else ""))
    for column in ("file", "line", "code", "concern", "symbol", "action"):
        table.add_column(column, overflow="fold")
    for scan in shown:
        name = scan.display[len(common) + 1:] if common else scan.display
        for finding in scan.findings:
            action = f"{finding.action} (unsafe)" if str(finding.safety) == "unsafe" else str(finding.action)
            table.add_row(escape(name), f"{finding.start_line}-{finding.end_line}", finding_code(finding).code,
                          str(finding.concern), escape(finding.symbol), action)
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
