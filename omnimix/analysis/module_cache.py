"""Parse each text once per process: the engine, and every codemod that looks at a neighbour or an imported
module, share one LibCST module per file (and so one flattened tree and one set of line numbers)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import libcst as cst

_MODULES: dict[str, cst.Module] = {}  # by text, least recently used first
#: Characters of source kept parsed: memory follows the largest files, not the size of the run.
_BUDGET = 600_000
_kept = 0
#: Called with each module the cache lets go of, so that what was computed from it goes too.
_FORGET: list[Callable[[cst.Module], None]] = []
#: Modules under analysis now (by id, with how many holds): never let go of, whatever the budget.
_HELD: dict[int, int] = {}


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
        _let_go()
    _MODULES[text] = module
    return module


def _let_go() -> None:
    """Forget the least recently used modules until the budget holds, passing over those held."""
    global _kept
    for oldest in [text for text, module in _MODULES.items() if id(module) not in _HELD]:
        if _kept <= _BUDGET:
            break
        _kept -= len(oldest)
        forgotten = _MODULES.pop(oldest)
        for callback in _FORGET:
            callback(forgotten)


@contextmanager
def held(*modules: cst.Module) -> Iterator[None]:
    """Keep ``modules`` parsed (and what was computed from them) while the block runs: the files under
    analysis, whose neighbours would otherwise push them out of the budget."""
    ids = [id(module) for module in modules]
    for key in ids:
        _HELD[key] = _HELD.get(key, 0) + 1
    try:
        yield
    finally:
        for key in ids:
            _HELD[key] -= 1
            if not _HELD[key]:
                del _HELD[key]
        _let_go()


def parsed_modules() -> list[cst.Module]:
    """The modules the cache holds now, least recently used first."""
    return list(_MODULES.values())


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
