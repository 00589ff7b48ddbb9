"""The on-disk cache: a re-run reads results back; a deleted, corrupt or shared cache changes nothing."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from fixture_copy import copy_corpus

from omnimix import engine
from omnimix.analysis import cache
from omnimix.discovery import node_dirs, python_files

NODE = "src/omninode_bridge/nodes/llm_effect"


@pytest.fixture
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv("OMNIMIX_CACHE_DIR", str(folder))
    monkeypatch.delenv("OMNIMIX_NO_CACHE", raising=False)
    return folder


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    return copy_corpus(tmp_path)


def scan(corpus: Path):
    return engine.scan_paths(python_files([corpus / NODE]), corpus)


def migrate(corpus: Path):
    return engine.migrate_nodes(node_dirs(corpus / NODE), corpus,
                                repository_files=tuple(python_files([corpus])))


def fail(*args, **kwargs):
    raise AssertionError("a cached result was computed again")


def test_a_rerun_with_nothing_changed_reads_every_result_back(cache_dir, corpus, monkeypatch):
    first_scan, first_migration = scan(corpus), migrate(corpus)
    monkeypatch.setattr(engine, "_SCANNED", {})  # read back from the disk, not from this run
    monkeypatch.setattr(engine, "scan_context", fail)
    monkeypatch.setattr(engine, "_migrate", fail)
    assert scan(corpus) == first_scan
    assert migrate(corpus) == first_migration


def test_a_scan_is_computed_again_when_a_module_it_reads_changed(cache_dir, corpus, monkeypatch):
    """The node reads its logger wrapper from a neighbour module: emptying that module changes the node's
    findings, and the cached scan of the unchanged node file must not be served."""
    folder = corpus / "src/omninode_bridge/nodes/database_adapter_effect/v1_0_0"
    files = [folder / "node.py"]
    engine.scan_paths(files, corpus)
    (folder / "structured_logger.py").write_text("", encoding="utf-8")
    cached = engine.scan_paths(files, corpus)
    monkeypatch.setenv("OMNIMIX_NO_CACHE", "1")
    monkeypatch.setattr(engine, "_SCANNED", {})  # nor the scans kept for the run
    fresh = engine.scan_paths(files, corpus)
    assert cached == fresh
    assert "logger wrapper" not in " ".join(f.reason for f in fresh[0].findings)


def test_a_changed_file_is_computed_again(cache_dir, corpus):
    scan(corpus)
    node = corpus / NODE / "v1_0_0" / "node.py"
    node.write_text(node.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
    again = {s.path: s for s in scan(corpus)}
    assert again[node].count.lines == node.read_text(encoding="utf-8").count("\n")


@pytest.mark.parametrize(("damage", "migrating"), [("delete", False), ("truncate", False), ("foreign", False),
                                                 ("garbage", True)])
def test_a_damaged_cache_gives_the_results_of_no_cache(cache_dir, corpus, monkeypatch, damage, migrating):
    monkeypatch.setenv("OMNIMIX_NO_CACHE", "1")
    expected_scan = scan(corpus)
    expected_migration = migrate(corpus) if migrating else None
    monkeypatch.delenv("OMNIMIX_NO_CACHE")
    monkeypatch.setattr(engine, "_SCANNED", {})  # what is read comes from the disk, not from this run
    scan(corpus)
    if migrating:
        migrate(corpus)
    entries = [p for p in cache_dir.rglob("*") if p.is_file()]
    assert entries
    for entry in entries:
        if damage == "delete":
            entry.unlink()
        elif damage == "truncate":
            entry.write_bytes(entry.read_bytes()[:40])
        elif damage == "garbage":
            entry.write_bytes(b"\x00\xff" * 64)
        else:  # a valid entry of another key in this one's place
            entry.write_bytes(entries[0].read_bytes() if entry != entries[0] else entries[-1].read_bytes())
    monkeypatch.setattr(engine, "_SCANNED", {})
    assert scan(corpus) == expected_scan
    if migrating:
        assert migrate(corpus) == expected_migration


def test_two_runs_sharing_a_cache_agree_with_no_cache(cache_dir, corpus, monkeypatch):
    monkeypatch.setenv("OMNIMIX_NO_CACHE", "1")
    expected = scan(corpus)
    monkeypatch.delenv("OMNIMIX_NO_CACHE")
    command = [sys.executable, "-m", "omnimix", "scan", str(corpus / NODE), "--format", "json"]
    runs = [subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, cwd=corpus)
            for _ in range(2)]
    outputs = [run.communicate(timeout=300)[0] for run in runs]
    assert outputs[0] == outputs[1]
    assert scan(corpus) == expected


def test_no_cache_writes_nothing(cache_dir, corpus, monkeypatch):
    monkeypatch.setenv("OMNIMIX_NO_CACHE", "1")
    scan(corpus)
    assert not cache_dir.exists()


def test_what_is_computed_from_a_text_is_read_back_and_a_damaged_entry_is_computed_again(cache_dir):
    calls: list[str] = []

    def lengths(text: str) -> int:
        calls.append(text)
        return len(text)

    assert cache.by_text("test", "abc", lengths) == cache.by_text("test", "abc", lengths) == 3
    assert calls == ["abc"]
    for entry in (cache_dir / "test").rglob("*"):
        if entry.is_file():
            entry.write_bytes(b"not a pickle")
    assert cache.by_text("test", "abc", lengths) == 3
    assert calls == ["abc", "abc"]


def test_with_the_cache_off_a_batch_scans_each_file_once_and_migrates_as_if_afresh(corpus, monkeypatch):
    """The ordering scan's results are kept for the run: the migrations that follow do not scan again."""
    monkeypatch.setenv("OMNIMIX_NO_CACHE", "1")
    folder = corpus / "src/omninode_bridge/nodes"
    nodes = [node for name in ("llm_effect", "store_effect") for node in node_dirs(folder / name)]
    files = [file for node in nodes for file in node.files]
    repository = tuple(python_files([corpus]))
    monkeypatch.setattr(engine, "_SCANNED", {})
    afresh = engine.migrate_nodes(nodes, corpus, repository_files=repository)

    monkeypatch.setattr(engine, "_SCANNED", {})
    scanned: list[Path] = []
    real = engine.scan_context
    monkeypatch.setattr(engine, "scan_context", lambda ctx, *a: scanned.append(ctx.path) or real(ctx, *a))
    engine.scan_paths(files, corpus)
    reused = engine.migrate_nodes(nodes, corpus, repository_files=repository)
    assert sorted(scanned) == sorted(files)
    assert reused == afresh


def test_with_the_cache_off_a_scan_kept_for_the_run_is_made_again_when_a_module_it_reads_changed(corpus, monkeypatch):
    monkeypatch.setenv("OMNIMIX_NO_CACHE", "1")
    monkeypatch.setattr(engine, "_SCANNED", {})
    folder = corpus / "src/omninode_bridge/nodes/database_adapter_effect/v1_0_0"
    before = engine.scan_paths([folder / "node.py"], corpus)
    (folder / "structured_logger.py").write_text("", encoding="utf-8")
    after = engine.scan_paths([folder / "node.py"], corpus)
    assert "logger wrapper" in " ".join(f.reason for f in before[0].findings)
    assert "logger wrapper" not in " ".join(f.reason for f in after[0].findings)
