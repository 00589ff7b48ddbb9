"""``omnimix validate`` and ``omnimix contract schema|upgrade``: problems and progress on stderr, data on stdout."""

from __future__ import annotations

import json
import sys
import traceback
from pathlib import Path
from typing import Annotated

import typer

from omnimix import __version__
from omnimix.catalog import load_catalog
from omnimix.cli.runs import open_run
from omnimix.contract import NodeContract
from omnimix.contract.upgrade import ContractUpgrade, upgrade_contract
from omnimix.contract.validation import ContractProblem, validate_path
from omnimix.discovery import display_path, node_dirs, repository_root
from omnimix.exit_codes import HELP, ExitCode
from omnimix.report.diff import unified_diff
from omnimix.results import Status
from omnimix.writer import WriteError, write_changes

contract_app = typer.Typer(
    name="contract",
    help="Work with node contracts (contract.yaml): print their JSON Schema, upgrade legacy ones.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

ContractPathsArg = Annotated[list[Path], typer.Argument(
    help="Contract files, node directories (their contract.yaml) or trees (every contract below).", exists=True)]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="Errors only: no warnings, notes or summary.")]


def validate(
    paths: ContractPathsArg,
    format: Annotated[str, typer.Option("--format", "-f", help="text (one line per problem on stderr) or json (stdout).")] = "text",
    quiet: QuietOpt = False,
) -> None:
    """Check contracts against their schema and the omnibase-core catalog; changes nothing.

    Each problem is one line ``path:line: field: error|warning: message``. Warnings do not fail the run.
    """
    if format not in ("text", "json"):
        _fail(f"--format must be text or json, not {format!r}")
    contracts = _contract_files(paths)
    base = Path.cwd()
    catalog = load_catalog()
    problems: list[ContractProblem] = []
    crashed = False
    for path in contracts:
        try:
            problems.extend(validate_path(path, catalog))
        except Exception:  # a bug in a rule must not hide the other contracts' problems
            crashed = True
            sys.stderr.write(f"{display_path(path, base)}: omnimix failed on this contract (a bug in omnimix):\n"
                             f"{traceback.format_exc()}")
    errors = sum(problem.is_error for problem in problems)
    warnings = len(problems) - errors
    if format == "json":
        sys.stdout.write(json.dumps({
            "omnimix_version": __version__,
            "omnibase_core_version": catalog.omnibase_core_version,
            "contracts": [display_path(path, base) for path in contracts],
            "errors": errors,
            "warnings": warnings,
            "problems": [problem.to_json(display_path(problem.path, base)) for problem in problems],
        }, indent=2) + "\n")
    else:
        for problem in problems:
            if problem.is_error or not quiet:
                sys.stderr.write(problem.render(display_path(problem.path, base)) + "\n")
        if not quiet:
            sys.stderr.write(f"{_plural(len(contracts), 'contract')} checked: {_plural(errors, 'error')}, "
                             f"{_plural(warnings, 'warning')}\n")
    raise typer.Exit(ExitCode.INTERNAL_ERROR if crashed else ExitCode.INPUT_ERROR if errors else ExitCode.OK)



@contract_app.command(epilog=HELP)
def schema() -> None:
    """Print the JSON Schema of contract.yaml (the NodeContract model) on stdout."""
    document = {"$schema": "https://json-schema.org/draft/2020-12/schema", **NodeContract.model_json_schema()}
    sys.stdout.write(json.dumps(document, indent=2) + "\n")


@contract_app.command(epilog=HELP)
def upgrade(
    ctx: typer.Context,
    paths: ContractPathsArg,
    write: Annotated[bool, typer.Option("--write", help="Apply the changes (default: dry-run, diff on stdout).")] = False,
    check: Annotated[bool, typer.Option("--check", help="Exit 1 when an upgrade would change something.")] = False,
    backup: Annotated[bool, typer.Option(
        "--backup/--no-backup", help="Keep the original bytes of every written file in the run's record, for "
                                     "`omnimix restore` (--no-backup: the run cannot be restored).")] = True,
    allow_dirty: Annotated[bool, typer.Option(
        "--allow-dirty", help="Also write contracts with uncommitted changes (modified, staged or untracked).")] = False,
    quiet: QuietOpt = False,
) -> None:
    """Give legacy contracts mixins (from what scan finds in the node) and advanced_features (from error_handling).

    Contracts that already declare mixins or advanced_features are left alone; a second run changes nothing.
    """
    contracts = _contract_files(paths)
    root = repository_root(paths[0])
    run = open_run(ctx, root, backup=backup, allow_dirty=allow_dirty) if write else None
    catalog = load_catalog()
    results = [upgrade_contract(path, root, catalog) for path in contracts]
    for result in results:
        if result.change is not None:
            sys.stdout.write(unified_diff(result.display, result.change.before, result.change.after))
    sys.stdout.flush()
    write_failed = False
    if write:
        for result in results:
            if result.change is None:
                continue
            try:
                write_changes([result.change], root, run=run)
            except WriteError as exc:
                write_failed = True
                sys.stderr.write(f"{result.display}: error: {exc}\n")
    for result in results:
        _report(result, quiet=quiet)
    if not quiet:
        sys.stderr.write(_upgrade_summary(results, wrote=write and not write_failed) + "\n")
    raise typer.Exit(_upgrade_exit_code(results, check=check and not write, write_failed=write_failed))


def _report(result: ContractUpgrade, *, quiet: bool) -> None:
    failed = result.status in (Status.INPUT_ERROR, Status.INTERNAL_ERROR)
    if quiet and not failed:
        return
    label = "error" if failed else str(result.status)
    sys.stderr.write(f"{result.display}: {label}: {result.message}\n")
    if not quiet:
        for note in result.notes:
            sys.stderr.write(f"{result.display}: note: {note}\n")
    if result.traceback:
        sys.stderr.write(result.traceback)


def _upgrade_summary(results: list[ContractUpgrade], *, wrote: bool) -> str:
    changed = sum(result.status is Status.CHANGED for result in results)
    counts = [f"{changed} {'upgraded' if wrote else 'to upgrade'}",
              f"{sum(r.status is Status.UNCHANGED for r in results)} with nothing to add",
              f"{sum(r.status is Status.SKIPPED for r in results)} left alone",
              _plural(sum(r.status in (Status.INPUT_ERROR, Status.INTERNAL_ERROR) for r in results), "error")]
    return f"{_plural(len(results), 'contract')}: {', '.join(counts)}"


def _upgrade_exit_code(results: list[ContractUpgrade], *, check: bool, write_failed: bool) -> int:
    if any(result.status is Status.INTERNAL_ERROR for result in results):
        return ExitCode.INTERNAL_ERROR
    if write_failed or any(result.status is Status.INPUT_ERROR for result in results):
        return ExitCode.INPUT_ERROR
    if check and any(result.status is Status.CHANGED for result in results):
        return ExitCode.CHANGES_PENDING
    return ExitCode.OK


def _contract_files(paths: list[Path]) -> list[Path]:
    """A named file as is; a directory's contract.yaml and every contract below it. Exits 2 if one has none."""
    found: list[Path] = []
    for path in paths:
        if path.is_file():
            candidates = [path.resolve()]
        else:
            candidates = [node.contract for node in node_dirs(path) if node.contract is not None]
            if not candidates:
                _fail(f"{path}: no contract.yaml in this directory or below it")
        found.extend(candidate for candidate in candidates if candidate not in found)
    return found


def _fail(message: str) -> None:
    sys.stderr.write(f"error: {message}\n")
    raise typer.Exit(ExitCode.INPUT_ERROR)


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"
