"""All codemods, in the order a migration runs them (bases and imports last)."""

from __future__ import annotations

from functools import cache

from codemods.apply_declared_mixins import ApplyDeclaredMixins
from codemods.base import Codemod
from codemods.replace_circuit_breaker import ReplaceCircuitBreaker
from codemods.replace_dead_letter_queue import ReplaceDeadLetterQueue
from codemods.replace_hand_kept_metrics import ReplaceHandKeptMetrics
from codemods.replace_health_checks import ReplaceHealthChecks
from codemods.replace_retry_loops import ReplaceRetryLoops
from codemods.report_redaction import ReportRedaction
from codemods.report_service_registration import ReportServiceRegistration
from codemods.report_structured_logging import ReportStructuredLogging


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
