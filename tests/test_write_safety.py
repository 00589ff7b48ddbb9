"""What `--write` refuses, naming the file and the reason, while the rest of the run goes on: uncommitted work
(unless --allow-dirty), a second omnimix on the same tree (the lock), a read-only file, a file that vanished, a
directory omnimix cannot write.

The tests run as root, for whom every file is writable; permission refusals are simulated by replacing
``os.access`` with one that honours the mode bits as for an ordinary user (read-only file) or that denies one
directory, and by a path under a regular file (a directory that cannot exist).
"""

from __future__ import annotations

import errno
import json
import os
import signal
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from fixture_copy import NODES_DIR, copy_corpus, git, snapshot
from test_runs import cli

from omnimix.results import FileChange
from omnimix.runs import Run, RunError, TreeLock, runs_folder
from omnimix.writer import WriteError, write_changes

LLM = NODES_DIR / "llm_effect"
LLM_NODE = LLM / "v1_0_0" / "node.py"
CODEGEN = NODES_DIR / "codegen_orchestrator"
CODEGEN_NODE = CODEGEN / "v1_0_0" / "node.py"


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    return copy_corpus(tmp_path)


def migrate_two(root: Path, *flags: str):
    """`migrate --write` of llm_effect (refused in these tests) and codegen_orchestrator (written)."""
    return cli("migrate", str(LLM), str(CODEGEN), "--write", "--no-verify", *flags, cwd=root)


def stderr_of(result) -> str:
    return " ".join(result.stderr.split())


def assert_codegen_written(root: Path, before: dict[str, bytes]) -> None:
    assert (root / CODEGEN_NODE).read_bytes() != before[CODEGEN_NODE.as_posix()]


# -- uncommitted work ---------------------------------------------------------------------------
def test_a_node_with_uncommitted_changes_is_not_written_unless_allow_dirty(corpus):
    node = corpus / LLM_NODE
    node.write_bytes(node.read_bytes() + b"# work in progress\n")
    before = snapshot(corpus)
    refused = migrate_two(corpus)
    assert refused.exit_code == 2, refused.output
    assert (f"error {LLM}/v1_0_0: uncommitted changes in {LLM_NODE} (modified): nothing of this node was "
            "written (commit or stash them, or pass --allow-dirty)") in stderr_of(refused)
    assert node.read_bytes() == before[LLM_NODE.as_posix()]
    assert_codegen_written(corpus, before)

    allowed = cli("migrate", str(LLM), "--write", "--no-verify", "--allow-dirty", cwd=corpus)
    assert allowed.exit_code == 0, allowed.output
    assert node.read_bytes() != before[LLM_NODE.as_posix()]
    assert node.read_bytes().endswith(b"# work in progress\n")


def test_modified_staged_and_untracked_files_are_all_uncommitted_work(tmp_path):
    root = tmp_path
    for name in ("modified.py", "staged.py", "clean.py", "ignored.py"):
        (root / name).write_text("x = 1\n")
    (root / ".gitignore").write_text("ignored.py\n")
    git(root, "init", "-q")
    git(root, "add", "modified.py", "staged.py", "clean.py", ".gitignore")
    git(root, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "start")
    (root / "modified.py").write_text("x = 2\n")
    (root / "staged.py").write_text("x = 2\n")
    git(root, "add", "staged.py")
    (root / "untracked.py").write_text("x = 1\n")
    with Run.start(root) as run:
        kinds = {name: run.uncommitted(root / name) for name in
                 ("modified.py", "staged.py", "untracked.py", "ignored.py", "clean.py", "absent.py")}
        assert kinds == {"modified.py": "modified", "staged.py": "staged", "untracked.py": "untracked",
                         "ignored.py": "untracked", "clean.py": None, "absent.py": None}
        changes = [FileChange(root / name, name, (root / name).read_text(), "y = 3\n")
                   for name in ("clean.py", "staged.py", "untracked.py")]
        with pytest.raises(WriteError) as refused:
            write_changes(changes, root, run=run)
    assert str(refused.value) == ("uncommitted changes in staged.py (staged), untracked.py (untracked): nothing of "
                                  "this node was written (commit or stash them, or pass --allow-dirty)")
    assert (root / "clean.py").read_text() == "x = 1\n"
    with Run.start(root, allow_dirty=True) as run:
        assert len(write_changes(changes, root, run=run)) == 3


# -- one omnimix at a time ----------------------------------------------------------------------
def test_a_second_omnimix_on_the_same_tree_waits_then_refuses_and_never_interleaves(corpus):
    """Two real processes: the first is stopped (SIGSTOP) while it holds the lock, before it writes."""
    command = [sys.executable, "-m", "omnimix", "migrate", str(LLM), "--write", "--no-verify"]
    env = {**os.environ, "COLUMNS": "200"}
    before = snapshot(corpus)
    lock = runs_folder(corpus) / "lock"
    first = subprocess.Popen(command, cwd=corpus, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while not (lock.exists() and lock.read_text().startswith(f"pid {first.pid},")):
            assert time.monotonic() < deadline and first.poll() is None, "the first omnimix never took the lock"
            time.sleep(0.01)
        os.kill(first.pid, signal.SIGSTOP)
        started = time.monotonic()
        second = subprocess.run(command, cwd=corpus, env={**env, "OMNIMIX_LOCK_TIMEOUT": "1"},
                                capture_output=True, text=True, check=False)
        assert time.monotonic() - started >= 1
        assert second.returncode == 2, second.stderr
        assert second.stdout == ""
        assert second.stderr.startswith(f"error: another omnimix is writing to this tree (pid {first.pid}, since ")
        assert (f": omnimix migrate {LLM} --write --no-verify); waited 1s for it to finish, so nothing was done. "
                "Try again when it is done") in second.stderr
        assert snapshot(corpus) == before
    finally:
        os.kill(first.pid, signal.SIGCONT)
    out, err = first.communicate(timeout=300)
    assert first.returncode == 0, err
    after = snapshot(corpus)
    assert after[LLM_NODE.as_posix()] != before[LLM_NODE.as_posix()]

    again = subprocess.run(command, cwd=corpus, env=env, capture_output=True, text=True, check=False)
    assert again.returncode == 0 and again.stdout == "", again.stderr
    assert snapshot(corpus) == after
    assert len([p for p in runs_folder(corpus).iterdir() if p.is_dir()]) == 1  # the second wrote nothing


def test_a_writer_waits_for_the_lock_while_it_is_released_in_time(tmp_path):
    holder = TreeLock(runs_folder(tmp_path), "omnimix migrate (holder)")
    holder.acquire()
    threading.Timer(0.3, holder.release).start()
    started = time.monotonic()
    with Run.start(tmp_path, lock_timeout=10):
        assert time.monotonic() - started >= 0.25
    holder.acquire(timeout=0)  # released again when the run closed
    with pytest.raises(RunError, match=r"another omnimix is writing to this tree \(pid \d+, since .*: omnimix "
                                       r"migrate \(holder\)\); waited 0.2s"):
        Run.start(tmp_path, lock_timeout=0.2)
    holder.release()


# -- files that cannot be written ---------------------------------------------------------------
def test_a_read_only_file_is_refused_and_the_other_nodes_are_written(corpus, monkeypatch):
    real_access = os.access

    def access_as_a_user(path, mode, *args, **kwargs):  # root may write anything; an ordinary user may not
        if mode & os.W_OK and Path(path).is_file() and not os.stat(path).st_mode & stat.S_IWUSR:
            return False
        return real_access(path, mode, *args, **kwargs)

    monkeypatch.setattr(os, "access", access_as_a_user)
    (corpus / LLM_NODE).chmod(0o444)
    before = snapshot(corpus)
    result = migrate_two(corpus)
    assert result.exit_code == 2, result.output
    assert (f"error {LLM}/v1_0_0: {LLM_NODE}: read-only (no write permission); nothing of this node was "
            "written") in stderr_of(result)
    assert (corpus / LLM_NODE).read_bytes() == before[LLM_NODE.as_posix()]
    assert_codegen_written(corpus, before)


def test_a_directory_without_write_permission_is_refused_and_the_other_nodes_are_written(corpus, monkeypatch):
    real_access = os.access
    denied = (corpus / LLM_NODE).parent

    def access_denied_there(path, mode, *args, **kwargs):
        if mode & os.W_OK and Path(path) == denied:
            return False
        return real_access(path, mode, *args, **kwargs)

    monkeypatch.setattr(os, "access", access_denied_there)
    before = snapshot(corpus)
    result = migrate_two(corpus)
    assert result.exit_code == 2, result.output
    assert f"error {LLM}/v1_0_0: {LLM_NODE}: its directory is not writable; nothing of this node was written" \
        in stderr_of(result)
    assert (corpus / LLM_NODE).read_bytes() == before[LLM_NODE.as_posix()]
    assert_codegen_written(corpus, before)


def test_a_file_that_vanished_before_writing_is_refused_and_the_other_nodes_are_written(corpus, monkeypatch):
    import omnimix.cli

    real_migrate_nodes = omnimix.cli.migrate_nodes

    def migrate_then_delete(*args, **kwargs):
        results = real_migrate_nodes(*args, **kwargs)
        (corpus / LLM_NODE).unlink()
        return results

    monkeypatch.setattr(omnimix.cli, "migrate_nodes", migrate_then_delete)
    before = snapshot(corpus)
    result = migrate_two(corpus)
    assert result.exit_code == 2, result.output
    assert f"error {LLM}/v1_0_0: {LLM_NODE}: vanished since omnimix read it; nothing of this node was written" \
        in stderr_of(result)
    assert not (corpus / LLM_NODE).exists()
    assert_codegen_written(corpus, before)


def test_a_file_to_create_under_a_regular_file_and_a_changed_file_are_refused_with_their_reasons(tmp_path):
    (tmp_path / "plain.py").write_text("x = 1\n")
    (tmp_path / "edited.py").write_text("edited since omnimix read it\n")
    (tmp_path / "fine.py").write_text("f = 1\n")
    changes = [
        FileChange(tmp_path / "fine.py", "fine.py", "f = 1\n", "f = 2\n"),
        FileChange(tmp_path / "plain.py" / "mixins" / "new.py", "plain.py/mixins/new.py", None, "n = 1\n"),
        FileChange(tmp_path / "edited.py", "edited.py", "as read\n", "as migrated\n"),
    ]
    with pytest.raises(WriteError) as refused:
        write_changes(changes, tmp_path)
    assert str(refused.value) == (f"plain.py/mixins/new.py: cannot create it: {tmp_path / 'plain.py'} is not a "
                                  "directory; edited.py: changed since omnimix read it; nothing of this node "
                                  "was written")
    assert (tmp_path / "fine.py").read_text() == "f = 1\n"
    assert [p for p in runs_folder(tmp_path).iterdir() if p.is_dir()] == []  # no run was recorded


def test_a_failure_in_the_middle_of_a_node_puts_its_written_files_back(tmp_path, monkeypatch):
    for name in ("a.py", "b.py"):
        (tmp_path / name).write_text("old\n")
    changes = [FileChange(tmp_path / "a.py", "a.py", "old\n", "new\n"),
               FileChange(tmp_path / "b.py", "b.py", "old\n", "new\n"),
               FileChange(tmp_path / "c.py", "c.py", None, "created\n")]
    real_replace = os.replace

    def disk_full_at_c(source, target):
        if Path(target) == tmp_path / "c.py":
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_replace(source, target)

    monkeypatch.setattr(os, "replace", disk_full_at_c)
    with pytest.raises(WriteError) as failed:
        write_changes(changes, tmp_path)
    assert str(failed.value) == "cannot write c.py: No space left on device; the node's other files were put back"
    assert [(tmp_path / name).read_text() for name in ("a.py", "b.py")] == ["old\n", "old\n"]
    assert sorted(p.name for p in tmp_path.iterdir()) == [".omnimix", "a.py", "b.py"]
    [folder] = [p for p in runs_folder(tmp_path).iterdir() if p.is_dir()]
    record = json.loads((folder / "record.json").read_text())
    assert [entry["state"] for entry in record["files"]] == ["rolled back"] * 3
