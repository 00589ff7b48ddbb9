from pathlib import Path
from textwrap import dedent

import pytest
from codemod_examples import assert_example, run_example

from codemods.base import Example
from codemods.metrics import ReplaceHandKeptMetrics
from omnimix.analysis.context import FileContext
from omnimix.concerns import Action, Safety
from omnimix.engine import scan_file
from omnimix.migration_state import Outcome

CONTRACT = "name: n\nnode_type: EFFECT\nmixins:\n  - {name: MixinMetrics}\n"


@pytest.mark.parametrize("example", ReplaceHandKeptMetrics.examples, ids=lambda e: e.title)
def test_examples(example, tmp_path):
    assert_example(ReplaceHandKeptMetrics, example, tmp_path)


def _notes(example: Example, tmp_path: Path) -> list[str]:
    _after, result = run_example(ReplaceHandKeptMetrics, example, tmp_path)
    return [d.note for d in result.decisions if d.outcome is Outcome.KEPT]


def test_kept_buffer_says_why(tmp_path):
    notes = _notes(ReplaceHandKeptMetrics.examples[2], tmp_path)
    assert any("record_histogram keeps only the last value" in note for note in notes)


def test_kept_reset_counter_says_why(tmp_path):
    notes = _notes(ReplaceHandKeptMetrics.examples[3], tmp_path)
    assert any("_polls is reset in reset_stats" in note for note in notes)


# -- detection ------------------------------------------------------------------------------
def scan(source: str, tmp_path: Path | None = None, name: str = "node.py"):
    text = dedent(source)
    path = (tmp_path / name) if tmp_path else Path(name)
    if tmp_path:
        path.write_text(text, encoding="utf-8")
    return sorted(ReplaceHandKeptMetrics().detect(FileContext(path, name, text)))


def spans(findings):
    return [(f.start_line, f.end_line) for f in findings]


COUNTING_NODE = """\
    import asyncio
    import time
    from collections import defaultdict, deque

    from omnibase_core.nodes import NodeEffect

    WINDOW_SECONDS = 60.0
    SAMPLES = 500


    class NodeIngestEffect(NodeEffect):
        def __init__(self, container, sink) -> None:
            super().__init__(container)
            self._sink = sink
            self._stats_lock = asyncio.Lock()
            self._accepted = 0
            self._errors_by_kind = defaultdict(int)
            self._latencies = deque(maxlen=SAMPLES)

        async def ingest(self, item: dict) -> bool:
            t0 = time.perf_counter()
            try:
                await self._sink.write(item)
            except OSError as exc:
                async with self._stats_lock:
                    self._errors_by_kind[type(exc).__name__] += 1
                return False
            finally:
                self._latencies.append(time.perf_counter() - t0)
            self._accepted += 1
            return True

        @staticmethod
        def _p99(values: list[float]) -> float:
            ordered = sorted(values)
            return ordered[int(len(ordered) * 0.99)] if ordered else 0.0

        def stats(self) -> dict:
            return {
                "accepted": self._accepted,
                "errors": dict(self._errors_by_kind),
                "p99": self._p99(list(self._latencies)),
                "window": WINDOW_SECONDS,
            }
    """


def test_counting_node_families(tmp_path):
    findings = scan(COUNTING_NODE, tmp_path)
    assert spans(findings) == [
        (7, 8),  # constants only metrics use
        (15, 18),  # lock, counter, per-kind counts, latency deque
        (21, 21),  # timer
        (25, 26),  # per-kind error count under the metrics lock
        (28, 29),  # finally recording the latency
        (30, 30),  # counter
        (33, 36),  # percentile helper
        (38, 44),  # public snapshot
    ]
    by_line = {f.start_line: f for f in findings}
    assert by_line[30].action is Action.REPLACE and by_line[30].safety is Safety.SAFE
    assert by_line[25].action is Action.KEEP and "tags are not part of the key" in by_line[25].reason
    assert by_line[28].action is Action.KEEP and "record_histogram" in by_line[28].reason
    assert by_line[15].action is Action.SIMPLIFY


def test_dict_counters_and_updater_method():
    findings = scan("""\
        from omnibase_core.nodes import NodeOrchestrator


        class NodeFlow(NodeOrchestrator):
            def __init__(self, container) -> None:
                super().__init__(container)
                self.stats = {"runs": 0, "failures": 0, "avg_ms": 0.0}

            def run(self, ok: bool, ms: float) -> None:
                self._note(ok, ms)

            def _note(self, ok: bool, ms: float) -> None:
                s = self.stats
                s["runs"] += 1
                if not ok:
                    s["failures"] += 1
                s["avg_ms"] += (ms - s["avg_ms"]) / s["runs"]
        """)
    assert spans(findings) == [(7, 7), (10, 10), (12, 17)]
    assert all(f.action is Action.KEEP for f in findings)


def test_metrics_model_class_and_its_use():
    findings = scan("""\
        from dataclasses import dataclass

        from omnibase_core.nodes import NodeEffect


        @dataclass
        class PushStats:
            pushes: int = 0
            failures: int = 0

            def record(self, ok: bool) -> None:
                self.pushes += 1
                self.failures += 0 if ok else 1

            @property
            def failure_rate(self) -> float:
                return self.failures / self.pushes if self.pushes else 0.0


        class NodePushEffect(NodeEffect):
            def __init__(self, container, client) -> None:
                super().__init__(container)
                self._client = client
                self._stats = PushStats()

            async def push(self, body: dict) -> None:
                try:
                    await self._client.post("/push", json=body)
                except OSError:
                    self._stats.record(False)
                    raise
                self._stats.record(True)
        """)
    assert spans(findings) == [(6, 17), (24, 24), (30, 30), (32, 32)]


@pytest.mark.parametrize("source", [
    pytest.param("""\
        from omnibase_core.nodes import NodeEffect


        class NodeObservedEffect(NodeEffect):
            def __init__(self, container, collector, prom) -> None:
                super().__init__(container)
                self._collector = collector
                self._prom = prom

            async def call(self, ms: float) -> None:
                self._collector.observe("call_ms", ms, {"op": "call"})
                self._prom.counter("calls_total", labels={"op": "call"}).inc()
        """, id="external collector"),
    pytest.param("""\
        from omnibase_core.nodes import NodeEffect


        class NodeSequenceEffect(NodeEffect):
            def __init__(self, container) -> None:
                super().__init__(container)
                self._sequence = 0
                self._records = []

            def record(self, payload: dict) -> None:
                self._sequence += 1
                self._records.append({"seq": self._sequence, **payload})
        """, id="sequence number stored in records"),
    pytest.param("""\
        from omnibase_core.nodes import NodeEffect


        class NodeMigratedEffect(NodeEffect):
            async def call(self) -> None:
                self.increment_counter("calls")
                self.record_histogram("call_ms", 1.0)
                self.record_metric("queue_depth", 3.0)
        """, id="MixinMetrics calls"),
    pytest.param("""\
        from collections import Counter, defaultdict

        from omnibase_core.nodes import NodeReducer


        class NodeTallyReducer(NodeReducer):
            def __init__(self, container, producer) -> None:
                super().__init__(container)
                self._producer = producer
                self._by_namespace = defaultdict(int)
                self._seen = 0

            def fold(self, event: dict) -> None:
                self._by_namespace[event["namespace"]] += 1
                self._seen += 1

            def snapshot(self) -> dict:
                return {"seen": self._seen, "by_namespace": dict(self._by_namespace)}

            async def flush(self) -> None:
                await self._producer.send_and_wait("tally", self.snapshot())

            def tally(self, events: list[dict]) -> Counter:
                kinds = Counter()
                for event in events:
                    kinds[event["kind"]] += 1
                return kinds
        """, id="reducer output counts"),
    pytest.param("""\
        from collections import deque

        from omnibase_core.nodes import NodeEffect


        class NodeSenderEffect(NodeEffect):
            def __init__(self, container) -> None:
                super().__init__(container)
                self._history = deque(maxlen=100)
                self._consecutive_failures = 0
                self._open = False

            def record(self, receipt: dict) -> None:
                self._history.append(receipt)

            def failed(self) -> None:
                self._consecutive_failures += 1
                if self._consecutive_failures >= 3:
                    self._open = True
        """, id="domain history and breaker state"),
    pytest.param("""\
        import enum


        class State(enum.Enum):
            CLOSED = "closed"
            OPEN = "open"
            HALF_OPEN = "half_open"


        class Breaker:
            def __init__(self) -> None:
                self._state = State.CLOSED
                self._stats = {"calls": 0, "rejected": 0}

            def call(self) -> None:
                self._stats["calls"] += 1
                if self._state is State.HALF_OPEN:
                    self._stats["rejected"] += 1

            def stats(self) -> dict:
                return dict(self._stats)
        """, id="breaker's own statistics"),
])
def test_lookalikes_are_not_metrics(source):
    assert scan(source) == []


def test_odd_code_does_not_raise():
    assert scan("""\
        class A:
            x: int = 0

            def f(self):
                self.x += len(self.y)[0] if self else (lambda: 0)()
                del self.x
                with open("f") as fh, open("g"):
                    self.z, *self.w = fh, []

        def g():
            global Q
            Q += 1
        """) == []


# -- migration ------------------------------------------------------------------------------
def migrate(source: str, tmp_path: Path) -> tuple[str, list]:
    text = dedent(source)
    example = Example("t", text, text, CONTRACT)
    after, result = run_example(ReplaceHandKeptMetrics, example, tmp_path)
    return after, list(result.decisions)


def test_reads_in_fstrings_amounts_and_name_clashes(tmp_path):
    after, _ = migrate("""\
        from omnibase_core.nodes import NodeEffect


        class NodeJobEffect(NodeEffect):
            def __init__(self, container) -> None:
                super().__init__(container)
                self.__hits = 0
                self._jobs = 0

            def run(self) -> None:
                self.increment_counter("jobs")
                self._jobs += 2
                self.__hits += 1

            def describe(self) -> str:
                return f"{self._jobs} jobs, {self.__hits} hits"
        """, tmp_path)
    assert 'self.increment_counter("jobs_2", 2)' in after
    assert 'self.increment_counter("hits")' in after
    assert "f\"{self._count('jobs_2')} jobs, {self._count('hits')} hits\"" in after
    assert "self._jobs = 0" not in after and "self.__hits = 0" not in after


def test_several_reads_go_through_one_accessor_and_a_single_read_stays_inline(tmp_path):
    single, _ = migrate("""\
        from omnibase_core.nodes import NodeEffect


        class NodeJobEffect(NodeEffect):
            def __init__(self, container) -> None:
                super().__init__(container)
                self._jobs = 0

            def run(self) -> None:
                self._jobs += 1

            def describe(self) -> str:
                return str(self._jobs)
        """, tmp_path / "single")
    assert 'str(MixinMetrics.get_metrics(self).get("jobs", {}).get("value", 0))' in single
    assert "def _count" not in single

    several, _ = migrate("""\
        from omnibase_core.nodes import NodeEffect


        def _count(name):
            return name


        _counter = _count


        class NodeJobEffect(NodeEffect):
            def __init__(self, container) -> None:
                super().__init__(container)
                self._jobs = 0
                self._fails = 0

            def run(self, ok: bool) -> None:
                self._jobs += 1
                if not ok:
                    self._fails += 1

            # The snapshot.
            def snapshot(self) -> dict[str, float]:
                return {"jobs": self._jobs, "fails": self._fails}
        """, tmp_path / "several")
    assert several.count("MixinMetrics.get_metrics(self)") == 1
    assert '"jobs": self._counter_value("jobs"), "fails": self._counter_value("fails")' in several
    accessor = several.index("    def _counter_value(self, name: str) -> float:")
    assert accessor < several.index("    # The snapshot.\n    def snapshot")
    assert not any(line != line.rstrip() for line in several.splitlines())
    # The accessor reads MixinMetrics: it is not hand-kept metrics, so a later run leaves it alone.
    (tmp_path / "node.py").write_text(several)
    scan = scan_file(tmp_path / "node.py", tmp_path, [ReplaceHandKeptMetrics()])
    assert not [f for f in scan.findings if "_counter_value" in f.symbol]


def test_counters_reached_by_name_or_float_or_computed_stay(tmp_path):
    source = """\
        from omnibase_core.nodes import NodeEffect


        class NodeKeepEffect(NodeEffect):
            def __init__(self, container) -> None:
                super().__init__(container)
                self._a = 0
                self._b = 0.0
                self._c = 0

            def run(self, n: int) -> None:
                self._a += 1
                self._b += 1
                self._c += n

            def get_stats(self) -> dict:
                return {"a": getattr(self, "_a"), "b": self._b, "c": self._c}
        """
    after, decisions = migrate(source, tmp_path)
    assert after == dedent(source)
    notes = " ".join(d.note for d in decisions)
    assert "reached by name" in notes and "float total" in notes and "computed amount" in notes


def test_lock_guarding_only_counters_is_removed(tmp_path):
    after, decisions = migrate("""\
        \"\"\"Counts.\"\"\"

        import threading

        from omnibase_core.nodes import NodeCompute


        class NodeCountCompute(NodeCompute):
            def __init__(self, container) -> None:
                super().__init__(container)
                self._guard = threading.Lock()
                self._calls = 0

            def compute_one(self, x: int) -> int:
                with self._guard:
                    self._calls += 1
                return x * 2

            def calls(self) -> int:
                return self._calls
        """, tmp_path)
    assert "self._guard" not in after
    assert "        self.increment_counter(\"calls\")\n        return x * 2" in after
    assert any("_guard guarded only those counters" in d.note for d in decisions)


def test_not_declared_changes_nothing(tmp_path):
    text = dedent(ReplaceHandKeptMetrics.examples[0].before)
    example = Example("t", text, text, "name: n\nnode_type: EFFECT\nmixins:\n  - {name: MixinHealthCheck}\n")
    after, result = run_example(ReplaceHandKeptMetrics, example, tmp_path)
    assert "increment_counter" not in after
    assert {d.outcome for d in result.decisions if str(d.finding.concern) == "metrics"} == {Outcome.NOT_DECLARED}


def test_counter_written_in_a_nested_function_stays(tmp_path):
    source = """\
        from omnibase_core.nodes import NodeEffect


        class NodeNestedEffect(NodeEffect):
            def __init__(self, container) -> None:
                super().__init__(container)
                self._calls = 0

            def run(self) -> None:
                self._calls += 1

                def forget() -> None:
                    self._calls = 5

                forget()

            def stats(self) -> dict:
                return {"calls": self._calls}
        """
    after, decisions = migrate(source, tmp_path)
    assert after == dedent(source)
    assert any("nested function" in d.note for d in decisions)


def test_decision_counters_and_early_exits():
    findings = scan("""\
        import time

        from omnibase_core.nodes import NodeEffect


        class NodeThrottledEffect(NodeEffect):
            def __init__(self, container) -> None:
                super().__init__(container)
                self._attempts = 0
                self._max_attempts = 3
                self._throttled = 0
                self._last_sent = 0.0

            def may_retry(self) -> bool:
                self._attempts += 1
                return self._attempts < self._max_attempts

            def send(self, matches) -> bool:
                now = time.monotonic()
                if now - self._last_sent < 1.0:
                    self._throttled += 1
                    return False
                if not matches():
                    self._throttled += 1
                    return False
                self._last_sent = now
                return True

            def stats(self) -> dict:
                return {"throttled": self._throttled}
        """)
    assert spans(findings) == [(11, 11), (21, 21), (24, 24), (29, 30)]


def test_cache_with_hit_counters_is_not_a_metrics_model():
    findings = scan("""\
        class LookupCache:
            def __init__(self) -> None:
                self._entries = {}
                self._hits = 0
                self._misses = 0

            def get(self, key):
                if key in self._entries:
                    self._hits += 1
                    return self._entries[key]
                self._misses += 1
                return None

            def put(self, key, value) -> None:
                self._entries[key] = (value, 0)

            def hit_rate(self) -> float:
                total = self._hits + self._misses
                return self._hits / total if total else 0.0
        """)
    assert spans(findings) == [(4, 5), (9, 9), (11, 11), (17, 19)]


def test_one_line_suites_are_located():
    findings = scan("""\
        from omnibase_core.nodes import NodeEffect


        class NodeTinyEffect(NodeEffect):
            def __init__(self, container): super().__init__(container); self._n = 0
            def hit(self): self._n += 1
            def run(self, x):
                if x: self._n += 1
                return x
            def stats(self): return {"n": self._n}
        """)
    assert spans(findings) == [(6, 6), (8, 8), (10, 10)]
    assert "shared line" in findings[0].reason


# -- families seen in nodes written in another hand -----------------------------------------
def test_metrics_model_in_the_models_module_beside_the_node(tmp_path):
    (tmp_path / "__init__.py").write_text("", encoding="utf-8")
    (tmp_path / "models.py").write_text(dedent("""\
        from pydantic import BaseModel, Field


        class ModelCallUsage(BaseModel):
            prompt_tokens: int = 0
            cost_usd: float = 0.0


        class CallMetrics(BaseModel):
            calls: int = 0
            failures: int = 0
            total_ms: float = 0.0
            by_model: dict[str, int] = Field(default_factory=dict)

            def record_call(self, model: str) -> None:
                self.calls += 1
                self.by_model[model] = self.by_model.get(model, 0) + 1

            def record_failure(self) -> None:
                self.failures += 1

            @property
            def failure_rate(self) -> float:
                return self.failures / self.calls if self.calls else 0.0

            def snapshot(self) -> dict:
                return {**self.model_dump(), "failure_rate": self.failure_rate}
        """), encoding="utf-8")
    findings = scan("""\
        from omnibase_core.nodes import NodeEffect

        from .models import CallMetrics


        class NodeGatewayEffect(NodeEffect):
            def __init__(self, container, client) -> None:
                super().__init__(container)
                self._client = client
                self._metrics = CallMetrics()

            async def call(self, model: str, body: dict) -> dict:
                self._metrics.record_call(model)
                try:
                    return await self._client.post(f"/{model}", json=body)
                except OSError:
                    self._metrics.record_failure()
                    raise

            def get_metrics(self) -> dict:
                return self._metrics.snapshot()
        """, tmp_path)
    assert spans(findings) == [(10, 10), (13, 13), (17, 17), (20, 21)]
    models = FileContext(tmp_path / "models.py", "models.py", (tmp_path / "models.py").read_text())
    assert [(f.start_line, f.symbol) for f in ReplaceHandKeptMetrics().detect(models)] == [(9, "CallMetrics")]


def test_typed_dict_shapes_and_their_builders_in_a_metrics_module(tmp_path):
    (tmp_path / "__init__.py").write_text("", encoding="utf-8")
    metrics = dedent("""\
        from typing import TypedDict


        class StepCounters(TypedDict):
            count: int
            failures: int
            total_ms: float


        class DeadLetterCounters(TypedDict):
            sent: int


        class FlowMetrics(TypedDict):
            steps: dict[str, StepCounters]
            dead_letter: DeadLetterCounters
            started_at: float


        def new_flow_metrics(started_at: float) -> FlowMetrics:
            return FlowMetrics(steps={}, dead_letter=DeadLetterCounters(sent=0), started_at=started_at)


        def new_step_counters() -> StepCounters:
            return StepCounters(count=0, failures=0, total_ms=0.0)
        """)
    (tmp_path / "metrics.py").write_text(metrics, encoding="utf-8")
    findings = scan("""\
        from omnibase_core.nodes import NodeOrchestrator

        from .metrics import FlowMetrics, new_flow_metrics, new_step_counters


        class NodeFlowOrchestrator(NodeOrchestrator):
            def __init__(self, container, clock) -> None:
                super().__init__(container)
                self._clock = clock
                self._metrics: FlowMetrics = new_flow_metrics(clock.monotonic())

            def _update_step_metrics(self, step: str, ms: float, ok: bool) -> None:
                steps = self._metrics["steps"]
                if step not in steps:
                    steps[step] = new_step_counters()
                counters = steps[step]
                counters["count"] += 1
                counters["total_ms"] += ms
                if not ok:
                    counters["failures"] += 1

            def get_metrics(self) -> dict:
                steps = self._metrics["steps"]
                total = sum(c["count"] for c in steps.values())
                return {"total": total, "avg_ms": sum(c["total_ms"] for c in steps.values()) / total if total else 0.0}
        """, tmp_path)
    assert spans(findings) == [(10, 10), (12, 20), (22, 25)]
    ctx = FileContext(tmp_path / "metrics.py", "metrics.py", metrics)
    found = {(f.symbol, f.reason.split(":")[0]) for f in ReplaceHandKeptMetrics().detect(ctx)}
    assert {symbol for symbol, _ in found} == {"StepCounters", "FlowMetrics", "new_flow_metrics", "new_step_counters"}


def test_a_timer_whose_duration_is_returned_is_output_not_a_metric():
    findings = scan("""\
        import time

        from omnibase_core.nodes import NodeEffect


        class NodeFetchEffect(NodeEffect):
            def __init__(self, container, client) -> None:
                super().__init__(container)
                self._client = client
                self._fetches = 0

            async def fetch(self, url: str) -> dict:
                started = time.perf_counter()
                body = await self._client.get(url)
                elapsed_ms = (time.perf_counter() - started) * 1000.0
                self._fetches += 1
                return {"body": body, "elapsed_ms": elapsed_ms}

            async def ping(self, url: str) -> None:
                started = time.perf_counter()
                await self._client.get(url)
                self._last_ping_ms = (time.perf_counter() - started) * 1000.0

            def stats(self) -> dict:
                return {"fetches": self._fetches}
        """)
    assert (13, 13) not in spans(findings) and (16, 16) in spans(findings)


def test_a_method_that_logs_and_counts_keeps_its_call_sites_out():
    findings = scan("""\
        import logging

        from omnibase_core.nodes import NodeEffect

        logger = logging.getLogger(__name__)


        class NodePollEffect(NodeEffect):
            def __init__(self, container, client) -> None:
                super().__init__(container)
                self._client = client
                self._retries = 0

            async def poll(self) -> dict:
                for attempt in range(3):
                    try:
                        return await self._client.get("/jobs")
                    except OSError as exc:
                        self._log_retry(attempt, exc)
                raise RuntimeError("no jobs")

            def _log_retry(self, attempt: int, error: Exception) -> None:
                self._retries += 1
                logger.warning("poll failed (attempt %d): %s", attempt, error)

            def get_metrics(self) -> dict:
                return {"retries": self._retries}
        """)
    assert spans(findings) == [(12, 12), (23, 23), (26, 27)]


def test_a_read_out_of_dead_letter_counters_is_not_a_metrics_helper():
    findings = scan("""\
        from omnibase_core.nodes import NodeEffect


        class NodeSinkEffect(NodeEffect):
            def __init__(self, container, sink) -> None:
                super().__init__(container)
                self._sink = sink
                self._writes = 0
                self._dlq_sent = 0
                self._dlq_failed = 0

            async def write(self, row: dict) -> None:
                await self._sink.write(row)
                self._writes += 1

            def get_dlq_stats(self) -> dict:
                return {"sent": self._dlq_sent, "failed": self._dlq_failed}

            def get_metrics(self) -> dict:
                return {"writes": self._writes, "dead_letter": self.get_dlq_stats()}
        """)
    assert spans(findings) == [(8, 8), (14, 14), (19, 20)]
