"""An index of the classes and functions of a module: dotted names, spans and parents."""

from __future__ import annotations

from dataclasses import dataclass, field

import libcst as cst

from omnimix.analysis.lines import Lines
from omnimix.analysis.tree import Tree


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
    def build(cls, tree: Tree, positions: Lines) -> SymbolIndex:
        """Every definition of ``tree``'s module, in source order, from its flattened nodes."""
        names: dict[int, str] = {}  # tree index of a definition -> its dotted name
        symbols: list[Symbol] = []
        for node in tree.within(tree.root, (cst.ClassDef, cst.FunctionDef)):
            index = tree.where[id(node)]
            parent = tree.parents[index]
            while parent >= 0 and parent not in names:
                parent = tree.parents[parent]
            outer = names.get(parent) if parent >= 0 else None
            name = names[index] = f"{outer}.{node.name.value}" if outer else node.name.value
            code_range = positions[node]
            start = positions[node.decorators[0]].start.line if node.decorators else code_range.start.line
            symbols.append(Symbol(name, node, start, code_range.end.line, outer))
        return cls(symbols)

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
