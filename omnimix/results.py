"""The closed set of frozen results the engine returns; it never raises."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from omnimix.analysis.loc import LineCount
from omnimix.findings import Finding
from omnimix.migration_state import Decision
from omnimix.source import encode_source


class Status(StrEnum):
    CHANGED = "changed"
    UNCHANGED = "unchanged"
    SKIPPED = "skipped"  # nothing to do, with a reason
    INPUT_ERROR = "input-error"  # the input was already broken (syntax, contract, usage)
    INTERNAL_ERROR = "internal-error"  # omnimix broke something; never written


@dataclass(frozen=True)
class FileScan:
    """Findings of one file."""

    path: Path
    display: str
    count: LineCount
    findings: tuple[Finding, ...] = ()
    status: Status = Status.UNCHANGED
    error: str | None = None


@dataclass(frozen=True)
class FileChange:
    """One file of a migration: its text before and after (``before=None`` creates it, ``after=None`` deletes it).

    ``encoding`` and ``bom`` say how the file is stored (see ``omnimix.source``); both texts are written back
    that way, so bytes omnimix did not change stay identical.
    """

    path: Path
    display: str
    before: str | None
    after: str | None
    encoding: str = "utf-8"
    bom: bool = False

    @property
    def changed(self) -> bool:
        return self.after != self.before

    def encode(self, text: str) -> bytes:
        """``text`` (``before`` or ``after``) as the bytes on disk; raises ``UnicodeEncodeError``."""
        return encode_source(text, self.encoding, self.bom)


@dataclass(frozen=True)
class ConcernDelta:
    """Lines attributed to one concern (or to 'bases and imports') before and after."""

    concern: str
    before: LineCount
    after: LineCount


@dataclass(frozen=True)
class NodeResult:
    """The outcome of migrating one node."""

    directory: Path
    display: str
    status: Status
    contract: Path | None = None
    node_class: str | None = None
    message: str = ""
    changes: tuple[FileChange, ...] = ()
    scans: tuple[FileScan, ...] = ()
    decisions: tuple[Decision, ...] = ()
    concern_deltas: tuple[ConcernDelta, ...] = ()
    mixins_applied: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    traceback: str | None = None
    extra: dict[str, object] = field(default_factory=dict)

    @property
    def changed_files(self) -> tuple[FileChange, ...]:
        return tuple(change for change in self.changes if change.changed)
