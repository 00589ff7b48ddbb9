"""The node contract (``contract.yaml``): what omnimix reads to decide a migration."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from omnimix.yaml_lines import YamlError, line_of, load_with_lines


class NodeType(StrEnum):
    EFFECT = "effect"
    COMPUTE = "compute"
    REDUCER = "reducer"
    ORCHESTRATOR = "orchestrator"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class MixinDeclaration(_Strict):
    name: str
    enabled: bool = True
    config: dict[str, Any] = Field(default_factory=dict)


class CircuitBreakerFeature(_Strict):
    enabled: bool = True
    failure_threshold: int = Field(default=5, ge=1, le=100)
    recovery_timeout_ms: int = Field(default=60_000, ge=1)
    success_threshold: int | None = Field(default=None, ge=1)
    half_open_max_calls: int | None = Field(default=None, ge=1)


class RetryPolicyFeature(_Strict):
    enabled: bool = True
    max_attempts: int = Field(default=3, ge=1, le=100)
    initial_delay_ms: int | None = Field(default=None, ge=0)
    backoff_multiplier: float = Field(default=2.0, ge=1.0)
    max_delay_ms: int | None = Field(default=None, ge=0)
    jitter: bool | None = None
    retryable_status_codes: list[int] = Field(default_factory=list)
    retryable_errors: list[str] = Field(default_factory=list)


class DeadLetterQueueFeature(_Strict):
    enabled: bool = True
    topic_suffix: str = ".dlq"
    topic: str | None = None
    max_retries: int | None = Field(default=None, ge=0)


class TransactionsFeature(_Strict):
    enabled: bool = True
    isolation_level: str | None = None
    timeout_ms: int | None = Field(default=None, ge=0)
    rollback_on_error: bool | None = None


class SecurityValidationFeature(_Strict):
    enabled: bool = True
    sanitize_inputs: bool | None = None
    sanitize_logs: bool | None = None
    max_input_size_bytes: int | None = Field(default=None, ge=0)
    sql_injection_protection: bool | None = None


class _Toggle(_Strict):
    enabled: bool = True


class LoggingSettings(_Strict):
    enabled: bool = True
    structured: bool = True
    level: str | None = None


class ObservabilityFeature(_Strict):
    enabled: bool = True
    metrics: _Toggle | None = None
    tracing: _Toggle | None = None
    logging: LoggingSettings | None = None


class AdvancedFeatures(_Strict):
    circuit_breaker: CircuitBreakerFeature | None = None
    retry_policy: RetryPolicyFeature | None = None
    dead_letter_queue: DeadLetterQueueFeature | None = None
    transactions: TransactionsFeature | None = None
    security_validation: SecurityValidationFeature | None = None
    observability: ObservabilityFeature | None = None


class NodeContract(_Open):
    """A node's contract. Unknown top-level keys are kept; the sections omnimix acts on are strict."""

    name: str
    version: str | dict[str, int] | None = None
    node_type: str
    description: str | None = None
    main_class: str | None = None
    input_model: str | None = None
    output_model: str | None = None
    io_operations: list[dict[str, Any]] = Field(default_factory=list)
    dependencies: list[dict[str, Any]] = Field(default_factory=list)
    error_handling: dict[str, Any] | None = None
    mixins: list[MixinDeclaration] = Field(default_factory=list)
    advanced_features: AdvancedFeatures | None = None

    @property
    def kind(self) -> NodeType | None:
        """The node type, normalised: ``EFFECT`` and ``effect_generic`` both give ``effect``."""
        value = self.node_type.lower()
        for kind in NodeType:
            if value == kind.value or value.startswith(kind.value + "_"):
                return kind
        return None

    def enabled_mixins(self) -> list[MixinDeclaration]:
        return [mixin for mixin in self.mixins if mixin.enabled]

    def feature(self, name: str) -> BaseModel | None:
        """An enabled advanced feature by name, or None."""
        if self.advanced_features is None:
            return None
        value = getattr(self.advanced_features, name, None)
        return value if value is not None and getattr(value, "enabled", True) else None

    @property
    def declares_target_state(self) -> bool:
        return bool(self.enabled_mixins()) or any(
            self.feature(name) is not None for name in AdvancedFeatures.model_fields
        )


class ContractError(Exception):
    """An invalid contract. ``problems`` holds (line, field, message) for each error."""

    def __init__(self, path: Path, problems: list[tuple[int | None, str, str]]) -> None:
        self.path = path
        self.problems = problems
        super().__init__("\n".join(self.lines()))

    def lines(self) -> list[str]:
        return [
            f"{self.path}:{line or 1}: {field or '<contract>'}: {message}"
            for line, field, message in self.problems
        ]


class LoadedContract(BaseModel):
    """A validated contract with the line of every key, for messages."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    path: Path
    contract: NodeContract
    lines: dict[tuple[str | int, ...], int]

    def line(self, *loc: str | int) -> int | None:
        return line_of(self.lines, loc)


def load_contract(path: Path) -> LoadedContract:
    """Read and validate ``path``; raise ContractError naming file, line and field."""
    try:
        data, lines = load_with_lines(path)
    except YamlError as exc:
        raise ContractError(path, [(None, "", str(exc).split(": ", 1)[-1])]) from exc
    if not isinstance(data, dict):
        raise ContractError(path, [(1, "", "a contract must be a YAML mapping")])
    try:
        contract = NodeContract.model_validate(data)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            loc = tuple(error["loc"])
            field = ".".join(str(part) for part in loc)
            problems.append((line_of(lines, loc), field, _message(error)))
        raise ContractError(path, problems) from exc
    if contract.kind is None:
        raise ContractError(
            path,
            [(line_of(lines, ("node_type",)), "node_type",
              f"unknown node type {contract.node_type!r}; expected one of effect, compute, reducer, orchestrator")],
        )
    return LoadedContract(path=path, contract=contract, lines=lines)


def _message(error: dict[str, Any]) -> str:
    if error["type"] == "extra_forbidden":
        return "unknown key"
    if error["type"] == "missing":
        return "required key is missing"
    return f"{error['msg']} (got {error.get('input')!r})"
