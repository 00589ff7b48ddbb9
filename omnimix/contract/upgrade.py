"""Upgrade a legacy contract: declare the target state that its node's code and error_handling imply.

A legacy contract has neither ``mixins`` nor ``advanced_features``. The upgrade appends both:
``advanced_features`` carries over the ``error_handling`` entries the AdvancedFeatures model knows
(retry_policy, circuit_breaker, dead_letter_queue, ...), keeping only the keys it accepts, and
``mixins`` lists the mixins that replace what ``scan`` finds in the node's code (RECOMMENDED),
when the catalog says they compose with the node type. The file is edited by a ruamel.yaml round
trip, so every existing line stays byte-identical; the diff only adds lines.
"""

from __future__ import annotations

import difflib
import io
import re
import tempfile
import traceback
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError

from omnimix.catalog import Catalog, load_catalog
from omnimix.concerns import Action, Concern
from omnimix.contract import FEATURE_MODELS, ContractError, load_contract
from omnimix.contract.validation import (
    FEATURE_DEPENDENCIES,
    composition_problem,
    validate_path,
)
from omnimix.discovery import display_path, node_dirs
from omnimix.engine import scan_paths
from omnimix.results import FileChange, FileScan, Status

#: Concern found in the node's code -> the mixin that replaces it.
RECOMMENDED: dict[Concern, str] = {
    Concern.HEALTH_CHECK: "MixinHealthCheck",
    Concern.METRICS: "MixinMetrics",
}
HEADER = "Target state (added by `omnimix contract upgrade`)"
#: Indentation styles tried, in order, until ruamel.yaml reproduces the file exactly: (mapping, offset).
_INDENTS = ((2, 2), (2, 0), (4, 2), (4, 0), (4, 4), (3, 0), (3, 2))


@dataclass(frozen=True)
class Recommendation:
    """A mixin to declare, and the findings it is recommended for."""

    mixin: str
    concern: Concern
    findings: int


@dataclass(frozen=True)
class ContractUpgrade:
    """The outcome of upgrading one contract; ``change`` is set when the file would change."""

    path: Path
    display: str
    status: Status
    message: str
    change: FileChange | None = None
    notes: tuple[str, ...] = ()
    traceback: str | None = None


def upgrade_contract(path: Path, root: Path, catalog: Catalog | None = None) -> ContractUpgrade:
    """Propose the upgrade of the contract at ``path``. Never raises: errors become results."""
    display = display_path(path, root)
    try:
        return _upgrade(path, root, display, catalog or load_catalog())
    except Exception:
        return ContractUpgrade(path, display, Status.INTERNAL_ERROR,
                               "omnimix failed on this contract (a bug in omnimix; nothing was written)",
                               traceback=traceback.format_exc())


def recommend_mixins(scans: Sequence[FileScan], node_type: str, catalog: Catalog) -> tuple[list[Recommendation], list[str]]:
    """Mixins replacing what the scan found (findings it would keep do not count), and notes on the rest."""
    recommendations, notes = [], []
    for concern, name in RECOMMENDED.items():
        count = sum(1 for scan in scans for finding in scan.findings
                    if finding.concern == concern and finding.action is not Action.KEEP)
        if not count:
            continue
        entry = catalog.get(name)
        if entry is None or concern not in entry.replaces:
            notes.append(f"{count} {concern} finding(s), but the catalog has no mixin {name} replacing {concern}")
            continue
        problem = composition_problem(entry, node_type, catalog)
        if problem is not None:
            notes.append(f"{name} not added for {count} {concern} finding(s): {problem[1]}")
            continue
        recommendations.append(Recommendation(name, concern, count))
    return recommendations, notes


def _upgrade(path: Path, root: Path, display: str, catalog: Catalog) -> ContractUpgrade:
    def result(status: Status, message: str, **kwargs: Any) -> ContractUpgrade:
        return ContractUpgrade(path, display, status, message, **kwargs)

    try:
        loaded = load_contract(path)
    except ContractError as exc:
        return result(Status.INPUT_ERROR, "invalid contract, fix it first:\n" + "\n".join(exc.lines()))
    targeted = bool({"mixins", "advanced_features"} & loaded.contract.model_fields_set)
    if targeted and loaded.contract.feature("service_registration") is not None:
        return result(Status.SKIPPED, "already declares mixins or advanced_features: left alone")
    errors = [problem for problem in validate_path(path, catalog) if problem.is_error]
    if errors:
        return result(Status.INPUT_ERROR, "invalid contract, fix it first:\n"
                      + "\n".join(problem.render(display) for problem in errors))
    with open(path, encoding="utf-8", newline="") as handle:
        before = handle.read()
    newline = "\r\n" if "\r\n" in before else "\n"
    text = before.replace("\r\n", "\n")
    yaml = _round_trip_yaml(text)
    if yaml is None:
        return result(Status.INPUT_ERROR, "ruamel.yaml cannot reproduce this file byte for byte, so it is not "
                                          "edited; add mixins and advanced_features by hand")
    data = yaml.load(text)

    contract = loaded.contract
    scans = scan_paths(node_dirs(path)[0].files, root)
    failed = [scan for scan in scans if scan.status in (Status.INPUT_ERROR, Status.INTERNAL_ERROR)]
    if failed:
        status = Status.INTERNAL_ERROR if any(s.status is Status.INTERNAL_ERROR for s in failed) else Status.INPUT_ERROR
        return result(status, "cannot scan the node's code, so no mixins can be recommended:\n"
                      + "\n".join(scan.error or scan.display for scan in failed))
    registration = _registration_feature(scans)
    if targeted:
        if registration is None:
            return result(Status.SKIPPED, "already declares mixins or advanced_features: left alone")
        return _declare_registration(result, yaml, data, text, before, newline, path, display, catalog,
                                     registration)
    recommendations, notes = recommend_mixins(scans, contract.kind.value, catalog)  # kind: load_contract checked it
    dependency_types = {dependency.type for dependency in contract.dependencies}
    features, feature_notes = _features(data.get("error_handling"), dependency_types)
    notes.extend(feature_notes)
    if registration is not None:
        features["service_registration"] = registration
    if not recommendations and not features:
        return result(Status.UNCHANGED, "nothing to add: error_handling has nothing advanced_features takes, and "
                                        "the scan found no code that an omnibase-core mixin replaces",
                      notes=tuple(notes))

    after = _render(yaml, data, text, recommendations, features)
    if after is None:
        return result(Status.INTERNAL_ERROR, "the upgrade would change existing lines (a bug in omnimix; "
                                             "nothing was written)")
    after = after.replace("\n", newline)
    new_errors = _errors_of(path.name, after, display, catalog)
    if new_errors:
        return result(Status.INTERNAL_ERROR, "the upgraded contract does not validate (a bug in omnimix; nothing "
                                             "was written):\n" + "\n".join(new_errors))
    return result(Status.CHANGED, _summary(recommendations, features),
                  change=FileChange(path, display, before, after), notes=tuple(notes))


def _registration_feature(scans: Sequence[FileScan]) -> CommentedMap | None:
    """``service_registration`` to declare when the scan found the node registering itself."""
    found = [scan for scan in scans if any(f.concern == Concern.SERVICE_REGISTRATION for f in scan.findings)]
    if not found:
        return None
    texts = []
    for scan in found:
        try:
            texts.append(scan.path.read_text(encoding="utf-8").lower())
        except (OSError, UnicodeDecodeError):
            continue
    feature = CommentedMap(enabled=True, provider="consul" if any("consul" in t for t in texts) else "registry")
    feature.fa.set_flow_style()
    return feature


def _declare_registration(result, yaml: YAML, data: CommentedMap, text: str, before: str, newline: str,
                          path: Path, display: str, catalog: Catalog, feature: CommentedMap) -> ContractUpgrade:
    """A target-state contract gains ``advanced_features.service_registration`` (for consolidation)."""
    features = data.get("advanced_features")
    if features is None:
        data["advanced_features"] = CommentedMap(service_registration=feature)
    elif isinstance(features, CommentedMap) and not features.fa.flow_style():
        features["service_registration"] = feature
    else:
        return result(Status.UNCHANGED, "advanced_features is written inline; declare service_registration by hand")
    after = _dump(yaml, data)
    if not _only_adds_lines(text, after):
        return result(Status.UNCHANGED, "declaring service_registration would change existing lines; add it by hand")
    after = after.replace("\n", newline)
    new_errors = _errors_of(path.name, after, display, catalog)
    if new_errors:
        return result(Status.INTERNAL_ERROR, "the upgraded contract does not validate (a bug in omnimix; nothing "
                                             "was written):\n" + "\n".join(new_errors))
    return result(Status.CHANGED, "adds advanced_features service_registration (from the scan)",
                  change=FileChange(path, display, before, after))


def _render(yaml: YAML, data: CommentedMap, text: str, recommendations: list[Recommendation],
            features: CommentedMap) -> str | None:
    """``text`` with mixins and advanced_features appended under a header comment; None if a line would change."""
    if recommendations:
        data["mixins"] = CommentedSeq(CommentedMap(name=r.mixin, enabled=True) for r in recommendations)
    if features:
        data["advanced_features"] = features
    separated = re.search(r"\n\n[^\s]", text) is not None  # keep the file's blank lines between sections
    first = "mixins" if recommendations else "advanced_features"
    data.yaml_set_comment_before_after_key(first, before=("\n" if separated else "") + HEADER, indent=0)
    after = _dump(yaml, data)
    return after if _only_adds_lines(text, after) else None


def _summary(recommendations: list[Recommendation], features: CommentedMap) -> str:
    added = []
    if recommendations:
        found = " and ".join(f"{r.findings} {r.concern} finding(s)" for r in recommendations)
        added.append(f"mixins {', '.join(r.mixin for r in recommendations)} (from {found})")
    if features:
        added.append(f"advanced_features {', '.join(features)} (from error_handling)")
    return "adds " + " and ".join(added)


def _features(error_handling: Any, dependency_types: set[str | None]) -> tuple[CommentedMap, list[str]]:
    """advanced_features entries from error_handling, each valid for its model; notes on what was left."""
    features, notes = CommentedMap(), []
    if not isinstance(error_handling, dict):
        return features, notes
    for name, source in error_handling.items():
        model = FEATURE_MODELS.get(name)
        if model is None:
            notes.append(f"error_handling.{name} has no advanced_features equivalent: kept as it is")
            continue
        if not isinstance(source, dict):
            notes.append(f"error_handling.{name} is not a mapping: not carried over")
            continue
        feature = CommentedMap(enabled=source.get("enabled", True))
        for key, value in source.items():
            if key == "enabled":
                continue
            if key in model.model_fields:
                feature[key] = value
            else:
                notes.append(f"error_handling.{name}.{key} has no advanced_features equivalent: not carried over")
        try:
            model.model_validate(_plain(feature))
        except ValidationError as exc:
            problem = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
            notes.append(f"error_handling.{name} not carried over: {problem}")
            continue
        needed = FEATURE_DEPENDENCIES.get(name)
        if feature["enabled"] and needed and needed[0] not in dependency_types:
            notes.append(f"error_handling.{name} not carried over: advanced_features.{name} needs a dependency of "
                         f"type {needed[0]} ({needed[1]}), and the contract declares none")
            continue
        if isinstance(source, CommentedMap) and source.fa.flow_style():
            feature.fa.set_flow_style()
        features[name] = feature
    return features, notes


def _round_trip_yaml(text: str) -> YAML | None:
    """A round-trip YAML set up with the indentation under which it reproduces ``text`` exactly."""
    expected = text if text.endswith("\n") else text + "\n"
    for mapping, offset in _INDENTS:
        yaml = YAML(typ="rt")
        yaml.preserve_quotes = True
        yaml.width = 4096  # never re-wrap long lines
        yaml.indent(mapping=mapping, sequence=offset + 2, offset=offset)
        try:
            data = yaml.load(text)
        except YAMLError:
            return None
        if not isinstance(data, CommentedMap):
            return None
        if _dump(yaml, data) == expected:
            return yaml
    return None


def _dump(yaml: YAML, data: Any) -> str:
    stream = io.StringIO()
    yaml.dump(data, stream)
    return stream.getvalue()


def _only_adds_lines(before: str, after: str) -> bool:
    old = (before if before.endswith("\n") else before + "\n").splitlines(keepends=True)
    opcodes = difflib.SequenceMatcher(None, old, after.splitlines(keepends=True), autojunk=False).get_opcodes()
    return all(tag in ("equal", "insert") for tag, *_ in opcodes)


def _errors_of(name: str, text: str, display: str, catalog: Catalog) -> list[str]:
    with tempfile.TemporaryDirectory(prefix="omnimix-upgrade-") as folder:
        candidate = Path(folder, name)
        candidate.write_text(text, encoding="utf-8", newline="")
        return [problem.render(display) for problem in validate_path(candidate, catalog) if problem.is_error]


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value
