"""Atomic, all-or-nothing writes of a node's changed files, with a backup of every original."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from pathlib import Path

from omnimix.results import FileChange

BACKUP_DIR = ".omnimix-backups"


class WriteError(Exception):
    """Writing failed; every file was restored to its original content."""


def write_changes(changes: list[FileChange], root: Path, *, backup: bool = True) -> Path | None:
    """Write ``changes`` atomically. Returns the backup folder, if one was made.

    Each new text goes to a temporary file beside its target first; only when all are on disk are
    they moved into place. If any step fails, the files already replaced are restored.
    """
    changes = [change for change in changes if change.changed and not _already_created(change)]
    if not changes:
        return None
    backup_dir = _backup(changes, root) if backup else None
    staged: list[tuple[FileChange, Path | None]] = []
    try:
        for change in changes:
            staged.append((change, _stage(change) if change.after is not None else None))
    except OSError as exc:
        _discard(staged)
        raise WriteError(f"cannot stage {change.display}: {exc}") from exc
    done: list[FileChange] = []
    try:
        for change, temp in staged:
            if temp is None:
                change.path.unlink()
            else:
                os.replace(temp, change.path)
            done.append(change)
    except OSError as exc:
        _discard(staged)
        for change in done:
            _restore(change)
        raise WriteError(f"cannot write {change.display}: {exc}; all files were restored") from exc
    return backup_dir


def _already_created(change: FileChange) -> bool:
    """A file to create that a previous node of the same run already created with this text."""
    if change.before is not None or not change.path.exists():
        return False
    try:
        current = change.path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise WriteError(f"cannot read {change.display}: {exc}") from exc
    if current != change.after:
        raise WriteError(f"{change.display} exists already with other content; nothing was written")
    return True


def _stage(change: FileChange) -> Path:
    assert change.after is not None
    mode = change.path.stat().st_mode & 0o7777 if change.before is not None else _default_mode()
    fd, name = tempfile.mkstemp(prefix=f".{change.path.name}.", suffix=".omnimix", dir=change.path.parent)
    with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
        handle.write(change.after)
        handle.flush()
        os.fsync(handle.fileno())
    os.chmod(name, mode)
    return Path(name)


def _default_mode() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def _discard(staged: list[tuple[FileChange, Path | None]]) -> None:
    for _, temp in staged:
        if temp is not None and temp.exists():
            temp.unlink()


def _restore(change: FileChange) -> None:
    if change.before is None:
        change.path.unlink(missing_ok=True)
        return
    with open(change.path, "w", encoding="utf-8", newline="") as handle:
        handle.write(change.before)


def _backup(changes: list[FileChange], root: Path) -> Path:
    stamp = time.strftime("%Y%m%dT%H%M%S") + f"-{os.getpid()}"
    folder = root / BACKUP_DIR / stamp
    manifest = []
    for change in changes:
        relative = change.path.resolve().relative_to(root.resolve()) if change.path.resolve().is_relative_to(root.resolve()) else Path(change.path.name)
        target = folder / relative
        if change.before is not None:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(change.path, target)
        manifest.append({"path": relative.as_posix(), "deleted": change.after is None,
                         "created": change.before is None})
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return folder


def restore_backup(folder: Path, root: Path) -> list[Path]:
    """Put every file of a backup folder back where it was; returns the restored paths."""
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    restored = []
    for entry in manifest:
        target = root / entry["path"]
        if entry.get("created"):
            target.unlink(missing_ok=True)
            restored.append(target)
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(folder / entry["path"], target)
        restored.append(target)
    return restored
