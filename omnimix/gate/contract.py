"""Gate stage 5, contract: the node's contract validates and every enabled mixin is applied."""

from __future__ import annotations

import time
from pathlib import Path

from omnimix.catalog import Catalog, load_catalog
from omnimix.contract import load_contract
from omnimix.contract.validation import validate_path
from omnimix.gate.results import StageResult, failed, passed, skipped
from omnimix.results import NodeResult

NAME = "contract"


def check_contract(
    result: NodeResult,
    contract_path: Path | None,
    composition: dict | None,
    catalog: Catalog | None = None,
) -> StageResult:
    """Validate the (migrated) contract; then compare its enabled mixins with the class's real MRO.

    A declared mixin the migration reported it could not add yet (its changes wait for --unsafe,
    or what it replaces was kept) is listed, not failed: the migration says so in its warnings.
    """
    started = time.perf_counter()
    if contract_path is None:
        return skipped(NAME, "the node has no contract", time.perf_counter() - started)
    catalog = catalog or load_catalog()
    problems = validate_path(contract_path, catalog)
    errors = [problem.render(contract_path.name) for problem in problems if problem.is_error]
    warnings = [problem.render(contract_path.name) for problem in problems if not problem.is_error]
    if errors:
        return failed(NAME, f"the contract does not validate: {'; '.join(errors)}", time.perf_counter() - started,
                      errors=errors, warnings=warnings)
    enabled = [mixin.name for mixin in load_contract(contract_path).contract.enabled_mixins()]
    if composition is None or "catalog_in_mro" not in composition:
        return skipped(NAME, "the contract validates; whether its mixins are applied needs the class's MRO, "
                             "which the composition stage could not build", time.perf_counter() - started,
                       enabled_mixins=enabled, warnings=warnings)
    in_mro = set(composition["catalog_in_mro"])
    missing = [name for name in enabled if name not in in_mro]
    explained = {name: warning for name in missing for warning in result.warnings if name in warning}
    unexplained = [name for name in missing if name not in explained]
    seconds = time.perf_counter() - started
    if unexplained:
        return failed(NAME, f"enabled in the contract but not in the MRO of {result.node_class}: "
                            f"{', '.join(unexplained)}", seconds,
                      enabled_mixins=enabled, missing=unexplained, warnings=warnings)
    note = (f"; not applied yet, as the migration reported: {'; '.join(explained.values())}" if explained else "")
    return passed(NAME, f"the contract validates and {len(enabled) - len(explained)} of {len(enabled)} enabled "
                        f"mixin(s) are in the MRO of {result.node_class}{note}", seconds,
                  enabled_mixins=enabled, declared_not_applied=explained, warnings=warnings)
