"""The ``omnimix`` command line: diffs on stdout, everything else on stderr."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from omnimix import __version__
from omnimix.report.diff import unified_diff
from omnimix.discovery import display_path, node_dirs, python_files, repository_root
from omnimix.engine import migrate_node, migrate_nodes, scan_paths
from omnimix.exit_codes import HELP, ExitCode
from omnimix.cli.catalog import catalog_app
from omnimix.cli.contract import contract_app, validate
from omnimix.gate import STAGES, GateReport, run_gate
from omnimix.report import (
    migration_json,
    migration_markdown,
    print_gate,
    print_migration_summary,
    print_scan_table,
    scan_json,
)
from omnimix.results import NodeResult, Status
from omnimix.writer import WriteError, write_changes

app = typer.Typer(
    name="omnimix",
    help="Migrate hand-written ONEX node code to omnibase-core mixins and built-ins, in place.\n\n" + HELP,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
err = Console(stderr=True, highlight=False)

JobsOpt = Annotated[int, typer.Option("--jobs", "-j", min=0, help="Worker processes; 0 = one per CPU.")]
PathsArg = Annotated[list[Path], typer.Argument(help="Node directories, files or trees.", exists=True)]
PythonOpt = Annotated[Path | None, typer.Option(
    "--python", exists=True, dir_okay=False,
    help="Interpreter whose environment the gate checks against (needs omnibase-core; default: this one).")]
TestsOpt = Annotated[list[Path] | None, typer.Option(
    "--tests", exists=True,
    help="Test file or directory for the behaviour stage (repeatable; default: the tests that import the node).")]

MIGRATE_HELP = (
    HELP + " With --write every node is verified first (see `omnimix verify`; --no-verify skips it): "
    f"a node whose gate fails is not written, its changes stay pending and the exit code is "
    f"{int(ExitCode.CHANGES_PENDING)} (or {int(ExitCode.INTERNAL_ERROR)} when omnimix broke the code)."
)
VERIFY_HELP = (
    f"Stages: {', '.join(STAGES)}. Exit codes: {int(ExitCode.OK)} every stage passed or was skipped, or nothing "
    f"to verify; {int(ExitCode.CHANGES_PENDING)} a stage failed (the migration would not be written); "
    f"{int(ExitCode.INPUT_ERROR)} usage or input error; {int(ExitCode.INTERNAL_ERROR)} internal error "
    "(omnimix broke the code, or the gate itself failed)."
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"omnimix {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="Show the version and exit.")] = False,
) -> None:
    """omnimix: contract-driven codemods for ONEX nodes."""


@app.command(epilog=HELP)
def scan(
    paths: PathsArg,
    format: Annotated[str, typer.Option("--format", "-f", help="table (for people) or json (for machines).")] = "table",
    jobs: JobsOpt = 1,
) -> None:
    """Find hand-rolled concerns in every .py file under PATHS; changes nothing."""
    if format not in ("table", "json"):
        err.print(f"[red]error[/red]: --format must be table or json, not {format!r}")
        raise typer.Exit(ExitCode.INPUT_ERROR)
    base = Path.cwd()
    files = python_files(paths)
    scans = scan_paths(files, base, jobs=_jobs(jobs))
    if format == "json":
        sys.stdout.write(json.dumps(scan_json(scans), indent=2) + "\n")
    else:
        print_scan_table(Console(), scans)
    if any(s.status is Status.INTERNAL_ERROR for s in scans):
        raise typer.Exit(ExitCode.INTERNAL_ERROR)
    if any(s.status is Status.INPUT_ERROR for s in scans):
        for s in scans:
            if s.error:
                err.print(f"[red]error[/red] {s.error}")
        raise typer.Exit(ExitCode.INPUT_ERROR)


@app.command(epilog=MIGRATE_HELP)
def migrate(
    paths: PathsArg,
    contract: Annotated[Path | None, typer.Option("--contract", exists=True, dir_okay=False,
                                                  help="Contract to use instead of the node's contract.yaml (one node only).")] = None,
    write: Annotated[bool, typer.Option("--write", help="Apply the changes (default: dry-run, diff on stdout).")] = False,
    check: Annotated[bool, typer.Option("--check", help="Exit 1 when a migration would change something.")] = False,
    unsafe: Annotated[bool, typer.Option("--unsafe", help="Also apply changes whose behaviour would differ.")] = False,
    allow_longer: Annotated[bool, typer.Option("--allow-longer", help="Also apply a node's migration when it "
                                                                      "would leave the node with more code lines.")] = False,
    verify: Annotated[bool | None, typer.Option("--verify/--no-verify",
                                                help="Run the verification gate on each changed node "
                                                     "(default: on with --write, off for a dry-run).")] = None,
    python: PythonOpt = None,
    tests: TestsOpt = None,
    backup: Annotated[bool, typer.Option("--backup/--no-backup", help="Keep a copy of every written file under .omnimix-backups/.")] = True,
    report_json: Annotated[Path | None, typer.Option("--report-json", dir_okay=False, help="Write the report as JSON here.")] = None,
    report_md: Annotated[Path | None, typer.Option("--report-md", dir_okay=False, help="Write the report as Markdown here.")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No summary on stderr, errors only.")] = False,
    jobs: JobsOpt = 1,
) -> None:
    """Migrate nodes as their contracts declare: dry-run diff by default, --write to verify and apply."""
    nodes = [node for path in paths for node in node_dirs(path)]
    if contract is not None and len(nodes) != 1:
        err.print(f"[red]error[/red]: --contract applies to one node, but {len(nodes)} were found")
        raise typer.Exit(ExitCode.INPUT_ERROR)
    base = Path.cwd()
    root = repository_root(paths[0])
    repo_files = tuple(python_files([root]))
    results = migrate_nodes(nodes, base, jobs=_jobs(jobs), contract_path=contract, allow_unsafe=unsafe,
                            allow_longer=allow_longer,
                            repository_files=repo_files)
    mode = "write" if write else "dry-run"
    verifying = write if verify is None else verify
    off = None if verifying else ("off (--no-verify)" if verify is False else "off (dry-run; add --verify to run it)")
    gates = _verify(results, python=python, tests=tests, contract=contract, unsafe=unsafe,
                    echo="failures" if quiet else "all") if verifying else {}
    out = sys.stdout
    printed: set[Path] = set()
    for result in results:
        for change in result.changed_files:
            if change.path not in printed:  # a mixin shared by several nodes is one file
                printed.add(change.path)
                out.write(unified_diff(display_path(change.path, root), change.before, change.after))
    out.flush()
    written_failed = False
    if write:
        for result in results:
            if result.status is not Status.CHANGED:
                continue
            gate = gates.get(result.directory)
            if gate is not None and not gate.passed:
                err.print(f"[red]not written[/red] {escape(result.display)}: {escape(gate.summary())}")
                continue
            try:
                backup_dir = write_changes(list(result.changes), root, backup=backup)
            except WriteError as exc:
                written_failed = True
                err.print(f"[red]error[/red] {result.display}: {exc}")
                continue
            if not quiet:
                where = f" (backup in {display_path(backup_dir, base)})" if backup_dir else ""
                err.print(f"wrote {len(result.changed_files)} file(s) of {result.display}{where}")
    _write_reports(results, mode, gates, off, report_json, report_md)
    if not quiet:
        print_migration_summary(err, results, mode=mode, verification=off or _verified(gates))
    _print_errors(results)
    raise typer.Exit(_exit_code(results, check=check and not write, write_failed=written_failed, gates=gates))


@app.command(epilog=VERIFY_HELP)
def verify(
    paths: PathsArg,
    contract: Annotated[Path | None, typer.Option(
        "--contract", exists=True, dir_okay=False,
        help="Contract to use instead of the node's contract.yaml (one node only).")] = None,
    python: PythonOpt = None,
    tests: TestsOpt = None,
    unsafe: Annotated[bool, typer.Option("--unsafe", help="Verify the migration that --unsafe would make.")] = False,
    report_json: Annotated[Path | None, typer.Option("--report-json", dir_okay=False,
                                                     help="Write the report as JSON here.")] = None,
    report_md: Annotated[Path | None, typer.Option("--report-md", dir_okay=False,
                                                   help="Write the report as Markdown here.")] = None,
) -> None:
    """Migrate nodes in memory and prove each migration safe in a temporary copy; writes nothing.

    Prints every stage with its status, time and reason on stdout.
    """
    nodes = [node for path in paths for node in node_dirs(path)]
    if contract is not None and len(nodes) != 1:
        err.print(f"[red]error[/red]: --contract applies to one node, but {len(nodes)} were found")
        raise typer.Exit(ExitCode.INPUT_ERROR)
    base = Path.cwd()
    repo_files = tuple(python_files([repository_root(paths[0])]))
    results = [
        migrate_node(node, base, contract_path=contract, allow_unsafe=unsafe, repository_files=repo_files)
        for node in nodes
    ]
    console = Console(highlight=False)
    gates = _verify(results, python=python, tests=tests, contract=contract, unsafe=unsafe, echo=None)
    for result in results:
        gate = gates.get(result.directory)
        if gate is not None:
            print_gate(console, gate)
        elif result.status not in (Status.INPUT_ERROR, Status.INTERNAL_ERROR):
            console.print(f"[bold]{escape(result.display)}[/bold]: nothing to verify ({result.status}): "
                          f"{escape(result.message)}", soft_wrap=True)
    _write_reports(results, "verify", gates, None, report_json, report_md)
    _print_errors(results)
    raise typer.Exit(_exit_code(results, check=False, write_failed=False, gates=gates))


def _verify(
    results: list[NodeResult],
    *,
    python: Path | None,
    tests: list[Path] | None,
    contract: Path | None,
    unsafe: bool,
    echo: str | None,
) -> dict[Path, GateReport]:
    """Run the gate on every node the migration changes; ``echo`` ("all", "failures" or None)
    says which stages to print on stderr as each gate finishes."""
    gates = {}
    for result in results:
        if result.status is not Status.CHANGED:
            continue
        gate = run_gate(result, repository_root(result.directory), python=python.absolute() if python else None,
                        tests=tests,
                        contract_path=contract, allow_unsafe=unsafe)
        gates[result.directory] = gate
        if echo == "all" or (echo == "failures" and not gate.passed):
            print_gate(err, gate, failures_only=echo == "failures")
    return gates


def _verified(gates: dict[Path, GateReport]) -> str:
    failed = sum(1 for gate in gates.values() if not gate.passed)
    return f"on: {len(gates)} node(s) verified, {failed} failed"


def _write_reports(results, mode: str, gates, off: str | None, report_json: Path | None,
                   report_md: Path | None) -> None:
    if report_json:
        data = migration_json(results, mode=mode, gates=gates, verification=off)
        report_json.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    if report_md:
        report_md.write_text(migration_markdown(results, mode=mode, gates=gates, verification=off), encoding="utf-8")


def _print_errors(results: list[NodeResult]) -> None:
    for result in results:
        if result.status in (Status.INPUT_ERROR, Status.INTERNAL_ERROR):
            err.print(f"[red]error[/red] {result.display}: {result.message}")
            if result.traceback:
                err.print(result.traceback, markup=False)


def _jobs(jobs: int) -> int:
    """``--jobs 0`` means one process per CPU."""
    return jobs if jobs > 0 else (os.cpu_count() or 1)


def _exit_code(results, *, check: bool, write_failed: bool, gates: dict[Path, GateReport] | None = None) -> int:
    gates = gates or {}
    if any(r.status is Status.INTERNAL_ERROR for r in results) or any(g.internal_error for g in gates.values()):
        return ExitCode.INTERNAL_ERROR
    if write_failed or any(r.status is Status.INPUT_ERROR for r in results):
        return ExitCode.INPUT_ERROR
    if any(not g.passed for g in gates.values()):
        return ExitCode.CHANGES_PENDING
    if check and any(r.status is Status.CHANGED for r in results):
        return ExitCode.CHANGES_PENDING
    return ExitCode.OK


app.command(epilog=HELP)(validate)
app.add_typer(contract_app, name="contract")
app.add_typer(catalog_app, name="catalog")


def main() -> None:
    app()
