"""Retry loops, the LibCST rewrite of the files with applied findings."""

from __future__ import annotations

import libcst as cst

from codemods.retry.detect import RETRY_CONFIG
from codemods.retry.plan import Doubling, identical_doubling


class _UseRetryConfig(cst.CSTTransformer):
    """Replaces a provably identical doubling delay by ModelRetryConfig.calculate_delay()."""

    def __init__(self) -> None:
        self.targets: dict[int, Doubling] = {}
        self.rewritten = 0

    def visit_For(self, node: cst.For) -> None:
        doubling = identical_doubling(node)
        if doubling is not None:
            self.targets[id(doubling.delay)] = doubling

    def on_leave(self, original_node: cst.CSTNode, updated_node: cst.CSTNode):  # type: ignore[no-untyped-def]
        doubling = self.targets.get(id(original_node))
        if doubling is None:
            return super().on_leave(original_node, updated_node)
        self.rewritten += 1
        config = cst.parse_expression(
            f"{RETRY_CONFIG}(max_attempts={doubling.attempts}, backoff_seconds={doubling.base!r})")
        return cst.Call(
            func=cst.Attribute(value=config, attr=cst.Name("calculate_delay")),
            args=[cst.Arg(doubling.one_based, comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))),
                  cst.Arg(cst.Name("False"), keyword=cst.Name("include_jitter"),
                          equal=cst.AssignEqual(whitespace_before=cst.SimpleWhitespace(""),
                                                whitespace_after=cst.SimpleWhitespace("")))],
        )
