"""Find Python files, node directories and the repository root."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

CONTRACT_NAMES = ("contract.yaml", "contract.yml")
SKIP_DIRS = {".git", ".venv", "venv", "__pycache__", ".mypy_cache", ".pytest_cache", ".tox",
             "node_modules", "build", "dist", ".omnimix-backups", ".hypothesis"}


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
        for root, dirs, files in os.walk(path):
            dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS and not d.endswith(".egg-info"))
            found.update(Path(root, name).resolve() for name in files if name.endswith(".py"))
    return sorted(found)


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
        return [NodeDir(directory, contract, tuple(_node_files(directory)))]
    contracts = sorted(_contracts_under(path))
    if not contracts:
        return [NodeDir(path, None, tuple(_node_files(path)))]
    return [NodeDir(c.parent, c, tuple(_node_files(c.parent))) for c in contracts]


def _contracts_under(path: Path) -> list[Path]:
    found = []
    for root, dirs, files in os.walk(path):
        dirs[:] = [d for d in dirs if d not in SKIP_DIRS]
        found.extend(Path(root, name).resolve() for name in files if name in CONTRACT_NAMES)
    return found


def _node_files(directory: Path) -> list[Path]:
    """Python files of a node directory, not descending into nested nodes."""
    files: list[Path] = []
    for root, dirs, names in os.walk(directory):
        current = Path(root)
        if current != directory and find_contract(current) is not None:
            dirs[:] = []
            continue
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS)
        files.extend(current / name for name in sorted(names) if name.endswith(".py"))
    return sorted(files)


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
