"""Stable finding codes (``OMX101``...), one per concern and kind of finding, as ruff has rule codes.

A code is chosen from the finding's concern and its reason: each code owns a pattern matched at the
start of the reason (report-only codemods write ``"kind: reason"``, the others start their reasons
with a fixed phrase). A reason no pattern knows gets its concern's catch-all code, ``OMXn00``. Codes
are never renumbered: a new kind of finding gets the next free number of its concern.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache

from codemods.dead_letter_queue.detect import KEEP_REASON as DLQ_REASON
from codemods.redaction.detect import KEEP_REASON as REDACTION_REASON
from codemods.service_registration.detect import KEEP_REASON as REGISTRATION_REASON
from codemods.structured_logging.detect import KEEP_REASON as LOGGING_REASON
from omnimix.concerns import Concern
from omnimix.findings import Finding


@dataclass(frozen=True)
class Code:
    """One kind of finding: its code, a one-line title, why omnimix treats it so, and what would change that.

    ``catalog`` names the catalog entries whose caveats are the omnibase-core facts behind the code.
    """

    code: str
    concern: Concern
    title: str
    pattern: str | None  # regex matched at the start of the reason; None for the catch-all
    why: str
    migratable: str
    catalog: tuple[str, ...] = ()

    def matches(self, reason: str) -> bool:
        return self.pattern is not None and re.match(self.pattern, reason) is not None


#: The first digit of each concern's codes.
CONCERN_BLOCKS: dict[Concern, int] = {
    Concern.CIRCUIT_BREAKER: 1,
    Concern.RETRY: 2,
    Concern.HEALTH_CHECK: 3,
    Concern.METRICS: 4,
    Concern.DEAD_LETTER_QUEUE: 5,
    Concern.STRUCTURED_LOGGING: 6,
    Concern.REDACTION: 7,
    Concern.SERVICE_REGISTRATION: 8,
}

_BREAKER_WHY = (
    "ModelCircuitBreaker is windowed: it counts failures within window_size_seconds and a success does not reset "
    "them, it opens only after minimum_request_threshold requests (or on a failure rate), it reads "
    "datetime.now(UTC) instead of an injected clock, its timeout_seconds is an int >= 10, and it has no call "
    "wrapper. A hand-written consecutive-failure breaker therefore behaves differently once replaced."
)
_BREAKER_FIX = (
    "Nothing in the node: the replacement is listed as unsafe because behaviour differs. Accept the windowed "
    "semantics and run with --unsafe (or add circuit_breaker to [tool.omnimix] unsafe_concerns); a "
    "consecutive-failure mode and an injectable clock in omnibase-core would make it safe."
)
_METRICS_FIX_SHAPE = (
    "MixinMetrics stores {name: {'value': n}} and keeps no samples or tags. Reading the metrics through "
    "get_metrics() in that shape (or omnibase-core gaining samples, tags and snapshots) would make it migratable."
)


def _codes(concern: Concern, *rows: tuple[int, str, str | None, str, str, tuple[str, ...]]) -> list[Code]:
    block = CONCERN_BLOCKS[concern] * 100
    return [Code(f"OMX{block + n}", concern, title, pattern, why, fix, catalog)
            for n, title, pattern, why, fix, catalog in rows]


_CB = ("ModelCircuitBreaker", "NodeEffect.get_circuit_breaker")
_RETRY = ("ModelRetryPolicy",)
_HEALTH = ("MixinHealthCheck", "ModelHealthStatus")
_METRICS = ("MixinMetrics",)

CODES: tuple[Code, ...] = tuple([
    *_codes(
        Concern.CIRCUIT_BREAKER,
        (0, "circuit breaker (other)", None, _BREAKER_WHY, _BREAKER_FIX, _CB),
        (1, "hand-written circuit breaker", r"hand-written circuit breaker", _BREAKER_WHY, _BREAKER_FIX, _CB),
        (2, "breaker kept in plain node fields", r"breaker kept in plain node fields",
         "A failure counter and an open-until time kept in node fields act as a breaker; ModelCircuitBreaker "
         "could replace them but is windowed, and omnimix does not rewrite field-based breakers.",
         "Move the fields into one breaker class (then OMX101 applies) or replace them by hand with "
         "ModelCircuitBreaker.", _CB),
        (3, "ModelCircuitBreaker driven by hand", r"already omnibase-core's ModelCircuitBreaker",
         "The code already uses omnibase-core's ModelCircuitBreaker and calls should_allow_request() and "
         "record_success()/record_failure() itself; omnibase-core has no call wrapper to replace that.",
         "Nothing to migrate: this is the idiomatic use of ModelCircuitBreaker in omnibase-core 0.47.57.", _CB),
        (4, "breaker API drift", r"API drift",
         "The code calls methods that ModelCircuitBreaker in omnibase-core 0.47.57 does not have (names of "
         "other versions).",
         "Known renames (can_execute -> should_allow_request...) are applied as safe; unknown names need a "
         "hand fix.", _CB),
    ),
    *_codes(
        Concern.RETRY,
        (0, "retry (other)", None,
         "Hand-written retry code with no behaviour-preserving omnibase-core equivalent.",
         "A retry helper in omnibase-core with exact, jitter-free backoff.", _RETRY),
        (1, "exact doubling backoff", r"its delays .* are exactly",
         "The loop's delays are exactly ModelRetryConfig.calculate_delay(n, include_jitter=False); the delay "
         "expression is replaced, the loop stays.",
         "Already migratable (simplify, safe).", _RETRY),
        (2, "retry loop without an equivalent", r"no behaviour-preserving omnibase-core equivalent",
         "ModelRetryPolicy.calculate_next_delay() always adds jitter (time-hash based, about 10%) and matches "
         "retryable errors by class name; NodeEffect's contract retry retries any exception with "
         "retry_delay_ms * 2**attempt and +-10% jitter. Neither reproduces the hand-written loop.",
         "A plain doubling delay (base * 2 ** (n - 1)) over a fixed number of attempts becomes OMX201; "
         "otherwise omnibase-core would need jitter-free backoff and retry-on predicates.", _RETRY),
        (3, "consumer error back-off", r"error back-off",
         "A loop that goes on after success (a consumer) backs off on errors; that is not a retry policy and "
         "omnibase-core has nothing like it.",
         "Nothing: it stays by design.", ()),
        (4, "call of a retry wrapper", r"applies the hand-written retry wrapper",
         "A call of the hand-written retry wrapper; it goes when the wrapper does.",
         "Migrate the wrapper itself (its own finding).", ()),
        (5, "retry settings", r"settings read only by the hand-written retry code",
         "Settings read only by the hand-written retry code; they go with it.",
         "Migrate the retry code that reads them.", ()),
        (6, "work re-scheduled after a delay", r"work re-scheduled",
         "Failed work re-scheduled after an exponential delay and run when due; omnibase-core has no scheduler "
         "for failed work.",
         "Nothing in omnibase-core 0.47.57: it stays with its schedule and the loop running it.", _RETRY),
        (7, "error carrying retry advice", r"an error that carries retry advice",
         "An error that carries retry advice (a Retry-After) to the hand-written retry loop; it goes with it.",
         "Migrate the retry loop that reads it.", ()),
    ),
    *_codes(
        Concern.HEALTH_CHECK,
        (0, "health check (other)", None,
         "Hand-written health-check code.",
         "See `omnimix catalog show MixinHealthCheck`.", _HEALTH),
        (1, "project-local health mixin", r"project-local health mixin",
         "A project-local health mixin (checks registered by name, run with a timeout each, rolled up and "
         "cached by check_health()). Migrating a node that inherits it rebuilds it once on MixinHealthCheck: "
         "its get_health_checks() hands over every registered check, run by the mixin's own runner, so "
         "health_check_async() gives check_health()'s verdict; its roll-up, cache and public surface stay.",
         "Safe when omnimix can read the mixin that way (one registry, one runner returning status and "
         "critical, a roll-up it recognises, no name MixinHealthCheck defines). Otherwise each node's "
         "registrations can become get_health_checks(), which drops the cache and per-component results: "
         "with --unsafe, when callers read only .status of check_health().", _HEALTH),
        (2, "node inherits the local health mixin", r"\S+ inherits the project-local health mixin",
         "The node class lists the project-local health mixin as a base; MixinHealthCheck takes its place.",
         "As OMX301: callers that read only .status of check_health().", _HEALTH),
        (3, "local health support type", r"\S+ belongs to the local health-check machinery",
         "A type of the local health machinery (status enum, result class) that MixinHealthCheck replaces with "
         "ModelHealthStatus and EnumHealthStatusValue.",
         "As OMX301: callers that do not compare statuses with `is` or read per-component results.", _HEALTH),
        (4, "component-check registration", r"\S+ registers component checks with the local health mixin",
         "The hook that registers component checks with the local mixin; it becomes get_health_checks().",
         "Safe when callers read only .status of check_health(); a registration hook that calls the local "
         "mixin's own checks (super()) cannot be reproduced.", _HEALTH),
        (5, "health mixin set-up call", r"self\.\S+\(\) sets up the local health mixin",
         "The call that sets up the local health mixin (result cache, clock); MixinHealthCheck needs no set-up "
         "and has no cache.",
         "Code that does not rely on cached health results.", _HEALTH),
        (6, "component check", r"component check ",
         "A component check stays; MixinHealthCheck runs it through an adapter.",
         "Already migratable (safe) once the registration is.", _HEALTH),
        (7, "probe helper covered by omnibase-core", r"probe helper \S+ \(.*covers it, but",
         "An omnibase-core check_*_health helper covers this probe, with a difference in what it reports.",
         "Accept the difference named in the reason and run with --unsafe.",
         ("check_postgresql_health", "check_kafka_health", "check_http_service_health", "check_redis_health")),
        (8, "probe helper without a counterpart", r"probe helper \S+ has no omnibase-core counterpart",
         "omnibase-core has no helper for this probe.",
         "Wrap it as a MixinHealthCheck check (it stays, the registration moves).", _HEALTH),
        (9, "hand-built health document", r"hand-built health document",
         "A method returning a health dict of the node's own shape (keys, per-component details, thresholds); "
         "MixinHealthCheck returns a ModelHealthStatus, so every reader would change.",
         "Callers reading ModelHealthStatus instead of the dict; omnibase-core has no health document of this "
         "shape.", _HEALTH),
        (10, "probe feeding the hand-built health", r"probe \S+ feeds only the node's hand-built health",
         "A probe used only by the node's hand-built health methods; it stays with them.",
         "Migrate the health methods it feeds (OMX309).", ()),
        (11, "state of the hand-built health", r"state read only by the node's health methods",
         "State read only by the node's health methods; it stays with them.",
         "Migrate the health methods that read it.", ()),
        (12, "uptime origin of the hand-built health", r"uptime origin read only by the node's health and metrics",
         "A start time taken in the constructor and read only to report uptime in the node's health and metrics "
         "methods; it stays with them.",
         "Migrate the health and metrics methods that read it.", ()),
    ),
    *_codes(
        Concern.METRICS,
        (0, "hand-kept metrics (other)", None,
         "Hand-kept metrics that MixinMetrics cannot hold without changing what readers see.",
         _METRICS_FIX_SHAPE, _METRICS),
        (1, "scalar counters to increment_counter", r"scalar counter\(s\)",
         "Integer counters initialised once to 0 and only incremented by literals move to "
         "MixinMetrics.increment_counter and keep the same totals.",
         "Already migratable (safe); with other metrics in the same span only the counters move.", _METRICS),
        (2, "reads of moved counters", r"reads of .* come from MixinMetrics",
         "The accessor reads the moved counters back from MixinMetrics.get_metrics; the rest of its snapshot "
         "stays.",
         "Already migratable (simplify, safe).", _METRICS),
        (3, "counts per operation or error type", r"counts per operation or error type",
         "MixinMetrics keys counters by name only (tags are not part of the key), so a per-operation or "
         "per-error breakdown could not be read back.",
         "Tagged counters in omnibase-core, or one counter name per operation.", _METRICS),
        (4, "metrics dict read as a whole", r"counters held as entries of a metrics dict",
         "Counters held in a dict that is copied or read as a whole; MixinMetrics stores {name: {'value': n}} "
         "entries, so every read would change shape.",
         _METRICS_FIX_SHAPE, _METRICS),
        (5, "latency or timestamp samples", r"latency/timestamp samples",
         "Samples kept for averages, percentiles or a throughput window; record_histogram keeps only the last "
         "value in memory.",
         "omnibase-core keeping histogram samples (percentiles, windows).", _METRICS),
        (6, "derived metric value", r"derived value",
         "A peak, last duration, float total or cache time; record_metric could hold it, but the reads need the "
         "same value back, which is not proven.",
         "Readers that accept get_metrics()'s {'value': x} entries; run with --unsafe to accept it.", _METRICS),
        (7, "metrics model with record_* methods", r"metrics model with record_",
         "A metrics model with record_* methods and computed rates or per-operation min/max/avg; MixinMetrics "
         "has no equivalent.",
         "omnibase-core gaining a metrics model with computed rates.", _METRICS),
        (8, "metrics model or type", r"metrics model or metrics type",
         "A metrics class (counters with computed rates, averages or percentiles); MixinMetrics has no "
         "equivalent.",
         "omnibase-core gaining a metrics model with computed rates.", _METRICS),
        (9, "public metrics snapshot", r"public metrics snapshot",
         "A public method returning the node's metrics in its own shape (with computed rates, averages or "
         "percentiles); MixinMetrics.get_metrics returns raw {name: {'value': n}} entries.",
         _METRICS_FIX_SHAPE, _METRICS),
        (10, "percentile or summary computation", r"percentile or summary computation",
         "A percentile or summary over kept samples; MixinMetrics has no percentiles.",
         "omnibase-core keeping histogram samples with percentiles.", _METRICS),
        (11, "timer feeding kept statistics", r"timer or outcome flag",
         "A timer or outcome flag feeding latency statistics that stay.",
         "Migrate the statistics it feeds.", _METRICS),
        (12, "settings of kept metrics", r"settings of hand-kept metrics",
         "Window length, buffer size or cache TTL of metrics that stay.",
         "Migrate the metrics they configure.", ()),
        (13, "lock guarding kept metrics", r"lock guarding hand-kept metrics",
         "A lock guarding hand-kept metrics that stay.",
         "Migrate the metrics it guards (then the lock goes too).", ()),
        (14, "cached metrics snapshot", r"cached metrics snapshot",
         "A cached metrics snapshot; MixinMetrics has no snapshot cache.",
         _METRICS_FIX_SHAPE, _METRICS),
        (15, "counter that cannot move", r"\S+ (belongs to|defines|is reset in|is a float total|is not initialised|"
                                          r"is initialised conditionally|is also|is changed in place|"
                                          r"changes by a computed amount|is public)",
         "A counter that increment_counter cannot take over with the same totals: the reason names the "
         "obstacle (reset in a method, float or computed increments, public, reached from elsewhere...).",
         "Remove the obstacle the reason names (an int counter initialised once to 0 in __init__, private, "
         "incremented only by literals).", _METRICS),
        (16, "builder of a kept metrics type", r"builds or summarises a kept metrics type",
         "Code that builds or summarises a metrics type that stays (zeroed counters, computed averages and "
         "rates); MixinMetrics has no equivalent.",
         "omnibase-core gaining a metrics model with computed rates.", _METRICS),
    ),
    *_codes(
        Concern.DEAD_LETTER_QUEUE,
        (0, "dead-letter code (other)", None, DLQ_REASON,
         "omnibase-core gaining a dead-letter publisher; until then it stays.", ()),
        (1, "dead-letter publisher", r"dead-letter publisher", DLQ_REASON,
         "omnibase-core gaining a dead-letter publisher; set_dlq_topic_deriver only selects a topic.", ()),
        (2, "send to the DLQ", r"sends a failed message to the DLQ", DLQ_REASON, "As OMX501.", ()),
        (3, "DLQ state", r"DLQ state", DLQ_REASON, "As OMX501.", ()),
        (4, "depends on the DLQ state", r"depends on the DLQ state", DLQ_REASON, "As OMX501.", ()),
        (5, "DLQ topic setting", r"DLQ topic setting", DLQ_REASON,
         "The contract's advanced_features.dead_letter_queue.topic_suffix documents it; it stays.", ()),
        (6, "dead-letter envelope type", r"dead-letter envelope type", DLQ_REASON, "As OMX501.", ()),
        (7, "DLQ error classification", r"error classification for DLQ", DLQ_REASON, "As OMX501.", ()),
        (8, "commit after dead-lettering", r"commits the offset", DLQ_REASON, "As OMX501.", ()),
        (9, "acts on the dead-letter outcome", r"acts on the outcome of the dead-letter write", DLQ_REASON,
         "As OMX501.", ()),
        (10, "DLQ section of a report", r"DLQ section of a report", DLQ_REASON, "As OMX501.", ()),
        (11, "error type carrying a failure to the DLQ", r"error type built only to carry a failure to the DLQ",
         DLQ_REASON, "As OMX501.", ()),
        (12, "outcome type of dead-lettered messages", r"outcome type that tells dead-lettered", DLQ_REASON,
         "As OMX501.", ()),
        (13, "dead-letter envelope preparation", r"prepares the failed message for the dead-letter envelope",
         DLQ_REASON, "As OMX501.", ()),
        (14, "DLQ counters", r"(record type|snapshot) of the DLQ counters", DLQ_REASON, "As OMX501.", ()),
        (15, "safe-offset bookkeeping", r"safe-offset calculation|records which messages are done", DLQ_REASON,
         "As OMX501.", ()),
    ),
    *_codes(
        Concern.STRUCTURED_LOGGING,
        (0, "structured logging (other)", None, LOGGING_REASON,
         "omnibase-core gaining an operation logger with correlation ids and redaction.",
         ("emit_log_event_sync",)),
        (1, "logger wrapper class", r"logger wrapper class", LOGGING_REASON,
         "omnibase-core gaining an operation logger with correlation ids and redaction.",
         ("emit_log_event_sync",)),
        (2, "logger wrapper instance", r"logger wrapper instance", LOGGING_REASON, "As OMX601.",
         ("emit_log_event_sync",)),
        (3, "call through the logger wrapper", r"call through the logger wrapper", LOGGING_REASON,
         "As OMX601.", ("emit_log_event_sync",)),
        (4, "factory of the logger wrapper", r"factory of the logger wrapper", LOGGING_REASON, "As OMX601.", ()),
        (5, "correlation-id context helper", r"correlation-id context helper", LOGGING_REASON, "As OMX601.", ()),
        (6, "correlation-id context variable", r"correlation-id context variable", LOGGING_REASON,
         "As OMX601.", ()),
        (7, "binds the correlation-id context", r"binds the correlation-id context", LOGGING_REASON,
         "As OMX601.", ()),
        (8, "structured logging helper", r"structured logging helper", LOGGING_REASON, "As OMX601.",
         ("emit_log_event_sync",)),
        (9, "operation log through the node's helper", r"operation log through the node's helper", LOGGING_REASON,
         "As OMX601.", ()),
        (10, "structured log context builder", r"structured log context builder", LOGGING_REASON, "As OMX601.", ()),
        (11, "support of the logger wrapper", r"support of the logger wrapper", LOGGING_REASON, "As OMX601.", ()),
    ),
    *_codes(
        Concern.REDACTION,
        (0, "redaction (other)", None, REDACTION_REASON,
         "Exact key matching and in-string scrubbing in MixinSensitiveFieldRedaction.",
         ("MixinSensitiveFieldRedaction",)),
        (1, "redaction function", r"redaction function", REDACTION_REASON,
         "Exact key matching and in-string scrubbing in MixinSensitiveFieldRedaction.",
         ("MixinSensitiveFieldRedaction",)),
        (2, "redaction method", r"redaction method", REDACTION_REASON, "As OMX701.",
         ("MixinSensitiveFieldRedaction",)),
        (3, "redaction class", r"redaction class", REDACTION_REASON, "As OMX701.",
         ("MixinSensitiveFieldRedaction",)),
        (4, "call of a redaction helper", r"call of a redaction helper", REDACTION_REASON, "As OMX701.", ()),
        (5, "redaction constant", r"module constant used only by redaction code", REDACTION_REASON,
         "As OMX701.", ()),
        (6, "helper of the redaction code", r"helper of the redaction code", REDACTION_REASON, "As OMX701.", ()),
    ),
    *_codes(
        Concern.SERVICE_REGISTRATION,
        (0, "service self-registration (other)", None, REGISTRATION_REASON,
         "omnibase-core gaining self-registration in a service registry (register/deregister with a health URL).",
         ("MixinServiceRegistry",)),
        (1, "self-registration method", r"dedicated self-registration method", REGISTRATION_REASON,
         "omnibase-core gaining self-registration in a service registry (register/deregister with a health URL).",
         ("MixinServiceRegistry", "MixinDiscoveryResponder")),
        (2, "self-registration step of the lifecycle", r"self-registration step of the lifecycle",
         REGISTRATION_REASON, "As OMX801.", ()),
        (3, "self-registration call", r"self-registration call", REGISTRATION_REASON, "As OMX801.", ()),
        (4, "address of the node's own service", r"address of the node's own service", REGISTRATION_REASON,
         "As OMX801.", ()),
        (5, "the node's own registration id", r"the node's own registration id", REGISTRATION_REASON,
         "As OMX801.", ()),
    ),
])


@cache
def _by_code() -> dict[str, Code]:
    return {code.code: code for code in CODES}


def lookup(code: str) -> Code | None:
    """The code called ``code`` (case-insensitive), or None."""
    return _by_code().get(code.strip().upper())


def code_of(concern: str, reason: str) -> Code:
    """The code of a finding of ``concern`` with ``reason``: the first pattern matching the reason's start,
    else the concern's catch-all."""
    return _code_of(str(concern), reason)


@cache
def _code_of(concern: str, reason: str) -> Code:
    fallback = None
    for code in CODES:
        if code.concern != concern:
            continue
        if code.pattern is None:
            fallback = code
        elif code.matches(reason):
            return code
    if fallback is None:
        raise KeyError(f"no codes for concern {concern!r}")
    return fallback


def finding_code(finding: Finding) -> Code:
    """The code of ``finding``."""
    return code_of(finding.concern, finding.reason)


def codes_of(concern: Concern) -> list[Code]:
    return [code for code in CODES if code.concern == concern]


def statistics(findings: Iterable[Finding]) -> list[tuple[Code, int]]:
    """How many findings each code has, most first (then by code)."""
    counts: dict[str, int] = {}
    for finding in findings:
        code = finding_code(finding)
        counts[code.code] = counts.get(code.code, 0) + 1
    return sorted(((_by_code()[c], n) for c, n in counts.items()), key=lambda item: (-item[1], item[0].code))


def check_registry() -> list[str]:
    """Problems of the registry itself: duplicate codes, codes outside their concern's block, concerns
    without a catch-all."""
    problems = []
    seen: set[str] = set()
    for code in CODES:
        if code.code in seen:
            problems.append(f"{code.code} is listed twice")
        seen.add(code.code)
        if not re.fullmatch(rf"OMX{CONCERN_BLOCKS[code.concern]}\d\d", code.code):
            problems.append(f"{code.code} is outside the block of {code.concern}")
    for concern in Concern:
        if not any(c.concern == concern and c.pattern is None for c in CODES):
            problems.append(f"{concern} has no catch-all code")
    return problems
