"""The payoff of a whole-corpus migration, as a user runs it: ``contract upgrade --write`` then ``migrate
--write`` over every node of a fixture corpus, in a private copy (``payoff_pipeline``, started in the
background when the session begins).

The report's code-line counts are checked against an independent count made with ``tokenize``, the
corpus's own behaviour tests must pass unmodified on the migrated tree, a second run must print an empty
diff, and no line the migration added may be longer than the project's line limit. The payoff itself is
held at what the migration reaches today, so that it can only grow.
"""

from __future__ import annotations

import io
import json
import os
import tokenize
from pathlib import Path

import payoff_pipeline
import pytest
from answer_key import CORPORA

from omnimix.analysis.wrap import line_limit

GOLDEN = Path(__file__).parent / "golden"
# Code lines the migration removes at least, per corpus (the figure reached, held so it cannot shrink).
MIN_REMOVED = {"a": 0, "b": 600}
# Code lines the MixinHealthCheck bridge adds to the project's shared health mixin, at most. The contract
# declares MixinHealthCheck; the bridge is counted in the payoff and reported, and held apart from the rest.
BRIDGE = 30
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


@pytest.fixture(scope="module", params=sorted(CORPORA))
def migrated(request):
    """(corpus, root, report, sources before the migration, the pipeline) of one corpus."""
    run = payoff_pipeline.result(request.param)
    assert run.upgrade.returncode == 0, run.upgrade.stderr
    assert run.migrate.returncode == 0, run.migrate.stderr
    report = json.loads((run.root / "report.json").read_text())
    return request.param, run.root, report, run.before, run


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
    changed = [entry for entry in report["summary"]["shared"] if entry["kind"] == "changed"]
    assert [entry["path"].rsplit("/", 1)[-1] for entry in changed] == ["health_mixin.py"]
    bridge = sum(entry["after"]["code_lines"] - entry["before"]["code_lines"] for entry in changed)
    assert 0 < bridge <= BRIDGE
    assert payoff["before"] - payoff["after"] + bridge >= MIN_REMOVED[corpus], payoff


def test_the_corpus_tests_pass_unmodified_on_the_migrated_tree(migrated):
    run = migrated[4]
    assert run.tests.returncode == 0, run.tests.stdout[-3000:]
    assert " passed" in run.tests.stdout


def test_a_second_run_prints_an_empty_diff(migrated):
    run = migrated[4]
    assert run.again.returncode == 0, run.again.stderr
    assert run.again.stdout == ""


def test_no_line_the_migration_added_is_longer_than_the_limit(migrated):
    _, root, _, before, _ = migrated
    limit = line_limit(root)
    added = []
    for path in sorted(root.rglob("*.py")):
        if ".git" in path.relative_to(root).parts:
            continue  # the run's record of the originals
        old = set(before.get(path, "").splitlines())
        added += [line for line in path.read_text(encoding="utf-8").splitlines() if line not in old]
    assert added, "the migration changed nothing"
    assert [line for line in added if len(line) > limit] == []


def test_the_scan_and_the_migration_diff_are_the_recorded_ones(migrated):
    """Restructuring omnimix must not change what it finds or writes: both are compared with the recorded
    output (``OMNIMIX_UPDATE_GOLDEN=1`` records it anew, for a change that means to alter them)."""
    corpus, _, _, _, run = migrated
    assert run.scan.returncode == 0, run.scan.stderr
    outputs = {"scan.json": run.scan.stdout, "migration.diff": run.diff}
    folder = GOLDEN / corpus
    if os.environ.get("OMNIMIX_UPDATE_GOLDEN") == "1":
        folder.mkdir(parents=True, exist_ok=True)
        for name, text in outputs.items():
            (folder / name).write_text(text, encoding="utf-8")
    for name, text in outputs.items():
        assert text == (folder / name).read_text(encoding="utf-8"), f"{corpus}: {name} differs from the recording"
