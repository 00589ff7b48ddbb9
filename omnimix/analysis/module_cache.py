"""Parse each file once per process: codemods that look at a neighbour module share the result."""

from __future__ import annotations

from pathlib import Path

import libcst as cst

_CACHE: dict[tuple[Path, int, int], cst.Module | None] = {}
_LIMIT = 512


def parse_file(path: Path) -> cst.Module | None:
    """The LibCST module of ``path``, or None when it cannot be read or parsed. Cached by mtime and size."""
    try:
        stat = path.stat()
    except OSError:
        return None
    key = (path.resolve(), stat.st_mtime_ns, stat.st_size)
    if key in _CACHE:
        return _CACHE[key]
    try:
        module: cst.Module | None = cst.parse_module(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, cst.ParserSyntaxError):
        module = None
    if len(_CACHE) >= _LIMIT:
        _CACHE.pop(next(iter(_CACHE)))
    _CACHE[key] = module
    return module


def read_text(path: Path) -> str | None:
    """The text of ``path``, or None when it cannot be read."""
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
