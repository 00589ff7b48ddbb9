"""The fixture corpus's answer key and the line-overlap scoring of a scan against it."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import yaml

from omnimix.discovery import python_files
from omnimix.engine import scan_paths
from omnimix.findings import Finding

FIXTURE_ROOT = Path(__file__).resolve().parent.parent / "fixtures" / "omninode_bridge"
#: The second corpus, written in another hand at real size and duplication.
FIXTURE_ROOT_B = FIXTURE_ROOT.with_name("omninode_bridge_b")
CORPORA = {"a": FIXTURE_ROOT, "b": FIXTURE_ROOT_B}


@dataclass(frozen=True)
class KeyEntry:
    path: str
    concern: str
    symbol: str
    start_line: int
    end_line: int
    anchor: str
    description: str
    lookalike: bool = False


def load_key(root: Path = FIXTURE_ROOT) -> list[KeyEntry]:
    """Entries of EXPECTED.yaml (or of the parts under .expected/ when it is absent)."""
    merged = root / "EXPECTED.yaml"
    sources = [merged] if merged.is_file() else sorted((root / ".expected").glob("*.yaml"))
    entries = []
    for source in sources:
        data = yaml.safe_load(source.read_text(encoding="utf-8")) or {}
        for path, sections in (data.get("files") or {}).items():
            for kind, lookalike in (("instances", False), ("lookalikes", True)):
                for item in (sections or {}).get(kind) or []:
                    entries.append(KeyEntry(path, item["concern"], item["symbol"], int(item["start_line"]),
                                            int(item["end_line"]), item.get("anchor", ""),
                                            item.get("description", ""), lookalike))
    return entries


@dataclass
class Score:
    concern: str | None
    expected: int = 0
    found: int = 0
    recalled: int = 0
    precise: int = 0
    misses: list[KeyEntry] = field(default_factory=list)
    false_positives: list[tuple[str, Finding]] = field(default_factory=list)

    @property
    def recall(self) -> float:
        return self.recalled / self.expected if self.expected else 1.0

    @property
    def precision(self) -> float:
        return self.precise / self.found if self.found else 1.0


def _overlaps(a_start: int, a_end: int, b_start: int, b_end: int) -> bool:
    return a_start <= b_end and b_start <= a_end


@cache
def corpus_scans(root: Path = FIXTURE_ROOT) -> tuple:
    """The scan of the corpus, once per process (it does not change while tests run)."""
    return tuple(scan_paths(python_files([root / "src"]), root, jobs=os.cpu_count() or 1))


def score(root: Path = FIXTURE_ROOT, concern: str | None = None) -> Score:
    key = load_key(root)
    scans = corpus_scans(root)
    findings = [(scan.display, f) for scan in scans for f in scan.findings
                if concern is None or str(f.concern) == concern]
    instances = [e for e in key if not e.lookalike and (concern is None or e.concern == concern)]
    result = Score(concern, expected=len(instances), found=len(findings))
    for entry in instances:
        if any(path == entry.path and str(f.concern) == entry.concern
               and _overlaps(f.start_line, f.end_line, entry.start_line, entry.end_line)
               for path, f in findings):
            result.recalled += 1
        else:
            result.misses.append(entry)
    for path, f in findings:
        if any(entry.path == path and entry.concern == str(f.concern)
               and _overlaps(f.start_line, f.end_line, entry.start_line, entry.end_line)
               for entry in instances):
            result.precise += 1
        else:
            result.false_positives.append((path, f))
    return result
