"""What the Markdown and HTML reports show, as JSON: each node's size and feature parity, and the summary.

Everything here goes into the ``--report-json`` document, so ``omnimix report RUN.json`` can render a
saved run again without the code it was made from.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path

from omnimix.analysis.loc import ZERO, LineCount, code_line_numbers, count_lines
from omnimix.concerns import Concern
from omnimix.discovery import display_path
from omnimix.gate.results import GateReport
from omnimix.migration_state import Outcome
from omnimix.report.payoff import (
    DISPOSITIONS,
    is_shared,
    node_payoff,
    shared_files,
    used_project_modules,
)
from omnimix.results import NodeResult, Status

#: The version of the report document; ``omnimix report`` refuses other versions.
REPORT_VERSION = 1


def line_count(count: LineCount) -> dict[str, int]:
    return {"lines": count.lines, "code_lines": count.code_lines}


def node_size(result: NodeResult) -> dict[str, object]:
    """The node's own files before and after: the files it changes (deleted ones count zero after), or
    its files as scanned when it changes nothing. Files the run creates are counted in the summary."""
    files = []
    if result.changes:
        for change in result.changes:
            if is_shared(change, result):
                continue
            before = count_lines(change.before)
            after = ZERO if change.after is None else count_lines(change.after)
            status = "deleted" if change.after is None else ("changed" if change.changed else "unchanged")
            files.append({"path": change.display, "status": status, "before": line_count(before),
                          "after": line_count(after)})
    else:
        for scan in result.scans:
            files.append({"path": scan.display, "status": "unchanged", "before": line_count(scan.count),
                          "after": line_count(scan.count)})
    return {
        "before": _sum(file["before"] for file in files),
        "after": _sum(file["after"] for file in files),
        "files": files,
        "created": [{"path": change.display, "after": line_count(count_lines(change.after))}
                    for change in result.changes if change.before is None and change.after is not None],
        "shared": [{"path": change.display, "before": line_count(count_lines(change.before)),
                    "after": line_count(count_lines(change.after))}
                   for change in result.changes if change.before is not None and change.after is not None
                   and change.changed and is_shared(change, result)],
    }


def _sum(counts) -> dict[str, int]:
    total = {"lines": 0, "code_lines": 0}
    for count in counts:
        total["lines"] += count["lines"]
        total["code_lines"] += count["code_lines"]
    return total


def feature_parity(result: NodeResult) -> list[dict[str, object]]:
    """One row per concern the node hand-rolls: its code before, what stands in for it after, and the status.

    Rows come from the migration's decisions; a node that was not migrated (skipped or failed) has
    its scan's findings, all unchanged. ``code_lines_after`` is the concern's code after its codemod,
    when the engine measured it."""
    texts = _texts(result)
    if result.decisions:
        items = [(d.path, d.finding, d.outcome, d.note) for d in result.decisions]
    else:
        outcome = Outcome.NOT_DECLARED if result.status is Status.SKIPPED else None
        why = result.message.split("\n")[0]
        items = [(scan.path, f, outcome, why) for scan in result.scans for f in scan.findings]
    deltas = {delta.concern: delta for delta in result.concern_deltas}
    mixins = {entry["concern"]: entry["mixin"] for entry in result.extra.get("consolidated", [])
              if isinstance(entry, dict)}
    rows = []
    for concern in Concern:
        mine = [item for item in items if item[1].concern == concern]
        if not mine:
            continue
        lines: set[tuple[Path, int]] = set()
        for path, finding, _, _ in mine:
            code = texts.get(path, set())
            lines |= {(path, n) for n in range(finding.start_line, finding.end_line + 1) if n in code}
        counts: dict[str, int] = {}
        for _, _, outcome, _ in mine:
            label = DISPOSITIONS.get(outcome, "not migrated") if outcome else "not migrated"
            counts[label] = counts.get(label, 0) + 1
        symbols = list(dict.fromkeys(finding.symbol for _, finding, _, _ in mine))
        delta = deltas.get(str(concern))
        if any(item[2] is Outcome.CONSOLIDATED for item in mine):
            delta = None  # counted before consolidation moved the code out of the node
        rows.append({
            "feature": str(concern),
            "findings": len(mine),
            "original": {"code_lines": len(lines), "symbols": symbols},
            "migrated": _migrated(mine, mixins.get(str(concern))),
            "code_lines_after": delta.after.code_lines if delta is not None else None,
            "status": next(iter(counts)) if len(counts) == 1 else "partial",
            "outcomes": counts,
        })
    return rows


def _migrated(items, mixin: str | None) -> str:
    """What stands in for the concern's code after the migration, one part per outcome."""
    parts = []
    outcomes = [item[2] for item in items]
    applied = list(dict.fromkeys(item[1].replacement for item in items if item[2] is Outcome.APPLIED))
    if applied:
        parts.append(", ".join(applied))
    if Outcome.CONSOLIDATED in outcomes:
        parts.append(f"shared project mixin {mixin}" if mixin else "a shared project mixin")
    if Outcome.PENDING_UNSAFE in outcomes:
        unsafe = list(dict.fromkeys(item[1].replacement for item in items if item[2] is Outcome.PENDING_UNSAFE))
        parts.append(f"unchanged: unsafe ({', '.join(unsafe)} with --unsafe)")
    if Outcome.KEPT in outcomes:
        parts.append("kept as written")
    if Outcome.NOT_DECLARED in outcomes:
        parts.append("unchanged: the contract does not declare it")
    if None in outcomes:
        parts.append("unchanged: the node was not migrated")
    return "; ".join(parts)


def _texts(result: NodeResult) -> dict[Path, set[int]]:
    """The code line numbers of every file of the node, as it was before the migration."""
    texts = {change.path: change.before for change in result.changes if change.before is not None}
    for scan in result.scans:
        if scan.path not in texts:
            try:
                texts[scan.path] = scan.path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                continue
    return {path: code_line_numbers(text) for path, text in texts.items()}


def summary(results: Sequence[NodeResult], gates: Mapping[Path, GateReport], base: Path) -> dict[str, object]:
    """One row per node (its size and its findings' code lines by disposition), the files the run creates
    and the project modules the nodes import (each counted once), and their totals."""
    labels = list(DISPOSITIONS.values())
    rows = []
    for result in results:
        size = node_size(result)
        gate = gates.get(result.directory)
        rows.append({
            "node": result.display,
            "status": str(result.status),
            "before": size["before"],
            "after": size["after"],
            "findings_code_lines": node_payoff(result).by_disposition,
            "gate": ({"status": "passed" if gate.passed else "failed", "seconds": round(gate.seconds, 3)}
                     if gate is not None else {"status": "not_run", "seconds": None}),
        })
    shared = [{"path": display_path(path, base), "kind": "created" if file.before is None else "changed",
               "before": line_count(file.before or ZERO), "after": line_count(file.after)}
              for path, file in sorted(shared_files(results).items())]
    for path in used_project_modules(results):
        count = line_count(count_lines(path.read_text(encoding="utf-8")))
        shared.append({"path": display_path(path, base), "kind": "imported", "before": count, "after": count})
    before = _sum([*(row["before"] for row in rows), *(item["before"] for item in shared)])
    after = _sum([*(row["after"] for row in rows), *(item["after"] for item in shared)])
    return {
        "rows": rows,
        "shared": shared,
        "totals": {
            "before": before,
            "after": after,
            "change": {"lines": after["lines"] - before["lines"],
                       "code_lines": after["code_lines"] - before["code_lines"]},
            "percent": round(100.0 * (after["code_lines"] - before["code_lines"]) / before["code_lines"], 1)
            if before["code_lines"] else 0.0,
            "findings_code_lines": {label: sum(row["findings_code_lines"][label] for row in rows)
                                    for label in labels},
        },
        "dispositions": labels,
    }


def short_names(names: Sequence[str]) -> tuple[str, dict[str, str]]:
    """Node names without the directory they all share and a trailing version folder (``v1_0_0``) where
    that leaves them distinct: the shared prefix, and each name's short form."""
    if len(names) < 2:
        return "", {name: name for name in names}
    parts = [name.split("/") for name in names]
    common = 0
    while all(len(p) > common + 1 for p in parts) and len({p[common] for p in parts}) == 1:
        common += 1
    short = {name: "/".join(p[common:]) for name, p in zip(names, parts)}
    trimmed = {name: re.sub(r"/v\d+(_\d+)*$", "", value) for name, value in short.items()}
    if len(set(trimmed.values())) == len(trimmed):
        short = trimmed
    return "/".join(parts[0][:common]), short
