"""Copies of concern code in the nodes of a run: node-class methods that a concern's findings cover."""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import libcst as cst

from omnimix.analysis.module_cache import parse_text
from omnimix.analysis.nodes import NodeClass, find_node_classes
from omnimix.concerns import Concern
from omnimix.consolidation.shape import Shape, shape_of
from omnimix.contract import ContractError, NodeContract, load_contract
from omnimix.results import NodeResult

#: Share of a method's lines that one concern's findings must cover for it to be concern code.
COVERAGE = 0.6

#: What a node's contract declares to let omnimix consolidate a concern's code into a project mixin.
SWITCHES: dict[Concern, tuple[str, ...]] = {
    Concern.SERVICE_REGISTRATION: ("advanced_features.service_registration",),
    Concern.DEAD_LETTER_QUEUE: ("advanced_features.dead_letter_queue",),
    Concern.HEALTH_CHECK: ("MixinHealthCheck",),
    Concern.METRICS: ("MixinMetrics", "advanced_features.observability"),
    Concern.CIRCUIT_BREAKER: ("advanced_features.circuit_breaker",),
    Concern.RETRY: ("advanced_features.retry_policy",),
    Concern.STRUCTURED_LOGGING: ("advanced_features.observability",),
    Concern.REDACTION: ("advanced_features.security_validation",),
}


@dataclass(frozen=True)
class NodeSource:
    """The node module of one result: its text after the per-node migration, parsed."""

    index: int
    result: NodeResult
    path: Path
    before: str
    text: str
    module: cst.Module
    class_name: str
    contract: NodeContract | None


@dataclass(frozen=True)
class Copy:
    """One method of a node class that is concern code."""

    source: NodeSource
    concern: Concern
    method: cst.FunctionDef
    shape: Shape
    lines: int

    @property
    def node(self) -> str:
        return self.source.result.display


def node_sources(results: list[NodeResult]) -> list[NodeSource]:
    """The node module of every result that has one (results that failed are left out)."""
    sources = []
    for index, result in enumerate(results):
        if result.status not in ("changed", "unchanged", "skipped") or not result.scans:
            continue
        texts = {}
        for scan in result.scans:
            change = next((c for c in result.changes if c.path == scan.path), None)
            before = change.before if change else _read(scan.path)
            after = (change.after if change else before)
            if before is not None and after is not None and "class " in after:
                texts[scan.path] = (before, after)
        main, modules = _node_class(texts, result.node_class)
        if main is None:
            continue
        contract = None
        if result.contract is not None:
            try:
                contract = load_contract(result.contract).contract
            except ContractError:
                continue
        before, after = texts[main.path]
        sources.append(NodeSource(index, result, main.path, before, after, modules[main.path], main.name, contract))
    return sources


def _node_class(texts: dict[Path, tuple[str, str]],
                name: str | None) -> tuple[NodeClass | None, dict[Path, cst.Module]]:
    """The node class among a node's files, and the modules parsed to find it: only the file whose text
    defines ``name`` when there is one; else every file, and then a class of node.py or the first found."""
    defining = {path: pair for path, pair in texts.items() if name and f"class {name}" in pair[1]}
    if defining:
        modules = _parsed(defining)
        main = next((c for c in find_node_classes(modules) if c.name == name), None)
        if main is not None:
            return main, modules
    modules = _parsed(texts)
    classes = find_node_classes(modules)
    main = next((c for c in classes if c.name == name), None) or next(
        (c for c in classes if c.path.name == "node.py"), None) or (classes[0] if classes else None)
    return main, modules


def _parsed(texts: dict[Path, tuple[str, str]]) -> dict[Path, cst.Module]:
    modules = {}
    for path, (_before, after) in texts.items():
        try:
            modules[path] = parse_text(after)
        except cst.ParserSyntaxError:
            continue
    return modules


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def declares(contract: NodeContract | None, concern: Concern) -> bool:
    if contract is None:
        return False
    for switch in SWITCHES.get(concern, ()):
        if switch.startswith("advanced_features."):
            feature = contract.feature(switch.split(".", 1)[1])
            if feature is not None and getattr(feature, "enabled", True):
                return True
        elif any(mixin.name == switch for mixin in contract.enabled_mixins()):
            return True
    return False


def copies_in(source: NodeSource) -> list[Copy]:
    """Methods of the node class that one concern's findings cover (by the scan of the original)."""
    spans = _method_spans(source.before, source.class_name)
    scan = next((s for s in source.result.scans if s.path == source.path), None)
    if scan is None or not spans:
        return []
    found = []
    for method in class_methods(source.module, source.class_name):
        span = spans.get(method.name.value)
        if span is None:
            continue
        start, end = span
        size = end - start + 1
        by_concern: dict[Concern, set[int]] = {}
        for finding in scan.findings:
            lines = set(range(max(start, finding.start_line), min(end, finding.end_line) + 1))
            if lines:
                by_concern.setdefault(Concern(finding.concern), set()).update(lines)
        if not by_concern:
            continue
        concern, covered = max(by_concern.items(), key=lambda item: len(item[1]))
        if len(covered) / size >= COVERAGE:
            found.append(Copy(source, concern, method, shape_of(method), size))
    return found


def class_methods(module: cst.Module, class_name: str) -> list[cst.FunctionDef]:
    cls = find_class(module, class_name)
    if cls is None or not isinstance(cls.body, cst.IndentedBlock):
        return []
    return [s for s in cls.body.body if isinstance(s, cst.FunctionDef) and not s.decorators]


def find_class(module: cst.Module, class_name: str) -> cst.ClassDef | None:
    return next((s for s in module.body if isinstance(s, cst.ClassDef) and s.name.value == class_name), None)


def _method_spans(text: str, class_name: str) -> dict[str, tuple[int, int]]:
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return {}
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and node.name == class_name:
            return {f.name: (f.lineno, f.end_lineno or f.lineno) for f in node.body
                    if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef)) and not f.decorator_list}
    return {}
