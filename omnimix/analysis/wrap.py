"""Wrap lines that a rewrite made too long, the way black does: a conditional expression goes into
parentheses with ``if`` and ``else`` on lines of their own; otherwise the widest call is split inside its
brackets, one argument per line."""

from __future__ import annotations

import tomllib
from pathlib import Path

import libcst as cst
from libcst.metadata import MetadataWrapper, PositionProvider

DEFAULT_LIMIT = 100


def wrap_long_lines(code: str, limit: int = DEFAULT_LIMIT, *, leave: frozenset[str] = frozenset()) -> str:
    """``code`` with each line longer than ``limit`` (and not in ``leave``) split at its outermost bracket
    or conditional expression, again until it fits or nothing is left to split.

    A line with nothing to split (a long string, say) stays as it is.
    """
    skipped: set[int] = set()
    for _ in range(50):
        lines = code.splitlines()
        target = next((number for number, line in enumerate(lines, start=1)
                       if len(line) > limit and line not in leave and number not in skipped), None)
        if target is None:
            return code
        try:
            wrapped = _split_outermost(code, target, lines[target - 1], limit)
        except cst.ParserSyntaxError:
            return code
        if wrapped is None:
            skipped.add(target)
            continue
        code = wrapped
    return code


def _splittable(node: cst.CSTNode) -> bool:
    if isinstance(node, cst.IfExp):
        return not node.lpar
    if isinstance(node, cst.Call):
        return bool(node.args)
    if isinstance(node, (cst.Dict, cst.List, cst.Set)):
        return bool(node.elements)
    return isinstance(node, cst.Tuple) and bool(node.lpar) and bool(node.elements)


def _split_outermost(code: str, line_number: int, line: str, limit: int) -> str | None:
    """``code`` with the widest bracket or conditional expression that starts and ends on the line split,
    as black splits it: the contents on one line of their own when they fit, else one element per line
    with a trailing comma; ``if`` and ``else`` on lines of their own inside parentheses::

        x = (
            a
            if b
            else c
        )
    """
    wrapper = MetadataWrapper(cst.parse_module(code), unsafe_skip_copy=True)
    positions = wrapper.resolve(PositionProvider)
    found = [node for node, where in positions.items()
             if _splittable(node) and where.start.line == line_number and where.end.line == line_number]
    if not found:
        return None
    outer = max(found, key=lambda node: positions[node].end.column - positions[node].start.column)
    block = _block_indent(wrapper.module, positions, line_number)
    extra = len(line) - len(line.lstrip()) - block
    inner, closing = " " * (max(extra, 0) + 4), " " * max(extra, 0)
    hugged = None if isinstance(outer, cst.IfExp) else _hugged(outer, inner, closing, limit - block - len(inner))
    if hugged is not None:
        split = hugged
    elif isinstance(outer, cst.IfExp):
        split = outer.with_changes(
            lpar=[cst.LeftParen(whitespace_after=_newline(inner))],
            rpar=[cst.RightParen(whitespace_before=_newline(closing))],
            whitespace_before_if=_newline(inner), whitespace_before_else=_newline(inner))
    elif isinstance(outer, cst.Call):
        split = _exploded(outer, inner, closing)
    else:
        split = _exploded_elements(outer, inner, closing)
    return wrapper.module.deep_replace(outer, split).code


def _hugged(node: cst.CSTNode, inner: str, outer: str, room: int) -> cst.CSTNode | None:
    """``node`` with all its arguments or elements on one line of their own, when they fit in ``room``."""
    items = list(node.args if isinstance(node, cst.Call) else node.elements)
    spaced = [item.with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))
              for item in items[:-1]] + [items[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)]
    text = "".join(cst.Module([]).code_for_node(item) for item in spaced)
    lone_argument = isinstance(node, cst.Call) and len(items) == 1  # split further inside, if need be
    if "\n" in text or len(text) > room and not lone_argument:
        return None
    if isinstance(node, cst.Call):
        spaced[-1] = spaced[-1].with_changes(whitespace_after_arg=_newline(outer))
        return node.with_changes(whitespace_before_args=_newline(inner), args=spaced)
    if isinstance(node, cst.Tuple) and len(items) == 1:
        return None  # a one-element tuple needs its comma
    return _rebracketed(node, spaced, inner, _newline(outer))


def _exploded_elements(node: cst.Dict | cst.List | cst.Set | cst.Tuple, inner: str, outer: str) -> cst.CSTNode:
    elements = [element.with_changes(comma=cst.Comma(
        whitespace_after=_newline(outer if index == len(node.elements) - 1 else inner)))
        for index, element in enumerate(node.elements)]
    return _rebracketed(node, elements, inner, cst.SimpleWhitespace(""))


def _rebracketed(node: cst.Dict | cst.List | cst.Set | cst.Tuple, elements: list, inner: str,
                 before_closing: cst.BaseParenthesizableWhitespace) -> cst.CSTNode:
    """The collection ``node`` with ``elements``, a line break after its opening bracket and
    ``before_closing`` before its closing one."""
    if isinstance(node, cst.Tuple):
        return node.with_changes(elements=elements, lpar=[node.lpar[0].with_changes(whitespace_after=_newline(inner))],
                                 rpar=[node.rpar[-1].with_changes(whitespace_before=before_closing)])
    opening, closing = ("lbrace", "rbrace") if isinstance(node, (cst.Dict, cst.Set)) else ("lbracket", "rbracket")
    return node.with_changes(
        elements=elements,
        **{opening: getattr(node, opening).with_changes(whitespace_after=_newline(inner)),
           closing: getattr(node, closing).with_changes(whitespace_before=before_closing)})


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
