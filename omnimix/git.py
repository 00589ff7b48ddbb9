"""What git knows of a work tree: where its git directory is, which files it lists, which have uncommitted work."""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path


def git_dir(root: Path) -> Path | None:
    """The git directory of the work tree whose top is ``root`` (``.git``, or where a ``.git`` file points)."""
    dot = root / ".git"
    if dot.is_dir():
        return dot.resolve()
    if dot.is_file():
        text = dot.read_text(encoding="utf-8", errors="replace").strip()
        if text.startswith("gitdir:"):
            target = Path(text.removeprefix("gitdir:").strip())
            return (target if target.is_absolute() else root / target).resolve()
    return None


def listed_files(directory: Path) -> list[Path] | None:
    """Files under ``directory`` that git tracks or would track (``.gitignore`` honoured), or None outside
    a git work tree."""
    listing = _git(directory, "ls-files", "-z", "--cached", "--others", "--exclude-standard")
    if listing is None:
        return None
    return [directory / name for name in _split(listing)]


@dataclass(frozen=True)
class WorkTreeState:
    """A snapshot of a work tree: its top, the files git tracks, and those with staged or unstaged changes."""

    top: Path
    tracked: frozenset[str]
    changed: dict[str, str]

    @classmethod
    def of(cls, root: Path) -> WorkTreeState | None:
        """The state of the work tree holding ``root``, or None when ``root`` is not in one (or git is missing)."""
        top = _git(root, "rev-parse", "--show-toplevel")
        if top is None:
            return None
        top_path = Path(os.fsdecode(top).strip()).resolve()
        tracked = _git(top_path, "ls-files", "-z")
        status = _git(top_path, "status", "--porcelain=v1", "-z", "--untracked-files=all")
        if tracked is None or status is None:
            return None
        return cls(top_path, frozenset(_split(tracked)), _changes(status))

    def uncommitted(self, path: Path) -> str | None:
        """Why ``path`` holds work git does not have (modified, staged, untracked), or None when it is clean
        or absent."""
        try:
            relative = path.resolve().relative_to(self.top).as_posix()
        except ValueError:
            return None
        if relative in self.changed:
            return self.changed[relative]
        if relative not in self.tracked and path.exists():
            return "untracked"
        return None


def _changes(status: bytes) -> dict[str, str]:
    changes: dict[str, str] = {}
    entries = iter(_split(status))
    for entry in entries:
        code, name = entry[:2], entry[3:]
        if code == "??":
            changes[name] = "untracked"
        elif code[1] != " ":
            changes[name] = "modified"
        else:
            changes[name] = "staged"
        if code[0] in "RC":
            next(entries, None)  # the name it was renamed or copied from
    return changes


def _split(output: bytes) -> list[str]:
    return [os.fsdecode(name) for name in output.split(b"\0") if name]


def _git(cwd: Path, *args: str) -> bytes | None:
    try:
        done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, check=False)
    except OSError:
        return None
    return done.stdout if done.returncode == 0 else None
