"""The frozen results of the verification gate: one per stage, one report per node."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

#: The stages, in the order they are reported.
STAGES = ("syntax", "idempotency", "imports", "composition", "contract", "behaviour", "types")


class StageStatus(StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    SKIPPED = "skipped"


@dataclass(frozen=True)
class StageResult:
    """One stage of the gate: its status, why, how long it took, and what it found.

    ``details["internal_error"]`` is true when the failure is a bug in omnimix (it broke the
    code, or the gate itself failed) rather than a problem of the migrated node.
    """

    name: str
    status: StageStatus
    reason: str
    seconds: float = 0.0
    details: dict[str, object] = field(default_factory=dict)

    @property
    def failed(self) -> bool:
        return self.status is StageStatus.FAILED

    def to_json(self) -> dict[str, object]:
        return {"name": self.name, "status": str(self.status), "reason": self.reason,
                "seconds": round(self.seconds, 3), "details": self.details}


def passed(name: str, reason: str, seconds: float = 0.0, **details: object) -> StageResult:
    return StageResult(name, StageStatus.PASSED, reason, seconds, details)


def failed(name: str, reason: str, seconds: float = 0.0, **details: object) -> StageResult:
    return StageResult(name, StageStatus.FAILED, reason, seconds, details)


def skipped(name: str, reason: str, seconds: float = 0.0, **details: object) -> StageResult:
    return StageResult(name, StageStatus.SKIPPED, reason, seconds, details)


@dataclass(frozen=True)
class GateReport:
    """Every stage's result for one migrated node; the node may be written only when it passed."""

    node: str
    stages: tuple[StageResult, ...]
    seconds: float

    @property
    def passed(self) -> bool:
        return not any(stage.failed for stage in self.stages)

    @property
    def failures(self) -> tuple[StageResult, ...]:
        return tuple(stage for stage in self.stages if stage.failed)

    @property
    def internal_error(self) -> bool:
        return any(stage.details.get("internal_error") for stage in self.failures)

    def stage(self, name: str) -> StageResult:
        return next(stage for stage in self.stages if stage.name == name)

    def summary(self) -> str:
        """One line: 'passed' with the stage count, or the failed stages with their causes."""
        if self.passed:
            ran = sum(1 for stage in self.stages if stage.status is StageStatus.PASSED)
            return f"gate passed ({ran} stages passed, {len(self.stages) - ran} skipped) in {self.seconds:.1f}s"
        causes = "; ".join(f"{stage.name}: {stage.reason}" for stage in self.failures)
        return f"gate failed at {causes}"

    def to_json(self) -> dict[str, object]:
        return {
            "status": "passed" if self.passed else "failed",
            "failed_stages": [stage.name for stage in self.failures],
            "internal_error": self.internal_error,
            "seconds": round(self.seconds, 3),
            "stages": [stage.to_json() for stage in self.stages],
        }
