"""Hand-kept metrics, the before/after examples the codemod documents and tests itself with."""

from __future__ import annotations

from textwrap import dedent

# --------------------------------------------------------------------------------------------
# Examples (documentation and unit tests)
# --------------------------------------------------------------------------------------------
_EFFECT_CONTRACT = "name: n\nnode_type: EFFECT\nmixins:\n  - {name: MixinMetrics}\n"
_REDUCER_CONTRACT = "name: n\nnode_type: REDUCER\nmixins:\n  - {name: MixinMetrics}\n"

_CACHE_BEFORE = dedent("""\
    import asyncio

    from omnibase_core.nodes import NodeEffect


    class NodeCacheEffect(NodeEffect):
        def __init__(self, container) -> None:
            super().__init__(container)
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

        def get_stats(self) -> dict[str, int]:
            return {
                "lookups": self._lookups,
                "misses": self._misses,
            }
""")

_CACHE_AFTER = dedent("""\
    import asyncio

    from omnibase_core.mixins.mixin_metrics import MixinMetrics
    from omnibase_core.nodes import NodeEffect


    class NodeCacheEffect(NodeEffect, MixinMetrics):
        def __init__(self, container) -> None:
            super().__init__(container)
            self._lock = asyncio.Lock()
            self._store: dict[str, str] = {}

        async def lookup(self, key: str) -> str | None:
            self.increment_counter("lookups")
            value = self._store.get(key)
            if value is None:
                self.increment_counter("misses")
            return value

        async def put(self, key: str, value: str) -> None:
            async with self._lock:
                self._store[key] = value

        def _count(self, name: str) -> float:
            return MixinMetrics.get_metrics(self).get(name, {}).get("value", 0)

        def get_stats(self) -> dict[str, int]:
            return {
                "lookups": self._count("lookups"),
                "misses": self._count("misses"),
            }
""")

_REDUCER_BEFORE = dedent("""\
    from collections import Counter

    from omnibase_core.nodes import NodeReducer


    class NodeStatusReducer(NodeReducer):
        def __init__(self, container, producer) -> None:
            super().__init__(container)
            self._producer = producer
            self._by_status: Counter[str] = Counter()
            self._events = 0
            self._publish_failures = 0

        def fold(self, event: dict) -> None:
            self._by_status[event["status"]] += 1
            self._events += 1

        async def publish(self) -> dict:
            summary = {"events": self._events, "by_status": dict(self._by_status)}
            try:
                await self._producer.send_and_wait("workflow.status-summary.v1", summary)
            except ConnectionError:
                self._publish_failures += 1
            return summary

        def get_metrics(self) -> dict[str, int]:
            return {"publish_failures": self._publish_failures}
""")

_REDUCER_AFTER = dedent("""\
    from collections import Counter

    from omnibase_core.mixins.mixin_metrics import MixinMetrics
    from omnibase_core.nodes import NodeReducer


    class NodeStatusReducer(NodeReducer, MixinMetrics):
        def __init__(self, container, producer) -> None:
            super().__init__(container)
            self._producer = producer
            self._by_status: Counter[str] = Counter()
            self._events = 0

        def fold(self, event: dict) -> None:
            self._by_status[event["status"]] += 1
            self._events += 1

        async def publish(self) -> dict:
            summary = {"events": self._events, "by_status": dict(self._by_status)}
            try:
                await self._producer.send_and_wait("workflow.status-summary.v1", summary)
            except ConnectionError:
                self.increment_counter("publish_failures")
            return summary

        def get_metrics(self) -> dict[str, int]:
            return {
                "publish_failures": MixinMetrics.get_metrics(self).get("publish_failures", {}).get(
                    "value", 0
                ),
            }
""")

_PERCENTILE = dedent("""\
    import time
    from collections import deque

    from omnibase_core.nodes import NodeEffect


    class NodeQueryEffect(NodeEffect):
        def __init__(self, container, pool) -> None:
            super().__init__(container)
            self._pool = pool
            self._latencies_ms: deque[float] = deque(maxlen=1000)

        async def query(self, sql: str) -> list:
            started = time.perf_counter()
            rows = await self._pool.fetch(sql)
            self._latencies_ms.append((time.perf_counter() - started) * 1000.0)
            return rows

        def latency_p95_ms(self) -> float:
            ordered = sorted(self._latencies_ms)
            return ordered[int(len(ordered) * 0.95)] if ordered else 0.0
""")

_RESET = dedent("""\
    from omnibase_core.nodes import NodeEffect


    class NodePollerEffect(NodeEffect):
        def __init__(self, container, client) -> None:
            super().__init__(container)
            self._client = client
            self._polls = 0

        async def poll(self) -> dict:
            self._polls += 1
            return await self._client.get("/jobs")

        def reset_stats(self) -> None:
            self._polls = 0

        def get_stats(self) -> dict[str, int]:
            return {"polls": self._polls}
""")

_TYPED_DICT = dedent("""\
    from typing import TypedDict

    from omnibase_core.nodes import NodeEffect


    class ArchiveStats(TypedDict):
        archived: int
        failures: int
        bytes_written: int


    def new_archive_stats() -> ArchiveStats:
        return ArchiveStats(archived=0, failures=0, bytes_written=0)


    class NodeArchiveEffect(NodeEffect):
        def __init__(self, container, store) -> None:
            super().__init__(container)
            self._store = store
            self._stats: ArchiveStats = new_archive_stats()

        async def archive(self, key: str, blob: bytes) -> bool:
            try:
                await self._store.put(key, blob)
            except OSError:
                self._stats["failures"] += 1
                return False
            self._stats["archived"] += 1
            self._stats["bytes_written"] += len(blob)
            return True

        def get_metrics(self) -> dict[str, float]:
            archived = self._stats["archived"]
            average = self._stats["bytes_written"] / archived if archived else 0.0
            return {**self._stats, "avg_bytes": average}
""")

_WINDOW_BEFORE = dedent("""\
    import asyncio
    from collections import deque

    from omnibase_core.nodes import NodeEffect

    WINDOW_SECONDS = 60.0


    class NodeQueueEffect(NodeEffect):
        def __init__(self, container, queue, clock) -> None:
            super().__init__(container)
            self._queue = queue
            self._clock = clock
            self._metrics_lock = asyncio.Lock()
            self._sent = 0
            self._failed = 0
            self._window: deque[float] = deque()
            self._peak_rate = 0.0

        async def send(self, item: dict) -> bool:
            try:
                await self._queue.put(item)
            except OSError:
                await self._record(success=False)
                return False
            await self._record(success=True)
            return True

        async def _record(self, *, success: bool) -> None:
            now = self._clock.monotonic()
            async with self._metrics_lock:
                if success:
                    self._sent += 1
                else:
                    self._failed += 1
                self._window.append(now)
                while self._window and self._window[0] < now - WINDOW_SECONDS:
                    self._window.popleft()
                rate = len(self._window) / WINDOW_SECONDS
                if rate > self._peak_rate:
                    self._peak_rate = rate

        async def get_metrics(self) -> dict[str, float]:
            now = self._clock.monotonic()
            async with self._metrics_lock:
                while self._window and self._window[0] < now - WINDOW_SECONDS:
                    self._window.popleft()
                return {
                    "sent": self._sent,
                    "failed": self._failed,
                    "rate": len(self._window) / WINDOW_SECONDS,
                    "peak_rate": self._peak_rate,
                }
""")

_WINDOW_AFTER = dedent("""\
    import asyncio
    from collections import deque

    from omnibase_core.mixins.mixin_metrics import MixinMetrics
    from omnibase_core.nodes import NodeEffect

    WINDOW_SECONDS = 60.0


    class NodeQueueEffect(NodeEffect, MixinMetrics):
        def __init__(self, container, queue, clock) -> None:
            super().__init__(container)
            self._queue = queue
            self._clock = clock
            self._metrics_lock = asyncio.Lock()
            self._window: deque[float] = deque()
            self._peak_rate = 0.0

        async def send(self, item: dict) -> bool:
            try:
                await self._queue.put(item)
            except OSError:
                await self._record(success=False)
                return False
            await self._record(success=True)
            return True

        async def _record(self, *, success: bool) -> None:
            now = self._clock.monotonic()
            async with self._metrics_lock:
                if success:
                    self.increment_counter("sent")
                else:
                    self.increment_counter("failed")
                self._window.append(now)
                while self._window and self._window[0] < now - WINDOW_SECONDS:
                    self._window.popleft()
                rate = len(self._window) / WINDOW_SECONDS
                if rate > self._peak_rate:
                    self._peak_rate = rate

        def _count(self, name: str) -> float:
            return MixinMetrics.get_metrics(self).get(name, {}).get("value", 0)

        async def get_metrics(self) -> dict[str, float]:
            now = self._clock.monotonic()
            async with self._metrics_lock:
                while self._window and self._window[0] < now - WINDOW_SECONDS:
                    self._window.popleft()
                return {
                    "sent": self._count("sent"),
                    "failed": self._count("failed"),
                    "rate": len(self._window) / WINDOW_SECONDS,
                    "peak_rate": self._peak_rate,
                }
""")
