"""The payoff of a whole-corpus migration, as a user runs it: ``contract upgrade --write`` then ``migrate
--write`` over every node of a fixture corpus, in a private copy.

The report's code-line counts are checked against an independent count made with ``tokenize``, the
corpus's own behaviour tests must pass unmodified on the migrated tree, a second run must print an empty
diff, and no line the migration added may be longer than the project's line limit. The payoff itself is
held at what the migration reaches today, so that it can only grow.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
import tokenize
from pathlib import Path

import pytest

from answer_key import CORPORA
from fixture_copy import git
from omnimix.analysis.wrap import line_limit

NODES = "src/omninode_bridge/nodes"
# Code lines the migration removes at least, per corpus (the figure reached, held so it cannot shrink).
MIN_REMOVED = {"a": 0, "b": 600}
_NOT_CODE = {tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT,
             tokenize.ENDMARKER}


def code_lines(text: str) -> int:
    """Non-blank lines that carry a token other than a comment (lines inside a string count)."""
    lines = text.splitlines()
    marked: set[int] = set()
    for token in tokenize.generate_tokens(io.StringIO(text).readline):
        if token.type not in _NOT_CODE:
            marked.update(range(token.start[0], token.end[0] + 1))
    return sum(1 for number in marked if number <= len(lines) and lines[number - 1].strip())


def run(root: Path, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "omnimix", *args], cwd=root, capture_output=True, text=True,
                          check=False, env=env)


@pytest.fixture(scope="module", params=sorted(CORPORA))
def migrated(request, tmp_path_factory):
    """(corpus, root, report, upgraded sources) after upgrade and migrate of a copy of the corpus."""
    corpus = request.param
    root = tmp_path_factory.mktemp(f"payoff_{corpus}") / "omninode_bridge"
    shutil.copytree(CORPORA[corpus], root, ignore=shutil.ignore_patterns("__pycache__", ".pytest_cache"))
    git(root, "init", "-q")
    commit = ("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qam")
    git(root, "add", "-A")
    git(root, *commit, "fixture")
    # The cache is on here, as for a user: the upgrade's scan serves the migration.
    env = {key: value for key, value in os.environ.items() if key != "OMNIMIX_NO_CACHE"}
    env.update(COLUMNS="200", OMNIMIX_CACHE_DIR=str(root.parent / "cache"))
    upgrade = run(root, "contract", "upgrade", "src", "--write", env=env)
    assert upgrade.returncode == 0, upgrade.stderr
    git(root, "add", "-A")
    git(root, *commit, "contracts upgraded")
    before = {path: path.read_text(encoding="utf-8") for path in root.rglob("*.py")}
    migrate = run(root, "migrate", NODES, "--write", "--no-verify", "--report-json", "report.json", env=env)
    assert migrate.returncode == 0, migrate.stderr
    report = json.loads((root / "report.json").read_text())
    return corpus, root, report, before, env


def counted(root: Path, path: str, before: dict[Path, str]) -> tuple[int, int]:
    """Independent code-line counts of one file, before the migration (as committed) and after it."""
    file = root / path
    old = before.get(file)
    new = file.read_text(encoding="utf-8") if file.exists() else ""
    return (code_lines(old) if old is not None else 0), code_lines(new)


def test_the_reported_code_lines_match_an_independent_count(migrated):
    _, root, report, before, _ = migrated
    totals = [0, 0]
    shared = {entry["path"] for entry in report["summary"]["shared"]}
    for node in report["nodes"]:
        # A node the run skipped lists no files; its counts are those of every module in its folder. A file
        # several nodes share (a mixin the run creates) is counted once, with the shared files.
        own = [entry for entry in node["files"] if entry["path"] not in shared]
        paths = [entry["path"] for entry in own] or sorted(
            path.relative_to(root).as_posix() for path in (root / node["node"]).rglob("*.py"))
        for entry in own:
            assert [entry["before"]["code_lines"], entry["after"]["code_lines"]] == list(
                counted(root, entry["path"], before)), entry["path"]
        old, new = (sum(pair) for pair in zip(*(counted(root, path, before) for path in paths)))
        assert (node["loc"]["before"]["code_lines"], node["loc"]["after"]["code_lines"]) == (old, new), node["node"]
        totals[0] += old
        totals[1] += new
    for entry in report["summary"]["shared"]:
        old, new = counted(root, entry["path"], before)
        assert (entry["before"]["code_lines"], entry["after"]["code_lines"]) == (old, new), entry["path"]
        totals[0] += old
        totals[1] += new
    payoff = report["payoff"]["code_lines"]
    assert [payoff["before"], payoff["after"]] == totals


def test_the_migration_removes_code_lines(migrated):
    corpus, _, report, _, _ = migrated
    payoff = report["payoff"]["code_lines"]
    assert payoff["before"] - payoff["after"] >= MIN_REMOVED[corpus], payoff


def test_the_corpus_tests_pass_unmodified_on_the_migrated_tree(migrated):
    _, root, _, _, _ = migrated
    tests = subprocess.run([sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider"], cwd=root,
                           capture_output=True, text=True, check=False)
    assert tests.returncode == 0, tests.stdout[-3000:]
    assert " passed" in tests.stdout


def test_a_second_run_prints_an_empty_diff(migrated):
    _, root, _, _, env = migrated
    again = run(root, "migrate", NODES, env=env)
    assert again.returncode == 0, again.stderr
    assert again.stdout == ""


def test_no_line_the_migration_added_is_longer_than_the_limit(migrated):
    _, root, _, _, _ = migrated
    limit = line_limit(root)
    diff = git(root, "diff", "--no-color", "-U0").stdout
    added = [line[1:] for line in diff.splitlines() if line.startswith("+") and not line.startswith("+++")]
    untracked = git(root, "ls-files", "--others", "--exclude-standard", "*.py").stdout.split()
    added += [line for name in untracked for line in (root / name).read_text(encoding="utf-8").splitlines()]
    assert added, "the migration changed nothing"
    assert [line for line in added if len(line) > limit] == []
