"""Gate stage 4, composition: the node class imports, its MRO follows omnibase-core's rules,
it constructs with a real ModelONEXContainer, and every mixin hook it overrides is compatible.

The checks run in the probe (a subprocess of the target interpreter) against the real classes;
this module says what to check, from the catalog, and turns the probe's answer into a result.
"""

from __future__ import annotations

import ast
from collections.abc import Sequence
from pathlib import Path

from omnimix.catalog import Catalog, load_catalog
from omnimix.contract import ContractError, load_contract
from omnimix.discovery import dotted_module_name
from omnimix.gate.results import StageResult, failed, passed
from omnimix.results import NodeResult

NAME = "composition"
CONTAINER = "omnibase_core.models.container.model_onex_container:ModelONEXContainer"

#: Hooks that are pure and take no arguments: the probe calls them and checks what they return.
RUNTIME_CHECKS = {
    "get_health_checks": "zero_arg_callables",
    "get_discovery_capabilities": "list_of_str",
    "get_sensitive_field_patterns": "list_of_str",
    "get_redaction_values": "dict_of_str",
}


def class_module(result: NodeResult) -> tuple[str, Path] | None:
    """The dotted module defining the node class, and its file, from the migrated texts."""
    for change in result.changes:
        text = change.after if change.after is not None else None
        if text is None or change.path.suffix != ".py":
            continue
        try:
            tree = ast.parse(text)
        except SyntaxError:
            continue
        if any(isinstance(node, ast.ClassDef) and node.name == result.node_class for node in tree.body):
            module = dotted_module_name(change.path)
            return (module, change.path) if module else None
    return None


def plan(result: NodeResult, contract_path: Path | None, catalog: Catalog | None = None) -> dict[str, object] | None:
    """The probe's composition spec, or None when there is no node class to check."""
    located = class_module(result) if result.node_class else None
    if located is None:
        return None
    catalog = catalog or load_catalog()
    node_type = None
    if contract_path is not None:
        try:
            kind = load_contract(contract_path).contract.kind
            node_type = kind.value if kind else None
        except ContractError:
            node_type = None
    entries = [
        {
            "name": entry.name,
            "kind": entry.kind,
            "module": entry.module,
            "hooks": [{"name": hook.name} for hook in entry.hooks],
            "methods": [method.name for method in entry.methods],
            "composition": entry.composition.model_dump() if entry.composition else None,
        }
        for entry in catalog.entries
        if entry.kind in ("mixin", "node_base")
    ]
    return {
        "module": located[0],
        "class": result.node_class,
        "node_type": node_type,
        "catalog": entries,
        "node_base_names": [entry["name"] for entry in entries if entry["kind"] == "node_base"],
        "expected_mixins": list(result.mixins_applied),
        "runtime_checks": RUNTIME_CHECKS,
        "container": CONTAINER,
    }


def judge(output: dict | None, seconds: float, probe_failure: str | None, class_name: str) -> StageResult:
    if output is None:
        return failed(NAME, f"the composition probe did not finish: {probe_failure}", seconds)
    problems: Sequence[str] = output.get("problems", [])
    details = {key: output[key] for key in ("mro", "node_base", "constructed", "notes", "catalog_in_mro", "warnings")
               if key in output}
    if output.get("probe_error"):
        return failed(NAME, "; ".join(problems), seconds, internal_error=True, **details)
    if problems:
        return failed(NAME, "; ".join(problems), seconds, problems=list(problems), **details)
    if output.get("constructed"):
        built = "constructs with a real ModelONEXContainer"
    else:
        built = next((note for note in output.get("notes", []) if note.startswith("not constructed")),
                     "not constructed")
    mixins = [name for name in output.get("catalog_in_mro", []) if name != output.get("node_base")]
    warnings = output.get("warnings", [])
    noted = f"; warning: {'; '.join(warnings)}" if warnings else ""
    return passed(NAME, f"{class_name}({output.get('node_base')}, ...) imports, its MRO follows the rules, "
                        f"{built}; hooks compatible ({len(mixins)} omnibase-core classes in the MRO){noted}",
                  seconds, **details)
