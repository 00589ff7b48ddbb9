"""The first and last line of every node, as LibCST's ``PositionProvider`` reports them, at a fraction of
its cost.

``PositionProvider`` builds a start and an end position object for every node twice (once with the
whitespace a node owns, once without), and splits every token on newlines. Detectors only ask for line
numbers, so this codegen state counts newlines and records two integers per node. Where LibCST records
a node's syntactic position, the same hooks record it here; every other node gets the span of all it
prints, as in LibCST. ``tests/test_lines.py`` holds the two equal on every node of both fixture corpora
and of omnibase_core's sources.
"""

from __future__ import annotations

import re
from typing import NamedTuple

import libcst as cst
from libcst._nodes.internal import CodegenState

_NEWLINES = re.compile(r"\r\n?|\n")


class LinePosition(NamedTuple):
    line: int


class LineRange(NamedTuple):
    """A node's first and last line (1-based); columns are not tracked."""

    start: LinePosition
    end: LinePosition


class _Recording:
    __slots__ = ("end_node", "found", "node", "start", "start_node", "state")

    def __init__(self, state: _LineState, node: cst.CSTNode, start_node: cst.CSTNode | None,
                 end_node: cst.CSTNode | None) -> None:
        self.state = state
        self.node = node
        self.start_node = start_node
        self.end_node = end_node

    def __enter__(self) -> None:
        self.start = self.state.line

    def __exit__(self, *exc: object) -> None:
        found = self.state.found
        start = found[id(self.start_node)][0] if self.start_node is not None else self.start
        end = found[id(self.end_node)][1] if self.end_node is not None else self.state.line
        found[id(self.node)] = (start, end)


class _LineState(CodegenState):
    __slots__ = ("found", "line", "_stack")

    def __init__(self, module: cst.Module) -> None:
        super().__init__(default_indent=module.default_indent, default_newline=module.default_newline)
        self.found: dict[int, tuple[int, int]] = {}
        self.line = 1
        self._stack: list[int] = []

    def add_indent_tokens(self) -> None:
        pass  # indentation holds no newline, and nothing reads the text back

    def add_token(self, value: str) -> None:
        if not self.tokens:
            self.tokens.append(value)  # the module asks whether anything was printed
        if "\r" in value:
            self.line += len(_NEWLINES.findall(value))
        elif "\n" in value:
            self.line += value.count("\n")

    def pop_trailing_newline(self) -> None:
        pass  # the last line's number does not change

    def before_codegen(self, node: cst.CSTNode) -> None:
        self._stack.append(self.line)

    def after_codegen(self, node: cst.CSTNode) -> None:
        start = self._stack.pop()
        self.found.setdefault(id(node), (start, self.line))

    def record_syntactic_position(self, node: cst.CSTNode, *, start_node: cst.CSTNode | None = None,
                                  end_node: cst.CSTNode | None = None) -> _Recording:  # type: ignore[override]
        return _Recording(self, node, start_node, end_node)


class Lines:
    """``lines[node]`` is the node's :class:`LineRange`; ``node in lines`` for any node of the module."""

    def __init__(self, module: cst.Module) -> None:
        self.module = module  # keeps the nodes, and so their ids, alive
        state = _LineState(module)
        module._codegen(state)
        self._found = state.found

    def __contains__(self, node: object) -> bool:
        return id(node) in self._found

    def __getitem__(self, node: cst.CSTNode) -> LineRange:
        start, end = self._found[id(node)]
        return LineRange(LinePosition(start), LinePosition(end))

    def get(self, node: cst.CSTNode, default: LineRange | None = None) -> LineRange | None:
        return self[node] if id(node) in self._found else default
