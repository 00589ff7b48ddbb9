"""What the commands print for people: one line per finding, statistics, and migrate's stderr summary.

Nothing is ever cut: long lines wrap, place lists collapse to ``a, b, … (+N more)`` (``-v`` lists them
all), and node names are shown relative to the nodes root (``database_adapter_effect``).
"""

from __future__ import annotations

import fnmatch
import os
import re
from collections.abc import Callable, Iterable, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import IO, Iterator

from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
)
from rich.text import Text

from omnimix.analysis.loc import code_line_numbers, count_lines
from omnimix.discovery import NodeDir, display_path
from omnimix.findings import Finding
from omnimix.migration_state import Decision, Outcome
from omnimix.report import node_totals, payoff_line
from omnimix.report.codes import Code, finding_code, statistics
from omnimix.report.payoff import is_shared
from omnimix.results import FileScan, NodeResult, Status

#: A version folder under a node's own folder (``v1_0_0``); node names leave it out.
VERSION_FOLDER = re.compile(r"v\d+_\d+_\d+")
#: Places shown per group at default verbosity.
PLACES = 2
QUIET, DEFAULT, VERBOSE = -1, 0, 1


# -- node names ---------------------------------------------------------------------------------
def short_names(directories: Iterable[Path], root: Path | None = None) -> dict[Path, str]:
    """Each node directory's name relative to ``root`` (or to the directories' common parent), without a
    trailing version folder; two nodes that would share a name keep their version folder."""
    directories = [d.resolve() for d in directories]
    stripped = {d: d.parent if VERSION_FOLDER.fullmatch(d.name) else d for d in directories}
    base = root.resolve() if root is not None else None
    if base is None or not all(s.is_relative_to(base) and s != base for s in stripped.values()):
        parents = [s.parent for s in stripped.values()]
        base = Path(os.path.commonpath(parents)) if parents else Path.cwd()
    names = {d: stripped[d].relative_to(base).as_posix() for d in directories}
    taken: dict[str, int] = {}
    for name in names.values():
        taken[name] = taken.get(name, 0) + 1
    return {d: (d.relative_to(base).as_posix() if taken[name] > 1 else name) for d, name in names.items()}


def select_nodes(nodes: Sequence[NodeDir], names: dict[Path, str], only: Sequence[str],
                 exclude: Sequence[str]) -> list[NodeDir]:
    """The nodes whose short name matches a glob of ``only`` (all when empty) and none of ``exclude``."""
    def matches(node: NodeDir, patterns: Sequence[str]) -> bool:
        name = names[node.directory.resolve()]
        return any(fnmatch.fnmatchcase(name, p) or fnmatch.fnmatchcase(name.rsplit("/", 1)[-1], p)
                   for p in patterns)
    return [n for n in nodes if (not only or matches(n, only)) and not matches(n, exclude)]


def by_priority(nodes: Sequence[NodeDir], scans: Sequence[FileScan]) -> list[NodeDir]:
    """``nodes`` with the most code lines in findings first (stable for ties)."""
    weight = {scan.path.resolve(): _finding_code_lines(scan) for scan in scans}
    return sorted(nodes, key=lambda n: -sum(weight.get(p.resolve(), 0) for p in n.files))


def _finding_code_lines(scan: FileScan) -> int:
    if not scan.findings:
        return 0
    try:
        code = code_line_numbers(scan.path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, SyntaxError):
        return sum(f.line_count for f in scan.findings)
    lines = {n for f in scan.findings for n in range(f.start_line, f.end_line + 1)}
    return len(lines & code)


# -- scan: one line per finding ------------------------------------------------------------------
def finding_line(display: str, finding: Finding, column: int = 1) -> str:
    """``path:line:col: OMX123 concern action: message``, as ruff prints a diagnostic."""
    code = finding_code(finding)
    unsafe = " (unsafe)" if str(finding.safety) == "unsafe" else ""
    where = "at module level" if finding.symbol == "<module>" else f"in `{finding.symbol}`"
    return (f"{display}:{finding.start_line}:{column}: {code.code} {finding.concern} {finding.action}: "
            f"{code.title} {where}{unsafe}")


def write_findings(out: IO[str], scans: Sequence[FileScan]) -> int:
    """Every finding of ``scans`` on its own line, by file and line; returns how many."""
    count = 0
    for scan in scans:
        lines = _source_lines(scan.path)
        for finding in sorted(scan.findings, key=lambda f: (f.start_line, f.end_line, str(f.concern))):
            out.write(finding_line(scan.display, finding, _column(lines, finding.start_line)) + "\n")
            count += 1
    return count


def write_statistics(out: IO[str], scans: Sequence[FileScan]) -> None:
    """Findings per code, most first: ``count  code  concern  title`` (ruff's --statistics)."""
    rows = statistics(f for scan in scans for f in scan.findings)
    width = max((len(str(n)) for _, n in rows), default=1)
    concern = max((len(str(code.concern)) for code, _ in rows), default=0)
    for code, n in rows:
        out.write(f"{n:>{width}}  {code.code}  {str(code.concern):<{concern}}  {code.title}\n")


@lru_cache(maxsize=256)
def _source_lines(path: Path) -> tuple[str, ...]:
    try:
        return tuple(path.read_text(encoding="utf-8").splitlines())
    except (OSError, UnicodeDecodeError):
        return ()


def _column(lines: Sequence[str], number: int) -> int:
    if 0 < number <= len(lines):
        line = lines[number - 1]
        return len(line) - len(line.lstrip()) + 1
    return 1


# -- migrate: the summary -----------------------------------------------------------------------
_OUTCOME_LABELS = {
    Outcome.APPLIED: ("applied", "green"),
    Outcome.CONSOLIDATED: ("consolidated", "blue"),
    Outcome.PENDING_UNSAFE: ("unsafe", "magenta"),
    Outcome.KEPT: ("kept", "cyan"),
    Outcome.NOT_DECLARED: ("not declared", "dim"),
}
_DEFAULT_OUTCOMES = (Outcome.PENDING_UNSAFE, Outcome.KEPT)


@dataclass
class Summary:
    """How migrate's summary is printed: the verbosity and each node's short name (by directory)."""

    verbosity: int = DEFAULT
    names: dict[Path, str] = field(default_factory=dict)

    def name(self, result: NodeResult) -> str:
        return self.names.get(result.directory.resolve(), result.display)


def print_summary(console: Console, results: Sequence[NodeResult], summary: Summary, *, mode: str,
                  verification: str | None) -> None:
    """migrate's summary on stderr: one block per node, then the totals and the payoff (nothing with -q)."""
    if summary.verbosity <= QUIET:
        return
    for result in results:
        _print_node(console, result, summary)
    statuses: dict[str, int] = {}
    for result in results:
        statuses[str(result.status)] = statuses.get(str(result.status), 0) + 1
    counts = ", ".join(f"{n} {status}" for status, n in statuses.items())
    print_line(console, f"[bold]omnimix migrate ({mode})[/bold]: {len(results)} node(s): {escape(counts)}")
    print_line(console, escape(payoff_line(results)))
    if summary.verbosity < VERBOSE and any(_grouped(r) for r in results):
        print_line(console, "why: `omnimix explain CODE` (e.g. omnimix explain "
                       f"{_first_code(results)}); -v prints every reason and place")
    if verification:
        print_line(console, f"verification: {escape(verification)}")


def _print_node(console: Console, result: NodeResult, summary: Summary) -> None:
    name = summary.name(result)
    before, after = node_totals(result)
    outcomes = [d.outcome for d in result.decisions]
    parts = [str(result.status)]
    if result.changes:
        parts.append(f"code lines {before.code_lines} → {after.code_lines}")
    tallies = [f"{_OUTCOME_LABELS[o][0]} {outcomes.count(o)}" for o in _OUTCOME_LABELS if outcomes.count(o)]
    if tallies:
        parts.append(", ".join(tallies))
    if result.mixins_applied:
        parts.append("adds " + ", ".join(result.mixins_applied))
    shared = [c for c in result.changed_files if c.before is not None and is_shared(c, result)]
    if shared:  # counted once in the run's line below, not in the node's
        parts.append("changes the shared " + ", ".join(
            f"{c.path.name} ({count_lines(c.before).code_lines} → {count_lines(c.after or '').code_lines})"
            for c in shared))
    print_line(console, f"[bold]{escape(name)}[/bold]: " + escape("; ".join(parts)), indent=2)
    if result.message and result.status not in (Status.INPUT_ERROR, Status.INTERNAL_ERROR):
        print_line(console, "  " + escape(result.message), indent=4)
    for warning in result.warnings:
        print_line(console, "  [yellow]warning[/yellow]: " + escape(_warning(warning, summary.verbosity)), indent=4)
    if summary.verbosity >= VERBOSE:
        _print_reasons(console, result)
    else:
        _print_groups(console, result)


def _warning(text: str, verbosity: int) -> str:
    """A warning in full with -v; else its first part (up to the first '; '), saying how much is left."""
    parts = text.split("; ")
    if verbosity >= VERBOSE or len(parts) == 1:
        return text
    return f"{parts[0]} (+{len(parts) - 1} more part(s) with -v)"


def _grouped(result: NodeResult) -> list[Decision]:
    return [d for d in result.decisions if d.outcome in _DEFAULT_OUTCOMES]


def _first_code(results: Sequence[NodeResult]) -> str:
    """The code of the first unsafe change, else of the first kept finding."""
    decisions = sorted((d for r in results for d in _grouped(r)), key=lambda d: d.outcome is not Outcome.PENDING_UNSAFE)
    return finding_code(decisions[0].finding).code if decisions else "OMX101"


def _print_groups(console: Console, result: NodeResult) -> None:
    """Default verbosity: unsafe changes by code, kept findings by concern, places collapsed."""
    unsafe: dict[Code, list[Decision]] = {}
    kept: dict[str, list[Decision]] = {}
    for decision in result.decisions:
        if decision.outcome is Outcome.PENDING_UNSAFE:
            unsafe.setdefault(finding_code(decision.finding), []).append(decision)
        elif decision.outcome is Outcome.KEPT:
            kept.setdefault(str(decision.finding.concern), []).append(decision)
    for code, decisions in sorted(unsafe.items(), key=lambda item: item[0].code):
        print_line(console, f"  [magenta]unsafe[/magenta] {code.code} {escape(code.title)} ×{len(decisions)} "
                       f"(--unsafe applies): {escape(collapse(_places(result, decisions), PLACES))}", indent=4)
    for concern, decisions in sorted(kept.items()):
        codes = _code_counts(decisions)
        print_line(console, f"  [cyan]kept[/cyan] {escape(concern)} ×{len(decisions)} ({codes}): "
                       f"{escape(collapse(_places(result, decisions), PLACES))}", indent=4)


def _code_counts(decisions: Sequence[Decision]) -> str:
    counts: dict[str, int] = {}
    for decision in decisions:
        code = finding_code(decision.finding).code
        counts[code] = counts.get(code, 0) + 1
    return ", ".join(code if n == 1 else f"{code} ×{n}" for code, n in sorted(counts.items()))


def _print_reasons(console: Console, result: NodeResult) -> None:
    """-v: every decision, each distinct reason once (under its outcomes and codes) with all its places."""
    order = list(_OUTCOME_LABELS)
    reasons: dict[str, list[Decision]] = {}
    for decision in result.decisions:
        if decision.outcome in _OUTCOME_LABELS:
            reasons.setdefault(decision.note or decision.finding.reason, []).append(decision)

    def rank(item: tuple[str, list[Decision]]) -> tuple[int, str]:
        return (min(order.index(d.outcome) for d in item[1]), min(finding_code(d.finding).code for d in item[1]))
    for reason, decisions in sorted(reasons.items(), key=rank):
        outcomes = sorted({d.outcome for d in decisions}, key=order.index)
        labels = ", ".join(f"[{_OUTCOME_LABELS[o][1]}]{_OUTCOME_LABELS[o][0]}[/{_OUTCOME_LABELS[o][1]}]"
                           for o in outcomes)
        codes = sorted({finding_code(d.finding) for d in decisions}, key=lambda c: c.code)
        concerns = ", ".join(dict.fromkeys(str(c.concern) for c in codes))
        titles = "; ".join(f"{c.code} {c.title}" for c in codes)
        print_line(console, f"  {labels} {escape(concerns)} ×{len(decisions)}: {escape(titles)}", indent=4)
        print_line(console, "    " + escape(reason), indent=6)
        print_line(console, "      [dim]at[/dim] " + escape(collapse(_places(result, decisions), None)), indent=9)


def _places(result: NodeResult, decisions: Iterable[Decision]) -> list[str]:
    """``file:line`` of each decision, the file relative to the node directory when inside it."""
    places = sorted({(_file_name(result, d.path), d.finding.start_line) for d in decisions})
    return [f"{file}:{line}" for file, line in places]


def _file_name(result: NodeResult, path: Path) -> str:
    directory = result.directory.resolve()
    resolved = path.resolve()
    if resolved.is_relative_to(directory):
        return resolved.relative_to(directory).as_posix()
    return shorten_path(display_path(resolved, directory))


def shorten_path(path: str, keep: int = 3) -> str:
    """A long relative path without its leading ``../`` steps and folders: its last ``keep`` parts."""
    parts = [p for p in path.split("/") if p not in ("", "..", ".")]
    return "/".join(parts[-keep:])


def collapse(places: Sequence[str], limit: int | None) -> str:
    """``a, b, … (+N more)`` when there are more than ``limit`` places (None: all of them)."""
    if limit is None or len(places) <= limit + 1:
        return ", ".join(places)
    return ", ".join(places[:limit]) + f", … (+{len(places) - limit} more)"


def print_line(console: Console, markup: str, indent: int = 0) -> None:
    """One logical line, wrapped to the console's width (continuation lines indented by ``indent``), never cut."""
    text = console.render_str(markup, highlight=False)
    width = max(console.width - indent, 20)
    for number, piece in enumerate(text.wrap(console, width, overflow="fold")):
        piece.rstrip()  # in place: the space a line was broken at
        console.print(piece if number == 0 else Text(" " * indent) + piece, soft_wrap=True)


def print_failures(console: Console, failures: Sequence[str]) -> None:
    """The nodes that failed (errors, failed gates, failed writes), one line each, after everything else."""
    if not failures:
        return
    print_line(console, f"[red]{len(failures)} node(s) failed[/red]:")
    for failure in failures:
        print_line(console, "  " + escape(failure), indent=4)


# -- progress -----------------------------------------------------------------------------------
@contextmanager
def node_progress(console: Console, names: dict[Path, str], total: int) -> Iterator[Callable[[NodeDir | None], None]]:
    """A progress bar on ``console`` naming the node in flight, drawn only when it is a terminal; yields the
    callback that marks a node started (None: all nodes done)."""
    if not console.is_terminal or total < 1:
        yield lambda node: None
        return
    progress = Progress(TextColumn("[bold]migrating[/bold]"), BarColumn(), MofNCompleteColumn(),
                        TextColumn("{task.description}"), TimeElapsedColumn(), console=console, transient=True)
    task = progress.add_task("", total=total)
    started = 0

    def step(node: NodeDir | None) -> None:
        nonlocal started
        if started:
            progress.advance(task)
        started += 1
        label = "consolidating shared code" if node is None else names.get(node.directory.resolve(),
                                                                            node.directory.name)
        progress.update(task, description=escape(label))

    with progress:
        yield step
