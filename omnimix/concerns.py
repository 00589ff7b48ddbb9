"""The vocabulary of a scan: concerns, actions and safety."""

from enum import StrEnum


class Concern(StrEnum):
    """A cross-cutting concern that nodes hand-write and omnibase-core may provide."""

    CIRCUIT_BREAKER = "circuit_breaker"
    RETRY = "retry"
    HEALTH_CHECK = "health_check"
    METRICS = "metrics"
    DEAD_LETTER_QUEUE = "dead_letter_queue"
    STRUCTURED_LOGGING = "structured_logging"
    REDACTION = "redaction"
    SERVICE_REGISTRATION = "service_registration"


class Action(StrEnum):
    """What a migration does with a finding."""

    REPLACE = "replace"  # omnibase-core has an equivalent
    SIMPLIFY = "simplify"  # omnibase-core covers part of it
    KEEP = "keep"  # no equivalent; the reason says why


class Safety(StrEnum):
    """Whether applying the change keeps behaviour."""

    SAFE = "safe"
    UNSAFE = "unsafe"
