"""What every codemod is: a concern, a description, examples, a detector and an optional transform."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import ClassVar

import libcst as cst

from omnimix.analysis.context import FileContext
from omnimix.concerns import Action, Concern, Safety
from omnimix.findings import Finding
from omnimix.migration_state import MigrationState, Outcome


@dataclass(frozen=True)
class Example:
    """A before/after pair: the codemod's documentation and its unit test at once.

    ``contract`` is the contract YAML the example migrates under; ``after`` equal to ``before``
    means the codemod must leave the code alone (and ``warning``, if set, must be reported).
    """

    title: str
    before: str
    after: str
    contract: str
    warning: str | None = None
    unsafe: bool = False


class Codemod(ABC):
    """One transformation of one concern. Detect always; transform only when the contract asks."""

    name: ClassVar[str]
    concern: ClassVar[Concern | None]
    description: ClassVar[str]
    #: Contract switches that enable the transform: mixin names or ``advanced_features.<key>``.
    enabled_by: ClassVar[tuple[str, ...]] = ()
    examples: ClassVar[tuple[Example, ...]] = ()

    @abstractmethod
    def detect(self, ctx: FileContext) -> list[Finding]:
        """Every hand-rolled instance of this codemod's concern in ``ctx``; never raises on odd code."""

    def transform(self, state: MigrationState) -> None:
        """Rewrite ``state`` for this concern. The default keeps every finding, with its reason."""
        if self.enabled(state):
            self.keep_all(state)

    def enabled(self, state: MigrationState) -> bool:
        """True when the contract turns on any of this codemod's switches."""
        return any(state.declared(switch) for switch in self.enabled_by)

    def keep_all(self, state: MigrationState) -> None:
        """Decide every finding of this concern in the node as kept, for the reason it carries."""
        for path, finding in state.findings_of(self.concern):
            state.decide(finding, path, Outcome.KEPT, finding.reason)

    def kept_findings(self, ctx: FileContext, spans: list[tuple[int, int, str]], replacement: str,
                      reason: str) -> list[Finding]:
        """Findings with action keep for ``(start, end, kind)`` spans; the reason is prefixed by the kind."""
        return [
            self.finding(ctx, start, end, action=Action.KEEP, safety=Safety.SAFE, replacement=replacement,
                         reason=f"{kind}: {reason}")
            for start, end, kind in spans
        ]

    def finding(
        self,
        ctx: FileContext,
        start: int,
        end: int,
        *,
        action: Action,
        safety: Safety,
        replacement: str,
        reason: str,
        symbol: str | None = None,
    ) -> Finding:
        """A finding for lines ``start``..``end`` of ``ctx``, attributed to this codemod."""
        assert self.concern is not None
        return Finding(
            start_line=start,
            end_line=end,
            concern=self.concern,
            symbol=symbol or ctx.symbols.enclosing(start),
            action=action,
            safety=safety,
            replacement=replacement,
            reason=reason,
            detector=self.name,
        )

    def node_finding(self, ctx: FileContext, node: cst.CSTNode, **kwargs: object) -> Finding:
        """A finding spanning ``node`` (decorators included for definitions)."""
        symbol = ctx.symbols.of(node)
        if symbol is not None:
            return self.finding(ctx, symbol.start_line, symbol.end_line, symbol=symbol.name, **kwargs)  # type: ignore[arg-type]
        start, end = ctx.span(node)
        return self.finding(ctx, start, end, **kwargs)  # type: ignore[arg-type]


@dataclass
class Detected:
    """Findings of one file plus the detector warnings (code it saw but chose not to judge)."""

    findings: list[Finding] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
