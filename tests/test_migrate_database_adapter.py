"""End to end on the fixture node database_adapter_effect: dry-run, write, tests, idempotency, report."""

import json
import subprocess
import sys

import pytest
from fixture_copy import NODES_DIR, copy_corpus, fixture_pytest, git, omnimix, snapshot

NODE = NODES_DIR / "database_adapter_effect"


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    return copy_corpus(tmp_path_factory.mktemp("dbadapter"))


@pytest.fixture(scope="module")
def dry_run(corpus):
    before = snapshot(corpus)
    result = omnimix(corpus, "migrate", str(NODE))
    return before, result


def test_dry_run_prints_a_patch_git_accepts_and_writes_nothing(corpus, dry_run):
    before, result = dry_run
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("diff --git a/src/omninode_bridge/nodes/database_adapter_effect/")
    patch = corpus.parent / "db.patch"
    patch.write_text(result.stdout)
    check = git(corpus, "apply", "--check", str(patch))
    assert check.returncode == 0, check.stderr
    assert snapshot(corpus) == before


def test_write_keeps_the_node_tests_green_and_is_idempotent(corpus, dry_run, tmp_path):
    report = tmp_path / "report.json"
    written = omnimix(corpus, "migrate", str(NODE), "--write", "--no-backup", "--report-json", str(report))
    assert written.returncode == 0, written.stderr
    diff = git(corpus, "diff", "--stat")
    assert "node.py" in diff.stdout
    tests = fixture_pytest(corpus, "tests/test_database_adapter_effect.py")
    assert tests.returncode == 0, tests.stdout[-3000:]
    probe = subprocess.run(
        [sys.executable, "-c",
         "import sys; sys.path.insert(0, 'src')\n"
         "from omninode_bridge.nodes.database_adapter_effect.v1_0_0.node import NodeDatabaseAdapterEffect as N\n"
         "from omnibase_core.models.container.model_onex_container import ModelONEXContainer\n"
         "print([c.__name__ for c in N.__mro__]); N(ModelONEXContainer())"],
        cwd=corpus, capture_output=True, text=True)
    assert probe.returncode == 0, probe.stderr
    assert probe.stdout.index("NodeEffect") < probe.stdout.index("MixinMetrics")
    again = omnimix(corpus, "migrate", str(NODE))
    assert again.returncode == 0, again.stderr
    assert again.stdout == ""

    data = json.loads(report.read_text())
    node = data["nodes"][0]
    head = {path: git(corpus, "show", f"HEAD:{path}").stdout for path in (f["path"] for f in node["files"])}
    for entry in node["files"]:
        original = head[entry["path"]]
        assert entry["before"] == _independent_count(original)
        current = corpus / entry["path"]
        if entry["status"] == "deleted":
            assert not current.exists() and entry["after"] is None
        else:
            assert entry["after"] == _independent_count(current.read_text())
    assert node["loc"]["before"]["lines"] == sum(f["before"]["lines"] for f in node["files"])


def _independent_count(text: str) -> dict[str, int]:
    """Physical lines, and lines that are neither blank nor a comment (docstring lines count as code)."""
    import io
    import tokenize

    in_string = set()
    for token in tokenize.generate_tokens(io.StringIO(text).readline):
        if token.type == tokenize.STRING:
            in_string.update(range(token.start[0] + 1, token.end[0] + 1))
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    code = sum(1 for n, line in enumerate(lines, 1)
               if line.strip() and (not line.strip().startswith("#") or n in in_string))
    return {"lines": len(lines), "code_lines": code}
