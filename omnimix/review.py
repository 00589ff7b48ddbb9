"""A node's migration cut into hunks by concern, and the migration made of the hunks a review accepted.

A hunk is a run of nearby changes of one concern, shown as a unified diff hunk with three lines of
context. A change belongs to the concern whose applied findings it overlaps most; a change of imports
or class bases goes with the concern whose changes use the names it adds or drops, and otherwise to
``IMPORTS_AND_BASES``. Files the migration creates or deletes are one hunk each.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, replace
from pathlib import Path

from omnimix.concerns import Concern
from omnimix.migration_state import Decision, Outcome
from omnimix.report.diff import unified_diff
from omnimix.results import FileChange, NodeResult, Status

IMPORTS_AND_BASES = "imports and class bases"
CONTEXT = 3
SKIPPED_NOTE = "not applied: skipped in the interactive review"


@dataclass(frozen=True)
class Hunk:
    """One hunk of one file of a node's migration."""

    path: Path
    number: int  # 1-based, within its file
    header: str  # the @@ line
    opcodes: tuple[tuple[str, int, int, int, int], ...]  # its pieces, as SequenceMatcher opcodes
    concern: str
    diff: str  # the hunk as a unified diff of its file

    @property
    def key(self) -> tuple[Path, int]:
        return (self.path, self.number)


def node_hunks(result: NodeResult) -> list[Hunk]:
    """The hunks of ``result``'s changed files, each of one concern, in file order.

    The diff's changes are cut into pieces (an inserted or deleted run of lines, one piece per line;
    a replaced run whole), each piece is given its concern, and neighbouring pieces of the same concern
    (at most two contexts apart) make one hunk."""
    hunks: list[Hunk] = []
    for change in result.changed_files:
        if change.before is None or change.after is None:
            diff = unified_diff(change.display, change.before, change.after, CONTEXT)
            header = next(line for line in diff.splitlines() if line.startswith("@@"))
            hunks.append(Hunk(change.path, 1, header, (), _whole_file_concern(result, change), diff))
            continue
        before, after = _lines(change.before), _lines(change.after)
        pieces = _pieces(difflib.SequenceMatcher(None, before, after).get_opcodes())
        concerns = _concerns(result, change.path, pieces, before, after)
        groups: list[list[int]] = []
        for index, piece in enumerate(pieces):
            last = groups[-1][-1] if groups else None
            if (last is not None and concerns[last] == concerns[index]
                    and piece[1] - pieces[last][2] <= 2 * CONTEXT):
                groups[-1].append(index)
            else:
                groups.append([index])
        for number, group in enumerate(groups, start=1):
            ops = tuple(pieces[i] for i in group)
            header, diff = _render(change.display, before, after, ops)
            hunks.append(Hunk(change.path, number, header, ops, concerns[group[0]], diff))
    return hunks


def _lines(text: str) -> list[str]:
    return text.splitlines(keepends=True)


def _pieces(opcodes) -> list[tuple[str, int, int, int, int]]:
    pieces = []
    for tag, i1, i2, j1, j2 in opcodes:
        if tag == "insert":
            pieces += [(tag, i1, i1, j, j + 1) for j in range(j1, j2)]
        elif tag == "delete":
            pieces += [(tag, i, i + 1, j1, j1) for i in range(i1, i2)]
        elif tag == "replace":
            pieces.append((tag, i1, i2, j1, j2))
    return pieces


def _render(display: str, before: list[str], after: list[str], ops) -> tuple[str, str]:
    """The @@ line and the unified diff of one hunk, with up to CONTEXT lines of the original around it."""
    first, last = ops[0], ops[-1]
    start, end = max(0, first[1] - CONTEXT), min(len(before), last[2] + CONTEXT)
    body, position = [], start
    for _, i1, i2, j1, j2 in ops:
        body += [" " + line for line in before[position:i1]]
        body += ["-" + line for line in before[i1:i2]] + ["+" + line for line in after[j1:j2]]
        position = i2
    body += [" " + line for line in before[position:end]]
    new_start = first[3] - (first[1] - start)
    new_length = (end - start) + sum((j2 - j1) - (i2 - i1) for _, i1, i2, j1, j2 in ops)
    header = f"@@ -{_range(start, end)} +{_range(new_start, new_start + new_length)} @@"
    text = "".join(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in body)
    return header, f"--- a/{display}\n+++ b/{display}\n{header}\n{text}"


def _range(start: int, stop: int) -> str:
    """A unified diff range, as difflib writes it."""
    length = stop - start
    if length == 1:
        return f"{start + 1}"
    if not length:
        start -= 1
    return f"{start + 1},{length}"


def _whole_file_concern(result: NodeResult, change: FileChange) -> str:
    for entry in result.extra.get("consolidated", []):
        if isinstance(entry, dict) and change.display.endswith(str(entry.get("path", "\0"))):
            return str(entry["concern"])
    concerns = [str(d.finding.concern) for d in result.decisions if d.path == change.path and _changes_code(d)]
    return max(set(concerns), key=concerns.count) if concerns else IMPORTS_AND_BASES


def _changes_code(decision: Decision) -> bool:
    return decision.outcome in (Outcome.APPLIED, Outcome.CONSOLIDATED)


def _touched(op: tuple[str, int, int, int, int]) -> set[int]:
    """The 1-based lines of the original file a piece changes (for an insertion, its neighbours)."""
    _, i1, i2, _, _ = op
    return set(range(i1 + 1, i2 + 1)) if i2 > i1 else {i1, i1 + 1}


def _concerns(result: NodeResult, path: Path, pieces, before: list[str], after: list[str]) -> list[str]:
    """The concern of each piece: the one whose applied findings it overlaps most; else, for imports and
    class bases, the one whose pieces use the names it adds or drops."""
    order = [str(c) for c in Concern]
    spans = [(str(d.finding.concern), set(range(d.finding.start_line, d.finding.end_line + 1)))
             for d in result.decisions if d.path == path and _changes_code(d)]
    concerns = []
    for piece in pieces:
        touched = _touched(piece)
        overlap: dict[str, int] = {}
        for concern, span in spans:
            if touched & span:
                overlap[concern] = overlap.get(concern, 0) + len(touched & span)
        concerns.append(max(sorted(overlap, key=order.index), key=lambda c: overlap[c]) if overlap else "")
    texts = [(before[p[1]:p[2]], after[p[3]:p[4]]) for p in pieces]
    # A helper the migration adds goes with the changes that call it, wherever it was placed.
    for index, (old, new) in enumerate(texts):
        defined = {m.group(1) for line in new for m in [_DEF.match(line)] if m} - {
            m.group(1) for line in old for m in [_DEF.match(line)] if m}
        users = [concerns[other] for other, (_, lines) in enumerate(texts) if other != index and concerns[other]
                 and any(re.search(rf"\b{re.escape(name)}\b", line) for line in lines for name in defined)]
        if not users:
            continue
        concerns[index] = concern = max(sorted(set(users), key=order.index), key=users.count)
        indent = len(new[0]) - len(new[0].lstrip()) if new else 0
        following = index + 1  # the helper's body: the inserted lines right after its def, indented deeper
        previous = index - 1  # and the blank lines inserted right before it
        while previous >= 0 and pieces[previous][0] == "insert" and pieces[previous][4] == pieces[previous + 1][3] \
                and not "".join(texts[previous][1]).strip():
            concerns[previous] = concern
            previous -= 1
        while following < len(pieces) and pieces[following][0] == "insert" \
                and pieces[following][3] == pieces[following - 1][4] and all(
                    not line.strip() or len(line) - len(line.lstrip()) > indent for line in texts[following][1]):
            concerns[following] = concern
            following += 1
    for index, concern in enumerate(concerns):
        if concern:
            continue
        names = _introduced(*texts[index])
        concerns[index] = next(
            (concerns[other] for other, (old, new) in enumerate(texts) if concerns[other] and any(
                re.search(rf"\b{re.escape(name)}\b", line) for line in old + new for name in names)),
            IMPORTS_AND_BASES)
    return concerns


_DEF = re.compile(r"^\s*(?:async\s+)?def\s+(\w+)\s*\(")
_IMPORTED = re.compile(r"^\s*(?:from\s+\S+\s+)?import\s+(.+)$")
_CLASS = re.compile(r"^\s*class\s+\w+\s*\((.*)\)\s*:")


def _introduced(old: list[str], new: list[str]) -> set[str]:
    """Names that import lines or class bases bring in or drop (in one side only)."""
    return _names(new) ^ _names(old)


def _names(lines: list[str]) -> set[str]:
    names: set[str] = set()
    for line in lines:
        imported = _IMPORTED.match(line)
        if imported:
            for part in imported.group(1).strip("() \\\n").split(","):
                words = part.split()
                if words:
                    names.add(words[-1].split(".")[0])
        bases = _CLASS.match(line)
        if bases:
            names |= {b.strip().split("[")[0] for b in bases.group(1).split(",") if b.strip()}
    return {name for name in names if name.isidentifier()}


def accepted_result(result: NodeResult, hunks: list[Hunk], accepted: set[tuple[Path, int]]) -> NodeResult:
    """``result`` with only the ``accepted`` hunks applied. Decisions whose code only skipped hunks touch
    become kept, with the reason; mixins no changed file names any more are left out."""
    if all(h.key in accepted for h in hunks):
        return result
    by_file: dict[Path, list[Hunk]] = {}
    for hunk in hunks:
        by_file.setdefault(hunk.path, []).append(hunk)
    changes = []
    for change in result.changes:
        mine = by_file.get(change.path)
        if not mine or not change.changed:
            changes.append(change)
        elif change.before is None:
            if mine[0].key in accepted:
                changes.append(change)
        elif change.after is None:
            changes.append(change if mine[0].key in accepted else replace(change, after=change.before))
        else:
            changes.append(replace(change, after=_apply(change.before, change.after, mine, accepted)))
    decisions = tuple(_skipped_decision(d, hunks, accepted) for d in result.decisions)
    texts = "\n".join(c.after for c in changes if c.after is not None and c.changed)
    mixins = tuple(m for m in result.mixins_applied if re.search(rf"\b{re.escape(m)}\b", texts))
    changed = any(c.changed for c in changes)
    return replace(result, changes=tuple(changes), decisions=decisions, mixins_applied=mixins, concern_deltas=(),
                   status=Status.CHANGED if changed else Status.UNCHANGED,
                   message="" if changed else "every change was skipped in the interactive review")


def _apply(before: str, after: str, hunks: list[Hunk], accepted: set[tuple[Path, int]]) -> str:
    old, new = _lines(before), _lines(after)
    out: list[str] = []
    position = 0
    for hunk in hunks:
        for _, i1, i2, j1, j2 in hunk.opcodes:
            out += old[position:i1]
            out += new[j1:j2] if hunk.key in accepted else old[i1:i2]
            position = i2
    out += old[position:]
    return "".join(out)


def _skipped_decision(decision: Decision, hunks: list[Hunk], accepted: set[tuple[Path, int]]) -> Decision:
    if not _changes_code(decision):
        return decision
    span = set(range(decision.finding.start_line, decision.finding.end_line + 1))
    mine = [h for h in hunks if h.path == decision.path
            and (not h.opcodes or any(_touched(op) & span for op in h.opcodes))]
    if mine and all(h.key not in accepted for h in mine):
        return Decision(decision.finding, decision.path, Outcome.KEPT, SKIPPED_NOTE)
    return decision
