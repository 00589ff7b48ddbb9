"""The rules a contract must follow beyond its schema, checked against the mixin catalog.

One rule set serves ``omnimix validate``, ``omnimix contract upgrade`` and the engine (which
refuses to migrate under a contract with errors). The rules:

* schema: every error ``load_contract`` reports (YAML, unknown keys, wrong types) is an error;
* mixins (enabled ones only): a name omnibase-core documents but does not ship, an unknown name
  (with a did-you-mean), a catalog entry that is not a mixin, a mixin declared twice, a mixin the
  catalog says cannot be composed with the contract's node type, and two mixins the catalog says
  are incompatible are errors; a mixin that the node base already contains is a warning;
* config: a ``config`` key the mixin does not take (the catalog's ``config_keys``) is an error;
* dependencies: an io operation must have a dependency that can serve it (IO_DEPENDENCIES), and
  an enabled advanced feature that needs one must have it (FEATURE_DEPENDENCIES); else an error;
* legacy: a key set in both ``error_handling`` and ``advanced_features`` is a warning, since
  ``advanced_features`` wins and the ``error_handling`` one is ignored.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from omnimix.catalog import NODE_BASE, Catalog, CatalogEntry, load_catalog
from omnimix.contract import (
    FEATURE_MODELS,
    ContractError,
    LoadedContract,
    field_path,
    load_contract,
)

#: io operation type -> dependency types that can serve it. Other io types (file, ...) need none.
IO_DEPENDENCIES: dict[str, tuple[str, ...]] = {
    "database": ("database",),
    "kafka": ("kafka",),
    "consul": ("consul",),
    "http": ("http", "service", "llm"),
    "llm": ("llm", "http"),
}

#: Other words teams use for the same kind of dependency (``type: event_bus`` for Kafka, say).
KIND_SYNONYMS: dict[str, str] = {
    "event_bus": "kafka", "message_bus": "kafka", "messaging": "kafka", "broker": "kafka", "redpanda": "kafka",
    "postgres": "database", "postgresql": "database", "db": "database", "sql": "database",
    "service_discovery": "consul", "service_registry": "consul",
}


def dependency_kinds(type_: str | None, name: str | None = None) -> set[str]:
    """What a dependency (or io operation) can serve: its type, normalised, and a known kind in its name."""
    kinds = set()
    for word in (type_, name):
        if word:
            word = word.lower()
            kinds.add(KIND_SYNONYMS.get(word, word))
    if name and name.lower() in {*KIND_SYNONYMS.values(), *KIND_SYNONYMS}:
        kinds.add(KIND_SYNONYMS.get(name.lower(), name.lower()))
    return kinds


#: advanced feature -> (dependency type it needs, why).
FEATURE_DEPENDENCIES: dict[str, tuple[str, str]] = {
    "dead_letter_queue": ("kafka", "its dead-letter topic is a Kafka topic"),
    "transactions": ("database", "transactions are database transactions"),
}


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, order=True)
class ContractProblem:
    """One problem of one contract: where (file, line, field), how bad, and what to do."""

    path: Path
    line: int
    field: str
    severity: Severity
    message: str

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR

    def render(self, display: str | None = None) -> str:
        """``path:line: field: severity: message``, one line."""
        return f"{display or self.path}:{self.line}: {self.field}: {self.severity}: {self.message}"

    def to_json(self, display: str | None = None) -> dict[str, object]:
        return {"path": display or str(self.path), "line": self.line, "field": self.field,
                "severity": str(self.severity), "message": self.message}


def validate_path(path: Path, catalog: Catalog | None = None) -> list[ContractProblem]:
    """Every problem of the contract at ``path``: schema errors, or else the rules of this module."""
    try:
        loaded = load_contract(path)
    except ContractError as exc:
        return [ContractProblem(path, line or 1, field or "<contract>", Severity.ERROR, message)
                for line, field, message in exc.problems]
    return validate_contract(loaded, catalog)


def validate_contract(loaded: LoadedContract, catalog: Catalog | None = None) -> list[ContractProblem]:
    """The problems of a contract that passed its schema, sorted by line."""
    catalog = catalog or load_catalog()
    rules = _Rules(loaded, catalog)
    rules.mixins()
    rules.dependencies()
    rules.legacy_duplicates()
    return sorted(rules.problems, key=lambda problem: (problem.line, problem.field))


def composition_problem(entry: CatalogEntry, node_type: str, catalog: Catalog) -> tuple[Severity, str] | None:
    """Why ``entry`` cannot (error) or need not (warning) be added to a node of ``node_type``."""
    base = catalog.node_base_for(node_type).name
    composition = entry.composition
    if entry.kind != "mixin" or composition is None:
        return Severity.ERROR, f"{entry.name} is a {entry.kind.replace('_', ' ')} in omnibase-core, not a mixin"
    if base in composition.already_in:
        return Severity.WARNING, f"{entry.name} is already part of {base}; it is not added again"
    if NODE_BASE in composition.incompatible_with or node_type not in composition.node_types:
        return Severity.ERROR, (f"{entry.name} cannot be combined with {base} in omnibase-core "
                                f"{catalog.omnibase_core_version}: {composition.reason}")
    return None


class _Rules:
    """Runs each rule over one loaded contract and collects its problems."""

    def __init__(self, loaded: LoadedContract, catalog: Catalog) -> None:
        self.loaded = loaded
        self.contract = loaded.contract
        self.catalog = catalog
        self.problems: list[ContractProblem] = []

    def add(self, loc: tuple[str | int, ...], severity: Severity, message: str) -> None:
        line = self.loaded.line(*loc) or 1
        self.problems.append(ContractProblem(self.loaded.path, line, field_path(loc), severity, message))

    # -- mixins ---------------------------------------------------------------------------
    def mixins(self) -> None:
        node_type = self.contract.kind.value if self.contract.kind else ""
        seen: dict[str, int] = {}
        accepted: list[tuple[int, CatalogEntry]] = []
        for index, mixin in enumerate(self.contract.mixins):
            if not mixin.enabled:
                continue
            where = ("mixins", index, "name")
            if mixin.name in seen:
                self.add(where, Severity.ERROR, f"{mixin.name} is declared twice (also mixins[{seen[mixin.name]}]); "
                                                "a class cannot list the same base twice")
                continue
            seen[mixin.name] = index
            entry = self._known(mixin.name, where)
            if entry is None:
                continue
            problem = composition_problem(entry, node_type, self.catalog)
            if problem is not None:
                self.add(where, *problem)
                if problem[0] is Severity.ERROR:
                    continue
            self._config(index, mixin.config, entry)
            accepted.append((index, entry))
        self._pairs(accepted)

    def _known(self, name: str, where: tuple[str | int, ...]) -> CatalogEntry | None:
        missing = self.catalog.not_shipped_entry(name)
        if missing is not None:
            self.add(where, Severity.ERROR, f"{name} is not shipped by omnibase-core "
                                            f"{self.catalog.omnibase_core_version}: {missing.reason} "
                                            f"Use instead: {missing.alternative}")
            return None
        entry = self.catalog.get(name)
        if entry is None:
            hint = [n for n in self.catalog.suggest(name) if _is_mixin(self.catalog.get(n))]
            self.add(where, Severity.ERROR, f"unknown mixin {name!r}"
                     + (f"; did you mean {_one_of(hint)}?" if hint else "; see `omnimix catalog list`"))
        return entry

    def _config(self, index: int, config: dict[str, object], entry: CatalogEntry) -> None:
        for key in config:
            if key in entry.config_keys:
                continue
            if not entry.config_keys:
                message = f"{entry.name} takes no config keys, so {key!r} is not accepted"
            else:
                close = difflib.get_close_matches(str(key), entry.config_keys, n=1)
                hint = f"did you mean {close[0]}? It" if close else "it"
                message = (f"{entry.name} does not take config key {key!r}; {hint} "
                           f"takes {', '.join(entry.config_keys)}")
            self.add(("mixins", index, "config", key), Severity.ERROR, message)

    def _pairs(self, accepted: list[tuple[int, CatalogEntry]]) -> None:
        for position, (index, entry) in enumerate(accepted):
            assert entry.composition is not None  # composition_problem let it through
            for other_index, other in accepted[:position]:
                if other.name in entry.composition.incompatible_with:
                    reason = entry.composition.reason
                elif other.composition is not None and entry.name in other.composition.incompatible_with:
                    reason = other.composition.reason
                else:
                    continue
                self.add(("mixins", index, "name"), Severity.ERROR,
                         f"{entry.name} cannot be combined with {other.name} (mixins[{other_index}]): {reason}")

    # -- dependencies ---------------------------------------------------------------------
    def dependencies(self) -> None:
        available = {kind for dependency in self.contract.dependencies
                     for kind in dependency_kinds(dependency.type, dependency.name)}
        for index, operation in enumerate(self.contract.io_operations):
            kind = (operation.type or "").lower()
            needed = IO_DEPENDENCIES.get(KIND_SYNONYMS.get(kind, kind))
            if needed and not available.intersection(needed):
                self.add(("io_operations", index, "type"), Severity.ERROR,
                         f"io operation {operation.name!r} has type {operation.type} but no dependency can serve "
                         f"it; declare a dependency of type {_one_of(needed)}")
        for feature, (kind, why) in FEATURE_DEPENDENCIES.items():
            if self.contract.feature(feature) is not None and kind not in available:
                self.add(("advanced_features", feature), Severity.ERROR,
                         f"{feature} needs a dependency of type {kind} ({why}), but none is declared")

    # -- error_handling vs advanced_features ----------------------------------------------
    def legacy_duplicates(self) -> None:
        legacy = self.contract.error_handling or {}
        features = self.contract.advanced_features
        if features is None:
            return
        for name in FEATURE_MODELS:
            if name in legacy and getattr(features, name) is not None:
                line = self.loaded.line("advanced_features", name)
                self.add(("error_handling", name), Severity.WARNING,
                         f"also set as advanced_features.{name} (line {line}); advanced_features wins and "
                         f"error_handling.{name} is ignored")


def _is_mixin(entry: CatalogEntry | None) -> bool:
    return entry is not None and entry.kind == "mixin"


def _one_of(names: list[str] | tuple[str, ...]) -> str:
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"
