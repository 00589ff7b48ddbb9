"""Gate stage 7, types (optional): mypy on the changed files reports no error that was not there before.

Runs only when the target interpreter can import mypy. Both copies are checked at the same time,
each with its own persistent cache (so later runs only re-check the changed files); errors are
compared by file, message and code, not by line, because a migration moves lines.
"""

from __future__ import annotations

import hashlib
import re
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from omnimix.gate.results import StageResult, failed, passed, skipped
from omnimix.gate.workspace import Completed, Workspace, has_module
from omnimix.results import FileChange

NAME = "types"
SHOWN = 5
_LINE = re.compile(r"^(?P<path>[^:\n]+):(?P<line>\d+): error: (?P<message>.*?)(?:  \[(?P<code>[\w-]+)\])?$")
_CONFIGS = ("mypy.ini", ".mypy.ini", "pyproject.toml", "setup.cfg")


def check_types(changes: Sequence[FileChange], workspace: Workspace) -> StageResult:
    started = time.perf_counter()
    if not has_module(workspace.python, "mypy"):
        return skipped(NAME, "mypy not installed", time.perf_counter() - started)
    after_files = [c.path for c in changes if c.changed and c.after is not None and c.path.suffix == ".py"]
    before_files = [c.path for c in changes if c.changed and c.path.suffix == ".py"]
    if not after_files:
        return skipped(NAME, "no changed Python file is left to check", time.perf_counter() - started)
    with ThreadPoolExecutor(max_workers=2) as pool:
        before_future = pool.submit(_mypy, workspace, workspace.before(), before_files, "before")
        after_future = pool.submit(_mypy, workspace, workspace.after, after_files, "after")
        (before, before_cwd), (after, after_cwd) = before_future.result(), after_future.result()
    seconds = time.perf_counter() - started
    if after.timed_out:
        return failed(NAME, f"mypy timed out after {after.seconds:.0f}s", seconds)
    if after.returncode not in (0, 1):
        if before.returncode not in (0, 1):
            return skipped(NAME, f"mypy cannot check these files, before or after: {after.tail(3)}", seconds)
        return failed(NAME, f"mypy fails on the migrated files: {after.tail(3)}", seconds)
    old, new = _errors(before, before_cwd, workspace.before()), _errors(after, after_cwd, workspace.after)
    added = new - old
    details = {"errors_before": sum(old.values()), "errors_after": sum(new.values()),
               "mypy_seconds": {"before": round(before.seconds, 3), "after": round(after.seconds, 3)}}
    if added:
        listed = [f"{path}: {message}" + (f" [{code}]" if code else "") for (path, message, code) in added.elements()]
        more = f"; and {len(listed) - SHOWN} more" if len(listed) > SHOWN else ""
        return failed(NAME, f"{len(listed)} new mypy error(s): {'; '.join(listed[:SHOWN])}{more}", seconds,
                      new_errors=listed, **details)
    return passed(NAME, f"no new mypy errors in {len(after_files)} changed file(s) "
                        f"({details['errors_before']} before, {details['errors_after']} after)", seconds, **details)


def _mypy(workspace: Workspace, copy: Path, files: Sequence[Path], label: str) -> tuple[Completed, Path]:
    cwd = workspace.in_copy(_config_dir(files[0], workspace.root), copy)
    cache = Path(tempfile.gettempdir()) / "omnimix-mypy-cache" / _key(workspace.python) / label
    paths = [str(workspace.in_copy(path, copy)) for path in files]
    done = workspace.run(["-m", "mypy", "--no-error-summary", "--show-error-codes", "--no-pretty",
                          "--no-color-output", "--hide-error-context", "--follow-imports=silent",
                          "--cache-dir", str(cache), *paths], cwd, copy)
    return done, cwd


def _errors(done: Completed, cwd: Path, copy: Path) -> Counter[tuple[str, str, str]]:
    errors: Counter[tuple[str, str, str]] = Counter()
    for line in done.stdout.splitlines():
        match = _LINE.match(line.strip())
        if match is None:
            continue
        path = cwd / match["path"]
        try:
            path = path.resolve().relative_to(copy.resolve())
        except ValueError:
            pass
        errors[(path.as_posix(), match["message"], match["code"] or "")] += 1
    return errors


def _config_dir(path: Path, root: Path) -> Path:
    for directory in path.parents:
        if any((directory / name).is_file() for name in _CONFIGS):
            return directory
        if directory == root:
            break
    return root


def _key(python: Path) -> str:
    return hashlib.sha256(str(python).encode()).hexdigest()[:12]
