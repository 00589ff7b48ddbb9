"""Gate stage 1, syntax: every changed file parses with LibCST and with ``ast``."""

from __future__ import annotations

import ast
import time
from collections.abc import Sequence

import libcst as cst

from omnimix.gate.results import StageResult, failed, passed
from omnimix.results import FileChange

NAME = "syntax"


def check_syntax(changes: Sequence[FileChange]) -> StageResult:
    """Parse every changed file. A file that was already broken before the migration is an input
    error; one that omnimix broke is an internal error (a bug in omnimix, never written)."""
    started = time.perf_counter()
    written = [change for change in changes
               if change.changed and change.after is not None and change.path.suffix == ".py"]
    broken = []
    for change in written:
        problem = parse_problem(change.after or "")
        if problem is None:
            continue
        cause = "input" if change.before is not None and parse_problem(change.before) is not None else "omnimix"
        broken.append({"path": change.display, "error": problem, "cause": cause})
    seconds = time.perf_counter() - started
    if not broken:
        return passed(NAME, f"{len(written)} changed Python file(s) parse with LibCST and ast", seconds,
                      files=len(written))
    ours = [item for item in broken if item["cause"] == "omnimix"]
    lines = [f"{item['path']}: {item['error']}" for item in broken]
    if ours:
        reason = ("omnimix broke the syntax (a bug in omnimix; never written): "
                  + "; ".join(f"{item['path']}: {item['error']}" for item in ours))
    else:
        reason = "the input was already broken: " + "; ".join(lines)
    return failed(NAME, reason, seconds, files=len(written), broken=broken, internal_error=bool(ours))


def parse_problem(text: str) -> str | None:
    """'line N: message' for text that LibCST or ast rejects, else None."""
    try:
        cst.parse_module(text)
    except cst.ParserSyntaxError as exc:
        return f"line {exc.raw_line}: {exc.message} (LibCST)"
    try:
        ast.parse(text)
    except SyntaxError as exc:
        return f"line {exc.lineno}: {exc.msg} (ast)"
    except ValueError as exc:  # e.g. a null byte
        return f"{exc} (ast)"
    return None
