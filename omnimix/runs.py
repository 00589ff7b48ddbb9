"""Run records: what each ``--write`` changed, with the original bytes, so that ``omnimix restore`` can undo it.

Records live where git does not see them: ``<git-dir>/omnimix/runs/`` inside a git work tree, else
``.omnimix/runs/`` at the root of the tree (omnimix adds that folder to no ignore file). There:

- ``lock``: the tree's lock (``fcntl.flock``); one omnimix writes to a tree at a time.
- ``<RUN-ID>/record.json``: the command line and, for every file changed, created or deleted, its path, the
  sha256 of its bytes before and after, and its state (pending, written, rolled back, restored). It is written
  and fsynced before every file is replaced, so after a crash the hashes tell which files are old or new.
- ``<RUN-ID>/originals/<path>``: the original bytes of each changed or deleted file (not with ``--no-backup``).
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from omnimix.git import WorkTreeState, git_dir

RECORD = "record.json"
ORIGINALS = "originals"
OVERWRITTEN = "overwritten"
LOCK = "lock"
#: How long a second omnimix waits for the tree's lock before it refuses; OMNIMIX_LOCK_TIMEOUT overrides.
LOCK_TIMEOUT_SECONDS = 10.0


class RunError(Exception):
    """A run cannot start, be found or be restored; the message says why and what to do."""


def runs_folder(root: Path) -> Path:
    """Where the runs of the tree at ``root`` are recorded (see the module docstring)."""
    git = git_dir(root)
    return git / "omnimix" / "runs" if git is not None else root / ".omnimix" / "runs"


def sha256(data: bytes | None) -> str | None:
    return None if data is None else hashlib.sha256(data).hexdigest()


def file_hash(path: Path) -> str | None:
    """The sha256 of the file's bytes, or None when there is no file."""
    try:
        return sha256(path.read_bytes())
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
        return None


def fsync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_durably(path: Path, data: bytes, mode: int = 0o644) -> None:
    """Write ``path`` atomically (a temporary file beside it, fsync, rename, fsync of the directory)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".omnimix", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(name, mode)
        os.replace(name, path)
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise
    fsync_directory(path.parent)


# -- the lock ---------------------------------------------------------------------------------
class TreeLock:
    """The exclusive lock of one tree, held by one omnimix process while it writes or restores."""

    def __init__(self, folder: Path, command: str) -> None:
        self.path = folder / LOCK
        self.command = command
        self._fd: int | None = None

    def acquire(self, timeout: float | None = None) -> None:
        """Take the lock, waiting up to ``timeout`` seconds for another omnimix to finish; else RunError."""
        if timeout is None:
            timeout = float(os.environ.get("OMNIMIX_LOCK_TIMEOUT", LOCK_TIMEOUT_SECONDS))
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    os.close(fd)
                    holder = self.path.read_text(encoding="utf-8", errors="replace").strip() or "another process"
                    raise RunError(f"another omnimix is writing to this tree ({holder}); waited {timeout:g}s for it "
                                   f"to finish, so nothing was done. Try again when it is done "
                                   f"(lock: {self.path})") from None
                time.sleep(0.05)
        os.ftruncate(fd, 0)
        os.write(fd, f"pid {os.getpid()}, since {time.strftime('%H:%M:%S')}: {self.command}\n".encode())
        self._fd = fd

    def held_elsewhere(self) -> bool:
        """Whether another process holds the lock now (a run in progress)."""
        if not self.path.exists():
            return False
        fd = os.open(self.path, os.O_RDONLY)
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
            return False
        except BlockingIOError:
            return True
        finally:
            os.close(fd)

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the descriptor releases the lock
            self._fd = None


# -- the record -------------------------------------------------------------------------------
@dataclass
class FileRecord:
    """One file of a run. ``before``/``after`` are sha256 digests; None means absent (created, or deleted)."""

    path: str  # relative to the root, with forward slashes; absolute when outside it
    before: str | None
    after: str | None
    state: str  # pending, written, rolled back, restored
    node: str = ""
    mode: int | None = None
    original: str | None = None  # the original bytes, relative to the run's folder (None: --no-backup)
    staged: str | None = None  # the temporary file the new bytes wait in, relative to the root

    def target(self, root: Path) -> Path:
        return root / self.path


@dataclass
class RunRecord:
    """One recorded run, as stored in ``record.json``."""

    id: str
    started: float
    command: str
    root: str
    backup: bool
    finished: bool = False
    restored: float | None = None
    files: list[FileRecord] = field(default_factory=list)

    @classmethod
    def load(cls, folder: Path) -> RunRecord:
        data = json.loads((folder / RECORD).read_text(encoding="utf-8"))
        files = [FileRecord(**entry) for entry in data.pop("files")]
        return cls(**data, files=files)

    def save(self, folder: Path) -> None:
        write_durably(folder / RECORD, (json.dumps(asdict(self), indent=2) + "\n").encode())

    def paths(self) -> list[RecordedPath]:
        """Each path the run touched, once (the rare path written twice spans its first and last entry)."""
        first: dict[str, FileRecord] = {}
        last: dict[str, FileRecord] = {}
        for entry in self.files:
            first.setdefault(entry.path, entry)
            last[entry.path] = entry
        return [RecordedPath(path, first[path], last[path]) for path in first]

    def state(self, root: Path, *, running: bool = False) -> str:
        """The run's state, from the hashes of its files as they are now (``running``: its process holds
        the tree's lock)."""
        now = [recorded.now(root) for recorded in self.paths()]
        new, old, changed = now.count("new"), now.count("old"), now.count("changed")
        since = f"; {changed} changed since" if changed else ""
        if self.restored is not None:
            state = f"restored{since}"
        elif not self.finished and running:
            state = f"in progress: {new} of {len(now)} written so far"
        elif new == len(now):
            state = "written"
        elif not self.finished:
            state = f"interrupted: {new} of {len(now)} written, {old} not written{since}"
        elif changed == len(now):
            state = "every file changed since"
        else:
            state = f"{new} written, {old} back to the original{since}"
        return state if self.backup or self.restored is not None else f"{state} (--no-backup: cannot be restored)"


@dataclass(frozen=True)
class RecordedPath:
    """A path of a run: the entry that first changed it (its original) and the last (what the run left there)."""

    path: str
    first: FileRecord
    last: FileRecord

    def now(self, root: Path) -> str:
        """new (what the run wrote), old (the original) or changed (neither), from the file's current hash."""
        current = file_hash(self.first.target(root))
        if current == self.last.after:
            return "new"
        if current == self.first.before:
            return "old"
        return "changed"


class Run:
    """The run of one ``--write``: holds the tree's lock, keeps the originals, and records every file it writes.

    Use ``Run.start`` and ``close`` (or ``with``). The record is made with the first file written; a run that
    writes nothing leaves nothing behind.
    """

    def __init__(self, root: Path, *, backup: bool, command: str, worktree: WorkTreeState | None = None) -> None:
        self.root = root.resolve()
        self.backup = backup
        self.command = command
        self.worktree = worktree
        self.folder: Path | None = None
        self.record: RunRecord | None = None
        self.lock = TreeLock(runs_folder(self.root), command)
        self._written: set[Path] = set()

    @classmethod
    def start(cls, root: Path, *, backup: bool = True, allow_dirty: bool = False, command: str = "omnimix",
              lock_timeout: float | None = None) -> Run:
        """Take the tree's lock, then note which files hold uncommitted work (unless ``allow_dirty``)."""
        run = cls(root, backup=backup, command=command, worktree=None)
        run.lock.acquire(lock_timeout)
        if not allow_dirty and git_dir(run.root) is not None:
            run.worktree = WorkTreeState.of(run.root)
            if run.worktree is None:
                run.lock.release()
                raise RunError(f"cannot tell which files have uncommitted changes: `git status` failed in {root}; "
                               "pass --allow-dirty to write anyway")
        return run

    def __enter__(self) -> Run:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @property
    def id(self) -> str | None:
        return self.record.id if self.record else None

    @property
    def files(self) -> int:
        return len(self.record.files) if self.record else 0

    def uncommitted(self, path: Path) -> str | None:
        """Why ``path`` holds work git does not have (modified, staged, untracked), or None; files this run
        wrote itself do not count."""
        if self.worktree is None or path.resolve() in self._written:
            return None
        return self.worktree.uncommitted(path)

    def begin(self, path: Path, old: bytes | None, new: bytes | None, *, mode: int, node: str) -> FileRecord:
        """Keep the original bytes of ``path`` (fsynced) and add it to the record as pending, with the name of
        the temporary file its new bytes are to be staged in (``entry.staged``); ``save`` writes the record."""
        folder, record = self._open()
        relative = self._relative(path)
        original = None
        if old is not None and self.backup:
            kept = self._free(Path(ORIGINALS) / (relative if not Path(relative).is_absolute()
                                                 else f"outside/{Path(relative).name}"))
            write_durably(folder / kept, old)
            original = kept.as_posix()
        staged = None if new is None else self._relative(path.parent / f".{path.name}.{record.id}.omnimix")
        entry = FileRecord(relative, sha256(old), sha256(new), "pending", node, mode, original, staged)
        record.files.append(entry)
        return entry

    def mark(self, entry: FileRecord, state: str) -> None:
        entry.state = state
        if state == "written":
            entry.staged = None
            self._written.add(entry.target(self.root).resolve())

    def save(self) -> None:
        """Write the record to disk and fsync it."""
        if self.record is not None and self.folder is not None:
            self.record.save(self.folder)

    def close(self) -> None:
        """Mark the record finished and release the tree's lock."""
        try:
            if self.record is not None and not self.record.finished:
                self.record.finished = True
                self.save()
        finally:
            self.lock.release()

    def _open(self) -> tuple[Path, RunRecord]:
        if self.folder is None or self.record is None:
            stamp = time.strftime("%Y%m%dT%H%M%S")
            runs = runs_folder(self.root)
            run_id, number = f"{stamp}-{os.getpid()}", 1
            while (runs / run_id).exists():  # two runs of one process in the same second
                number += 1
                run_id = f"{stamp}-{os.getpid()}.{number}"
            self.folder = runs / run_id
            self.folder.mkdir(parents=True)
            self.record = RunRecord(run_id, time.time(), self.command, str(self.root), self.backup)
        return self.folder, self.record

    def _relative(self, path: Path) -> str:
        absolute = Path(os.path.abspath(path))
        return absolute.relative_to(self.root).as_posix() if absolute.is_relative_to(self.root) else str(absolute)

    def _free(self, name: Path) -> Path:
        """``name`` in the run's folder, or ``name~2``... when this run already kept a file there."""
        assert self.folder is not None
        candidate, number = name, 1
        while (self.folder / candidate).exists():
            number += 1
            candidate = name.with_name(f"{name.name}~{number}")
        return candidate


# -- listing and restoring --------------------------------------------------------------------
def load_runs(root: Path) -> list[tuple[Path, RunRecord]]:
    """Every recorded run of the tree at ``root``, oldest first."""
    folder = runs_folder(root.resolve())
    if not folder.is_dir():
        return []
    found = []
    for candidate in folder.iterdir():
        if (candidate / RECORD).is_file():
            found.append((candidate, RunRecord.load(candidate)))
    return sorted(found, key=lambda item: (item[1].started, item[1].id))


def find_run(root: Path, run_id: str | None) -> tuple[Path, RunRecord]:
    """The run called ``run_id`` (a unique prefix will do), or the latest; RunError when there is none."""
    found = load_runs(root)
    if not found:
        raise RunError(f"no run recorded for this tree (records live in {runs_folder(root.resolve())})")
    if run_id is None:
        return found[-1]
    matches = [item for item in found if item[1].id == run_id] or [
        item for item in found if item[1].id.startswith(run_id)]
    if len(matches) != 1:
        known = ", ".join(record.id for _, record in found[-5:])
        what = "no run" if not matches else f"{len(matches)} runs"
        raise RunError(f"{what} called {run_id!r} (latest: {known}); see `omnimix runs`")
    return matches[0]


@dataclass(frozen=True)
class Restored:
    """What ``restore_run`` did: the run, the files put back, and those that were already original."""

    run_id: str
    restored: tuple[str, ...]
    already: tuple[str, ...]
    overwritten: Path | None = None  # where --force kept the changed files it overwrote


def restore_run(root: Path, run_id: str | None = None, *, force: bool = False,
                lock_timeout: float | None = None, command: str = "omnimix restore") -> Restored:
    """Put every file of a run back byte for byte: changed files get their original bytes, created files are
    deleted, deleted files re-created. Refuses (RunError, nothing touched) when a file changed since the run,
    naming it, unless ``force``."""
    root = root.resolve()
    lock = TreeLock(runs_folder(root), command)
    lock.acquire(lock_timeout)
    try:
        folder, record = find_run(root, run_id)
        return _restore(root, folder, record, force=force)
    finally:
        lock.release()


def _restore(root: Path, folder: Path, record: RunRecord, *, force: bool) -> Restored:
    if not record.backup and any(entry.before is not None for entry in record.files):
        raise RunError(f"run {record.id} was made with --no-backup: omnimix kept no original bytes, so it cannot "
                       "restore it (git may: `git checkout -- PATH`)")
    paths = record.paths()
    now = {recorded.path: recorded.now(root) for recorded in paths}
    changed = [recorded.path for recorded in paths if now[recorded.path] == "changed"]
    if changed and not force:
        raise RunError(f"{len(changed)} file(s) changed since run {record.id}, so nothing was restored: "
                       f"{', '.join(changed)} (the content is neither what the run wrote nor the original); "
                       "--force puts the originals back anyway")
    for recorded in paths:
        original = recorded.first.original
        if original is not None and sha256((folder / original).read_bytes()) != recorded.first.before:
            raise RunError(f"the original of {recorded.path} kept in {folder / original} is damaged "
                           "(its hash is not the recorded one); nothing was restored")
    restored, already = [], []
    overwritten = None
    for number, recorded in enumerate(paths):
        target = recorded.first.target(root)
        for entry in record.files:
            if entry.path == recorded.path and entry.staged is not None:
                (root / entry.staged).unlink(missing_ok=True)  # left by a run killed before this file
        if now[recorded.path] == "old":
            already.append(recorded.path)
            continue
        if now[recorded.path] == "changed" and target.is_file():
            overwritten = folder / OVERWRITTEN
            write_durably(overwritten / f"{number}-{target.name}", target.read_bytes())
        if recorded.first.before is None:
            target.unlink(missing_ok=True)
            fsync_directory(target.parent)
        else:
            assert recorded.first.original is not None
            mode = recorded.first.mode if recorded.first.mode is not None else 0o644
            write_durably(target, (folder / recorded.first.original).read_bytes(), mode)
        for entry in record.files:
            if entry.path == recorded.path:
                entry.state, entry.staged = "restored", None
        record.save(folder)
        restored.append(recorded.path)
    record.restored = time.time()
    record.save(folder)
    return Restored(record.id, tuple(restored), tuple(already), overwritten)
