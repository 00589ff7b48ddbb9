"""Walking trees: inside a git work tree, what git lists (.gitignore honoured); elsewhere, every file."""

from __future__ import annotations

from pathlib import Path

import pytest
from fixture_copy import git

from omnimix.discovery import node_dirs, python_files

CONTRACT = "name: n\nnode_type: EFFECT\nversion: 1.0.0\n"


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    for name in ("nodes/a/node.py", "nodes/a/helpers/util.py", "nodes/a/api_pb2.py", "nodes/b/node.py",
                 "generated/nodes/c/node.py", "nodes/a/.venv/lib.py", "nodes/a/new.py"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x = 1\n")
    for node in ("nodes/a", "nodes/b", "generated/nodes/c"):
        (tmp_path / node / "contract.yaml").write_text(CONTRACT)
    (tmp_path / ".gitignore").write_text("generated/\n*_pb2.py\n")
    return tmp_path


def relative(paths, root: Path) -> list[str]:
    return [path.relative_to(root.resolve()).as_posix() for path in paths]


def test_a_git_work_tree_is_walked_as_git_lists_it(tree):
    git(tree, "init", "-q")
    git(tree, "add", "-A")
    git(tree, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "start")
    (tree / "nodes" / "a" / "untracked.py").write_text("y = 2\n")
    (tree / "nodes" / "b" / "node.py").unlink()  # tracked, deleted in the work tree
    assert relative(python_files([tree]), tree) == [
        "nodes/a/helpers/util.py", "nodes/a/new.py", "nodes/a/node.py", "nodes/a/untracked.py"]
    assert relative(python_files([tree / "nodes" / "a"]), tree) == [
        "nodes/a/helpers/util.py", "nodes/a/new.py", "nodes/a/node.py", "nodes/a/untracked.py"]
    nodes = node_dirs(tree)
    assert relative([node.directory for node in nodes], tree) == ["nodes/a", "nodes/b"]
    assert relative(nodes[0].files, tree) == [
        "nodes/a/helpers/util.py", "nodes/a/new.py", "nodes/a/node.py", "nodes/a/untracked.py"]
    assert nodes[1].files == ()


def test_outside_git_every_file_is_walked_but_skipped_folders(tree):
    assert relative(python_files([tree]), tree) == [
        "generated/nodes/c/node.py", "nodes/a/api_pb2.py", "nodes/a/helpers/util.py", "nodes/a/new.py",
        "nodes/a/node.py", "nodes/b/node.py"]
    assert relative([node.directory for node in node_dirs(tree)], tree) == ["generated/nodes/c", "nodes/a", "nodes/b"]
