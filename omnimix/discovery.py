"""Find Python files, node directories and the repository root.

Inside a git work tree a walk sees what git lists (tracked files and untracked ones that ``.gitignore``
does not exclude); elsewhere it sees every file. Either way it skips ``SKIP_DIRS``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from omnimix.git import listed_files

CONTRACT_NAMES = ("contract.yaml", "contract.yml")
SKIP_DIRS = {".git", ".venv", "venv", "__pycache__", ".mypy_cache", ".pytest_cache", ".tox",
             "node_modules", "build", "dist", ".omnimix", ".omnimix-backups", ".hypothesis"}


@dataclass(frozen=True)
class NodeDir:
    """A node: its directory, its contract (if any) and its Python files."""

    directory: Path
    contract: Path | None
    files: tuple[Path, ...]


def python_files(paths: list[Path]) -> list[Path]:
    """Every ``.py`` file under ``paths``, sorted, without duplicates."""
    found: set[Path] = set()
    for path in paths:
        if path.is_file():
            if path.suffix == ".py":
                found.add(path.resolve())
            continue
        found.update(file.resolve() for file in tree_files(path) if file.suffix == ".py")
    return sorted(found)


def tree_files(directory: Path) -> list[Path]:
    """Every file under ``directory`` that a walk sees (see the module docstring), sorted."""
    listed = listed_files(directory)
    if listed is None:
        found = []
        for root, dirs, files in os.walk(directory):
            dirs[:] = sorted(d for d in dirs if not _skipped(d))
            found.extend(Path(root, name) for name in files)
        return sorted(found)
    return sorted(file for file in listed
                  if not any(_skipped(part) for part in file.relative_to(directory).parts[:-1]) and file.is_file())


def _skipped(directory_name: str) -> bool:
    return directory_name in SKIP_DIRS or directory_name.endswith(".egg-info")


def find_contract(directory: Path) -> Path | None:
    for name in CONTRACT_NAMES:
        candidate = directory / name
        if candidate.is_file():
            return candidate
    return None


def node_dirs(path: Path) -> list[NodeDir]:
    """The nodes under ``path``: one per contract found, else ``path`` itself as one node."""
    path = path.resolve()
    if path.is_file():
        directory = path.parent
        contract = path if path.name in CONTRACT_NAMES else find_contract(directory)
        return [NodeDir(directory, contract, tuple(_node_files(directory, tree_files(directory))))]
    files = tree_files(path)
    contracts = sorted(file for file in files if file.name in CONTRACT_NAMES)
    if not contracts:
        return [NodeDir(path, None, tuple(_node_files(path, files)))]
    return [NodeDir(c.parent, c, tuple(_node_files(c.parent, files))) for c in contracts]


def _node_files(directory: Path, files: list[Path]) -> list[Path]:
    """Python files of a node directory among ``files``, not descending into nested nodes."""
    nested = {file.parent for file in files if file.name in CONTRACT_NAMES and file.parent != directory}
    found = []
    for file in files:
        if file.suffix != ".py" or not file.is_relative_to(directory):
            continue
        if not any(directory / folder in nested for folder in file.relative_to(directory).parents):
            found.append(file)
    return sorted(found)


def repository_root(path: Path) -> Path:
    """The nearest ancestor holding ``.git`` (or a ``pyproject.toml`` when there is none)."""
    path = path.resolve()
    start = path if path.is_dir() else path.parent
    for candidate in (start, *start.parents):
        if (candidate / ".git").exists():
            return candidate
    for candidate in (start, *start.parents):
        if (candidate / "pyproject.toml").is_file():
            return candidate
    return start


def display_path(path: Path, base: Path) -> str:
    """``path`` relative to ``base`` with forward slashes, or absolute when outside it."""
    try:
        return path.resolve().relative_to(base.resolve()).as_posix()
    except ValueError:
        return os.path.relpath(path.resolve(), base.resolve()).replace(os.sep, "/")


def dotted_module_name(path: Path) -> str | None:
    """``a.b.c`` for ``.../a/b/c.py`` where ``a`` and ``b`` are packages (hold ``__init__.py``)."""
    path = path.resolve()
    parts = [] if path.name == "__init__.py" else [path.stem]
    directory = path.parent
    while (directory / "__init__.py").is_file():
        parts.insert(0, directory.name)
        directory = directory.parent
    return ".".join(parts) or None
