"""The whole-corpus migration that tests/test_payoff.py checks, run as a user runs it, in a private copy:
``scan --format json``, ``contract upgrade --write``, ``migrate --write``, the corpus's own tests on the result, and a second
``migrate`` that must print nothing.

It costs minutes and needs no Python of its own, so ``conftest.py`` starts it in a background thread as soon
as the test session has collected test_payoff, and it runs on the second core while the rest of the suite
runs on the first. ``result(corpus)`` waits for it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from answer_key import CORPORA

NODES = "src/omninode_bridge/nodes"
_COMMIT = ("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qam")


@dataclass
class Pipeline:
    """What the run left: the migrated copy, its sources before the migration, and each step's output."""

    root: Path
    before: dict[Path, str]
    scan: subprocess.CompletedProcess[str]
    diff: str
    upgrade: subprocess.CompletedProcess[str]
    migrate: subprocess.CompletedProcess[str]
    tests: subprocess.CompletedProcess[str]
    again: subprocess.CompletedProcess[str]


_pool: ThreadPoolExecutor | None = None
_runs: dict[str, Future[Pipeline]] = {}
_workdir: Path | None = None


def start() -> None:
    """Start the pipeline of every corpus, one after the other, in one background thread."""
    global _pool, _workdir
    if _pool is not None:
        return
    _workdir = Path(tempfile.mkdtemp(prefix="omnimix-payoff-"))
    _pool = ThreadPoolExecutor(max_workers=1)
    for corpus in sorted(CORPORA):
        _runs[corpus] = _pool.submit(_run, corpus, _workdir / corpus)


def result(corpus: str) -> Pipeline:
    start()
    return _runs[corpus].result()


def stop() -> None:
    """Wait for the background runs, then remove their copies."""
    if _pool is not None:
        _pool.shutdown(wait=True, cancel_futures=True)
    if _workdir is not None:
        shutil.rmtree(_workdir, ignore_errors=True)


def _run(corpus: str, folder: Path) -> Pipeline:
    root = folder / "omninode_bridge"
    shutil.copytree(CORPORA[corpus], root, ignore=shutil.ignore_patterns("__pycache__", ".pytest_cache"))
    _git(root, "init", "-q")
    _git(root, "add", "-A")
    _git(root, *_COMMIT, "fixture")
    # The cache is on, as for a user: the upgrade's scan serves the migration, and the second run reads back
    # what did not change.
    env = {key: value for key, value in os.environ.items() if key != "OMNIMIX_NO_CACHE"}
    env.update(COLUMNS="200", OMNIMIX_CACHE_DIR=str(folder / "cache"))
    scan = _omnimix(root, env, "scan", "src", "--format", "json")
    upgrade = _omnimix(root, env, "contract", "upgrade", "src", "--write")
    _git(root, "add", "-A")
    _git(root, *_COMMIT, "contracts upgraded")
    before = {path: path.read_text(encoding="utf-8") for path in root.rglob("*.py")}
    migrate = _omnimix(root, env, "migrate", NODES, "--write", "--no-verify", "--report-json", "report.json")
    _git(root, "add", "-A")
    diff = _git(root, "diff", "--cached", "--", ".", ":!report.json").stdout
    tests = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"], cwd=root,
                           capture_output=True, text=True, check=False)
    again = _omnimix(root, env, "migrate", NODES)
    return Pipeline(root, before, scan, diff, upgrade, migrate, tests, again)


def _omnimix(root: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "omnimix", *args], cwd=root, capture_output=True, text=True,
                          check=False, env=env)


def _git(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=False)
