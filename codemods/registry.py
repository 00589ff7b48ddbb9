"""All codemods, in the order a migration runs them (bases and imports last)."""

from __future__ import annotations

from functools import cache

from codemods.apply_declared_mixins import ApplyDeclaredMixins
from codemods.base import Codemod


@cache
def all_codemods() -> tuple[Codemod, ...]:
    return (
        ApplyDeclaredMixins(),
    )


def codemod_named(name: str) -> Codemod | None:
    return next((codemod for codemod in all_codemods() if codemod.name == name), None)
