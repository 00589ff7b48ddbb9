import textwrap
from pathlib import Path

import libcst as cst
import pytest
from codemod_examples import assert_example
from omnibase_core.models.core.model_retry_config import ModelRetryConfig

from codemods.retry import ReplaceRetryLoops
from codemods.retry.plan import identical_doubling
from omnimix.analysis.context import FileContext
from omnimix.concerns import Action


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


def test_rescheduled_work_its_schedule_and_the_loop_running_it(tmp_path):
    package = write_package(tmp_path, {"jobs/node.py": '''\
        import asyncio

        from omnibase_core.nodes import NodeEffect

        RETRYABLE = frozenset({"timeout", "unavailable"})


        class NodeJobsEffect(NodeEffect):
            def __init__(self, container, clock, runner) -> None:
                super().__init__(container)
                self._clock = clock
                self._runner = runner
                self._due: dict[str, float] = {}
                self._tasks: list[asyncio.Task] = []

            def start(self) -> None:
                self._tasks.append(asyncio.create_task(self._poll_due(0.5)))

            async def fail(self, job, code: str) -> None:
                job.error = code
                may_retry = job.retry_count < job.max_retries
                job.updated = self._clock.time()
                if code in RETRYABLE and may_retry:
                    wait = 2 ** job.retry_count
                    job.retry_count += 1
                    self._due[job.id] = self._clock.monotonic() + wait
                    return
                job.failed = True

            async def run_due(self) -> int:
                now = self._clock.monotonic()
                ready = [job_id for job_id, at in self._due.items() if at <= now]
                for job_id in ready:
                    self._due.pop(job_id, None)
                    await self._runner.run(job_id)
                return len(ready)

            async def _poll_due(self, every: float) -> None:
                while True:
                    await self.run_due()
                    await self._clock.sleep(every)

            def stats(self) -> dict:
                return {"pending": len(self._due), "tasks": len(self._tasks)}
    '''})
    node = package / "jobs/node.py"
    assert spans(detect(node)) == [
        lines(node, "RETRYABLE = frozenset("),
        lines(node, "self._due: dict[str, float] = {}"),
        lines(node, "self._tasks.append(asyncio.create_task(self._poll_due"),
        lines(node, "may_retry = job.retry_count"),  # the decision the re-scheduling branch tests
        lines(node, "if code in RETRYABLE and may_retry:", "return"),
        lines(node, "ready = [job_id for job_id"),
        lines(node, "self._due.pop(job_id, None)"),
        lines(node, "while True:", "await self._clock.sleep(every)"),
    ]


def test_retry_advice_errors_delay_parsers_and_config_fallback(tmp_path):
    package = write_package(tmp_path, {"fetch/node.py": '''\
        import logging
        import os

        from omnibase_core.nodes import NodeEffect

        logger = logging.getLogger(__name__)
        RETRY_STATUS = frozenset({429, 503})


        class Unavailable(ConnectionError):
            def __init__(self, status: int, wait: float | None = None) -> None:
                super().__init__(f"HTTP {status}")
                self.wait = wait


        def parse_wait(value):
            try:
                return float(value)
            except (TypeError, ValueError):
                return None


        class NodeFetchEffect(NodeEffect):
            def __init__(self, container, http, clock, config) -> None:
                super().__init__(container)
                self._http = http
                self._clock = clock
                try:
                    self._attempts = int(config.get("attempts") or os.getenv("FETCH_ATTEMPTS", "3"))
                    self._pause = float(config.get("pause") or os.getenv("FETCH_PAUSE", "0.5"))
                except (TypeError, ValueError):
                    logger.warning("bad retry settings")
                    self._attempts = 3
                    self._pause = 0.5

            async def _get_once(self, url: str):
                response = await self._http.get(url)
                if response.status_code in RETRY_STATUS:
                    raise Unavailable(response.status_code, parse_wait(response.headers.get("Retry-After")))
                return response

            async def get(self, url: str):
                pause = self._pause
                for attempt in range(self._attempts):
                    try:
                        return await self._get_once(url)
                    except ConnectionError as e:
                        wait = getattr(e, "wait", None)
                        await self._clock.sleep(wait if wait is not None else pause)
                        pause *= 2
                raise TimeoutError(url)
    '''})
    node = package / "fetch/node.py"
    assert spans(detect(node)) == [
        lines(node, "RETRY_STATUS = frozenset("),
        lines(node, "class Unavailable(", "self.wait = wait"),
        lines(node, "def parse_wait(", "return None"),
        lines(node, "self._clock = clock", "self._pause = 0.5"),  # a clock only retries sleep on; the fallback block
        lines(node, "if response.status_code in RETRY_STATUS:", "raise Unavailable("),
        lines(node, "async def get(", "raise TimeoutError(url)"),
    ]


def test_consumer_backoff_branches_and_periodic_jobs(tmp_path):
    package = write_package(tmp_path, {"feed/node.py": '''\
        import logging

        from omnibase_core.nodes import NodeEffect

        logger = logging.getLogger(__name__)


        class NodeFeedEffect(NodeEffect):
            async def consume(self) -> None:
                handled = 0
                errors = 0
                while self._running:
                    try:
                        batch = await self._consumer.poll()
                        errors = 0
                    except Exception:
                        errors += 1
                        logger.error("poll failed")
                        await self._clock.sleep(min(2 ** errors, 30))
                        continue
                    if batch.stalled:
                        logger.warning("stalled, backing off")
                        await self._clock.sleep(self._backoff)
                    elif not batch.items:
                        await self._clock.sleep(0.1)
                    handled += len(batch.items)

            async def refresh_periodically(self, every: float, cycles: int | None = None) -> None:
                done = 0
                while cycles is None or done < cycles:
                    try:
                        await self._cache.refresh()
                    except Exception:
                        logger.error("refresh failed")
                    done += 1
                    if cycles is not None and done >= cycles:
                        break
                    await self._clock.sleep(every)
    '''})
    node = package / "feed/node.py"
    assert spans(detect(node)) == [
        lines(node, "errors = 0"),  # the consecutive-error counter the back-off grows with
        (lines(node, "try:")[0], lines(node, "await self._clock.sleep(self._backoff)")[0]),  # except and stall branch
    ]
