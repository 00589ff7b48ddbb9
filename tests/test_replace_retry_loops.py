import textwrap
from pathlib import Path

import libcst as cst
import pytest
from omnibase_core.models.core.model_retry_config import ModelRetryConfig

from codemod_examples import assert_example
from codemods.replace_retry_loops import ReplaceRetryLoops, identical_doubling
from omnimix.concerns import Action
from omnimix.analysis.context import FileContext


@pytest.mark.parametrize("example", ReplaceRetryLoops.examples, ids=lambda e: e.title)
def test_examples(example, tmp_path):
    assert_example(ReplaceRetryLoops, example, tmp_path)


def write_package(root: Path, files: dict[str, str]) -> Path:
    package = root / "pkg"
    for name, text in files.items():
        path = package / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    for directory in [package, *[p for p in package.rglob("*") if p.is_dir()]]:
        (directory / "__init__.py").touch()
    return package


def detect(path: Path):
    return ReplaceRetryLoops().detect(FileContext(path, path.name, path.read_text(encoding="utf-8")))


def lines(path: Path, first: str, last: str | None = None) -> tuple[int, int]:
    numbered = list(enumerate(path.read_text().splitlines(), 1))
    start = next(i for i, line in numbered if first in line)
    end = next(i for i, line in numbered if i >= start and (last or first) in line)
    return start, end


def spans(findings):
    return [(f.start_line, f.end_line) for f in findings]


def test_loops_settings_helpers_and_consumer_backoff(tmp_path):
    package = write_package(tmp_path, {"sync/node.py": '''\
        import asyncio
        import random

        from omnibase_core.nodes import NodeEffect

        BACKOFF_TABLE = (0.5, 1.0, 3.0)


        class NodeSyncEffect(NodeEffect):
            def __init__(self, container, api, queue, tries: int = 4) -> None:
                super().__init__(container)
                self._api = api
                self._queue = queue
                if tries < 1:
                    raise ValueError("tries must be positive")
                self._tries = tries
                self._table = BACKOFF_TABLE
                self._running = True

            async def pull(self, cursor: str) -> dict:
                failures = 0
                while failures < self._tries:
                    try:
                        return await self._api.pull(cursor, retries=2)
                    except (TimeoutError, OSError):
                        failures += 1
                        await asyncio.sleep(self._table[min(failures, len(self._table)) - 1])
                raise TimeoutError(cursor)

            async def push(self, item: dict) -> None:
                n = 0
                while True:
                    try:
                        await self._api.push(item)
                        break
                    except ConnectionError:
                        if not await self._reschedule(n):
                            raise
                        n += 1

            async def _reschedule(self, n: int) -> bool:
                if n >= 3:
                    return False
                await asyncio.sleep(2 ** n + random.random())
                return True

            async def consume(self) -> None:
                while self._running:
                    try:
                        await self.push(await self._queue.get())
                    except Exception:
                        await asyncio.sleep(1.0)
                        continue

            async def heartbeat(self) -> None:
                while self._running:
                    await self._api.ping()
                    await asyncio.sleep(10)
    '''})
    node = package / "sync/node.py"
    found = detect(node)
    assert spans(found) == [
        lines(node, "BACKOFF_TABLE = ("),
        lines(node, "if tries < 1:", "self._table = BACKOFF_TABLE"),
        lines(node, "async def pull", "raise TimeoutError(cursor)"),
        lines(node, "async def push", "n += 1"),
        lines(node, "async def _reschedule", "return True"),
        (lines(node, "await self.push(await")[0] - 1, lines(node, "continue")[0]),  # the try statement
    ]
    consumer = found[-1]
    assert consumer.action == Action.KEEP and "consumer loop" in consumer.reason
    assert all(f.action == Action.KEEP for f in found)
    pull = next(f for f in found if f.symbol == "NodeSyncEffect.pull")
    assert "fixed table" in pull.reason and "OSError" in pull.reason
    reschedule = next(f for f in found if f.symbol == "NodeSyncEffect._reschedule")
    assert "jitter" in reschedule.reason


def test_decorator_module_and_its_applications(tmp_path):
    package = write_package(tmp_path, {
        "common/resilience.py": '''\
            import asyncio
            import functools


            def retrying(times=3, pause=0.2):
                if times < 1:
                    raise ValueError("times")

                def decorate(fn):
                    @functools.wraps(fn)
                    async def run(*args, **kwargs):
                        wait = pause
                        for i in range(times):
                            try:
                                return await fn(*args, **kwargs)
                            except ConnectionError:
                                if i == times - 1:
                                    raise
                                await asyncio.sleep(wait)
                                wait *= 2
                    return run
                return decorate
        ''',
        "billing/node.py": '''\
            from omnibase_core.nodes import NodeEffect

            from pkg.common.resilience import retrying


            class NodeBillingEffect(NodeEffect):
                @retrying(times=5)
                async def charge(self, amount: int) -> None:
                    await self._gateway.charge(amount)

                async def refund(self, amount: int) -> None:
                    await self._gateway.refund(amount)
        ''',
    })
    module, node = package / "common/resilience.py", package / "billing/node.py"
    assert spans(detect(module)) == [lines(module, "def retrying", "return decorate")]
    assert spans(detect(node)) == [lines(node, "@retrying(times=5)")]


def test_connect_helper_calls_are_retry_code(tmp_path):
    package = write_package(tmp_path, {"gate/node.py": '''\
        import asyncio

        from omnibase_core.nodes import NodeEffect


        class NodeGateEffect(NodeEffect):
            async def initialize(self) -> None:
                await self._with_reconnect(self._db.connect)
                if self._bus is not None:
                    await self._with_reconnect(self._bus.start)
                self._ready = True

            async def _with_reconnect(self, connect) -> None:
                for attempt in range(6):
                    try:
                        await connect()
                        return
                    except OSError:
                        await asyncio.sleep(min(0.2 * 2 ** attempt, 3.0))
                raise ConnectionError("gave up")
    '''})
    node = package / "gate/node.py"
    assert spans(detect(node)) == [lines(node, "await self._with_reconnect(self._db.connect)",
                                         "await self._with_reconnect(self._bus.start)"),
                                   lines(node, "async def _with_reconnect", 'raise ConnectionError("gave up")')]


def test_lookalikes_are_not_retries(tmp_path):
    package = write_package(tmp_path, {"jobs/node.py": '''\
        import asyncio
        from dataclasses import dataclass
        from string import Template

        from omnibase_core.nodes import NodeEffect

        RETRY_TEST = Template("for attempt in range(1, ${n} + 1):\\n    await asyncio.sleep(2 ** attempt)\\n")


        @dataclass
        class Job:
            retry_count: int = 0
            max_retries: int = 3


        class NodeJobsEffect(NodeEffect):
            def __init__(self, container, kafka_factory, config) -> None:
                super().__init__(container)
                self._producer = kafka_factory(max_retry_attempts=3, retry_backoff_ms=200)
                self._retry_policy = config.get("retry_policy", {})
                self._running = True

            async def flush_periodically(self) -> None:
                while self._running:
                    await self._producer.flush()
                    await asyncio.sleep(5)

            def summary(self, job: Job) -> str:
                return f"retried {job.retry_count} of {job.max_retries} ({self._retry_policy})"
    '''})
    assert detect(package / "jobs/node.py") == []


def _loop(source: str):
    module = cst.parse_module(textwrap.dedent(source))
    return next(n for n in module.body[0].body.body if isinstance(n, (cst.For, cst.While)))


@pytest.mark.parametrize("source, attempts, base", [
    ("async def f():\n    for a in range(3):\n        await g()\n        await asyncio.sleep(0.5 * 2 ** a)\n", 3, 0.5),
    ("async def f():\n    for a in range(1, 5 + 1):\n        await g()\n        await asyncio.sleep(2 ** (a - 1) * 1.5)\n",
     5, 1.5),
    ("async def f():\n    for a in range(4):\n        await g()\n        d = min(0.25 * 2 ** a, 8)\n"
     "        await clock.sleep(d)\n", 4, 0.25),
])
def test_identical_doubling(source, attempts, base):
    doubling = identical_doubling(_loop(source))
    assert doubling is not None and (doubling.attempts, doubling.base) == (attempts, base)
    config = ModelRetryConfig(max_attempts=attempts, backoff_seconds=base)
    assert [config.calculate_delay(n, include_jitter=False) for n in range(1, attempts + 1)] == \
        [base * 2 ** (n - 1) for n in range(1, attempts + 1)]


@pytest.mark.parametrize("source", [
    # cap reached: 0.5 * 2 ** 4 = 8 > 5
    "async def f():\n    for a in range(5):\n        await asyncio.sleep(min(0.5 * 2 ** a, 5))\n",
    # jitter
    "async def f():\n    for a in range(3):\n        await asyncio.sleep(0.5 * 2 ** a + random.random())\n",
    # tripling
    "async def f():\n    for a in range(3):\n        await asyncio.sleep(0.5 * 3 ** a)\n",
    # below ModelRetryConfig's 0.1 s minimum
    "async def f():\n    for a in range(3):\n        await asyncio.sleep(0.05 * 2 ** a)\n",
    # 1-based loop with a 0-based exponent
    "async def f():\n    for a in range(1, 4):\n        await asyncio.sleep(0.5 * 2 ** a)\n",
    # more attempts than ModelRetryConfig allows
    "async def f():\n    for a in range(12):\n        await asyncio.sleep(0.5 * 2 ** a)\n",
    # attempts from configuration
    "async def f(n):\n    for a in range(n):\n        await asyncio.sleep(0.5 * 2 ** a)\n",
    # growing by multiplication of a running delay
    "async def f():\n    d = 0.5\n    for a in range(3):\n        await asyncio.sleep(d)\n        d *= 2\n",
])
def test_not_identical(source):
    module = cst.parse_module(source)
    loop = next(n for n in module.body[0].body.body if isinstance(n, (cst.For, cst.While)))
    assert identical_doubling(loop) is None
