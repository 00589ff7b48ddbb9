"""Parse each text once per process: the engine, and every codemod that looks at a neighbour or an imported
module, share one LibCST module per file (and so one flattened tree and one set of line numbers)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import libcst as cst

_MODULES: dict[str, cst.Module] = {}  # by text, least recently used first
#: Characters of source kept parsed: memory follows the largest files, not the size of the run.
_BUDGET = 200_000
_kept = 0
#: Called with each module the cache lets go of, so that what was computed from it goes too.
_FORGET: list[Callable[[cst.Module], None]] = []


def on_forget(callback: Callable[[cst.Module], None]) -> Callable[[cst.Module], None]:
    """Register ``callback`` to drop what a cache keeps for a module once the parse cache lets go of it."""
    _FORGET.append(callback)
    return callback


def parse_text(text: str) -> cst.Module:
    """The LibCST module of ``text``; raises ``libcst.ParserSyntaxError`` (nothing is kept for it)."""
    global _kept
    module = _MODULES.pop(text, None)
    if module is None:
        module = cst.parse_module(text)
        _kept += len(text)
        while _MODULES and _kept > _BUDGET:
            oldest = next(iter(_MODULES))
            _kept -= len(oldest)
            forgotten = _MODULES.pop(oldest)
            for callback in _FORGET:
                callback(forgotten)
    _MODULES[text] = module
    return module


def parse_file(path: Path) -> cst.Module | None:
    """The LibCST module of ``path``, or None when it cannot be read or parsed."""
    text = read_text(path)
    if text is None:
        return None
    try:
        return parse_text(text)
    except (cst.ParserSyntaxError, RecursionError):
        return None


def read_text(path: Path) -> str | None:
    """The text of ``path``, or None when it cannot be read."""
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
