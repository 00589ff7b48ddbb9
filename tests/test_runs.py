"""Run records and `omnimix runs` / `omnimix restore`: every --write is recorded where git does not see it,
with the original bytes, and a restore puts every file back byte for byte."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest
from fixture_copy import NODES_DIR, copy_corpus, git, omnimix, snapshot
from typer.testing import CliRunner

from omnimix.cli import app
from omnimix.discovery import python_files
from omnimix.results import FileChange
from omnimix.runs import Run, runs_folder
from omnimix.writer import write_changes

LLM = NODES_DIR / "llm_effect"


def cli(*args: str, cwd: Path):
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(cwd)
        return CliRunner().invoke(app, list(args))


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def only_run(root: Path) -> tuple[Path, dict]:
    [folder] = [p for p in runs_folder(root).iterdir() if p.is_dir()]
    return folder, json.loads((folder / "record.json").read_text())


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A tree outside git: a file to change (CRLF, BOM, mode 0640), one to delete; one is to be created."""
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 't'\n")
    (tmp_path / "pkg").mkdir()
    keep = tmp_path / "pkg" / "keep.py"
    keep.write_bytes(b"\xef\xbb\xbfx = 1\r\ny = 2\r\n")
    keep.chmod(0o640)
    (tmp_path / "pkg" / "gone.py").write_bytes(b"z = 3")
    return tmp_path


def changes(tree: Path) -> list[FileChange]:
    return [
        FileChange(tree / "pkg" / "keep.py", "pkg/keep.py", "x = 1\r\ny = 2\r\n", "x = 10\r\ny = 2\r\n", bom=True),
        FileChange(tree / "pkg" / "gone.py", "pkg/gone.py", "z = 3", None),
        FileChange(tree / "pkg" / "new.py", "pkg/new.py", None, "n = 4\n"),
    ]


def test_a_run_outside_git_is_recorded_in_dot_omnimix_and_restore_puts_back_every_byte(tree):
    before = snapshot(tree)
    written = write_changes(changes(tree), tree)
    assert [change.display for change in written] == ["pkg/keep.py", "pkg/gone.py", "pkg/new.py"]
    assert (tree / "pkg" / "keep.py").read_bytes() == b"\xef\xbb\xbfx = 10\r\ny = 2\r\n"
    assert (tree / "pkg" / "keep.py").stat().st_mode & 0o777 == 0o640
    assert not (tree / "pkg" / "gone.py").exists()
    assert (tree / "pkg" / "new.py").read_bytes() == b"n = 4\n"

    assert runs_folder(tree) == tree / ".omnimix" / "runs"
    folder, record = only_run(tree)
    assert record["id"] == folder.name and record["backup"] and record["finished"]
    assert record["id"].split("-")[-1] == str(os.getpid())
    entries = {entry["path"]: entry for entry in record["files"]}
    assert entries["pkg/keep.py"]["before"] == sha(before["pkg/keep.py"])
    assert entries["pkg/keep.py"]["after"] == sha((tree / "pkg" / "keep.py").read_bytes())
    assert (entries["pkg/gone.py"]["after"], entries["pkg/new.py"]["before"]) == (None, None)
    assert {entry["state"] for entry in record["files"]} == {"written"}
    assert (folder / "originals" / "pkg" / "keep.py").read_bytes() == before["pkg/keep.py"]
    assert (folder / "originals" / "pkg" / "gone.py").read_bytes() == before["pkg/gone.py"]
    assert not any(".omnimix" in path.parts for path in python_files([tree]))

    listed = cli("runs", cwd=tree)
    assert listed.exit_code == 0, listed.output
    header, row = listed.stdout.splitlines()
    assert header.split() == ["RUN", "DATE", "FILES", "STATE", "COMMAND"]
    assert row.startswith(record["id"]) and row.split()[3:5] == ["3", "written"]

    restored = cli("restore", cwd=tree)
    assert restored.exit_code == 0, restored.output
    assert restored.stderr.splitlines()[-1] == f"run {record['id']}: 3 file(s) restored"
    assert {path: data for path, data in snapshot(tree).items() if not path.startswith(".omnimix/")} == before
    assert (tree / "pkg" / "keep.py").stat().st_mode & 0o777 == 0o640
    assert "restored" in cli("runs", cwd=tree).stdout

    again = cli("restore", record["id"][:12], cwd=tree)
    assert again.exit_code == 0
    assert again.stderr.splitlines()[-1] == f"run {record['id']}: 0 file(s) restored, 3 already as they were"


def test_restore_refuses_naming_the_files_changed_since_the_run_and_force_overrides(tree):
    write_changes(changes(tree), tree)
    _, record = only_run(tree)
    (tree / "pkg" / "keep.py").write_bytes(b"edited by hand\n")
    (tree / "pkg" / "gone.py").write_bytes(b"made again by hand\n")
    state = cli("runs", cwd=tree).stdout
    assert "2 changed since" in state

    refused = cli("restore", cwd=tree)
    assert refused.exit_code == 2
    assert refused.stderr == (f"error: 2 file(s) changed since run {record['id']}, so nothing was restored: "
                              "pkg/keep.py, pkg/gone.py (the content is neither what the run wrote nor the "
                              "original); --force puts the originals back anyway\n")
    assert (tree / "pkg" / "new.py").exists()  # nothing was restored

    forced = cli("restore", "--force", cwd=tree)
    assert forced.exit_code == 0, forced.output
    assert (tree / "pkg" / "keep.py").read_bytes() == b"\xef\xbb\xbfx = 1\r\ny = 2\r\n"
    assert (tree / "pkg" / "gone.py").read_bytes() == b"z = 3"
    assert not (tree / "pkg" / "new.py").exists()
    kept = sorted(p.read_bytes() for p in (runs_folder(tree) / record["id"] / "overwritten").iterdir())
    assert kept == [b"edited by hand\n", b"made again by hand\n"]


def test_a_run_without_backup_is_recorded_but_cannot_be_restored(tree):
    write_changes(changes(tree), tree, backup=False)
    folder, record = only_run(tree)
    assert not record["backup"] and not (folder / "originals").exists()
    assert "(--no-backup: cannot be restored)" in cli("runs", cwd=tree).stdout
    refused = cli("restore", cwd=tree)
    assert refused.exit_code == 2
    assert f"run {record['id']} was made with --no-backup: omnimix kept no original bytes" in refused.stderr
    assert (tree / "pkg" / "keep.py").read_bytes() == b"\xef\xbb\xbfx = 10\r\ny = 2\r\n"


def test_restore_with_no_run_or_an_unknown_run_exits_2(tree):
    nothing = cli("restore", cwd=tree)
    assert nothing.exit_code == 2 and "no run recorded for this tree" in nothing.stderr
    write_changes(changes(tree), tree)
    unknown = cli("restore", "1999", cwd=tree)
    assert unknown.exit_code == 2 and "no run called '1999'" in unknown.stderr
    assert cli("runs", "1999", cwd=tree).exit_code == 2


def test_migrate_write_records_the_run_inside_the_git_dir_and_restore_brings_the_tree_back(tmp_path):
    root = copy_corpus(tmp_path)
    before = snapshot(root)
    done = omnimix(root, "migrate", str(LLM), "--write", "--no-verify")
    assert done.returncode == 0, done.stderr
    folder, record = only_run(root)
    assert folder.parent == root / ".git" / "omnimix" / "runs"
    assert f"run {record['id']}: 1 file(s) recorded; `omnimix restore {record['id']}` puts them back" in \
        done.stderr.replace("\n", " ")
    assert record["command"] == f"omnimix migrate {LLM} --write --no-verify"
    [entry] = record["files"]
    assert entry["path"] == f"{LLM}/v1_0_0/node.py" and entry["state"] == "written"
    assert git(root, "status", "--porcelain").stdout == f" M {LLM}/v1_0_0/node.py\n"
    assert not (root / ".omnimix-backups").exists() and not (root / ".omnimix").exists()

    listed = omnimix(root, "runs")
    assert record["id"] in listed.stdout and "written" in listed.stdout
    files = omnimix(root, "runs", record["id"])
    assert files.stdout.splitlines()[1].split() == ["new", "written", entry["path"]]

    restored = omnimix(root, "restore")
    assert restored.returncode == 0, restored.stderr
    assert snapshot(root) == before
    assert git(root, "status", "--porcelain").stdout == ""


def test_a_run_whose_process_still_holds_the_lock_is_in_progress(tree):
    with Run.start(tree) as run:
        write_changes(changes(tree)[:1], tree, run=run)
        assert "in progress: 1 of 1 written so far" in cli("runs", cwd=tree).stdout
    assert "  written  " in cli("runs", cwd=tree).stdout
