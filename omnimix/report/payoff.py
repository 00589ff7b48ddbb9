"""What a run removes, by disposition, and what omnibase-core would need to remove the rest."""

from __future__ import annotations

import ast
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from omnimix.analysis import cache
from omnimix.analysis.loc import ZERO, LineCount, code_line_numbers, count_lines
from omnimix.concerns import Action, Concern
from omnimix.migration_state import Decision, Outcome
from omnimix.results import FileChange, NodeResult

#: Dispositions in report order: outcome -> label.
DISPOSITIONS: dict[Outcome, str] = {
    Outcome.APPLIED: "migrated to omnibase-core",
    Outcome.CONSOLIDATED: "consolidated",
    Outcome.PENDING_UNSAFE: "unsafe pending",
    Outcome.KEPT: "kept",
    Outcome.NOT_DECLARED: "not declared",
}

#: Capabilities omnibase-core 0.47.57 lacks, by concern; the first pattern found in a finding's reason wins.
GAPS: dict[Concern, tuple[tuple[str | None, str], ...]] = {
    Concern.SERVICE_REGISTRATION: (
        (None, "no self-registration in a service registry (Consul register/deregister with a health URL)"),),
    Concern.DEAD_LETTER_QUEUE: (
        (None, "no dead-letter publisher: set_dlq_topic_deriver selects a topic; nothing sends, counts or commits"),),
    Concern.METRICS: (
        (r"percentile|latency|histogram|samples|throughput", "MixinMetrics keeps no samples: no percentiles, averages or throughput windows"),
        (r"tags|per operation|per error|breakdown", "MixinMetrics counters have no tags (no per-operation or per-error breakdown)"),
        (r"model|record_", "no metrics model with computed rates (record_* methods)"),
        (None, "MixinMetrics stores {name: {'value': n}} entries: dict-shaped metrics and snapshots stay"),
    ),
    Concern.HEALTH_CHECK: (
        (r"document|dict shape|probe", "no health document in the node's shape (keys, thresholds, per-component details)"),
        (None, "MixinHealthCheck has no component-check registration with critical/timeout roll-up"),
    ),
    Concern.CIRCUIT_BREAKER: (
        (None, "ModelCircuitBreaker is windowed with a minimum request count: no consecutive-failure mode, "
               "no injectable clock, no call wrapper"),),
    Concern.RETRY: (
        (r"jitter|calculate_next_delay", "ModelRetryPolicy always adds jitter: no exact hand-written backoff"),
        (None, "no retry helper for hand-written loops and consumer back-off"),
    ),
    Concern.STRUCTURED_LOGGING: (
        (None, "emit_log_event_sync writes another record shape: no operation logger with correlation ids"),),
    Concern.REDACTION: (
        (None, "MixinSensitiveFieldRedaction matches keys by substring: no exact redaction or input validation rules"),),
}


@dataclass
class NodePayoff:
    """Code lines of one node before and after, and the code lines of its findings by disposition."""

    node: str
    before: LineCount
    after: LineCount
    by_disposition: dict[str, int] = field(default_factory=dict)


@dataclass
class CoreGap:
    capability: str
    concern: str
    findings: int = 0
    code_lines: int = 0
    nodes: set[str] = field(default_factory=set)


def _before_texts(result: NodeResult) -> dict[Path, str]:
    return _texts(result, {change.path: change.before for change in result.changes if change.before is not None})


def _texts(result: NodeResult, texts: dict[Path, str]) -> dict[Path, str]:
    """``texts`` completed with the files the node's scan read and the migration did not touch."""
    for scan in result.scans:
        if scan.path not in texts:
            try:
                texts[scan.path] = scan.path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                continue
    return texts


@lru_cache(maxsize=512)
def _code_lines(text: str) -> frozenset[int]:
    return frozenset(code_line_numbers(text))


def _decision_lines(result: NodeResult) -> list[tuple[Decision, set[int]]]:
    """Each decision with the code lines of its finding; a line counts for the first decision covering it."""
    texts = _before_texts(result)
    claimed: dict[Path, set[int]] = {}
    out = []
    order = list(DISPOSITIONS)
    for decision in sorted(result.decisions, key=lambda d: order.index(d.outcome) if d.outcome in order else 99):
        text = texts.get(decision.path)
        if text is None:
            continue
        lines = set(range(decision.finding.start_line, decision.finding.end_line + 1)) & _code_lines(text)
        lines -= claimed.setdefault(decision.path, set())
        claimed[decision.path] |= lines
        out.append((decision, lines))
    return out


def is_shared(change: FileChange, result: NodeResult) -> bool:
    """A file the run creates or changes outside the node's directory (a consolidated mixin, the project's
    shared health mixin): several nodes carry the same change, and it counts once for the run."""
    return change.before is None or not change.path.resolve().is_relative_to(result.directory.resolve())


def node_payoff(result: NodeResult) -> NodePayoff:
    before = after = ZERO
    for change in result.changes:
        if is_shared(change, result):
            continue
        if change.before is not None:
            before = before + count_lines(change.before)
        if change.after is not None and change.before is not None:
            after = after + count_lines(change.after)
    if not result.changes:  # skipped or failed: its files as scanned, unchanged
        for scan in result.scans:
            before, after = before + scan.count, after + scan.count
    payoff = NodePayoff(result.display, before, after, {label: 0 for label in DISPOSITIONS.values()})
    for decision, lines in _decision_lines(result):
        label = DISPOSITIONS.get(decision.outcome)
        if label is not None:
            payoff.by_disposition[label] += len(lines)
    return payoff


@dataclass(frozen=True)
class SharedFile:
    """A file outside the nodes that the run creates (``before`` is None) or changes."""

    before: LineCount | None
    after: LineCount


def shared_files(results: Sequence[NodeResult]) -> dict[Path, SharedFile]:
    """Files a run creates or changes for several nodes at once (consolidated mixins, the shared health
    mixin), counted once."""
    shared: dict[Path, SharedFile] = {}
    for result in results:
        for change in result.changes:
            if change.after is not None and change.changed and is_shared(change, result):
                before = None if change.before is None else count_lines(change.before)
                shared[change.path] = SharedFile(before, count_lines(change.after))
    return shared


def run_totals(results: Sequence[NodeResult]) -> tuple[LineCount, LineCount]:
    """Code of the nodes and of the project modules they import (shared mixins, utils), before and
    after the run; each file counted once, files the run creates counted after."""
    before = after = ZERO
    for payoff in map(node_payoff, results):
        before, after = before + payoff.before, after + payoff.after
    for file in shared_files(results).values():
        before, after = before + (file.before or ZERO), after + file.after
    for path in used_project_modules(results):
        count = count_lines(path.read_text(encoding="utf-8"))
        before, after = before + count, after + count
    return before, after


def used_project_modules(results: Sequence[NodeResult]) -> list[Path]:
    """Modules of the nodes' own package outside every node directory that the nodes import
    (``omninode_bridge.nodes.mixins.health_mixin``, ``omninode_bridge.utils.clock``...)."""
    node_dirs = [r.directory.resolve() for r in results]
    owned = {c.path.resolve() for r in results for c in r.changes} | {
        s.path.resolve() for r in results for s in r.scans}
    found: set[Path] = set()
    for result in results:
        texts = _texts(result, {c.path: c.after if c.after is not None else c.before
                                for c in result.changes if c.after is not None or c.before is not None})
        for file, text in texts.items():
            if file.suffix != ".py":
                continue
            for module in _imported_modules(text):
                path = _module_file(module, file)
                if (path is not None and path.resolve() not in owned
                        and not any(path.resolve().is_relative_to(d) for d in node_dirs)):
                    found.add(path.resolve())
    return sorted(found)


def _imported_modules(text: str) -> list[str]:
    return cache.by_text("imports", text, _parsed_imports)


def _parsed_imports(text: str) -> list[str]:
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return []
    modules = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and not node.level:
            modules.append(node.module)
            modules.extend(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            modules.extend(alias.name for alias in node.names)
    return modules


def _module_file(module: str, importer: Path) -> Path | None:
    """The file of ``module`` when it belongs to the same top-level package as ``importer``."""
    directory = importer.resolve().parent
    while (directory.parent / "__init__.py").is_file():
        directory = directory.parent
    top = directory.name
    parts = module.split(".")
    if parts[0] != top or not (directory / "__init__.py").is_file():
        return None
    base = directory.parent.joinpath(*parts)
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def core_gaps(results: Sequence[NodeResult]) -> list[CoreGap]:
    """What omnibase-core lacks, with the findings and code lines it keeps out of reach, largest first."""
    gaps: dict[str, CoreGap] = {}
    blocked = {Outcome.KEPT, Outcome.CONSOLIDATED, Outcome.PENDING_UNSAFE}
    for result in results:
        for decision, lines in _decision_lines(result):
            finding = decision.finding
            if decision.outcome not in blocked and not (decision.outcome is Outcome.NOT_DECLARED
                                                        and finding.action is Action.KEEP):
                continue
            capability = gap_of(Concern(finding.concern), f"{finding.reason} {decision.note}")
            gap = gaps.setdefault(capability, CoreGap(capability, str(finding.concern)))
            gap.findings += 1
            gap.code_lines += len(lines)
            gap.nodes.add(result.display)
    return sorted(gaps.values(), key=lambda g: (-g.code_lines, -g.findings, g.capability))


def gap_of(concern: Concern, reason: str) -> str:
    for pattern, capability in GAPS.get(concern, ((None, f"no omnibase-core equivalent for {concern}"),)):
        if pattern is None or re.search(pattern, reason, re.IGNORECASE):
            return capability
    return f"no omnibase-core equivalent for {concern}"


def payoff_json(results: Sequence[NodeResult]) -> dict[str, object]:
    before, after = run_totals(results)
    return {
        "code_lines": {"before": before.code_lines, "after": after.code_lines,
                       "change": after.code_lines - before.code_lines,
                       "percent": _percent(before.code_lines, after.code_lines)},
        "shared_files": [{"path": str(path), "code_lines": file.after.code_lines,
                          "code_lines_before": None if file.before is None else file.before.code_lines}
                         for path, file in sorted(shared_files(results).items())],
        "nodes": [{"node": p.node, "code_lines_before": p.before.code_lines, "code_lines_after": p.after.code_lines,
                   "findings_code_lines": p.by_disposition} for p in map(node_payoff, results)],
        "core_gaps": [{"capability": g.capability, "concern": g.concern, "findings": g.findings,
                       "code_lines": g.code_lines, "nodes": sorted(g.nodes)} for g in core_gaps(results)],
    }


def _percent(before: int, after: int) -> float:
    return round(100.0 * (after - before) / before, 1) if before else 0.0
