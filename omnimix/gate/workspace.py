"""Temporary copies of a repository for the gate: one with the migration applied, one untouched."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from omnimix.discovery import SKIP_DIRS
from omnimix.results import FileChange

PROBE_SCRIPT = Path(__file__).with_name("probe.py")


@dataclass(frozen=True)
class Completed:
    """A finished (or timed-out) subprocess."""

    returncode: int | None
    stdout: str
    stderr: str
    seconds: float

    @property
    def timed_out(self) -> bool:
        return self.returncode is None

    def tail(self, lines: int = 15) -> str:
        text = (self.stderr.strip() or self.stdout.strip()).splitlines()
        return "\n".join(text[-lines:])


class Workspace:
    """``after``: the repository with the node's changes applied; ``before``: untouched, made on demand.

    Everything omnimix skips when it walks a tree (.git, virtual environments, caches, backups)
    is left out, so a copy costs milliseconds for an ordinary repository.
    """

    def __init__(self, root: Path, changes: Sequence[FileChange], python: Path, timeout: float) -> None:
        self.root = root.resolve()
        self.changes = tuple(changes)
        self.python = python
        self.timeout = timeout
        self.directory = Path(tempfile.mkdtemp(prefix="omnimix-gate-"))
        self.after = self.directory / "after"
        self._before: Path | None = None
        self._lock = threading.Lock()
        try:
            for change in self.changes:
                if not change.path.resolve().is_relative_to(self.root):
                    raise ValueError(f"{change.display} is outside the repository {self.root}")
            _copy_tree(self.root, self.after)
            for change in self.changes:
                target = self.in_copy(change.path, self.after)
                if change.after is None:
                    target.unlink(missing_ok=True)
                else:
                    target.parent.mkdir(parents=True, exist_ok=True)
                    target.write_bytes(change.encode(change.after))
        except BaseException:
            self.cleanup()
            raise

    def before(self) -> Path:
        """The untouched copy, made the first time a stage needs it."""
        with self._lock:
            if self._before is None:
                target = self.directory / "before"
                _copy_tree(self.root, target)
                self._before = target
            return self._before

    def in_copy(self, path: Path, copy: Path) -> Path:
        return copy / path.resolve().relative_to(self.root)

    def source_roots(self, copy: Path) -> list[Path]:
        """Directories to put on sys.path so the changed modules import from ``copy``."""
        roots: list[Path] = []
        for change in self.changes:
            directory = change.path.resolve().parent
            while (directory / "__init__.py").is_file() and directory != self.root:
                directory = directory.parent
            mapped = self.in_copy(directory, copy) if directory.is_relative_to(self.root) else None
            if mapped is not None and mapped not in roots:
                roots.append(mapped)
        return roots

    def env(self, copy: Path) -> dict[str, str]:
        """The environment of every subprocess run in ``copy``: its source roots come first."""
        env = dict(os.environ)
        paths = [str(path) for path in self.source_roots(copy)]
        if env.get("PYTHONPATH"):
            paths.append(env["PYTHONPATH"])
        env["PYTHONPATH"] = os.pathsep.join(paths)
        env.pop("PYTEST_ADDOPTS", None)
        env.pop("PYTEST_CURRENT_TEST", None)
        return env

    def run(self, args: Sequence[str], cwd: Path, copy: Path) -> Completed:
        """Run the target interpreter with ``args`` in ``cwd``; a timeout gives returncode None."""
        started = time.perf_counter()
        try:
            done = subprocess.run([str(self.python), *args], cwd=cwd, env=self.env(copy), capture_output=True,
                                  text=True, timeout=self.timeout, check=False)
        except subprocess.TimeoutExpired as exc:
            return Completed(None, _text(exc.stdout), _text(exc.stderr), time.perf_counter() - started)
        return Completed(done.returncode, done.stdout, done.stderr, time.perf_counter() - started)

    def probe(self, spec: dict[str, object], copy: Path, name: str) -> Completed:
        """Run probe.py with ``spec`` in the target interpreter (-P: its folder is not on sys.path)."""
        path = self.directory / f"{name}.json"
        path.write_text(json.dumps({**spec, "copy_root": str(copy),
                                    "sys_path": [str(p) for p in self.source_roots(copy)]}), encoding="utf-8")
        return self.run(["-P", str(PROBE_SCRIPT), str(path)], copy, copy)

    def cleanup(self) -> None:
        shutil.rmtree(self.directory, ignore_errors=True)


def has_module(python: Path, module: str) -> bool:
    """Whether the target interpreter can import ``module`` (cached per interpreter and PYTHONPATH)."""
    return module in _modules(str(python), os.environ.get("PYTHONPATH", ""))


@lru_cache(maxsize=8)
def _modules(python: str, pythonpath: str) -> frozenset[str]:
    code = ("import importlib.util, json\n"
            "print(json.dumps([m for m in ('pytest', 'mypy', 'omnibase_core') "
            "if importlib.util.find_spec(m) is not None]))")
    try:
        done = subprocess.run([python, "-P", "-c", code], capture_output=True, text=True, timeout=60, check=False)
        return frozenset(json.loads(done.stdout)) if done.returncode == 0 else frozenset()
    except (OSError, subprocess.TimeoutExpired, ValueError):
        return frozenset()


def default_python() -> Path:
    return Path(sys.executable)


def _copy_tree(source: Path, target: Path) -> None:
    shutil.copytree(source, target, symlinks=True, ignore=_ignore)


def _ignore(directory: str, names: list[str]) -> set[str]:
    skipped = set()
    for name in names:
        if name in SKIP_DIRS or name.endswith(".egg-info"):
            skipped.add(name)
        elif os.path.isfile(os.path.join(directory, name, "pyvenv.cfg")):
            skipped.add(name)  # a virtual environment under another name
    return skipped


def _text(value: bytes | str | None) -> str:
    if value is None:
        return ""
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else value
