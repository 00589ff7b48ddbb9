"""A private copy of the fixture corpus in a fresh git repository, for tests that migrate it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from answer_key import FIXTURE_ROOT

NODES_DIR = Path("src/omninode_bridge/nodes")


def copy_corpus(tmp_path: Path) -> Path:
    root = tmp_path / "omninode_bridge"
    shutil.copytree(FIXTURE_ROOT, root, ignore=shutil.ignore_patterns("__pycache__", ".pytest_cache"))
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "fixture")
    return root


def git(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=False)


def omnimix(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "omnimix", *args], cwd=root, capture_output=True,
                          text=True, check=False, env={**os.environ, "COLUMNS": "200"})


def fixture_pytest(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args], cwd=root,
                          capture_output=True, text=True, check=False)


def snapshot(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file() and ".git" not in p.parts}
