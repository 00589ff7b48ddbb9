"""All codemods, in the order a migration runs them (bases and imports last)."""

from __future__ import annotations

from functools import cache

from codemods.base import Codemod
from codemods.circuit_breaker import ReplaceCircuitBreaker
from codemods.dead_letter_queue import ReplaceDeadLetterQueue
from codemods.declared_mixins import ApplyDeclaredMixins
from codemods.health_check import ReplaceHealthChecks
from codemods.metrics import ReplaceHandKeptMetrics
from codemods.redaction import ReportRedaction
from codemods.retry import ReplaceRetryLoops
from codemods.service_registration import ReportServiceRegistration
from codemods.structured_logging import ReportStructuredLogging


@cache
def all_codemods() -> tuple[Codemod, ...]:
    return (
        ReplaceHealthChecks(),
        ReplaceHandKeptMetrics(),
        ReplaceCircuitBreaker(),
        ReplaceRetryLoops(),
        ReplaceDeadLetterQueue(),
        ReportStructuredLogging(),
        ReportRedaction(),
        ReportServiceRegistration(),
        ApplyDeclaredMixins(),
    )


def codemod_named(name: str) -> Codemod | None:
    return next((codemod for codemod in all_codemods() if codemod.name == name), None)
