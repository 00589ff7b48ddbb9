"""The node contract (``contract.yaml``): what omnimix reads to decide a migration."""

from __future__ import annotations

import keyword
import re
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, get_args

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    WithJsonSchema,
)

from omnimix.contract.yaml_lines import YamlError, line_of, load_with_lines

#: A ``${NAME}`` or ``${NAME:-default}`` placeholder, resolved at deployment; omnimix keeps it as text.
ENV_PLACEHOLDER = r"^\$\{[A-Za-z_][A-Za-z0-9_]*(:-[^}]*)?\}$"
_PLACEHOLDER = re.compile(ENV_PLACEHOLDER.removeprefix("^").removesuffix("$"))


class NodeType(StrEnum):
    EFFECT = "effect"
    COMPUTE = "compute"
    REDUCER = "reducer"
    ORCHESTRATOR = "orchestrator"


def _tunable(kind: type[int] | type[float], *, ge: float | None = None, le: float | None = None) -> Any:
    """A number with optional bounds, or a ``${ENV}`` placeholder kept as text."""

    expected = f"expected {'an integer' if kind is int else 'a number'} or a ${{ENV}} placeholder"

    def not_a_boolean(value: object) -> object:
        if isinstance(value, bool):  # YAML's true/false would otherwise pass as 1/0
            raise ValueError(expected)
        return value

    def check(value: int | float | str) -> int | float | str:
        if isinstance(value, str):
            if not _PLACEHOLDER.fullmatch(value):
                raise ValueError(expected)
            return value
        if ge is not None and value < ge:
            raise ValueError(f"must be at least {ge}")
        if le is not None and value > le:
            raise ValueError(f"must be at most {le}")
        return value

    number: dict[str, Any] = {"type": "integer" if kind is int else "number"}
    if ge is not None:
        number["minimum"] = ge
    if le is not None:
        number["maximum"] = le
    schema = {"anyOf": [number, {"type": "string", "pattern": ENV_PLACEHOLDER}]}
    return Annotated[kind | str, BeforeValidator(not_a_boolean), AfterValidator(check), WithJsonSchema(schema)]


def _class_name(value: str) -> str:
    """A Python class name: contract values that name classes end up in code, so they must be identifiers."""
    if not value.isidentifier() or keyword.iskeyword(value):
        raise ValueError("expected a Python class name (an identifier)")
    return value


ClassName = Annotated[str, AfterValidator(_class_name),
                    WithJsonSchema({"type": "string", "pattern": r"^[A-Za-z_][A-Za-z0-9_]*$"})]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class MixinDeclaration(_Strict):
    """One mixin the node should have; ``config`` keys must be ones the mixin takes (see the catalog)."""

    name: ClassName = Field(description="Class name of an omnibase-core mixin, e.g. MixinHealthCheck.")
    enabled: bool = True
    config: dict[str, Any] = Field(default_factory=dict)


class IoOperation(_Open):
    """Something the node does to the outside world; ``type`` says through what (database, kafka, http...)."""

    name: str
    type: str | None = None
    description: str | None = None


class Dependency(_Open):
    """A service the node needs; ``type`` is matched against io_operations and features."""

    name: str
    type: str | None = None
    required: bool | None = None
    description: str | None = None


class CircuitBreakerFeature(_Strict):
    enabled: bool = True
    failure_threshold: _tunable(int, ge=1, le=100) = 5
    recovery_timeout_ms: _tunable(int, ge=1) = 60_000
    success_threshold: _tunable(int, ge=1) | None = None
    half_open_max_calls: _tunable(int, ge=1) | None = None


class RetryPolicyFeature(_Strict):
    enabled: bool = True
    max_attempts: _tunable(int, ge=1, le=100) = 3
    initial_delay_ms: _tunable(int, ge=0) | None = None
    backoff_multiplier: _tunable(float, ge=1.0) = 2.0
    max_delay_ms: _tunable(int, ge=0) | None = None
    jitter: bool | None = None
    retryable_status_codes: list[int] = Field(default_factory=list)
    retryable_errors: list[str] = Field(default_factory=list)


class DeadLetterQueueFeature(_Strict):
    enabled: bool = True
    topic_suffix: str = ".dlq"
    topic: str | None = None
    max_retries: _tunable(int, ge=0) | None = None


class TransactionsFeature(_Strict):
    enabled: bool = True
    isolation_level: str | None = None
    timeout_ms: _tunable(int, ge=0) | None = None
    rollback_on_error: bool | None = None


class SecurityValidationFeature(_Strict):
    enabled: bool = True
    sanitize_inputs: bool | None = None
    sanitize_logs: bool | None = None
    max_input_size_bytes: _tunable(int, ge=0) | None = None
    sql_injection_protection: bool | None = None


class _Toggle(_Strict):
    enabled: bool = True


class LoggingSettings(_Strict):
    enabled: bool = True
    structured: bool = True
    level: str | None = None


class ServiceRegistrationFeature(_Strict):
    """Self-registration in a service registry; omnimix consolidates copies of it into a project mixin."""

    enabled: bool = True
    provider: str = "consul"
    service_name: str | None = None
    port: _tunable(int, ge=1, le=65535) | None = None
    tags: list[str] = Field(default_factory=list)
    health_path: str | None = None


class ObservabilityFeature(_Strict):
    enabled: bool = True
    metrics: _Toggle | None = None
    tracing: _Toggle | None = None
    logging: LoggingSettings | None = None


class AdvancedFeatures(_Strict):
    """Platform features the node should get from omnibase-core instead of hand-written code."""

    circuit_breaker: CircuitBreakerFeature | None = None
    retry_policy: RetryPolicyFeature | None = None
    dead_letter_queue: DeadLetterQueueFeature | None = None
    transactions: TransactionsFeature | None = None
    security_validation: SecurityValidationFeature | None = None
    observability: ObservabilityFeature | None = None
    service_registration: ServiceRegistrationFeature | None = None


#: The AdvancedFeatures entries that a legacy ``error_handling`` section may also carry.
FEATURE_MODELS: dict[str, type[BaseModel]] = {
    name: get_args(field.annotation)[0] for name, field in AdvancedFeatures.model_fields.items()  # X | None -> X
}


class NodeContract(_Open):
    """A node's contract. Unknown top-level keys are kept; the sections omnimix acts on are strict."""

    name: str
    version: str | dict[str, int] | None = None
    node_type: str = Field(description="effect, compute, reducer or orchestrator (any case; EFFECT_GENERIC counts as effect).")
    description: str | None = None
    main_class: ClassName | None = None
    input_model: str | None = None
    output_model: str | None = None
    io_operations: list[IoOperation] = Field(default_factory=list)
    dependencies: list[Dependency] = Field(default_factory=list)
    error_handling: dict[str, Any] | None = Field(
        default=None,
        description="Legacy settings; where advanced_features sets the same key, advanced_features wins.",
    )
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


def field_path(loc: tuple[str | int, ...]) -> str:
    """``("mixins", 0, "name")`` as ``mixins[0].name``, the way messages name a contract field."""
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


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
        mark = getattr(exc.__cause__, "problem_mark", None)
        line = mark.line + 1 if mark is not None else exc.line
        raise ContractError(path, [(line, "", str(exc).split(": ", 1)[-1])]) from exc
    if not isinstance(data, dict):
        raise ContractError(path, [(1, "", "a contract must be a YAML mapping")])
    try:
        contract = NodeContract.model_validate(data)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            loc = tuple(error["loc"])
            problems.append((line_of(lines, loc), field_path(loc), _message(error)))
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
    message = error["msg"].removeprefix("Value error, ")
    return f"{message} (got {error.get('input')!r})"
