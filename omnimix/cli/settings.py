"""The commands' view of ``[tool.omnimix]``: the config that applies, and flags merged over it."""

from __future__ import annotations

import fnmatch
import sys
from pathlib import Path

import typer

from omnimix.config import ConfigError, OmnimixConfig, load_config
from omnimix.discovery import display_path
from omnimix.exit_codes import ExitCode
from omnimix.results import NodeResult, Status


def config_for(paths: list[Path] | None) -> OmnimixConfig:
    """The ``[tool.omnimix]`` nearest the first path (or the current directory); exits 2 when it is invalid."""
    try:
        return load_config(paths[0] if paths else Path.cwd())
    except ConfigError as exc:
        sys.stderr.write(f"error: {exc}\n")
        raise typer.Exit(ExitCode.INPUT_ERROR) from None


def paths_or_root(paths: list[Path] | None, config: OmnimixConfig) -> list[Path]:
    """``paths``, else the configured nodes root, else the current directory (as ruff and black do)."""
    if paths:
        return paths
    root = config.path(config.nodes_root)
    if root is None:
        return [Path(".")]
    if not root.exists():
        sys.stderr.write(f"error: {config.source}: [tool.omnimix] nodes-root {root} does not exist\n")
        raise typer.Exit(ExitCode.INPUT_ERROR)
    return [root]


def unsafe_setting(unsafe: bool, config: OmnimixConfig) -> bool | tuple[str, ...]:
    """What ``--unsafe`` allows: every concern, or only ``unsafe_concerns`` when the config names them."""
    if not unsafe:
        return False
    if config.unsafe_concerns is None:
        return True
    return tuple(sorted({str(concern) for concern in config.unsafe_concerns}))


def without_excluded(files: list[Path], base: Path, patterns: list[str]) -> list[Path]:
    """``files`` without those whose path (relative to ``base``), or one of its folders, matches a glob."""
    if not patterns:
        return files

    def excluded(path: Path) -> bool:
        display = display_path(path, base)
        parts = display.split("/")
        return any(fnmatch.fnmatchcase(display, p) or any(fnmatch.fnmatchcase(part, p) for part in parts)
                   for p in patterns)
    return [file for file in files if not excluded(file)]


def jobs_setting(jobs: int | None, config: OmnimixConfig) -> int:
    """``--jobs``, else ``jobs`` of the config, else 1 (0 still means one per CPU)."""
    if jobs is not None:
        return jobs
    return config.jobs if config.jobs is not None else 1


def failures(results: list[NodeResult], names: dict[Path, str]) -> list[str]:
    """One line per node that failed to migrate (input or internal error)."""
    lines = []
    for result in results:
        if result.status in (Status.INPUT_ERROR, Status.INTERNAL_ERROR):
            first = (result.message.strip().splitlines() or [""])[0]
            lines.append(f"{names.get(result.directory.resolve(), result.display)}: {result.status}: {first}")
    return lines
