"""An index of the classes and functions of a module: dotted names, spans and parents."""

from __future__ import annotations

from dataclasses import dataclass, field

import libcst as cst
from libcst.metadata import CodeRange


@dataclass(frozen=True)
class Symbol:
    """A class or function definition, with its span including decorators."""

    name: str  # dotted, e.g. "NodeX.initialize"
    node: cst.ClassDef | cst.FunctionDef = field(compare=False, repr=False)
    start_line: int
    end_line: int
    parent: str | None

    @property
    def is_class(self) -> bool:
        return isinstance(self.node, cst.ClassDef)

    @property
    def short_name(self) -> str:
        return self.name.rsplit(".", 1)[-1]


class SymbolIndex:
    """All class and function definitions of a module, looked up by node or by line."""

    def __init__(self, symbols: list[Symbol]) -> None:
        self.symbols = symbols
        self._by_node = {id(symbol.node): symbol for symbol in symbols}
        self._by_name = {symbol.name: symbol for symbol in symbols}

    @classmethod
    def build(cls, module: cst.Module, positions: dict[cst.CSTNode, CodeRange]) -> SymbolIndex:
        collector = _Collector(positions)
        module.visit(collector)
        return cls(collector.symbols)

    def of(self, node: cst.CSTNode) -> Symbol | None:
        return self._by_node.get(id(node))

    def named(self, name: str) -> Symbol | None:
        return self._by_name.get(name)

    def enclosing(self, line: int) -> str:
        """Dotted name of the innermost definition that contains ``line``, or ``<module>``."""
        best: Symbol | None = None
        for symbol in self.symbols:
            if symbol.start_line <= line <= symbol.end_line:
                if best is None or symbol.start_line >= best.start_line:
                    best = symbol
        return best.name if best else "<module>"

    def classes(self) -> list[Symbol]:
        return [symbol for symbol in self.symbols if symbol.is_class]

    def methods_of(self, class_name: str) -> list[Symbol]:
        return [symbol for symbol in self.symbols if symbol.parent == class_name and not symbol.is_class]


class _Collector(cst.CSTVisitor):
    def __init__(self, positions: dict[cst.CSTNode, CodeRange]) -> None:
        self.positions = positions
        self.stack: list[str] = []
        self.symbols: list[Symbol] = []

    def _enter(self, node: cst.ClassDef | cst.FunctionDef) -> None:
        name = ".".join([*self.stack, node.name.value])
        code_range = self.positions[node]
        start = code_range.start.line
        if node.decorators:
            start = self.positions[node.decorators[0]].start.line
        self.symbols.append(
            Symbol(name, node, start, code_range.end.line, ".".join(self.stack) or None)
        )
        self.stack.append(node.name.value)

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self._enter(node)

    def leave_ClassDef(self, original_node: cst.ClassDef) -> None:
        self.stack.pop()

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._enter(node)

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self.stack.pop()
