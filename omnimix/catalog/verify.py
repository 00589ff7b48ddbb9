"""Check the catalog against the installed omnibase-core: paths, signatures and composition claims."""

from __future__ import annotations

import ast
import contextlib
import enum
import importlib
import importlib.metadata
import inspect
import logging
import re
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from omnimix.catalog import NODE_BASE, Catalog, CatalogEntry, MethodSpec


@dataclass(frozen=True)
class CatalogProblem:
    """One way the catalog disagrees with the installed library."""

    entry: str
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.entry}: {self.field}: {self.message}"


def verify_catalog(catalog: Catalog) -> list[CatalogProblem]:
    """Import omnibase-core and check every catalog entry; never raises."""
    problems: list[CatalogProblem] = []
    with _quiet():
        checker = _Checker(catalog, problems)
        checker.guard("catalog", "omnibase_core_version", checker.check_version)
        checker.guard("catalog", "entries", checker.check_coverage)
        for entry in catalog.entries:
            checker.guard(entry.name, "entry", checker.check_entry, entry)
        checker.guard("catalog", "not_shipped", checker.check_not_shipped)
    return problems


def exported_mixin_names() -> list[str]:
    """Names in `omnibase_core.mixins.__all__` that are mixin classes (not models, protocols or functions)."""
    from pydantic import BaseModel

    mixins = importlib.import_module("omnibase_core.mixins")
    names = []
    for name in mixins.__all__:
        obj = getattr(mixins, name)
        if not inspect.isclass(obj) or issubclass(obj, BaseModel):
            continue
        if getattr(obj, "_is_protocol", False) and not name.startswith("Mixin"):
            continue
        names.append(name)
    return names


def resolve(module: str, qualname: str) -> Any:
    """Import `module` and walk the dotted `qualname` inside it."""
    obj: Any = importlib.import_module(module)
    for part in qualname.split("."):
        obj = getattr(obj, part)
    return obj


def describe_member(cls: type, name: str) -> tuple[str, Callable[..., Any]] | None:
    """(kind, function) of `name` as defined on the first class of `cls.__mro__` that has it."""
    for klass in cls.__mro__:
        if name in vars(klass):
            return _unwrap(vars(klass)[name])
    return None


def own_public_members(cls: type) -> set[str]:
    """Public methods, classmethods, staticmethods and properties defined on `cls` itself."""
    return {name for name, raw in vars(cls).items() if not name.startswith("_") and _unwrap(raw) is not None}


def _unwrap(raw: Any) -> tuple[str, Callable[..., Any]] | None:
    wrapped = getattr(raw, "wrapped", None)  # pydantic validator descriptors
    if wrapped is not None and type(raw).__name__ == "PydanticDescriptorProxy":
        raw = wrapped
    if isinstance(raw, staticmethod):
        return "staticmethod", raw.__func__
    if isinstance(raw, classmethod):
        return "classmethod", raw.__func__
    if isinstance(raw, property):
        return ("property", raw.fget) if raw.fget else None
    if inspect.isfunction(raw):
        return "method", raw
    return None


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Silence the library's own logging and warnings while probing."""
    logger = logging.getLogger("omnibase")
    disabled = logger.disabled
    logger.disabled = True
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        logger.disabled = disabled


class _Checker:
    def __init__(self, catalog: Catalog, problems: list[CatalogProblem]) -> None:
        self.catalog = catalog
        self.problems = problems
        self._container: Any = None
        self._bases: dict[str, type] | None = None

    def add(self, entry: str, field: str, message: str) -> None:
        self.problems.append(CatalogProblem(entry, field, message))

    def guard(self, entry: str, field: str, check: Callable[..., None], *args: Any) -> None:
        try:
            check(*args)
        except BaseException as error:  # noqa: BLE001 - verification reports, it never raises
            if isinstance(error, KeyboardInterrupt):
                raise
            self.add(entry, field, f"check crashed: {type(error).__name__}: {error}")

    # catalog-wide checks

    def check_version(self) -> None:
        installed = importlib.metadata.version("omnibase-core")
        if installed != self.catalog.omnibase_core_version:
            self.add(
                "catalog",
                "omnibase_core_version",
                f"catalog describes {self.catalog.omnibase_core_version}, installed is {installed}",
            )

    def check_coverage(self) -> None:
        for name in exported_mixin_names():
            entry = self.catalog.get(name)
            if entry is None or entry.kind != "mixin":
                self.add(name, "entries", "exported by omnibase_core.mixins but has no mixin entry")

    def check_not_shipped(self) -> None:
        mixins = importlib.import_module("omnibase_core.mixins")
        nodes = importlib.import_module("omnibase_core.nodes")
        defined = _names_defined_in_package(
            Path(importlib.import_module("omnibase_core").__file__).parent,
            [item.name for item in self.catalog.not_shipped],
        )
        for item in self.catalog.not_shipped:
            for package, label in ((mixins, "omnibase_core.mixins"), (nodes, "omnibase_core.nodes")):
                try:
                    getattr(package, item.name)
                except (AttributeError, ImportError):
                    continue
                self.add(item.name, "name", f"is importable from {label}, so it is shipped")
            for path in defined.get(item.name, []):
                self.add(item.name, "name", f"is defined in the package at {path}")

    # per-entry checks

    def check_entry(self, entry: CatalogEntry) -> None:
        obj = self._check_paths(entry)
        if obj is None:
            return
        self.guard(entry.name, "kind", self._check_kind, entry, obj)
        self.guard(entry.name, "methods", self._check_methods, entry, obj)
        self.guard(entry.name, "config_keys", self._check_config_keys, entry, obj)
        self.guard(entry.name, "members", self._check_members, entry, obj)
        self.guard(entry.name, "example", self._check_example, entry)
        if entry.kind == "mixin":
            self.guard(entry.name, "composition", self._check_mixin_composition, entry, obj)
        elif entry.kind == "node_base":
            self.guard(entry.name, "composition", self._check_node_base_composition, entry, obj)

    def _check_paths(self, entry: CatalogEntry) -> Any:
        found: dict[str, Any] = {}
        for field in ("import_from", "module"):
            path = getattr(entry, field)
            try:
                found[field] = resolve(path, entry.name)
            except Exception as error:  # noqa: BLE001 - any import failure is the finding
                self.add(entry.name, field, f"cannot import {entry.name} from {path}: {type(error).__name__}: {error}")
        if len(found) != 2:
            return None
        if found["import_from"] is not found["module"]:
            self.add(entry.name, "import_from", f"{entry.import_from} and {entry.module} give different objects")
        owner = resolve(entry.module, entry.name.split(".")[0])
        defining = getattr(owner, "__module__", None)
        if defining != entry.module:
            self.add(entry.name, "module", f"defined in {defining}, not {entry.module}")
        return found["module"]

    def _check_kind(self, entry: CatalogEntry, obj: Any) -> None:
        actual = _kind_of(obj, entry)
        if actual != entry.kind:
            self.add(entry.name, "kind", f"is a {actual}, not a {entry.kind}")

    def _check_methods(self, entry: CatalogEntry, obj: Any) -> None:
        specs = [("hooks", spec) for spec in entry.hooks] + [("methods", spec) for spec in entry.methods]
        if entry.kind in ("function", "method"):
            for field, spec in specs:
                expected = entry.name.rsplit(".", 1)[-1]
                if spec.name != expected:
                    self.add(entry.name, field, f"{spec.name}: a {entry.kind} entry describes {expected}")
                    continue
                member = ("function", obj) if entry.kind == "function" else _unwrap(_raw_on_owner(entry))
                if member is None:
                    self.add(entry.name, field, f"{spec.name}: not a method")
                    continue
                self._compare(entry, field, spec, *member)
            return
        for field, spec in specs:
            member = describe_member(obj, spec.name)
            if member is None:
                self.add(entry.name, field, f"{spec.name}: no such method on {obj.__name__}")
                continue
            self._compare(entry, field, spec, *member)
        if entry.kind == "mixin":
            actual = own_public_members(obj)
            listed = {spec.name for _, spec in specs}
            if actual - listed:
                missing = ", ".join(sorted(actual - listed))
                self.add(entry.name, "methods", f"public API not in the catalog: {missing}")
            extra = {name for name in listed - actual if not name.startswith("_")}
            if extra:
                self.add(entry.name, "methods", f"not defined on the class itself: {', '.join(sorted(extra))}")

    def _compare(self, entry: CatalogEntry, field: str, spec: MethodSpec, kind: str, func: Any) -> None:
        label = f"{field}.{spec.name}"
        if kind != spec.kind:
            self.add(entry.name, label, f"is a {kind}, not a {spec.kind}")
        signature = _portable(str(inspect.signature(func)))
        if signature != _portable(spec.signature):
            self.add(entry.name, label, f"signature is {signature}, catalog says {spec.signature}")
        is_async = inspect.iscoroutinefunction(func)
        if is_async != spec.is_async:
            self.add(entry.name, label, f"is_async is {is_async}, catalog says {spec.is_async}")

    def _check_config_keys(self, entry: CatalogEntry, obj: Any) -> None:
        takes_config = inspect.isclass(obj) and entry.kind != "enum"
        named, popped = _accepted_config(obj) if takes_config else (set(), set())
        listed = set(entry.config_keys)
        unknown = listed - named - popped
        if unknown:
            self.add(entry.name, "config_keys", f"not accepted by the constructor: {', '.join(sorted(unknown))}")
        missing = named - listed
        if missing:
            self.add(entry.name, "config_keys", f"constructor also accepts: {', '.join(sorted(missing))}")

    def _check_members(self, entry: CatalogEntry, obj: Any) -> None:
        for member in entry.members:
            if not hasattr(obj, member):
                self.add(entry.name, "members", f"{member}: no such member")

    def _check_example(self, entry: CatalogEntry) -> None:
        try:
            tree = ast.parse(entry.example)
        except SyntaxError as error:
            self.add(entry.name, "example", f"does not parse: {error.msg} (line {error.lineno})")
            return
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("omnibase_core"):
                for alias in node.names:
                    try:
                        resolve(node.module, alias.name)
                    except Exception as error:  # noqa: BLE001 - any import failure is the finding
                        self.add(entry.name, "example", f"from {node.module} import {alias.name}: {error}")

    # composition

    def _check_mixin_composition(self, entry: CatalogEntry, mixin: type) -> None:
        composition = entry.composition
        assert composition is not None
        bases = self._node_bases()
        inside = {base.__name__ for base in bases.values() if mixin in base.__mro__}
        if set(composition.already_in) != inside:
            actual = sorted(inside) or "none"
            self.add(entry.name, "composition.already_in", f"node bases that include it: {actual}")
        for node_type in composition.node_types:
            base = bases[node_type]
            if base.__name__ in inside:
                self.add(entry.name, "composition.node_types", f"{node_type}: {base.__name__} already includes it")
                continue
            failure = self._probe((base, mixin), construct=not _is_abstract(mixin))
            if failure:
                pair = f"({base.__name__}, {entry.name})"
                self.add(entry.name, "composition.node_types", f"{node_type}: {pair} {failure}")
                continue
            breaks = self._mixin_first_breaks(base, mixin)
            if bool(breaks) != composition.must_follow_node_base:
                detail = f"before {base.__name__} it {breaks}" if breaks else f"it also works before {base.__name__}"
                self.add(entry.name, "composition.must_follow_node_base", f"{node_type}: {detail}")
        for other in composition.incompatible_with:
            if other == NODE_BASE:
                outside = [base for base in bases.values() if base.__name__ not in inside]
                self._expect_failures(entry, other, [(base, mixin) for base in outside])
            else:
                self._check_pair_incompatible(entry, mixin, other)

    def _check_pair_incompatible(self, entry: CatalogEntry, mixin: type, other_name: str) -> None:
        other_entry = self.catalog.get(other_name)
        assert other_entry is not None and entry.composition is not None  # the Catalog model checks names
        other = resolve(other_entry.module, other_entry.name)
        other_types = other_entry.composition.node_types if other_entry.composition else []
        shared = [self._node_bases()[t] for t in entry.composition.node_types if t in other_types]
        prefixes: list[tuple[type, ...]] = [(base,) for base in shared] or [()]
        orders = ((mixin, other), (other, mixin))
        self._expect_failures(entry, other_name, [(*prefix, *order) for prefix in prefixes for order in orders])

    def _expect_failures(self, entry: CatalogEntry, other: str, compositions: list[tuple[type, ...]]) -> None:
        for bases in compositions:
            if not self._probe(bases):
                names = ", ".join(cls.__name__ for cls in bases)
                self.add(entry.name, "composition.incompatible_with", f"{other}: ({names}) builds and constructs")

    def _check_node_base_composition(self, entry: CatalogEntry, base: type) -> None:
        composition = entry.composition
        assert composition is not None
        expected = [t for t in ("effect", "compute", "reducer", "orchestrator") if base.__name__ == f"Node{t.title()}"]
        if composition.node_types != expected:
            self.add(entry.name, "composition.node_types", f"a node base lists its own node type only: {expected}")
        if not issubclass(base, self._node_core_base()):
            self.add(entry.name, "kind", "is not a NodeCoreBase subclass")
        failure = self._probe((base,))
        if failure:
            self.add(entry.name, "composition", f"{base.__name__}(ModelONEXContainer()) {failure}")

    def _mixin_first_breaks(self, base: type, mixin: type) -> str:
        """What goes wrong with the mixin listed before the node base: a failure or shadowed node methods."""
        failure = self._probe((mixin, base), construct=not _is_abstract(mixin))
        if failure:
            return failure
        probe = type("Probe", (mixin, base), {})
        public = [name for name in dir(base) if not name.startswith("_")]
        shadowed = sorted(n for n in public if inspect.getattr_static(probe, n) is not inspect.getattr_static(base, n))
        return f"shadows {', '.join(shadowed)}" if shadowed else ""

    def _probe(self, bases: tuple[type, ...], construct: bool = True) -> str:
        """Empty when `type("Probe", bases, {})` builds and constructs, else what failed.

        Node classes are constructed with a real ModelONEXContainer, anything else with no arguments.
        """
        try:
            probe = type("Probe", bases, {})
        except Exception as error:  # noqa: BLE001 - the failure is the finding
            return f"fails to build: {type(error).__name__}: {error}"
        if not construct:
            return ""
        try:
            if issubclass(probe, self._node_core_base()):
                probe(self._node_container())
            else:
                probe()
        except BaseException as error:  # noqa: BLE001 - includes SystemExit from fail-fast mixins
            if isinstance(error, KeyboardInterrupt):
                raise
            return f"fails to construct: {type(error).__name__}: {error}"
        return ""

    def _node_core_base(self) -> type:
        return resolve("omnibase_core.infrastructure.node_core_base", "NodeCoreBase")

    def _node_bases(self) -> dict[str, type]:
        if self._bases is None:
            nodes = importlib.import_module("omnibase_core.nodes")
            self._bases = {
                "effect": nodes.NodeEffect,
                "compute": nodes.NodeCompute,
                "reducer": nodes.NodeReducer,
                "orchestrator": nodes.NodeOrchestrator,
            }
        return self._bases

    def _node_container(self) -> Any:
        if self._container is None:
            self._container = resolve("omnibase_core.models.container.model_onex_container", "ModelONEXContainer")()
        return self._container


def _portable(signature: str) -> str:
    """A signature text without interpreter-specific module paths (``pathlib._local.Path`` on 3.13)."""
    return signature.replace("pathlib._local.", "pathlib.")


def _raw_on_owner(entry: CatalogEntry) -> Any:
    owner_name, _, attr = entry.name.rpartition(".")
    owner = resolve(entry.module, owner_name)
    for klass in owner.__mro__:
        if attr in vars(klass):
            return vars(klass)[attr]
    raise AttributeError(f"{owner_name} has no {attr}")


def _kind_of(obj: Any, entry: CatalogEntry) -> str:
    if entry.kind == "method":
        return "method" if "." in entry.name and _unwrap(_raw_on_owner(entry)) else "not a method"
    if inspect.isfunction(obj):
        return "function"
    if not inspect.isclass(obj):
        return type(obj).__name__
    if issubclass(obj, enum.Enum):
        return "enum"
    if issubclass(obj, resolve("omnibase_core.infrastructure.node_core_base", "NodeCoreBase")):
        return "node_base"
    if obj.__name__.startswith("Mixin") or obj.__name__ in exported_mixin_names():
        return "mixin"
    return "model"


def _is_abstract(cls: type) -> bool:
    return bool(getattr(cls, "__abstractmethods__", None))


def _accepted_config(cls: type) -> tuple[set[str], set[str]]:
    """(named constructor parameters or model fields, keys popped from **kwargs) of `cls`."""
    fields = getattr(cls, "model_fields", None)
    if isinstance(fields, dict):
        return set(fields), set()
    init = cls.__init__
    if init is object.__init__:
        return set(), set()
    named = {
        p.name
        for p in list(inspect.signature(init).parameters.values())[1:]
        if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
    }
    try:
        source = inspect.getsource(init)
    except (OSError, TypeError):
        source = ""
    popped = set(re.findall(r"\w*kwargs\w*\.(?:pop|get)\(\s*[\"'](\w+)[\"']", source))
    return named, popped


def _names_defined_in_package(root: Path, names: list[str]) -> dict[str, list[str]]:
    """Where each of `names` is defined (class or assignment) in the package sources."""
    if not names:
        return {}
    pattern = re.compile(r"^\s*(?:class\s+(%s)\b|(%s)\s*[:=])" % ("|".join(names), "|".join(names)), re.M)
    found: dict[str, list[str]] = {}
    for path in root.rglob("*.py"):
        text = path.read_text(encoding="utf-8", errors="replace")
        if not any(name in text for name in names):
            continue
        for match in pattern.finditer(text):
            name = match.group(1) or match.group(2)
            found.setdefault(name, []).append(str(path.relative_to(root.parent)))
    return found
