"""The mixin catalog: validated models of what omnibase-core offers, loaded from `catalog/*.yaml`."""

from __future__ import annotations

import difflib
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

from catalog import CATALOG_DIR

NodeType = Literal["effect", "compute", "reducer", "orchestrator"]
Concern = Literal[
    "circuit_breaker",
    "retry",
    "health_check",
    "metrics",
    "dead_letter_queue",
    "structured_logging",
    "redaction",
    "service_registration",
]
NODE_BASE = "node_base"
CATALOG_FILES = ("mixins.yaml", "builtins.yaml", "not_shipped.yaml")


class CatalogError(Exception):
    """A catalog file is missing, malformed or inconsistent."""


class MethodSpec(BaseModel):
    """A method, property or function with its exact `inspect.signature` text."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    signature: str
    is_async: bool
    kind: Literal["method", "classmethod", "staticmethod", "property", "function"]


class Composition(BaseModel):
    """How a mixin or node base may be combined into a node class."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    must_follow_node_base: bool
    incompatible_with: list[str]
    node_types: list[NodeType]
    already_in: list[str]
    reason: str


class CatalogEntry(BaseModel):
    """One thing omnibase-core ships: a mixin, node base, model, enum, function or method."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    kind: Literal["mixin", "node_base", "model", "enum", "function", "method"]
    module: str
    import_from: str
    purpose: str
    when_to_use: str
    capabilities: list[str]
    hooks: list[MethodSpec]
    methods: list[MethodSpec]
    composition: Composition | None
    replaces: list[Concern]
    caveats: list[str]
    config_keys: list[str]
    members: list[str] = []
    example: str

    @model_validator(mode="after")
    def _check_kind_fields(self) -> CatalogEntry:
        has_composition = self.kind in ("mixin", "node_base")
        if has_composition != (self.composition is not None):
            raise ValueError(f"composition is required for mixins and node bases only (kind {self.kind!r})")
        if self.members and self.kind != "enum":
            raise ValueError("members is for enums only")
        if self.kind in ("function", "method") and len(self.methods) != 1:
            raise ValueError(f"a {self.kind} entry describes itself with exactly one item in methods")
        names = [spec.name for spec in [*self.hooks, *self.methods]]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise ValueError(f"listed more than once in hooks/methods: {', '.join(duplicates)}")
        return self

    @property
    def import_line(self) -> str:
        """The import statement users should write for this entry."""
        return f"from {self.import_from} import {self.name.split('.')[0]}"


class NotShipped(BaseModel):
    """A name the library documents but does not ship, with the real alternative."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    reason: str
    alternative: str


class Catalog(BaseModel):
    """All catalog entries for one omnibase-core version."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    omnibase_core_version: str
    entries: list[CatalogEntry]
    not_shipped: list[NotShipped]

    @model_validator(mode="after")
    def _check_consistency(self) -> Catalog:
        names = [entry.name for entry in self.entries] + [item.name for item in self.not_shipped]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise ValueError(f"names listed more than once: {', '.join(duplicates)}")
        known = {entry.name for entry in self.entries}
        bases = {entry.name for entry in self.entries if entry.kind == "node_base"}
        for entry in self.entries:
            if entry.composition is None:
                continue
            unknown = [n for n in entry.composition.incompatible_with if n != NODE_BASE and n not in known]
            if unknown:
                raise ValueError(f"{entry.name}: incompatible_with names unknown entries: {', '.join(unknown)}")
            not_bases = [n for n in entry.composition.already_in if n not in bases]
            if not_bases:
                raise ValueError(f"{entry.name}: already_in names no node base: {', '.join(not_bases)}")
        return self

    def get(self, name: str) -> CatalogEntry | None:
        """The entry called `name`, or None."""
        return next((entry for entry in self.entries if entry.name == name), None)

    def mixins(self) -> list[CatalogEntry]:
        """All mixin entries, in catalog order."""
        return [entry for entry in self.entries if entry.kind == "mixin"]

    def not_shipped_entry(self, name: str) -> NotShipped | None:
        """The not-shipped record for `name`, or None."""
        return next((item for item in self.not_shipped if item.name == name), None)

    def suggest(self, name: str) -> list[str]:
        """Entry names close to `name`, best first (did-you-mean)."""
        return difflib.get_close_matches(name, [entry.name for entry in self.entries], n=3, cutoff=0.6)

    def node_base_for(self, node_type: str) -> CatalogEntry:
        """The node base class entry for `node_type` (effect, compute, reducer, orchestrator)."""
        for entry in self.entries:
            if entry.kind == "node_base" and entry.composition and node_type in entry.composition.node_types:
                return entry
        raise KeyError(f"no node base for node type {node_type!r}")


class _EntriesFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    omnibase_core_version: str
    entries: list[CatalogEntry]


class _NotShippedFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    omnibase_core_version: str
    not_shipped: list[NotShipped]


def load_catalog(directory: Path | None = None) -> Catalog:
    """Load and validate the catalog from `directory` (default: the packaged `catalog/`)."""
    if directory is None:
        return _load_default()
    return _load(Path(directory))


@lru_cache(maxsize=1)
def _load_default() -> Catalog:
    return _load(CATALOG_DIR)


def _load(directory: Path) -> Catalog:
    mixins = _parse(directory / "mixins.yaml", _EntriesFile)
    builtins = _parse(directory / "builtins.yaml", _EntriesFile)
    not_shipped = _parse(directory / "not_shipped.yaml", _NotShippedFile)
    versions = {mixins.omnibase_core_version, builtins.omnibase_core_version, not_shipped.omnibase_core_version}
    if len(versions) != 1:
        raise CatalogError(f"{directory}: catalog files disagree on omnibase_core_version: {sorted(versions)}")
    try:
        return Catalog(
            omnibase_core_version=mixins.omnibase_core_version,
            entries=[*mixins.entries, *builtins.entries],
            not_shipped=not_shipped.not_shipped,
        )
    except ValidationError as error:
        details = "; ".join(str(item["msg"]) for item in error.errors())
        raise CatalogError(f"{directory}: inconsistent catalog: {details}") from error


def _parse[T: BaseModel](path: Path, model: type[T]) -> T:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise CatalogError(f"{path}: cannot read catalog file: {error.strerror}") from error
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        data = yaml.load(text, Loader=loader)
    except yaml.YAMLError as error:
        raise CatalogError(f"{path}: invalid YAML: {error}") from error
    try:
        return model.model_validate(data)
    except ValidationError as error:
        root = yaml.compose(text, Loader=loader)  # line numbers, only when there is an error to place
        raise CatalogError(_describe(path, data, root, error)) from error


def _describe(path: Path, data: Any, root: yaml.Node | None, error: ValidationError) -> str:
    lines = []
    for item in error.errors():
        loc = item["loc"]
        line = _line_of(root, loc)
        where = f"{path}:{line}" if line else str(path)
        entry = _entry_name(data, loc)
        field = ".".join(str(part) for part in (loc[2:] if entry else loc))
        if entry:
            subject = f"entry {entry!r}, field {field!r}" if field else f"entry {entry!r}"
        else:
            subject = f"field {field!r}" if field else "document"
        lines.append(f"{where}: {subject}: {item['msg']}")
    return "\n".join(lines)


def _entry_name(data: Any, loc: tuple[int | str, ...]) -> str | None:
    if len(loc) < 2 or not isinstance(loc[1], int) or not isinstance(data, dict):
        return None
    items = data.get(loc[0])
    if not isinstance(items, list) or loc[1] >= len(items):
        return None
    item = items[loc[1]]
    name = item.get("name") if isinstance(item, dict) else None
    return str(name) if name is not None else f"#{loc[1]}"


def _line_of(node: yaml.Node | None, loc: tuple[int | str, ...]) -> int | None:
    """1-based line of the deepest YAML node that `loc` reaches."""
    if node is None:
        return None
    line = node.start_mark.line + 1
    for part in loc:
        child = None
        if isinstance(node, yaml.MappingNode):
            child = next(((k, v) for k, v in node.value if k.value == part), None)
            if child is not None:
                line = child[0].start_mark.line + 1
                child = child[1]
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            child = node.value[part]
            line = child.start_mark.line + 1
        if child is None:
            break
        node = child
    return line
