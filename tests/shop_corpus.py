"""A small repository of nodes for the report and review tests, built in a temporary directory.

- ``cache``: hand-kept metrics counters and a retry loop with exact doubling (MixinMetrics and
  retry_policy declared): several concerns, several hunks, and tests of its own for the gate;
- ``alpha`` and ``beta``: the same Consul registration code (service_registration declared), which
  consolidation moves into a shared project mixin;
- ``legacy``: hand-kept counters, but a contract that declares nothing (skipped).
"""

from __future__ import annotations

import textwrap
from pathlib import Path

from fixture_copy import git
from test_consolidation import make_node

CACHE_NODE = '''\
"""The cache node: counts its lookups and retries its fetches."""

import asyncio

from omnibase_core.nodes import NodeEffect


class NodeCacheEffect(NodeEffect):
    """Caches values fetched from a client."""

    def __init__(self, container, client=None) -> None:
        super().__init__(container)
        self._client = client
        self._lock = asyncio.Lock()
        self._store: dict[str, str] = {}
        self._lookups = 0
        self._misses = 0

    async def lookup(self, key: str) -> str | None:
        async with self._lock:
            self._lookups += 1
        value = self._store.get(key)
        if value is None:
            self._misses += 1
        return value

    async def put(self, key: str, value: str) -> None:
        async with self._lock:
            self._store[key] = value

    async def fetch(self, url: str) -> bytes:
        for attempt in range(4):
            try:
                return await self._client.get(url)
            except ConnectionError:
                if attempt == 3:
                    raise
                await asyncio.sleep(0.5 * 2 ** attempt)
        raise RuntimeError("unreachable")

    def get_stats(self) -> dict[str, int]:
        return {
            "lookups": self._lookups,
            "misses": self._misses,
        }
'''

CACHE_CONTRACT = """\
name: cache
node_type: EFFECT
version: 1.0.0
main_class: NodeCacheEffect
mixins:
  - name: MixinMetrics
    enabled: true
advanced_features:
  retry_policy: {enabled: true, max_attempts: 4, initial_delay_ms: 500}
"""

CACHE_TESTS = '''\
import asyncio

from omnibase_core.models.container.model_onex_container import ModelONEXContainer

from bridge.nodes.cache.v1_0_0.node import NodeCacheEffect


class Flaky:
    def __init__(self, failures: int) -> None:
        self.failures = failures

    async def get(self, url: str) -> bytes:
        if self.failures:
            self.failures -= 1
            raise ConnectionError(url)
        return b"ok"


def test_lookups_and_misses_are_counted():
    node = NodeCacheEffect(ModelONEXContainer())

    async def run():
        await node.put("a", "1")
        assert await node.lookup("a") == "1"
        assert await node.lookup("b") is None

    asyncio.run(run())
    assert node.get_stats() == {"lookups": 2, "misses": 1}


def test_fetch_retries_connection_errors(monkeypatch):
    async def no_sleep(seconds):
        return None

    monkeypatch.setattr(asyncio, "sleep", no_sleep)
    node = NodeCacheEffect(ModelONEXContainer(), Flaky(2))
    assert asyncio.run(node.fetch("u")) == b"ok"
'''

LEGACY_NODE = '''\
"""A node whose contract declares nothing yet."""

from omnibase_core.nodes import NodeCompute


class NodeLegacyCompute(NodeCompute):
    def __init__(self, container) -> None:
        super().__init__(container)
        self._runs = 0

    def run(self, value: int) -> int:
        self._runs += 1
        return value * 2

    def get_stats(self) -> dict[str, int]:
        return {"runs": self._runs}
'''

NODES = "src/bridge/nodes"
CACHE = f"{NODES}/cache/v1_0_0"


def build_shop(root: Path, *, consolidation: bool = True, legacy: bool = True) -> Path:
    """The repository under ``root`` (committed to a fresh git repository); returns ``root``. Its
    package is ``bridge``, as in ``test_consolidation``, whose nodes it borrows."""
    (root / "tests").mkdir(parents=True)
    (root / "pyproject.toml").write_text('[tool.pytest.ini_options]\npythonpath = ["src"]\n')
    mixins = root / NODES / "mixins"
    mixins.mkdir(parents=True)
    for package in (root / "src" / "bridge", root / NODES, mixins):
        (package / "__init__.py").write_text('"""Package."""\n')
    cache = root / CACHE
    cache.mkdir(parents=True)
    (cache.parent / "__init__.py").write_text("")
    (cache / "__init__.py").write_text("")
    (cache / "node.py").write_text(CACHE_NODE)
    (cache / "contract.yaml").write_text(CACHE_CONTRACT)
    (root / "tests" / "test_cache.py").write_text(CACHE_TESTS)
    if consolidation:
        for name, port in (("alpha", 8070), ("beta", 8071)):
            make_node(root, name, port)
    if legacy:
        legacy_dir = root / NODES / "legacy" / "v1_0_0"
        legacy_dir.mkdir(parents=True)
        (legacy_dir.parent / "__init__.py").write_text("")
        (legacy_dir / "__init__.py").write_text("")
        (legacy_dir / "node.py").write_text(LEGACY_NODE)
        (legacy_dir / "contract.yaml").write_text(textwrap.dedent("""\
            name: legacy
            node_type: COMPUTE
            version: 1.0.0
            """))
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "shop")
    return root

