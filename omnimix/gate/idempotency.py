"""Gate stage 2, idempotency: migrating the migrated copy again changes nothing."""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path

from codemods.base import Codemod
from omnimix.discovery import node_dirs, python_files
from omnimix.engine import migrate_nodes
from omnimix.gate.results import StageResult, failed, passed
from omnimix.gate.workspace import Workspace
from omnimix.report.diff import unified_diff
from omnimix.results import NodeResult, Status

NAME = "idempotency"
DIFF_LINES = 40


def check_idempotency(
    result: NodeResult,
    workspace: Workspace,
    *,
    contract_path: Path | None,
    allow_unsafe: bool,
    codemods: Sequence[Codemod] | None,
    proposed: NodeResult | None = None,
) -> StageResult:
    """Run the same migration on the copy that has the changes applied; it must find nothing to do, or,
    when ``result`` is the reviewed part of the ``proposed`` migration, only the rest of that."""
    started = time.perf_counter()
    copy = workspace.after
    directory = workspace.in_copy(result.directory, copy)
    node = next((n for n in node_dirs(directory) if n.directory == directory.resolve()), None)
    if node is None:
        return failed(NAME, f"the node directory {result.display} is missing from the migrated copy",
                      time.perf_counter() - started)
    contract = contract_path
    if contract is not None and contract.resolve().is_relative_to(workspace.root):
        contract = workspace.in_copy(contract, copy)
    again, = migrate_nodes([node], copy, contract_path=contract, allow_unsafe=allow_unsafe,
                           repository_files=tuple(python_files([copy])), codemods=codemods)
    seconds = time.perf_counter() - started
    if again.status in (Status.INPUT_ERROR, Status.INTERNAL_ERROR):
        return failed(NAME, f"the second migration ended in {again.status}: {again.message}", seconds,
                      internal_error=again.status is Status.INTERNAL_ERROR, traceback=again.traceback)
    changed = again.changed_files
    if not changed:
        return passed(NAME, f"a second migration changes nothing ({again.status})", seconds)
    if proposed is not None:
        rest = {workspace.in_copy(change.path, copy).resolve(): change.after for change in proposed.changes}
        beyond = [change for change in changed if rest.get(change.path.resolve(), change.before) != change.after]
        if not beyond:
            return passed(NAME, f"a second migration proposes only the skipped rest of the review "
                                f"({len(changed)} file(s))", seconds)
        changed = beyond
    diff = "".join(unified_diff(change.display, change.before, change.after) for change in changed)
    lines = diff.splitlines()
    return failed(NAME, f"a second migration changes {len(changed)} more file(s): "
                        + ", ".join(change.display for change in changed),
                  seconds, diff="\n".join(lines[:DIFF_LINES]) + ("\n..." if len(lines) > DIFF_LINES else ""))
