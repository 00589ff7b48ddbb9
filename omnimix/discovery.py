"""Find Python files, node directories and the repository root.

Inside a git work tree a walk sees what git lists (tracked files and untracked ones that ``.gitignore``
does not exclude); elsewhere it sees every file. Either way it skips ``SKIP_DIRS``.
"""

from __future__ import annotations

import errno
import os
from dataclasses import dataclass
from pathlib import Path

from omnimix.git import listed_files

CONTRACT_NAMES = ("contract.yaml", "contract.yml")
SKIP_DIRS = {".git", ".venv", "venv", "__pycache__", ".mypy_cache", ".pytest_cache", ".tox",
             "node_modules", "build", "dist", ".omnimix", ".omnimix-backups", ".hypothesis"}


@dataclass(frozen=True)
class NodeDir:
    """A node: its directory, its contract (if any) and its Python files; ``problems`` say why it cannot be
    migrated at all, as (file relative to the directory, or "" for the directory itself, problem)."""

    directory: Path
    contract: Path | None
    files: tuple[Path, ...]
    problems: tuple[tuple[str, str], ...] = ()


def python_files(paths: list[Path]) -> list[Path]:
    """Every ``.py`` file under ``paths``, sorted, without duplicates."""
    found: set[Path] = set()
    for path in paths:
        if path.is_file():
            if path.suffix == ".py":
                found.add(_canonical(path))
            continue
        found.update(_canonical(file) for file in tree_files(path) if file.suffix == ".py")
    return sorted(found)


def _canonical(file: Path) -> Path:
    """``file`` resolved, except a symlink that ``link_problem`` refuses: kept as the link, so that reading
    it reports the problem instead of following it."""
    if file.is_symlink() and link_problem(file) is not None:
        return file.parent.resolve() / file.name
    return file.resolve()


def link_problem(path: Path) -> str | None:
    """Why a symlink is not followed: it loops, dangles, or points outside the tree (the repository) it
    is in. None for a regular file or a symlink within the tree."""
    if not path.is_symlink():
        return None
    try:
        target = path.resolve(strict=True)
    except RuntimeError:  # Python 3.12 reports a loop so; later versions raise OSError (ELOOP)
        return "symlink loop; not followed"
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return "symlink loop; not followed"
        if isinstance(exc, FileNotFoundError):
            return f"symlink to {os.readlink(path)}, which does not exist; not followed"
        return f"symlink that cannot be followed ({exc.strerror}); not followed"
    root = repository_root(path.parent)
    if not target.is_relative_to(root):
        return f"symlink to {target}, outside the tree {root}; not followed"
    return None


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
                  if not any(_skipped(part) for part in file.relative_to(directory).parts[:-1])
                  and (file.is_file() or file.is_symlink()))  # a broken link is kept, to be reported


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
        files = tree_files(directory)
        contracts = [f for f in files if f.parent == directory and f.name in CONTRACT_NAMES]
        if path.name in CONTRACT_NAMES:
            contracts = [path, *(c for c in contracts if c != path)]
        return [_node(directory, contracts, files)]
    files = tree_files(path)
    by_directory: dict[Path, list[Path]] = {}
    for contract in sorted(file for file in files if file.name in CONTRACT_NAMES):
        by_directory.setdefault(contract.parent, []).append(contract)
    if not by_directory:
        return [_node(path, [], files)]
    return [_node(directory, contracts, files) for directory, contracts in by_directory.items()]


def _node(directory: Path, contracts: list[Path], files: list[Path]) -> NodeDir:
    """The node in ``directory``; two contracts, or a contract or Python file that is a symlink omnimix does
    not follow (``link_problem``), make it a node with a problem, without those links among its files."""
    problems = []
    if len(contracts) > 1:
        problems.append(("", f"two contracts for one node ({' and '.join(c.name for c in contracts)}); keep one"))
    python = []
    for file in [*contracts[:1], *_node_files(directory, files)]:
        problem = link_problem(file)
        if problem:
            problems.append((file.relative_to(directory).as_posix(), problem))
        elif file.suffix == ".py":
            python.append(file)
    return NodeDir(directory, contracts[0] if contracts else None, tuple(python), tuple(problems))


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
    """``path`` relative to ``base`` with forward slashes, or absolute when outside it (a symlink is shown
    where it is, not where it points)."""
    absolute = path.parent.resolve() / path.name if path.is_symlink() else path.resolve()
    try:
        return absolute.relative_to(base.resolve()).as_posix()
    except ValueError:
        return os.path.relpath(absolute, base.resolve()).replace(os.sep, "/")


def dotted_module_name(path: Path) -> str | None:
    """``a.b.c`` for ``.../a/b/c.py`` where ``a`` and ``b`` are packages (hold ``__init__.py``)."""
    path = path.resolve()
    parts = [] if path.name == "__init__.py" else [path.stem]
    directory = path.parent
    while (directory / "__init__.py").is_file():
        parts.insert(0, directory.name)
        directory = directory.parent
    return ".".join(parts) or None
