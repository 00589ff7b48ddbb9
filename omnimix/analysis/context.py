"""Per-file state shared by detectors: source text, the parsed module and metadata on demand."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TypeVar

import libcst as cst

from omnimix.analysis.lines import Lines
from omnimix.analysis.module_cache import on_forget, parse_text
from omnimix.analysis.symbols import SymbolIndex
from omnimix.analysis.tree import Tree, index_module


@dataclass
class FileContext:
    """One Python file under analysis. Parsing and metadata are resolved lazily, once."""

    path: Path
    display_path: str
    text: str
    _module: cst.Module | None = field(default=None, repr=False)

    @cached_property
    def module(self) -> cst.Module:
        """The LibCST module; raises ``libcst.ParserSyntaxError`` for invalid input."""
        module = self._module if self._module is not None else parse_text(self.text)
        self.__dict__["tree"] = index_module(module)  # before any detector walks the module
        return module

    @cached_property
    def tree(self) -> Tree:
        """Every node of the module once, in source order: what detectors walk and query."""
        return index_module(self.module)

    @cached_property
    def positions(self) -> Lines:
        """First and last line of every node, as LibCST's ``PositionProvider`` gives them."""
        return Lines(self.module)

    @cached_property
    def symbols(self) -> SymbolIndex:
        return SymbolIndex.build(self.tree, self.positions)

    @cached_property
    def lines(self) -> list[str]:
        return self.text.splitlines()

    def span(self, node: cst.CSTNode) -> tuple[int, int]:
        """First and last line of ``node`` (1-based, inclusive), decorators and leading comments excluded."""
        code_range = self.positions[node]
        return code_range.start.line, code_range.end.line


T = TypeVar("T")


def per_module(compute: Callable[[FileContext, int], T], size: int = 16) -> Callable[[FileContext, int], T]:
    """``compute(ctx, depth)`` remembered for each parsed module: the facts of a project module that many
    nodes import are worked out once (a context stays the same object while its file is unchanged)."""
    known: dict[int, tuple[FileContext, int, T]] = {}

    def cached(ctx: FileContext, depth: int) -> T:
        entry = known.get(id(ctx))
        if entry is not None and entry[0] is ctx and entry[1] == depth:
            return entry[2]
        if len(known) >= size:
            del known[next(iter(known))]
        value = compute(ctx, depth)
        known[id(ctx)] = (ctx, depth, value)
        return value

    @on_forget
    def forget(module: cst.Module) -> None:
        for key in [key for key, entry in known.items() if entry[0].__dict__.get("module") is module]:
            del known[key]

    return cached
