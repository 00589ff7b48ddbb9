"""Per-file state shared by detectors: source text, the parsed module and metadata on demand."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import libcst as cst
from libcst.metadata import CodeRange, MetadataWrapper, PositionProvider

from omnimix.analysis.symbols import SymbolIndex


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
        return self._module if self._module is not None else cst.parse_module(self.text)

    @cached_property
    def wrapper(self) -> MetadataWrapper:
        return MetadataWrapper(self.module, unsafe_skip_copy=True)

    @cached_property
    def positions(self) -> dict[cst.CSTNode, CodeRange]:
        return dict(self.wrapper.resolve(PositionProvider))

    @cached_property
    def symbols(self) -> SymbolIndex:
        return SymbolIndex.build(self.module, self.positions)

    @cached_property
    def lines(self) -> list[str]:
        return self.text.splitlines()

    def span(self, node: cst.CSTNode) -> tuple[int, int]:
        """First and last line of ``node`` (1-based, inclusive), decorators and leading comments excluded."""
        code_range = self.positions[node]
        return code_range.start.line, code_range.end.line
