"""SIGKILL at any moment of a batch `migrate --write` leaves every file wholly old or wholly new; `omnimix
runs` tells which from the hashes and `omnimix restore` brings every byte back.

A real `omnimix migrate --write` subprocess is killed by the writer's test hook (OMNIMIX_TEST_KILL_AFTER=N:
SIGKILL after the N-th file replaced, 0 before the first) at every point of a run over seven nodes of a copy
of the fixture corpus: codegen_orchestrator and six small nodes added to it, which migrate in milliseconds
(the corpus's other nodes take seconds each).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from fixture_copy import NODES_DIR, copy_corpus, git, snapshot
from test_runs import cli

from omnimix.runs import runs_folder

SMALL = [f"small_{number}" for number in range(1, 7)]
NODES = [str(NODES_DIR / name) for name in ("codegen_orchestrator", *SMALL)]
SMALL_NODE = '''"""Small node {number}."""

from omnibase_core.nodes import NodeEffect


class NodeSmall{number}Effect(NodeEffect):
    """Declares MixinMetrics; migrating it adds the base and its import."""
'''
SMALL_CONTRACT = "name: small_{number}\nnode_type: EFFECT\nversion: 1.0.0\nmixins:\n  - name: MixinMetrics\n"


def corpus(tmp_path: Path) -> Path:
    """A committed copy of the fixture corpus with the small nodes added."""
    root = copy_corpus(tmp_path)
    for number, name in enumerate(SMALL, start=1):
        node = root / NODES_DIR / name / "v1_0_0"
        node.mkdir(parents=True)
        (node.parent / "__init__.py").write_text("")
        (node / "__init__.py").write_text("")
        (node / "node.py").write_text(SMALL_NODE.format(number=number))
        (node / "contract.yaml").write_text(SMALL_CONTRACT.format(number=number))
    git(root, "add", "-A")
    git(root, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "small nodes")
    return root


def migrate(root: Path, kill_after: int | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "200"}
    if kill_after is not None:
        env["OMNIMIX_TEST_KILL_AFTER"] = str(kill_after)
    return subprocess.run(
        [sys.executable, "-m", "omnimix", "migrate", *NODES, "--write", "--no-verify", "--allow-longer"],
        cwd=root, capture_output=True, text=True, env=env, check=False)


def record_of(root: Path) -> dict:
    [folder] = [p for p in runs_folder(root).iterdir() if p.is_dir()]
    return json.loads((folder / "record.json").read_text())


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> tuple[dict[str, bytes], dict[str, bytes], int]:
    """The tree before and after the run when nothing kills it, and how many files the run replaces."""
    root = corpus(tmp_path_factory.mktemp("reference"))
    before = snapshot(root)
    done = migrate(root)
    assert done.returncode == 0, done.stderr
    after = snapshot(root)
    files = record_of(root)["files"]
    assert [entry["node"] for entry in files] == [f"{node}/v1_0_0" for node in NODES]
    return before, after, len(files)


def test_a_run_killed_at_any_point_leaves_whole_files_and_restore_brings_all_back(reference, tmp_path):
    before, after, total = reference
    points = list(range(total + 1))
    roots = {point: corpus(tmp_path / f"kill{point}") for point in points}
    with ThreadPoolExecutor(max_workers=min(2, os.cpu_count() or 1)) as pool:
        killed = dict(zip(points, pool.map(lambda point: migrate(roots[point], point), points)))

    for point in points:
        root = roots[point]
        assert killed[point].returncode == -signal.SIGKILL, (point, killed[point].stderr[-2000:])
        record = record_of(root)
        assert not record["finished"]
        staged = {entry["staged"]: entry["path"] for entry in record["files"] if entry["staged"]}
        now = snapshot(root)
        for path in sorted(set(before) | set(after) | set(now)):
            current = now.get(path)
            if path in staged:  # new bytes staged beside their target, not yet moved into place
                assert current == after[staged[path]], f"kill after {point}: {path} is torn"
                continue
            assert current in (before.get(path), after.get(path)), f"kill after {point}: {path} is torn"
        new = [path for path in set(before) | set(after)
               if before.get(path) != after.get(path) and now.get(path) == after.get(path)]
        assert len(new) == point, (point, new)

        listed = cli("runs", cwd=root)
        assert listed.exit_code == 0, listed.output
        recorded = len(record["files"])
        expected = "written" if point == recorded else \
            f"interrupted: {point} of {recorded} written, {recorded - point} not written"
        assert f"  {expected}  " in listed.stdout, (point, listed.stdout)

        restored = cli("restore", cwd=root)
        assert restored.exit_code == 0, restored.output
        assert snapshot(root) == before, f"kill after {point}: restore did not bring every byte back"
        assert git(root, "status", "--porcelain", "--untracked-files=all").stdout == ""
