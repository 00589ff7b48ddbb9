"""The node × concern matrix: code lines in findings per concern, the saving a migration could make, a priority.

The saving is an estimate made before any migration: the code lines of findings whose action is
``replace`` or ``simplify``, plus the code lines of concern methods that two or more nodes carry in the
same shape (``omnimix.consolidation``), all copies but one. A line counts once per node and concern.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from omnimix.analysis.loc import code_line_numbers
from omnimix.concerns import Action, Concern
from omnimix.consolidation.copies import copies_in, node_sources
from omnimix.discovery import NodeDir, display_path
from omnimix.report.model import short_names
from omnimix.results import FileScan, NodeResult, Status

#: A node whose estimated saving reaches HIGH code lines is high priority; MEDIUM, medium; below, low.
HIGH = 50
MEDIUM = 10

SAVING_ACTIONS = (Action.REPLACE, Action.SIMPLIFY)


def priority(saving: int) -> str:
    return "high" if saving >= HIGH else "medium" if saving >= MEDIUM else "low"


@dataclass
class Cell:
    """One node and concern: code lines in findings, and the lines a migration could remove."""

    code_lines: set[tuple[Path, int]] = field(default_factory=set)
    replaceable: set[tuple[Path, int]] = field(default_factory=set)
    duplicated: set[tuple[Path, int]] = field(default_factory=set)

    @property
    def saving(self) -> set[tuple[Path, int]]:
        return self.replaceable | self.duplicated


@dataclass
class MatrixRow:
    node: str
    cells: dict[str, Cell] = field(default_factory=dict)


def scan_nodes(nodes: Sequence[NodeDir], scans: Sequence[FileScan], base: Path) -> list[NodeResult]:
    """The scans of ``omnimix scan`` grouped by node, as results that migrated nothing."""
    by_path = {scan.path: scan for scan in scans}
    return [
        NodeResult(node.directory, display_path(node.directory, base), Status.SKIPPED, node.contract,
                   scans=tuple(by_path[path] for path in node.files if path in by_path))
        for node in nodes
    ]


def concern_matrix(results: Sequence[NodeResult]) -> tuple[list[MatrixRow], list[str]]:
    """One row per node, from the findings of its scan (what the code was before any migration);
    and notes on what could not be estimated."""
    originals = [_as_scanned(result) for result in results]
    rows = []
    for result in originals:
        row = MatrixRow(result.display)
        texts = _texts(result)
        for scan in result.scans:
            code = _code_lines(texts.get(scan.path))
            for finding in scan.findings:
                cell = row.cells.setdefault(str(finding.concern), Cell())
                lines = {(scan.path, n) for n in range(finding.start_line, finding.end_line + 1) if n in code}
                cell.code_lines |= lines
                if finding.action in SAVING_ACTIONS:
                    cell.replaceable |= lines
        rows.append(row)
    notes = []
    try:
        _add_duplicates(originals, rows)
    except Exception as exc:  # an estimate: a failure here must not stop the report
        notes.append(f"copies shared by several nodes were not estimated ({type(exc).__name__}: {exc})")
    return rows, notes


def _as_scanned(result: NodeResult) -> NodeResult:
    """``result`` as its files were before the migration (changes undone, created files left out)."""
    changes = tuple(replace(change, after=change.before) for change in result.changes if change.before is not None)
    return replace(result, changes=changes, status=Status.SKIPPED if result.status not in (
        Status.INPUT_ERROR, Status.INTERNAL_ERROR) else result.status)


def _texts(result: NodeResult) -> dict[Path, str]:
    texts = {change.path: change.before for change in result.changes if change.before is not None}
    for scan in result.scans:
        if scan.path not in texts:
            try:
                texts[scan.path] = scan.path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                continue
    return texts


def _code_lines(text: str | None) -> set[int]:
    return code_line_numbers(text) if text is not None else set()


def _add_duplicates(results: list[NodeResult], rows: list[MatrixRow]) -> None:
    """Methods of one concern that several nodes carry in the same shape: every copy but the first
    (by node) could go, the first becoming the shared mixin."""
    groups: dict[tuple[Concern, str, str], list] = defaultdict(list)
    for source in node_sources(results):
        for copy in copies_in(source):
            groups[(copy.concern, copy.method.name.value, copy.shape.fingerprint)].append(copy)
    for (concern, method, _), copies in groups.items():
        nodes = {copy.source.index for copy in copies}
        if len(nodes) < 2 or len(nodes) != len(copies):
            continue
        for copy in sorted(copies, key=lambda c: c.source.result.display)[1:]:
            source = copy.source
            span = _method_span(source.before, source.class_name, method)
            if span is None:
                continue
            code = code_line_numbers(source.before)
            cell = rows[source.index].cells.setdefault(str(concern), Cell())
            lines = {(source.path, n) for n in range(span[0], span[1] + 1) if n in code}
            cell.duplicated |= lines - cell.replaceable
            cell.code_lines |= lines


def _method_span(text: str, class_name: str, method: str) -> tuple[int, int] | None:
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return None
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and node.name == class_name:
            for item in node.body:
                if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)) and item.name == method:
                    return item.lineno, item.end_lineno or item.lineno
    return None


def matrix_json(rows: Sequence[MatrixRow], notes: Sequence[str] = ()) -> dict[str, object]:
    """The matrix as JSON: concerns (columns with findings), rows with their cells, and totals.

    A line in findings of two concerns counts in each concern's cell and once in the node's total."""
    concerns = [str(c) for c in Concern if any(str(c) in row.cells for row in rows)]
    out_rows = []
    for row in rows:
        cells = {
            concern: {"code_lines": len(cell.code_lines), "saving": len(cell.saving),
                      "replace_simplify": len(cell.replaceable), "duplicates": len(cell.duplicated),
                      "priority": priority(len(cell.saving))}
            for concern in concerns if (cell := row.cells.get(concern)) is not None
        }
        code = set().union(*(cell.code_lines for cell in row.cells.values()))
        saving = set().union(*(cell.saving for cell in row.cells.values()))
        out_rows.append({"node": row.node, "cells": cells, "code_lines": len(code), "saving": len(saving),
                         "priority": priority(len(saving))})
    totals = {
        "cells": {concern: {"code_lines": sum(r["cells"].get(concern, {}).get("code_lines", 0) for r in out_rows),
                            "saving": sum(r["cells"].get(concern, {}).get("saving", 0) for r in out_rows)}
                  for concern in concerns},
        "code_lines": sum(r["code_lines"] for r in out_rows),
        "saving": sum(r["saving"] for r in out_rows),
    }
    return {"concerns": concerns, "rows": out_rows, "totals": totals,
            "priority": {"high": f"saving >= {HIGH} code lines", "medium": f"saving >= {MEDIUM} code lines",
                         "low": f"saving < {MEDIUM} code lines"},
            "notes": list(notes)}


def print_matrix(console: Console, matrix: dict) -> None:
    """The matrix as a table: each cell is 'code lines in findings / estimated saving'."""
    prefix, short = short_names([row["node"] for row in matrix["rows"]])
    table = Table(title="omnimix scan --matrix: code lines in findings / estimated saving",
                  caption=f"nodes under {escape(prefix)}/" if prefix else None)
    table.add_column("node")
    for concern in matrix["concerns"]:
        table.add_column(concern, justify="right", overflow="fold")
    for column in ("in findings", "saving"):
        table.add_column(column, justify="right")
    table.add_column("priority")
    style = {"high": "red", "medium": "yellow", "low": "dim"}
    for row in matrix["rows"]:
        cells = [_cell_text(row["cells"].get(concern)) for concern in matrix["concerns"]]
        table.add_row(escape(short[row["node"]]), *cells, str(row["code_lines"]), str(row["saving"]),
                      f"[{style[row['priority']]}]{row['priority']}[/]")
    totals = matrix["totals"]
    table.add_section()
    table.add_row("total", *(_cell_text(totals["cells"][c]) for c in matrix["concerns"]),
                  str(totals["code_lines"]), str(totals["saving"]), "")
    console.print(table)
    console.print("priority by estimated saving: " + "; ".join(f"{k} {v}" for k, v in matrix["priority"].items()))
    for note in matrix["notes"]:
        console.print(f"[yellow]note[/yellow] {escape(note)}")


def _cell_text(cell: dict | None) -> str:
    return "·" if not cell else f"{cell['code_lines']} / {cell['saving']}"
