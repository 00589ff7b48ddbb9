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
from omnimix.cli.catalog import catalog_app
from omnimix.cli.contract import contract_app, validate
from omnimix.cli.explain import EXPLAIN_HELP, explain
from omnimix.cli.interactive import Prompter, review
from omnimix.cli.output import (
    DEFAULT,
    QUIET,
    VERBOSE,
    Summary,
    by_priority,
    node_progress,
    print_failures,
    print_summary,
    select_nodes,
    short_names,
    write_findings,
    write_statistics,
)
from omnimix.cli.report import REPORT_HELP, report, write_reports
from omnimix.cli.runs import RUNS_HELP, open_run, restore, run_note, runs
from omnimix.cli.settings import (
    config_for,
    failures,
    jobs_setting,
    paths_or_root,
    unsafe_setting,
    without_excluded,
)
from omnimix.discovery import display_path, node_dirs, python_files, repository_root
from omnimix.engine import (
    DEFAULT_MAX_FILE_SIZE,
    file_problem,
    migrate_node,
    migrate_nodes,
    scan_paths,
)
from omnimix.exit_codes import HELP, ExitCode
from omnimix.gate import STAGES, GateReport, run_gate
from omnimix.report import (
    migration_json,
    print_gate,
    print_scan_table,
    scan_json,
)
from omnimix.report.diff import unified_diff
from omnimix.report.matrix import concern_matrix, matrix_json, print_matrix, scan_nodes
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

JobsOpt = Annotated[int | None, typer.Option("--jobs", "-j", min=0, help="Worker processes; 0 = one per CPU "
                                                                        "(default: jobs of \\[tool.omnimix], else 1).")]
PathsArg = Annotated[list[Path], typer.Argument(help="Node directories, files or trees.", exists=True)]
NodesArg = Annotated[list[Path] | None, typer.Argument(
    help="Node directories, files or trees (default: nodes-root of \\[tool.omnimix], else the current directory).",
    exists=True)]
PythonOpt = Annotated[Path | None, typer.Option(
    "--python", exists=True, dir_okay=False,
    help="Interpreter whose environment the gate checks against (needs omnibase-core; default: this one).")]
BackupOpt = Annotated[bool, typer.Option(
    "--backup/--no-backup",
    help="Keep the original bytes of every written file in the run's record, for `omnimix restore` "
         "(--no-backup: the run is recorded but cannot be restored).")]
AllowDirtyOpt = Annotated[bool, typer.Option(
    "--allow-dirty", help="Also write files with uncommitted changes (modified, staged or untracked).")]
ReportHtmlOpt = Annotated[Path | None, typer.Option(
    "--report-html", dir_okay=False, help="Write the report as one self-contained HTML page here.")]
MaxFileSizeOpt = Annotated[int, typer.Option(
    "--max-file-size", min=1, metavar="BYTES",
    help=f"Refuse to read a file larger than this (an input error, exit {int(ExitCode.INPUT_ERROR)}).")]
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
    no_cache: Annotated[bool, typer.Option("--no-cache", help="Compute every result afresh: do not read or "
                                                              "write the results cache (~/.cache/omnimix).")] = False,
) -> None:
    """omnimix: contract-driven codemods for ONEX nodes."""
    if no_cache:
        os.environ["OMNIMIX_NO_CACHE"] = "1"


@app.command(epilog=HELP)
def scan(
    paths: NodesArg = None,
    format: Annotated[str, typer.Option("--format", "-f", help="text (one line per finding: "
                                                               "path:line:col: CODE concern action: message), "
                                                               "table, or json (for machines).")] = "text",
    statistics: Annotated[bool, typer.Option("--statistics", help="Count the findings per code instead.")] = False,
    jobs: JobsOpt = None,
    matrix: Annotated[bool, typer.Option(
        "--matrix", help="A node × concern table instead: code lines in findings, estimated saving and "
                         "priority per node (with --format json, under the key 'matrix').")] = False,
    max_file_size: MaxFileSizeOpt = DEFAULT_MAX_FILE_SIZE,
) -> None:
    """Find hand-rolled concerns in every .py file under PATHS; changes nothing."""
    if format not in ("text", "table", "json"):
        err.print(f"[red]error[/red]: --format must be text, table or json, not {format!r}")
        raise typer.Exit(ExitCode.INPUT_ERROR)
    config = config_for(paths)
    paths = paths_or_root(paths, config)
    base = Path.cwd()
    files = without_excluded(python_files(paths), base, config.exclude)
    scans = scan_paths(files, base, jobs=_jobs(jobs_setting(jobs, config)), max_file_size=max_file_size)
    table = None
    if matrix:
        nodes = [node for path in paths for node in node_dirs(path)]
        table = matrix_json(*concern_matrix(scan_nodes(nodes, scans, base)))
    if format == "json":
        sys.stdout.write(json.dumps({**scan_json(scans), **({"matrix": table} if table else {})}, indent=2) + "\n")
    elif table is not None:
        print_matrix(Console(), table)
    elif statistics:
        write_statistics(sys.stdout, scans)
    elif format == "table":
        print_scan_table(Console(), scans)
    else:
        found = write_findings(sys.stdout, scans)
        err.print(f"{found} finding(s) in {sum(1 for s in scans if s.findings)} of {len(scans)} file(s); "
                  "`omnimix explain CODE` says why", soft_wrap=True)
    if any(s.status is Status.INTERNAL_ERROR for s in scans):
        raise typer.Exit(ExitCode.INTERNAL_ERROR)
    if any(s.status is Status.INPUT_ERROR for s in scans):
        for s in scans:
            if s.error:
                err.print(f"[red]error[/red] {escape(s.error)}")
        raise typer.Exit(ExitCode.INPUT_ERROR)


@app.command(epilog=MIGRATE_HELP)
def migrate(
    ctx: typer.Context,
    paths: NodesArg = None,
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
    backup: BackupOpt = True,
    allow_dirty: AllowDirtyOpt = False,
    report_json: Annotated[Path | None, typer.Option("--report-json", dir_okay=False, help="Write the report as JSON here.")] = None,
    report_md: Annotated[Path | None, typer.Option("--report-md", dir_okay=False, help="Write the report as Markdown here.")] = None,
    report_html: ReportHtmlOpt = None,
    interactive: Annotated[bool, typer.Option(
        "--interactive", "-i", help="Review each node concern by concern and hunk by hunk (accept, skip, diff, "
                                    "quit) on stderr, answers read from stdin; then verify and write what was "
                                    "accepted (implies --write).")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No summary on stderr, errors only.")] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Every reason in full with all its places.")] = False,
    only: Annotated[list[str] | None, typer.Option("--only", help="Only nodes whose short name matches this "
                                                                  "glob (repeatable).")] = None,
    exclude: Annotated[list[str] | None, typer.Option("--exclude", help="Leave out nodes whose short name "
                                                                        "matches this glob (repeatable).")] = None,
    jobs: JobsOpt = None,
    max_file_size: MaxFileSizeOpt = DEFAULT_MAX_FILE_SIZE,
) -> None:
    """Migrate nodes as their contracts declare: dry-run diff by default, --write to verify and apply."""
    config = config_for(paths)
    paths = paths_or_root(paths, config)
    unsafe = unsafe_setting(unsafe, config)
    report_json, report_md, report_html = (report_json or config.path(config.report_json),
                                           report_md or config.path(config.report_md),
                                           report_html or config.path(config.report_html))
    nodes = [node for path in paths for node in node_dirs(path)]
    summary = Summary(QUIET if quiet else VERBOSE if verbose else DEFAULT,
                      short_names([node.directory for node in nodes], config.path(config.nodes_root)))
    nodes = select_nodes(nodes, summary.names, only or [], [*(exclude or []), *config.exclude])
    if not nodes:
        err.print("[red]error[/red]: no node left after --only/--exclude (names: "
                  f"{escape(', '.join(sorted(summary.names.values())))})")
        raise typer.Exit(ExitCode.INPUT_ERROR)
    if contract is not None and len(nodes) != 1:
        err.print(f"[red]error[/red]: --contract applies to one node, but {len(nodes)} were found")
        raise typer.Exit(ExitCode.INPUT_ERROR)
    if interactive and check:
        err.print("[red]error[/red]: --interactive writes what you accept; it cannot be combined with --check")
        raise typer.Exit(ExitCode.INPUT_ERROR)
    write = write or interactive
    base = Path.cwd()
    root = repository_root(paths[0])
    run = open_run(ctx, root, backup=backup, allow_dirty=allow_dirty) if write else None
    repo_files = _repository_files(root, max_file_size)
    jobs = _jobs(jobs_setting(jobs, config))
    if len(nodes) > 1:
        nodes = by_priority(nodes, scan_paths([file for node in nodes for file in node.files], base, jobs=jobs,
                                              max_file_size=max_file_size))
    with node_progress(err, summary.names, len(nodes)) as progress:
        results = migrate_nodes(nodes, base, jobs=jobs, contract_path=contract, allow_unsafe=unsafe,
                                allow_longer=allow_longer, repository_files=repo_files, progress=progress,
                                max_file_size=max_file_size)
    failed = failures(results, summary.names)
    proposed = {result.directory: result for result in results} if interactive else {}
    if interactive:
        results = review(results, Prompter())
    mode = "interactive" if interactive else "write" if write else "dry-run"
    verifying = write if verify is None else verify
    off = None if verifying else ("off (--no-verify)" if verify is False else "off (dry-run; add --verify to run it)")
    gates = _verify(results, python=python, tests=tests, contract=contract, unsafe=unsafe,
                    echo="failures" if quiet else "all", proposed=proposed) if verifying else {}
    out = sys.stdout
    printed: set[Path] = set()
    for result in () if interactive else results:  # the review showed the diffs
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
                failed.append(f"{summary.name(result)}: not written: {gate.summary()}")
                continue
            try:
                write_changes(list(result.changes), root, run=run, node=result.directory)
            except WriteError as exc:
                written_failed = True
                err.print(f"[red]error[/red] {escape(result.display)}: {escape(str(exc))}")
                failed.append(f"{summary.name(result)}: not written: {exc}")
                continue
            if not quiet:
                err.print(f"wrote {len(result.changed_files)} file(s) of {result.display}")
        note = run_note(run) if run is not None and not quiet else None
        if note:
            err.print(escape(note))
    _write_reports(results, mode, gates, off, report_json, report_md, report_html)
    print_summary(err, results, summary, mode=mode, verification=off or _verified(gates))
    _print_errors(results)
    print_failures(err, failed)
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
    report_html: ReportHtmlOpt = None,
    max_file_size: MaxFileSizeOpt = DEFAULT_MAX_FILE_SIZE,
) -> None:
    """Migrate nodes in memory and prove each migration safe in a temporary copy; writes nothing.

    Prints every stage with its status, time and reason on stdout.
    """
    nodes = [node for path in paths for node in node_dirs(path)]
    if contract is not None and len(nodes) != 1:
        err.print(f"[red]error[/red]: --contract applies to one node, but {len(nodes)} were found")
        raise typer.Exit(ExitCode.INPUT_ERROR)
    base = Path.cwd()
    repo_files = _repository_files(repository_root(paths[0]), max_file_size)
    results = [
        migrate_node(node, base, contract_path=contract, allow_unsafe=unsafe, repository_files=repo_files,
                     max_file_size=max_file_size)
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
    _write_reports(results, "verify", gates, None, report_json, report_md, report_html)
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
    proposed: dict[Path, NodeResult] | None = None,
) -> dict[Path, GateReport]:
    """Run the gate on every node the migration changes; ``echo`` ("all", "failures" or None)
    says which stages to print on stderr as each gate finishes; ``proposed`` holds the whole migration
    of each node that an interactive review cut down."""
    gates = {}
    for result in results:
        if result.status is not Status.CHANGED:
            continue
        gate = run_gate(result, repository_root(result.directory), python=python.absolute() if python else None,
                        tests=tests,
                        contract_path=contract, allow_unsafe=unsafe,
                        proposed=(proposed or {}).get(result.directory))
        gates[result.directory] = gate
        if echo == "all" or (echo == "failures" and not gate.passed):
            print_gate(err, gate, failures_only=echo == "failures")
    return gates


def _verified(gates: dict[Path, GateReport]) -> str:
    failed = sum(1 for gate in gates.values() if not gate.passed)
    return f"on: {len(gates)} node(s) verified, {failed} failed"


def _write_reports(results, mode: str, gates, off: str | None, report_json: Path | None,
                   report_md: Path | None, report_html: Path | None = None) -> None:
    if report_json or report_md or report_html:
        data = migration_json(results, mode=mode, gates=gates, verification=off)
        write_reports(data, json_path=report_json, md_path=report_md, html_path=report_html)


def _repository_files(root: Path, max_file_size: int) -> tuple[Path, ...]:
    """The repository's Python files that codemods may read for context: not those too large to read, nor
    symlinks omnimix does not follow."""
    return tuple(file for file in python_files([root]) if file_problem(file, max_file_size) is None)


def _print_errors(results: list[NodeResult]) -> None:
    for result in results:
        if result.status in (Status.INPUT_ERROR, Status.INTERNAL_ERROR):
            err.print(f"[red]error[/red] {escape(result.display)}: {escape(result.message)}")
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
app.command(epilog=RUNS_HELP)(runs)
app.command(epilog=RUNS_HELP)(restore)
app.command(epilog=REPORT_HELP)(report)
app.command(epilog=EXPLAIN_HELP)(explain)
app.add_typer(contract_app, name="contract")
app.add_typer(catalog_app, name="catalog")


def main() -> None:
    app()
