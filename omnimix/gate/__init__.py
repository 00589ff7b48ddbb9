"""The verification gate: prove a node's migration safe before it is written.

``run_gate`` copies the repository to a temporary directory, applies the migration there and
runs seven stages on it (syntax, idempotency, imports, composition, contract, behaviour, types).
Stages that wait on subprocesses run at the same time: the probe of the target interpreter
(imports, then composition), the node's tests before and after, and mypy; idempotency runs
in-process meanwhile. Each stage reports its own time, so their sum exceeds the gate's wall
time. The gate never raises: a bug in a stage becomes a failed stage marked as internal error.
"""

from __future__ import annotations

import json
import time
import traceback
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from codemods.base import Codemod
from omnimix import OMNIBASE_CORE_VERSION
from omnimix.gate import behaviour as behaviour_stage
from omnimix.gate import composition as composition_stage
from omnimix.gate import contract as contract_stage_check
from omnimix.gate import idempotency as idempotency_stage
from omnimix.gate import imports as imports_stage
from omnimix.gate import types as types_stage
from omnimix.gate.results import (
    STAGES,
    GateReport,
    StageResult,
    StageStatus,
    failed,
    skipped,
)
from omnimix.gate.syntax import check_syntax
from omnimix.gate.workspace import Completed, Workspace, default_python, has_module
from omnimix.results import NodeResult

__all__ = ["STAGES", "GateReport", "StageResult", "StageStatus", "run_gate"]

DEFAULT_TIMEOUT = 600.0


def run_gate(
    result: NodeResult,
    root: Path,
    *,
    python: Path | None = None,
    tests: Sequence[Path] | None = None,
    contract_path: Path | None = None,
    allow_unsafe: bool = False,
    codemods: Sequence[Codemod] | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    proposed: NodeResult | None = None,
) -> GateReport:
    """Verify ``result`` (a migration of a node under ``root``) in a temporary copy of ``root``.

    ``python`` is the target interpreter (default: this one); ``tests`` replaces test discovery
    (an empty list runs no tests); ``contract_path``, ``allow_unsafe`` and ``codemods`` must be
    those of the migration, so the idempotency stage repeats it exactly. ``proposed`` is the whole
    migration when ``result`` holds only the part of it a review accepted (``migrate --interactive``):
    a second migration may then propose the rest of it, and nothing else.
    """
    started = time.perf_counter()
    try:
        stages = _stages(result, root, python or default_python(), tests, contract_path or result.contract,
                         allow_unsafe, codemods, timeout, proposed)
    except Exception:
        trace = traceback.format_exc()
        stages = [failed(name, "the gate itself failed (a bug in omnimix)", internal_error=True, traceback=trace)
                  for name in STAGES]
    return GateReport(result.display, tuple(stages), time.perf_counter() - started)


def _stages(
    result: NodeResult,
    root: Path,
    python: Path,
    tests: Sequence[Path] | None,
    contract_path: Path | None,
    allow_unsafe: bool,
    codemods: Sequence[Codemod] | None,
    timeout: float,
    proposed: NodeResult | None = None,
) -> list[StageResult]:
    changed = result.changed_files
    if not changed:
        why = f"nothing to verify: the migration changes no file ({result.status})"
        return [skipped(name, why) for name in STAGES]
    syntax = _guard("syntax", check_syntax, result.changes)
    if syntax.failed:
        return [syntax, *(skipped(name, "needs syntax, which failed") for name in STAGES[1:])]
    if not has_module(python, "omnibase_core"):
        missing = (f"omnibase-core is not importable by {python}; the gate checks against the real library: "
                   f"install omnibase-core=={OMNIBASE_CORE_VERSION} there, or pass --python")
        return [syntax, *(failed(name, missing) if name in ("imports", "composition")
                          else skipped(name, "not run without omnibase-core in the target interpreter")
                          for name in STAGES[1:])]
    try:
        workspace = Workspace(root, changed, python, timeout)
    except (OSError, ValueError) as exc:
        return [syntax, *(failed(name, f"cannot prepare the temporary copy: {exc}") for name in STAGES[1:])]
    try:
        return [syntax, *_in_workspace(result, workspace, tests, contract_path, allow_unsafe, codemods, proposed)]
    finally:
        workspace.cleanup()


def _in_workspace(
    result: NodeResult,
    workspace: Workspace,
    tests: Sequence[Path] | None,
    contract_path: Path | None,
    allow_unsafe: bool,
    codemods: Sequence[Codemod] | None,
    proposed: NodeResult | None = None,
) -> list[StageResult]:
    changed = result.changed_files
    contract = contract_path
    if contract is not None and contract.resolve().is_relative_to(workspace.root):
        contract = workspace.in_copy(contract, workspace.after)
    modules, statements = imports_stage.plan(changed)
    composition_spec = composition_stage.plan(result, contract)
    spec = {
        "imports": {"modules": modules, "statements": [s.to_spec() for s in statements],
                    "output": str(workspace.directory / "imports.json")},
        "composition": None if composition_spec is None
        else {**composition_spec, "output": str(workspace.directory / "composition.json")},
    }
    with ThreadPoolExecutor(max_workers=3) as pool:
        probe_future = pool.submit(workspace.probe, spec, workspace.after, "probe")
        behaviour_future = pool.submit(_guard, "behaviour", behaviour_stage.check_behaviour, result, workspace, tests)
        types_future = pool.submit(_guard, "types", types_stage.check_types, changed, workspace)
        idempotency = _guard("idempotency", idempotency_stage.check_idempotency, result, workspace,
                             contract_path=contract_path, allow_unsafe=allow_unsafe, codemods=codemods,
                             proposed=proposed)
        deleted = imports_stage.deleted_importers(changed, workspace)
        probe = probe_future.result()
        imports_output = _read(spec["imports"]["output"])
        composition_output = _read(spec["composition"]["output"]) if spec["composition"] else None
        composition_seconds = composition_output.get("seconds", 0.0) if composition_output else 0.0
        imports = _guard("imports", _judge_imports, result, workspace, statements, deleted, imports_output,
                         probe, max(probe.seconds - composition_seconds, 0.0))
        if composition_spec is None:
            composition = skipped("composition", "no node class found in the migrated files")
        else:
            composition = _guard("composition", composition_stage.judge, composition_output, composition_seconds,
                                 _probe_failure(probe), result.node_class or "")
        contract_stage = _guard("contract", contract_stage_check.check_contract, result, contract, composition_output)
        behaviour, types = behaviour_future.result(), types_future.result()
    return [idempotency, imports, composition, contract_stage, behaviour, types]


def _judge_imports(
    result: NodeResult,
    workspace: Workspace,
    statements: list[imports_stage.ImportStatement],
    deleted: list[str],
    output: dict | None,
    probe: Completed,
    seconds: float,
) -> StageResult:
    """Judge the probe's import results; a failing import the file already had is re-checked in
    the untouched copy, and one that fails there too is reported as not caused by the migration."""
    before = {change.path: change.before for change in result.changed_files}
    suspects = imports_stage.suspects(output, statements, before, result.changed_files)
    pre_existing: set[tuple[str, str]] = set()
    if suspects:
        again_path = workspace.directory / "imports-before.json"
        again = workspace.probe({"imports": {"modules": [], "statements": [s.to_spec() for s in suspects],
                                             "output": str(again_path)}}, workspace.before(), "probe-before")
        seconds += again.seconds
        earlier = _read(str(again_path))
        if earlier:
            pre_existing = {(e["file"], e["code"]) for e in earlier["statements"] if not e["ok"]}
    return imports_stage.judge(output, statements, deleted, seconds, _probe_failure(probe), pre_existing)


def _probe_failure(probe: Completed) -> str:
    """Why the probe left no result (used only when a result file is missing)."""
    if probe.timed_out:
        return f"timed out after {probe.seconds:.0f}s"
    return f"the target interpreter exited with {probe.returncode}: {probe.tail(5) or 'no output'}"


def _read(path: str) -> dict | None:
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _guard(name: str, check: Callable[..., StageResult], *args: object, **kwargs: object) -> StageResult:
    """Run one stage; an exception in it is a bug in omnimix, reported as that stage failing."""
    started = time.perf_counter()
    try:
        return check(*args, **kwargs)
    except Exception:
        return failed(name, "the stage itself failed (a bug in omnimix)", time.perf_counter() - started,
                      internal_error=True, traceback=traceback.format_exc())
