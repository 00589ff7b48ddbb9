"""A migration never makes a node longer unless asked: a concern whose rewrites (wrapped to the project's
line limit) would add code lines is held back with the count, and the concerns that shorten the node are
applied; ``--allow-longer`` applies everything."""

from __future__ import annotations

from pathlib import Path

import pytest

from omnimix.analysis.loc import count_lines
from omnimix.discovery import node_dirs, python_files
from omnimix.engine import migrate_node
from omnimix.migration_state import Outcome
from omnimix.results import NodeResult, Status

COUNTERS_AND_RETRY = '''import asyncio

from omnibase_core.nodes import NodeEffect


class NodeFetchEffect(NodeEffect):
    def __init__(self, container, client) -> None:
        super().__init__(container)
        self._client = client
        self._requests = 0
        self._failures = 0

    async def fetch(self, url: str) -> bytes:
        self._requests += 1
        for attempt in range(4):
            try:
                return await self._client.get(url)
            except ConnectionError:
                self._failures += 1
                if attempt == 3:
                    raise
                await asyncio.sleep(0.5 * 2 ** attempt)
        raise RuntimeError("unreachable")
'''
RETRY_ONLY = "\n".join(line for line in COUNTERS_AND_RETRY.splitlines()
                       if "_requests" not in line and "_failures" not in line) + "\n"
CONTRACT = ("name: n\nnode_type: EFFECT\nmixins:\n  - {name: MixinMetrics}\n"
            "advanced_features:\n  retry_policy: {max_attempts: 4}\n")


def migrate(root: Path, source: str, *, allow_longer: bool) -> tuple[NodeResult, str]:
    node = root / "pkg" / "fetch"
    node.mkdir(parents=True)
    (root / "pkg" / "__init__.py").write_text("", encoding="utf-8")
    (node / "__init__.py").write_text("", encoding="utf-8")
    (node / "node.py").write_text(source, encoding="utf-8")
    (node / "contract.yaml").write_text(CONTRACT, encoding="utf-8")
    result = migrate_node(node_dirs(node)[0], root, allow_longer=allow_longer,
                          repository_files=tuple(python_files([root])))
    after = next((c.after for c in result.changes if c.path.name == "node.py"), source)
    return result, after or ""


def outcomes(result: NodeResult, concern: str) -> set[Outcome]:
    return {d.outcome for d in result.decisions if d.finding.concern == concern}


def test_the_concern_that_would_lengthen_the_node_is_held_and_the_rest_applied(tmp_path):
    result, after = migrate(tmp_path, COUNTERS_AND_RETRY, allow_longer=False)
    assert result.status is Status.CHANGED
    assert outcomes(result, "metrics") == {Outcome.APPLIED}
    assert outcomes(result, "retry") == {Outcome.KEPT}
    notes = {d.note for d in result.decisions if d.finding.concern == "retry"}
    assert any("would make the node longer (+" in note and "--allow-longer" in note for note in notes)
    assert "increment_counter" in after and "ModelRetryConfig" not in after
    assert "await asyncio.sleep(0.5 * 2 ** attempt)" in after
    assert count_lines(after).code_lines <= count_lines(COUNTERS_AND_RETRY).code_lines


def test_a_node_whose_only_rewrite_lengthens_it_is_left_as_it_is(tmp_path):
    result, after = migrate(tmp_path, RETRY_ONLY, allow_longer=False)
    assert "ModelRetryConfig" not in after
    assert outcomes(result, "retry") == {Outcome.KEPT}
    assert count_lines(after).code_lines - count_lines(RETRY_ONLY).code_lines <= 2  # the declared base only


@pytest.mark.parametrize("source", [COUNTERS_AND_RETRY, RETRY_ONLY])
def test_allow_longer_applies_every_rewrite(tmp_path, source):
    result, after = migrate(tmp_path, source, allow_longer=True)
    assert result.status is Status.CHANGED
    assert outcomes(result, "retry") == {Outcome.APPLIED}
    assert "ModelRetryConfig(max_attempts=4, backoff_seconds=0.5)" in after
