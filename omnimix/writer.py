"""Writing one node's changes: all or nothing, each file replaced atomically, every step in the run record.

Each file's new bytes are staged in a temporary file beside it and fsynced, the run record (with the
original bytes, see ``omnimix.runs``) is written and fsynced, and only then is the file replaced with
``os.replace``. A process killed at any moment leaves every file wholly old or wholly new, and the
record's hashes tell which.
"""

from __future__ import annotations

import os
import signal
from dataclasses import dataclass
from pathlib import Path

from omnimix.results import FileChange
from omnimix.runs import FileRecord, Run, fsync_directory

#: For tests only: SIGKILL this process after that many files have been replaced (0: before the first).
KILL_AFTER_ENV = "OMNIMIX_TEST_KILL_AFTER"


class WriteError(Exception):
    """A node's changes were refused or could not be written; none of its files changed."""


class _Refused(Exception):
    """One file cannot be written; the message is the reason."""


@dataclass
class _Step:
    change: FileChange
    old: bytes | None  # None: the file is created
    new: bytes | None  # None: the file is deleted
    mode: int
    entry: FileRecord | None = None


def write_changes(changes: list[FileChange], root: Path, *, run: Run | None = None, backup: bool = True,
                  node: Path | None = None) -> list[FileChange]:
    """Write one node's ``changes`` as a unit, recorded in ``run`` under the node's directory ``node``;
    returns the changes written.

    Without a ``run``, one is started for this call (``backup`` as ``--backup/--no-backup``). Raises
    ``WriteError``, naming every file and its reason, when a file has uncommitted changes, vanished,
    changed since it was read, is read-only or sits in a directory omnimix cannot write; nothing of the
    node is written then.
    """
    if run is None:
        with Run.start(root, backup=backup, command="omnimix (write_changes)") as own:
            return write_changes(changes, root, run=own, node=node)
    steps = _plan([change for change in changes if change.changed], run)
    if not steps:
        return []
    directory = node or Path(os.path.commonpath([step.change.path.parent for step in steps]))
    try:
        for step in steps:
            step.entry = run.begin(step.change.path, step.old, step.new, mode=step.mode,
                                   node=_relative(directory, run.root))
        run.save()
    except OSError as exc:
        _mark(steps, run, "rolled back")
        raise WriteError(f"cannot record the run in {run.lock.path.parent}: {exc.strerror or exc}; "
                         "nothing was written") from exc
    try:
        for step in steps:
            if step.new is not None:
                _stage(run.root / _staged(step), step.new, step.mode)
    except OSError as exc:
        _discard(steps, run)
        _mark(steps, run, "rolled back")
        raise WriteError(f"cannot stage {step.change.display}: {exc.strerror or exc}; nothing was written") from exc
    done: list[_Step] = []
    try:
        for step in steps:
            _kill_point()
            _replace(step, run)
            done.append(step)
            _kill_point()
            run.mark(_entry(step), "written")
            run.save()
    except OSError as exc:
        _discard(steps, run)
        stuck = _roll_back(done)
        _mark([step for step in steps if step not in stuck], run, "rolled back")
        outcome = ("the node's other files were put back" if not stuck else
                   f"{', '.join(step.change.display for step in stuck)} could not be put back: "
                   f"`omnimix restore {run.id}` can")
        raise WriteError(f"cannot write {step.change.display}: {exc.strerror or exc}; {outcome}") from exc
    return [step.change for step in steps]


def _plan(changes: list[FileChange], run: Run) -> list[_Step]:
    """The files to write; a file that holds the new bytes already needs nothing (and may be uncommitted)."""
    steps, problems, pending = [], [], []
    for change in changes:
        try:
            step = _step(change)
        except _Refused as exc:
            problems.append(f"{change.display}: {exc}")
            pending.append(change)
            continue
        if step is not None:
            steps.append(step)
            pending.append(change)
    dirty = [f"{change.display} ({kind})" for change in pending if (kind := run.uncommitted(change.path))]
    if dirty:
        raise WriteError(f"uncommitted changes in {', '.join(dirty)}: nothing of this node was written "
                         "(commit or stash them, or pass --allow-dirty)")
    if problems:
        raise WriteError("; ".join(problems) + "; nothing of this node was written")
    return steps


def _step(change: FileChange) -> _Step | None:
    """What writing ``change`` takes, None when the file holds the new bytes already (a file that an
    earlier node of the same run wrote, such as a shared mixin); raises _Refused with the reason."""
    path = change.path
    try:
        new = None if change.after is None else change.encode(change.after)
    except UnicodeEncodeError as exc:
        raise _Refused(f"the new text cannot be encoded as {change.encoding}, the file's encoding "
                       f"({exc.reason}: {exc.object[exc.start:exc.end]!r})") from exc
    if change.before is None:
        if path.exists() or path.is_symlink():
            if path.is_file() and new is not None and _read(path) == new:
                return None
            raise _Refused("exists already with other content")
        _check_directory(path.parent, creating=True)
        return _Step(change, None, new, _default_mode())
    if not path.exists():
        raise _Refused("vanished since omnimix read it")
    old = _read(path)
    if new is not None and old == new:
        return None
    if old != change.encode(change.before):
        raise _Refused("changed since omnimix read it")
    if not os.access(path, os.W_OK):
        raise _Refused("read-only (no write permission)")
    _check_directory(path.parent, creating=False)
    return _Step(change, old, new, path.stat().st_mode & 0o7777)


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise _Refused(f"cannot read it: {exc.strerror or exc}") from exc


def _check_directory(directory: Path, *, creating: bool) -> None:
    existing = directory
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise _Refused(f"cannot create it: {existing} is not a directory")
    if not os.access(existing, os.W_OK | os.X_OK):
        where = "its directory" if existing == directory else f"directory {existing}"
        raise _Refused(f"{where} is not writable" + (" (cannot create the file)" if creating else ""))


def _staged(step: _Step) -> str:
    staged = _entry(step).staged
    assert staged is not None
    return staged


def _entry(step: _Step) -> FileRecord:
    assert step.entry is not None
    return step.entry


def _stage(temp: Path, data: bytes, mode: int) -> None:
    temp.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.chmod(temp, mode)


def _replace(step: _Step, run: Run) -> None:
    if step.new is None:
        step.change.path.unlink()
    else:
        os.replace(run.root / _staged(step), step.change.path)
    _count_replace()
    fsync_directory(step.change.path.parent)


def _discard(steps: list[_Step], run: Run) -> None:
    for step in steps:
        if step.entry is not None and step.entry.staged is not None and step.entry.state == "pending":
            (run.root / step.entry.staged).unlink(missing_ok=True)


def _roll_back(done: list[_Step]) -> list[_Step]:
    """Put back the files of a node already replaced when a later one failed (from the bytes in memory);
    returns those that could not be put back."""
    stuck = []
    for step in reversed(done):
        try:
            if step.old is None:
                step.change.path.unlink(missing_ok=True)
                continue
            temp = step.change.path.with_name(f".{step.change.path.name}.rollback.omnimix")
            temp.unlink(missing_ok=True)
            _stage(temp, step.old, step.mode)
            os.replace(temp, step.change.path)
        except OSError:
            stuck.append(step)
    return stuck


def _mark(steps: list[_Step], run: Run, state: str) -> None:
    for step in steps:
        if step.entry is not None:
            run.mark(step.entry, state)
    try:
        run.save()
    except OSError:
        pass  # the files are back as they were; the hashes say so even if the record is behind


def _relative(path: Path, root: Path) -> str:
    return path.relative_to(root).as_posix() if path.is_relative_to(root) else str(path)


def _default_mode() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


_replaced = 0


def _count_replace() -> None:
    global _replaced
    _replaced += 1


def _kill_point() -> None:
    """The test hook of ``KILL_AFTER_ENV``: checked before and after each replace."""
    limit = os.environ.get(KILL_AFTER_ENV)
    if limit is not None and int(limit) == _replaced:
        os.kill(os.getpid(), signal.SIGKILL)
