"""Wrap lines that a rewrite made too long, inside their brackets, one argument per line (black's style)."""

from __future__ import annotations

import tomllib
from pathlib import Path

import libcst as cst
from libcst.metadata import MetadataWrapper, PositionProvider

DEFAULT_LIMIT = 100


def wrap_long_lines(code: str, limit: int = DEFAULT_LIMIT, *, leave: frozenset[str] = frozenset()) -> str:
    """``code`` with each line longer than ``limit`` (and not in ``leave``) split at its widest call.

    A line with no call to split (a long string, say) stays as it is.
    """
    skipped: set[int] = set()
    for _ in range(50):
        lines = code.splitlines()
        target = next((number for number, line in enumerate(lines, start=1)
                       if len(line) > limit and line not in leave and number not in skipped), None)
        if target is None:
            return code
        try:
            wrapped = _explode_widest_call(code, target, lines[target - 1])
        except cst.ParserSyntaxError:
            return code
        if wrapped is None:
            skipped.add(target)
            continue
        code = wrapped
    return code


def _explode_widest_call(code: str, line_number: int, line: str) -> str | None:
    wrapper = MetadataWrapper(cst.parse_module(code), unsafe_skip_copy=True)
    positions = wrapper.resolve(PositionProvider)
    calls = [node for node, where in positions.items()
             if isinstance(node, cst.Call) and node.args
             and where.start.line == line_number and where.end.line == line_number]
    if not calls:
        return None
    widest = max(calls, key=lambda node: positions[node].end.column - positions[node].start.column)
    extra = len(line) - len(line.lstrip()) - _block_indent(wrapper.module, positions, line_number)
    exploded = _exploded(widest, " " * (max(extra, 0) + 4), " " * max(extra, 0))
    return wrapper.module.deep_replace(widest, exploded).code


def _block_indent(module: cst.Module, positions, line_number: int) -> int:
    """Indentation of the statement that holds ``line_number`` (its first line's leading spaces)."""
    best = None
    for node, where in positions.items():
        if isinstance(node, (cst.SimpleStatementLine, cst.BaseCompoundStatement)) and \
                where.start.line <= line_number <= where.end.line:
            if best is None or where.start.line >= best.start.line:
                best = where
    if best is None:
        return 0
    first = module.code.splitlines()[best.start.line - 1]
    return len(first) - len(first.lstrip())


def _newline(last_line: str) -> cst.ParenthesizedWhitespace:
    return cst.ParenthesizedWhitespace(first_line=cst.TrailingWhitespace(), empty_lines=(), indent=True,
                                       last_line=cst.SimpleWhitespace(last_line))


def _exploded(call: cst.Call, inner: str, outer: str) -> cst.Call:
    args = []
    for index, arg in enumerate(call.args):
        last = index == len(call.args) - 1
        args.append(arg.with_changes(
            comma=cst.Comma(whitespace_after=_newline(outer if last else inner)),
            whitespace_after_arg=cst.SimpleWhitespace("")))
    return call.with_changes(whitespace_before_args=_newline(inner), args=args)


def line_limit(start: Path) -> int:
    """The project's line length: ``[tool.omnimix]``, ``[tool.ruff]`` or ``[tool.black]`` (in that order) of
    the nearest pyproject.toml that sets one, else 100."""
    for directory in [start.resolve(), *start.resolve().parents]:
        pyproject = directory / "pyproject.toml"
        if not pyproject.is_file():
            continue
        try:
            tool = tomllib.loads(pyproject.read_text(encoding="utf-8")).get("tool", {})
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
            continue
        for section, key in (("omnimix", "line-length"), ("omnimix", "line_length"), ("ruff", "line-length"),
                             ("black", "line-length")):
            value = tool.get(section, {}).get(key)
            if isinstance(value, int) and value > 0:
                return value
    return DEFAULT_LIMIT
