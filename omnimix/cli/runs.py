"""``omnimix runs`` and ``omnimix restore``: the record of every ``--write``, and undoing one; and the run
that a writing command holds while it writes (the tree's lock, uncommitted work, the record)."""

from __future__ import annotations

import shlex
import sys
import time
from pathlib import Path
from typing import Annotated, NoReturn

import typer

from omnimix.discovery import display_path, repository_root
from omnimix.exit_codes import ExitCode
from omnimix.runs import (
    Run,
    RunError,
    TreeLock,
    find_run,
    load_runs,
    restore_run,
    runs_folder,
)

TreeOpt = Annotated[Path, typer.Option(
    "--tree", exists=True, help="Any path in the work tree whose runs these are (default: the current directory).")]

RUNS_HELP = (
    "Runs are recorded inside the git directory (<git-dir>/omnimix/runs/), or in .omnimix/runs/ at the root "
    f"outside a git work tree. Exit codes: {int(ExitCode.OK)} success; {int(ExitCode.INPUT_ERROR)} no such run, "
    "a refused restore (a file changed since the run, or a run made with --no-backup), or another omnimix "
    "holding the tree's lock."
)


def open_run(ctx: typer.Context, root: Path, *, backup: bool, allow_dirty: bool) -> Run:
    """Start the run of a writing command: take the tree's lock (a second omnimix waits a few seconds, then
    refuses) and hold it until the command (``ctx``) ends. Exits 2 with the reason when the run cannot start."""
    try:
        run = Run.start(root, backup=backup, allow_dirty=allow_dirty, command=command_line())
    except RunError as exc:
        sys.stderr.write(f"error: {exc}\n")
        raise typer.Exit(ExitCode.INPUT_ERROR) from None
    ctx.call_on_close(run.close)
    return run


def run_note(run: Run) -> str | None:
    """One line on the run just recorded, or None when it wrote nothing."""
    if run.id is None:
        return None
    if not run.backup:
        return f"run {run.id}: {run.files} file(s) recorded without their originals (--no-backup): it cannot be restored"
    return f"run {run.id}: {run.files} file(s) recorded; `omnimix restore {run.id}` puts them back"


def command_line() -> str:
    return shlex.join(["omnimix", *sys.argv[1:]])


def runs(
    run_id: Annotated[str | None, typer.Argument(help="Show the files of this run (a unique prefix will do).")] = None,
    tree: TreeOpt = Path("."),
) -> None:
    """List the recorded runs of --write (id, date, files, state), oldest first; the state comes from each
    file's current hash. With RUN-ID, each file of that run: new, old or changed since."""
    root = repository_root(tree)
    if run_id is None:
        found = load_runs(root)
        if not found:
            sys.stderr.write(f"no run recorded for this tree (records live in {runs_folder(root.resolve())})\n")
            return
        running = TreeLock(runs_folder(root.resolve()), "").held_elsewhere()
        rows = [(record.id, _date(record.started), str(len(record.paths())),
                 record.state(root, running=running and record is found[-1][1]), record.command)
                for _, record in found]
        _table(("RUN", "DATE", "FILES", "STATE", "COMMAND"), rows)
        return
    try:
        _, record = find_run(root, run_id)
    except RunError as exc:
        _fail(exc)
    sys.stderr.write(f"run {record.id} ({_date(record.started)}): {record.command}\n"
                     f"state: {record.state(root)}\n")
    _table(("NOW", "RECORDED", "PATH"),
           [(recorded.now(root), recorded.last.state, recorded.path) for recorded in record.paths()])


def restore(
    run_id: Annotated[str | None, typer.Argument(help="The run to undo (default: the latest; see `omnimix runs`).")] = None,
    force: Annotated[bool, typer.Option("--force", help="Restore files that changed since the run too "
                                                        "(their current bytes are kept in the run's folder).")] = False,
    tree: TreeOpt = Path("."),
) -> None:
    """Put back every file of a run byte for byte: changed files get their original bytes, created files are
    deleted, deleted files re-created. Refuses, naming the files, when one changed since the run."""
    root = repository_root(tree)
    try:
        done = restore_run(root, run_id, force=force, command=command_line())
    except RunError as exc:
        _fail(exc)
    base = Path.cwd()
    for path in done.restored:
        sys.stderr.write(f"restored {display_path(root / path, base)}\n")
    if done.overwritten is not None:
        sys.stderr.write(f"--force: the changed files it overwrote are kept in {done.overwritten}\n")
    already = f", {len(done.already)} already as they were" if done.already else ""
    sys.stderr.write(f"run {done.run_id}: {len(done.restored)} file(s) restored{already}\n")


def _table(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> None:
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header) - 1)]
    for row in [header, *rows]:
        sys.stdout.write("  ".join([*(cell.ljust(width) for cell, width in zip(row, widths)), row[-1]]) + "\n")


def _date(epoch: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(epoch))


def _fail(exc: Exception) -> NoReturn:
    sys.stderr.write(f"error: {exc}\n")
    raise typer.Exit(ExitCode.INPUT_ERROR)
