"""The mixin catalog loads, matches the installed omnibase-core, catches wrong entries and renders its docs."""

import importlib
import logging
import shutil
from pathlib import Path

import pytest

from catalog import CATALOG_DIR
from omnimix.catalog import (
    Catalog,
    CatalogEntry,
    CatalogError,
    MethodSpec,
    load_catalog,
)
from omnimix.catalog.doc import DOC_PATH, render_catalog_markdown
from omnimix.catalog.verify import CatalogProblem, exported_mixin_names, verify_catalog

MODULE_ONLY_MIXINS = {
    "MixinMetrics": "omnibase_core.mixins.mixin_metrics",
    "MixinNodeService": "omnibase_core.mixins.mixin_node_service",
    "MixinDiscovery": "omnibase_core.mixins.mixin_discovery",
    "MixinLazyValue": "omnibase_core.mixins.mixin_lazy_value",
    "MixinNodeDispatch": "omnibase_core.runtime.mixin_node_dispatch",
}


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog()


def _only(catalog: Catalog, *entries: CatalogEntry) -> Catalog:
    """A catalog of the node bases plus `entries`, so verification stays fast and focused."""
    names = {entry.name for entry in entries}
    bases = [e for e in catalog.entries if e.kind == "node_base" and e.name not in names]
    return Catalog(omnibase_core_version=catalog.omnibase_core_version, entries=[*bases, *entries], not_shipped=[])


def _problems_for(catalog: Catalog, entry: CatalogEntry) -> list[CatalogProblem]:
    return [p for p in verify_catalog(_only(catalog, entry)) if p.entry == entry.name]


def _replace_spec(entry: CatalogEntry, name: str, **update: object) -> CatalogEntry:
    methods = [spec.model_copy(update=update) if spec.name == name else spec for spec in entry.methods]
    return entry.model_copy(update={"methods": methods})


def test_catalog_loads_and_answers_queries(catalog: Catalog) -> None:
    assert catalog.omnibase_core_version == "0.47.57"
    assert load_catalog() is load_catalog()
    health = catalog.get("MixinHealthCheck")
    assert health is not None and health.kind == "mixin"
    assert health.import_line == "from omnibase_core.mixins import MixinHealthCheck"
    assert [hook.name for hook in health.hooks] == ["get_health_checks"]
    assert catalog.get("MixinRetry") is None
    assert catalog.not_shipped_entry("MixinRetry").alternative.startswith("ModelRetryPolicy")
    assert catalog.suggest("MixinHealthChek")[0] == "MixinHealthCheck"
    assert catalog.node_base_for("effect").name == "NodeEffect"
    assert catalog.node_base_for("reducer").name == "NodeReducer"
    with pytest.raises(KeyError):
        catalog.node_base_for("service")
    assert {entry.name for entry in catalog.mixins()} >= {"MixinHealthCheck", "MixinMetrics"}


def test_every_exported_mixin_has_an_entry(catalog: Catalog) -> None:
    exported = exported_mixin_names()
    assert len(exported) >= 36
    missing = [name for name in exported if (entry := catalog.get(name)) is None or entry.kind != "mixin"]
    assert missing == []
    for name, module in MODULE_ONLY_MIXINS.items():
        entry = catalog.get(name)
        assert entry is not None and entry.import_from == module


def test_catalog_matches_installed_package(catalog: Catalog) -> None:
    assert verify_catalog(catalog) == []


@pytest.mark.parametrize(
    ("name", "update", "field"),
    [
        ("MixinMetrics", {"module": "omnibase_core.mixins"}, "module"),
        ("MixinMetrics", {"import_from": "omnibase_core.mixins"}, "import_from"),
        ("MixinCaching", {"config_keys": ["backend", "ttl"]}, "config_keys"),
        ("EnumCircuitBreakerState", {"members": ["CLOSED", "TRIPPED"]}, "members"),
        ("ModelCircuitBreaker", {"kind": "enum"}, "kind"),
        ("check_redis_health", {"example": "from omnibase_core.mixins import check_mysql_health\n"}, "example"),
    ],
)
def test_wrong_entry_field_is_reported(catalog: Catalog, name: str, update: dict, field: str) -> None:
    entry = catalog.get(name).model_copy(update=update)
    assert any(p.field == field for p in _problems_for(catalog, entry)), _problems_for(catalog, entry)


def test_wrong_signature_is_reported(catalog: Catalog) -> None:
    entry = _replace_spec(catalog.get("MixinHealthCheck"), "health_check", signature="(self, timeout: float) -> None")
    problems = _problems_for(catalog, entry)
    assert [(p.entry, p.field) for p in problems] == [("MixinHealthCheck", "methods.health_check")]
    assert "signature is (self) -> 'ModelHealthStatus'" in problems[0].message


def test_wrong_async_and_kind_are_reported(catalog: Catalog) -> None:
    entry = _replace_spec(catalog.get("MixinCaching"), "get_cached", is_async=False, kind="property")
    messages = [p.message for p in _problems_for(catalog, entry) if p.field == "methods.get_cached"]
    assert messages == ["is a method, not a property", "is_async is True, catalog says False"]


def test_method_that_does_not_exist_is_reported(catalog: Catalog) -> None:
    entry = catalog.get("MixinHealthCheck")
    ghost = MethodSpec(name="register_health_check", signature="(self, check)", is_async=False, kind="method")
    problems = _problems_for(catalog, entry.model_copy(update={"methods": [*entry.methods, ghost]}))
    assert CatalogProblem(
        "MixinHealthCheck", "methods", "register_health_check: no such method on MixinHealthCheck"
    ) in problems


def test_public_method_missing_from_catalog_is_reported(catalog: Catalog) -> None:
    entry = catalog.get("MixinMetrics")
    trimmed = entry.model_copy(update={"methods": [m for m in entry.methods if m.name != "push_metrics"]})
    assert CatalogProblem("MixinMetrics", "methods", "public API not in the catalog: push_metrics") in _problems_for(
        catalog, trimmed
    )


@pytest.mark.parametrize(
    ("name", "composition_update", "field"),
    [
        ("MixinEventDrivenNode", {"node_types": ["effect"], "incompatible_with": []}, "composition.node_types"),
        ("MixinHealthCheck", {"incompatible_with": ["node_base"]}, "composition.incompatible_with"),
        ("MixinMetrics", {"must_follow_node_base": True}, "composition.must_follow_node_base"),
        ("MixinHealthCheck", {"must_follow_node_base": False}, "composition.must_follow_node_base"),
        ("MixinEffectExecution", {"already_in": []}, "composition.already_in"),
        ("MixinFSMExecution", {"node_types": ["reducer"]}, "composition.node_types"),
        ("MixinHealthCheck", {"incompatible_with": ["MixinMetrics"]}, "composition.incompatible_with"),
    ],
)
def test_wrong_composition_claim_is_reported(
    catalog: Catalog, name: str, composition_update: dict, field: str
) -> None:
    entry = catalog.get(name)
    wrong = entry.model_copy(update={"composition": entry.composition.model_copy(update=composition_update)})
    others = [catalog.get("MixinMetrics")] if name != "MixinMetrics" else []
    problems = [p for p in verify_catalog(_only(catalog, wrong, *others)) if p.entry == name]
    assert any(p.field == field for p in problems), problems


def test_shipped_name_in_not_shipped_and_wrong_version_are_reported(catalog: Catalog) -> None:
    wrong = catalog.model_copy(
        update={
            "omnibase_core_version": "0.1.0",
            "entries": [],
            "not_shipped": [catalog.not_shipped_entry("MixinRetry").model_copy(update={"name": "MixinHealthCheck"})],
        }
    )
    problems = verify_catalog(wrong)
    fields = {(p.entry, p.field) for p in problems}
    assert ("catalog", "omnibase_core_version") in fields
    assert ("MixinHealthCheck", "name") in fields
    assert ("MixinHealthCheck", "entries") in fields  # coverage: exported but no entry


def test_verify_never_raises_on_unimportable_entry(catalog: Catalog) -> None:
    entry = catalog.get("MixinMetrics").model_copy(update={"name": "MixinNope", "module": "omnibase_core.nope"})
    fields = {p.field for p in _problems_for(catalog, entry)}
    assert fields == {"import_from", "module"}


def _copy_catalog(tmp_path: Path) -> Path:
    for name in ("mixins.yaml", "builtins.yaml", "not_shipped.yaml"):
        shutil.copy(CATALOG_DIR / name, tmp_path / name)
    return tmp_path


def test_malformed_field_names_file_entry_field_and_line(tmp_path: Path) -> None:
    directory = _copy_catalog(tmp_path)
    path = directory / "mixins.yaml"
    lines = path.read_text().splitlines(keepends=True)
    start = lines.index("- name: MixinHealthCheck\n")
    offset = next(i for i in range(start, len(lines)) if lines[i].startswith("    is_async:"))
    lines[offset] = "    is_async: sometimes\n"
    path.write_text("".join(lines))
    with pytest.raises(CatalogError) as caught:
        load_catalog(directory)
    message = str(caught.value)
    assert f"{path}:{offset + 1}:" in message
    assert "entry 'MixinHealthCheck', field 'hooks.0.is_async'" in message


def test_unknown_key_and_missing_field_are_errors(tmp_path: Path) -> None:
    directory = _copy_catalog(tmp_path)
    path = directory / "not_shipped.yaml"
    text = path.read_text().replace("- name: MixinTimeout\n", "- name: MixinTimeout\n  since: '0.1'\n", 1)
    text = text.replace("  alternative: Nothing to add; NodeCompute", "  alternatve: Nothing to add; NodeCompute", 1)
    path.write_text(text)
    with pytest.raises(CatalogError) as caught:
        load_catalog(directory)
    message = str(caught.value)
    assert "not_shipped.yaml" in message
    assert "entry 'MixinTimeout', field 'since': Extra inputs are not permitted" in message
    assert "entry 'MixinStateless', field 'alternative': Field required" in message


def test_invalid_yaml_and_missing_file_are_errors(tmp_path: Path) -> None:
    directory = _copy_catalog(tmp_path)
    (directory / "builtins.yaml").write_text("entries: [unclosed\n")
    with pytest.raises(CatalogError, match="builtins.yaml: invalid YAML"):
        load_catalog(directory)
    (directory / "builtins.yaml").unlink()
    with pytest.raises(CatalogError, match="builtins.yaml: cannot read catalog file"):
        load_catalog(directory)


def test_inconsistent_catalog_is_an_error(tmp_path: Path) -> None:
    directory = _copy_catalog(tmp_path)
    path = directory / "mixins.yaml"
    text = path.read_text()
    path.write_text(text.replace("incompatible_with:\n    - node_base", "incompatible_with:\n    - NodeGhost", 1))
    with pytest.raises(CatalogError, match="incompatible_with names unknown entries: NodeGhost"):
        load_catalog(directory)


def test_generated_doc_is_current(catalog: Catalog) -> None:
    assert DOC_PATH.read_text(encoding="utf-8") == render_catalog_markdown(catalog), (
        "docs are stale: run `python -m omnimix.catalog.doc`"
    )


@pytest.mark.parametrize("name", [entry.name for entry in load_catalog().entries])
def test_example_runs(catalog: Catalog, name: str) -> None:
    logging.getLogger("omnibase").disabled = True
    try:
        exec(compile(catalog.get(name).example, f"<example {name}>", "exec"), {"__name__": "catalog_example"})
    finally:
        logging.getLogger("omnibase").disabled = False


def test_module_only_mixins_are_not_exported() -> None:
    mixins = importlib.import_module("omnibase_core.mixins")
    for name in MODULE_ONLY_MIXINS:
        assert name not in mixins.__all__


def test_entry_level_rule_names_the_entry(tmp_path: Path) -> None:
    directory = _copy_catalog(tmp_path)
    path = directory / "builtins.yaml"
    text = path.read_text()
    entry = "- name: check_redis_health\n  kind: "
    path.write_text(text.replace(f"{entry}function\n", f"{entry}mixin\n", 1))
    with pytest.raises(CatalogError) as caught:
        load_catalog(directory)
    assert "entry 'check_redis_health': Value error, composition is required for mixins" in str(caught.value)
