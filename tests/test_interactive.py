"""`omnimix migrate --interactive`: hunks by concern, scripted answers, and a real terminal under tmux."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from fixture_copy import git
from shop_corpus import CACHE, build_shop

from omnimix.discovery import node_dirs
from omnimix.engine import migrate_nodes
from omnimix.migration_state import Outcome
from omnimix.results import Status
from omnimix.review import (
    IMPORTS_AND_BASES,
    SKIPPED_NOTE,
    _apply,
    accepted_result,
    node_hunks,
)

ORIGINAL_RETRY = "await asyncio.sleep(0.5 * 2 ** attempt)"
MIGRATED_RETRY = "ModelRetryConfig(max_attempts=4, backoff_seconds=0.5).calculate_delay("


@pytest.fixture
def shop(tmp_path) -> Path:
    return build_shop(tmp_path / "shop", consolidation=False, legacy=False)


def migrate_cache(shop: Path):
    [result] = migrate_nodes(node_dirs(shop / CACHE), shop, allow_longer=True)
    assert result.status is Status.CHANGED, result.message
    return result


def interactive(shop: Path, answers: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "omnimix", "migrate", CACHE, "--interactive", "--allow-longer",
                           "--no-backup", *args],
                          cwd=shop, input=answers, capture_output=True, text=True, check=False,
                          env={**os.environ, "COLUMNS": "200"})


# -- hunks ------------------------------------------------------------------------------------
def test_hunks_are_cut_by_concern_and_imports_follow_their_names(shop):
    result = migrate_cache(shop)
    hunks = node_hunks(result)
    assert [h.concern for h in hunks] == ["metrics", "retry", "metrics", "metrics", "retry", "metrics"]
    imports = [h for h in hunks if "+from omnibase_core" in h.diff]
    assert [(h.concern, h.diff.count("\n+from")) for h in imports] == [("metrics", 1), ("retry", 1)]
    assert IMPORTS_AND_BASES not in {h.concern for h in hunks}
    [change] = result.changed_files
    everything = {h.key for h in hunks}
    assert _apply(change.before, change.after, hunks, everything) == change.after
    assert _apply(change.before, change.after, hunks, set()) == change.before
    assert accepted_result(result, hunks, everything) is result


def test_the_accepted_result_keeps_only_the_accepted_hunks(shop):
    result = migrate_cache(shop)
    hunks = node_hunks(result)
    partial = accepted_result(result, hunks, {h.key for h in hunks if h.concern == "retry"})
    [change] = partial.changed_files
    assert MIGRATED_RETRY in change.after and "from omnibase_core.models.core.model_retry_config" in change.after
    assert "MixinMetrics" not in change.after and "self._lookups += 1" in change.after
    assert partial.mixins_applied == ()
    outcomes = {(str(d.finding.concern), d.outcome, d.note if d.outcome is Outcome.KEPT else "")
                for d in partial.decisions}
    assert outcomes == {("retry", Outcome.APPLIED, ""), ("metrics", Outcome.KEPT, SKIPPED_NOTE)}
    nothing = accepted_result(result, hunks, set())
    assert nothing.status is Status.UNCHANGED and not nothing.changed_files
    assert nothing.message == "every change was skipped in the interactive review"


# -- scripted answers (stdin is not a terminal) -----------------------------------------------
def test_scripted_review_writes_what_was_accepted_and_the_gate_verifies_it(shop):
    """Review by concern: metrics hunk by hunk (import and base accepted, the rest skipped), retry whole."""
    node = shop / CACHE / "node.py"
    done = interactive(shop, "r\nr\na\na\ns\ns\na\n", "--report-json", "r.json")
    assert done.returncode == 0, done.stderr
    err = done.stderr
    assert "6 hunk(s) in 1 file(s); metrics 4, retry 2" in err
    assert "metrics hunk 3/4: accept, skip, diff, quit? [a/s/d/q/?] s" in err
    assert "4 of 6 hunk(s) accepted" in err
    assert "a second migration proposes only the skipped rest of the review" in err
    assert "gate passed" in err and "wrote 1 file(s)" in err
    assert done.stdout == ""
    text = node.read_text()
    assert "class NodeCacheEffect(NodeEffect, MixinMetrics):" in text
    assert MIGRATED_RETRY in text
    assert "self._lookups += 1" in text and '"lookups": self._lookups,' in text
    report = (shop / "r.json").read_text()
    assert SKIPPED_NOTE in report and '"mode": "interactive"' in report


def test_scripted_answers_diff_help_and_quit(shop):
    node = shop / CACHE / "node.py"
    before = node.read_text()
    done = interactive(shop, "d\nwhat\nq\n", "--no-verify")
    assert done.returncode == 0, done.stderr
    err = done.stderr
    assert f"-                {ORIGINAL_RETRY}" in err  # the node's diff
    assert "  r  review it concern by concern" in err  # help after an unknown answer
    assert "quit: the rest is skipped" in err and "0 of 6 hunk(s) accepted" in err
    assert node.read_text() == before
    assert git(shop, "status", "--porcelain").stdout == ""


def test_the_end_of_the_input_quits(shop):
    done = interactive(shop, "r\na\n", "--no-verify")  # metrics accepted, then no answer for retry
    assert done.returncode == 0, done.stderr
    assert "(end of input: quit)" in done.stderr and "4 of 6 hunk(s) accepted" in done.stderr
    text = (shop / CACHE / "node.py").read_text()
    assert 'self.increment_counter("lookups")' in text and ORIGINAL_RETRY in text


def test_interactive_refuses_check(shop):
    done = interactive(shop, "", "--check")
    assert done.returncode == 2 and "cannot be combined with --check" in done.stderr


# -- a real terminal --------------------------------------------------------------------------
TMUX = shutil.which("tmux")


class Terminal:
    """A tmux session on a private server (its own socket, in ``socket``), so nothing else's sessions are
    touched."""

    def __init__(self, socket: Path, command: str, cwd: Path) -> None:
        self.tmux = [TMUX, "-S", str(socket), "-f", os.devnull]
        subprocess.run([*self.tmux, "new-session", "-d", "-s", "omnimix", "-x", "160", "-y", "50", "-c", str(cwd),
                        command], check=True)

    def send(self, *keys: str) -> None:
        subprocess.run([*self.tmux, "send-keys", *keys], check=True)

    def screen(self) -> str:
        return subprocess.run([*self.tmux, "capture-pane", "-p", "-S", "-200"], capture_output=True, text=True,
                              check=False).stdout

    def wait_for(self, text: str, timeout: float = 120.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            screen = self.screen()
            if text in screen:
                return screen
            time.sleep(0.2)
        raise AssertionError(f"{text!r} did not appear on the terminal:\n{self.screen()}")

    def close(self) -> None:
        subprocess.run([*self.tmux, "kill-server"], capture_output=True, check=False)


@pytest.mark.skipif(TMUX is None, reason="tmux is not installed (apt-get install -y tmux): the review is not "
                                         "driven through a real terminal here")
def test_review_in_a_real_terminal(shop, tmp_path):
    done = shop / "exit-code"
    command = (f"{shlex.quote(sys.executable)} -m omnimix migrate {CACHE} --interactive --allow-longer --no-verify --no-backup; "
               f"echo $? > {done.name}; sleep 600")
    terminal = Terminal(tmp_path / "tmux.sock", command, shop)
    try:
        terminal.wait_for("accept all, skip, review, diff, quit? [a/s/r/d/q/?]")
        terminal.send("r", "Enter")
        terminal.wait_for("metrics: 4 hunk(s); accept, skip, review, diff, quit?")
        terminal.send("d", "Enter")
        terminal.wait_for('self.increment_counter("misses")')
        terminal.send("a", "Enter")
        terminal.wait_for("retry: 2 hunk(s); accept, skip, review, diff, quit?")
        terminal.send("s", "Enter")
        screen = terminal.wait_for("4 of 6 hunk(s) accepted")
        deadline = time.monotonic() + 60
        while not done.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert done.read_text().strip() == "0", terminal.screen()
    finally:
        terminal.close()
    assert "\x1b" not in screen  # capture-pane gives the text; the colours stay on the terminal
    text = (shop / CACHE / "node.py").read_text()
    assert 'self.increment_counter("lookups")' in text and ORIGINAL_RETRY in text
    assert "ModelRetryConfig" not in text
