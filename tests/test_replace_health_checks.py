import asyncio
import importlib
import sys
import textwrap
from pathlib import Path

import pytest
from answer_key import FIXTURE_ROOT
from codemod_examples import assert_example, run_example

from codemods.base import Example
from codemods.health_check import ReplaceHealthChecks
from codemods.health_check.examples import EXAMPLE_HEALTH_MIXIN, EXAMPLE_SUPPORT_FILES
from omnimix.analysis.context import FileContext
from omnimix.migration_state import Outcome

CONTRACT = "name: store\nnode_type: EFFECT\nmixins:\n  - {name: MixinHealthCheck}\n"


def write_support(root: Path, files: dict[str, str] = EXAMPLE_SUPPORT_FILES) -> None:
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


@pytest.mark.parametrize("example", ReplaceHealthChecks.examples, ids=lambda e: e.title)
def test_examples(example, tmp_path):
    for run in ("first", "second"):
        write_support(tmp_path / run)
    assert_example(ReplaceHealthChecks, example, tmp_path)


def migrate(tmp_path: Path, source: str, *, unsafe: bool = False, support: dict[str, str] | None = None):
    write_support(tmp_path, EXAMPLE_SUPPORT_FILES if support is None else support)
    example = Example("t", textwrap.dedent(source), "", CONTRACT, unsafe=unsafe)
    return run_example(ReplaceHealthChecks, example, tmp_path)


def scan(source: str, name: str = "node.py") -> list[tuple[str, int, int, str]]:
    ctx = FileContext(Path(name), name, textwrap.dedent(source))
    return [(f.symbol, f.start_line, f.end_line, str(f.action)) for f in ReplaceHealthChecks().detect(ctx)]


# -- detector ---------------------------------------------------------------------------------
def test_detects_the_local_mixin_module_family():
    found = scan(EXAMPLE_HEALTH_MIXIN, "health.py")
    symbols = {symbol for symbol, *_ in found}
    assert {"HealthCheckMixin", "HealthStatus", "NodeHealth", "_roll_up"} <= symbols


def test_detects_node_registration_family_and_state():
    found = scan("""\
        from omnibase_core.nodes import NodeEffect
        from acme.health import HealthMixin, Status

        PROBE_TIMEOUT = 2.0
        DEGRADED_RATIO = 0.8


        class NodeX(NodeEffect, HealthMixin):
            def __init__(self, container, pool):
                super().__init__(container)
                self._pool = pool

                self._boot = 0.0
                self.setup_health_checks()

            def run(self):
                return self._pool.go()

            def _register_probes(self):
                self.add_health_probe("db", self._ping_db, critical=True)

            async def _ping_db(self):
                return Status.HEALTHY, "ok", {"timeout": PROBE_TIMEOUT}

            def report(self):
                ratio = DEGRADED_RATIO
                return {"status": "healthy" if ratio else "degraded", "uptime": self._boot}
        """)
    assert not any(symbol == "NodeX" for symbol, *_ in found)  # inheriting the mixin is no health code itself
    assert ("NodeX.__init__", 13, 13, "keep") in found  # uptime origin read only by report()
    assert ("NodeX.__init__", 14, 14, "replace") in found  # set-up call
    assert ("NodeX._register_probes", 19, 20, "replace") in found
    assert ("NodeX._ping_db", 22, 23, "replace") in found
    assert ("NodeX.report", 25, 27, "keep") in found
    assert ("<module>", 4, 5, "keep") in found  # thresholds used only by health code
    assert not any(symbol == "NodeX.run" for symbol, *_ in found)


def test_probe_helpers_only_called_by_a_health_dict_are_part_of_it():
    found = scan("""\
        class NodeX:
            async def get_health(self):
                checks = {"producer": self._probe_producer(), "ttl": self._check_ttl(3)}
                bad = any(c["status"] == "down" for c in checks.values())
                return {"status": "unhealthy" if bad else "healthy", "checks": checks}

            def _probe_producer(self):
                return {"status": "up"}

            def _check_ttl(self, ttl):
                if ttl <= 0:
                    raise ValueError("ttl")
                return ttl

            def acquire(self, ttl):
                return self._check_ttl(ttl)
        """)
    symbols = {symbol for symbol, *_ in found}
    assert symbols == {"NodeX.get_health", "NodeX._probe_producer"}


def test_state_updated_amid_other_bookkeeping_is_not_health_state():
    found = scan("""\
        class NodeX:
            def __init__(self):
                self._count = 0
                self._last_error = None

            def flush(self):
                try:
                    self.write()
                except Exception as exc:
                    self._count += 1
                    self._last_error = str(exc)

            def metrics(self):
                return {"count": self._count}

            def get_health(self):
                return {"status": "degraded" if self._last_error else "healthy"}
        """)
    assert {symbol for symbol, *_ in found} == {"NodeX.get_health"}


def test_a_lifecycle_flag_the_health_method_reports_is_not_health_state():
    found = scan("""\
        class NodeX:
            def __init__(self, clock):
                self._clock = clock
                self._started = clock.monotonic()
                self._initialized = False

            async def initialize(self):
                self._initialized = True
                self._clock.sleep(0)

            async def shutdown(self):
                self._initialized = False

            def get_health(self):
                up = self._clock.monotonic() - self._started
                return {"status": "healthy" if self._initialized else "unhealthy", "uptime": up}
        """)
    assert sorted((symbol, start, end) for symbol, start, end, _ in found) == [
        ("NodeX.__init__", 4, 4), ("NodeX.get_health", 14, 16)]


UPTIME_NODE = """\
    class NodeX:
        def __init__(self, clock):
            self._clock = clock
            self._started_at = clock.monotonic()
            self._jobs = {}

        def run(self, job):
            self._jobs[job.id] = job

        def get_metrics(self):
            return {"jobs": len(self._jobs), "uptime": self._clock.monotonic() - self._started_at}

        def get_health(self):
            up = self._clock.monotonic() - self._started_at
            return {"status": "healthy" if self._jobs is not None else "unhealthy", "uptime": up}
    """


def test_an_uptime_origin_read_by_health_and_metrics_methods_is_health_code():
    ctx = FileContext(Path("node.py"), "node.py", textwrap.dedent(UPTIME_NODE))
    findings = {(f.symbol, f.start_line, f.end_line): f.reason for f in ReplaceHealthChecks().detect(ctx)}
    assert findings[("NodeX.__init__", 4, 4)].startswith("uptime origin read only by the node's health and metrics")
    assert ("NodeX.get_health", 13, 15) in findings


def test_an_uptime_origin_business_code_reads_is_not_health_code():
    source = UPTIME_NODE.replace("self._jobs[job.id] = job", "job.age = self._clock.monotonic() - self._started_at")
    assert not any(symbol == "NodeX.__init__" for symbol, *_ in scan(source))


def test_a_health_named_default_read_with_the_config_fallback_is_a_health_constant():
    found = scan("""\
        import os

        BATCH_SIZE = 100
        DEFAULT_BUFFER_HEALTH_THRESHOLD = 5000


        class NodeX:
            def __init__(self, config):
                self._batch = BATCH_SIZE
                try:
                    self._threshold = int(config.get("threshold") or os.getenv("T", DEFAULT_BUFFER_HEALTH_THRESHOLD))
                except ValueError:
                    self._threshold = DEFAULT_BUFFER_HEALTH_THRESHOLD

            def get_health(self, size):
                return {"status": "degraded" if size > self._threshold else "healthy"}
        """)
    spans = [(symbol, start, end) for symbol, start, end, _ in found]
    assert ("<module>", 4, 4) in spans
    assert not any(start == 3 for _, start, _ in spans)


def test_type_aliases_and_status_tables_of_a_mixin_module_are_its_support():
    found = scan("""\
        from enum import Enum
        from typing import Any, Callable


        class HealthStatus(str, Enum):
            HEALTHY = "healthy"
            DEGRADED = "degraded"
            UNHEALTHY = "unhealthy"


        _SEVERITY = {HealthStatus.HEALTHY: 0, HealthStatus.DEGRADED: 1, HealthStatus.UNHEALTHY: 2}
        CheckFn = Callable[[], Any]
        log = make_logger(__name__)


        class HealthMixin:
            def register_component_check(self, name: str, fn: CheckFn) -> None:
                log.debug("registered %s", name)
                self._checks[name] = fn

            def check_health(self) -> HealthStatus:
                return max((fn()[0] for fn in self._checks.values()), key=_SEVERITY.get)
        """, "health.py")
    assert ("<module>", 11, 12, "keep") in found
    assert not any(start <= 13 <= end for _, start, end, _ in found)


@pytest.mark.parametrize("source", [
    # a domain report named like health, with a verdict enum that has a HEALTHY member
    """\
    from dataclasses import dataclass
    from enum import Enum

    class QualityVerdict(str, Enum):
        HEALTHY = "healthy"
        FAILING = "failing"

    @dataclass
    class HealthReport:
        model: str
        verdict: QualityVerdict

        @classmethod
        def from_rate(cls, model, rate):
            return cls(model, QualityVerdict.HEALTHY if rate > 0.9 else QualityVerdict.FAILING)
    """,
    # a consul check definition and a probe path field are registration payload / domain data
    """\
    from dataclasses import dataclass

    @dataclass
    class Package:
        health_check_path: str = "/health"

    class Registry:
        async def register(self, host, port):
            check = {"http": f"http://{host}:{port}/health", "interval": "10s"}
            await self._consul.agent.service.register("svc", check=check)

        def get_workflow_status(self, workflow_id):
            return {"status": "completed", "id": workflow_id}
    """,
    # the MixinHealthCheck API itself is the migrated form
    """\
    from omnibase_core.mixins import MixinHealthCheck
    from omnibase_core.models.health.model_health_status import ModelHealthStatus
    from omnibase_core.nodes import NodeEffect

    class NodeX(NodeEffect, MixinHealthCheck):
        def get_health_checks(self):
            return [self._check_db]

        async def _check_db(self) -> ModelHealthStatus:
            return ModelHealthStatus.create_healthy()

        async def check_health(self, *, force: bool = False) -> ModelHealthStatus:
            return await self.health_check_async()
    """,
])
def test_look_alikes_are_not_reported(source):
    assert scan(source) == []


def test_migrated_node_is_not_reported_again(tmp_path):
    after, _ = migrate(tmp_path, ReplaceHealthChecks.examples[0].before)
    found = scan(after)
    assert [symbol for symbol, *_ in found] == ["ping_database"]  # the module's own probe helper stays


def test_odd_code_does_not_raise():
    assert scan("class A(B, metaclass=M):\n    x: int\n    def f(self, *a, **k): return (yield)\n") == []


# -- transform --------------------------------------------------------------------------------
BEHAVIOUR_NODE = """\
    import asyncio

    from omnibase_core.nodes import NodeEffect

    from pkg.health import HealthCheckMixin, HealthStatus

    STEP = "remote"


    class NodeProbeEffect(NodeEffect, HealthCheckMixin):
        def __init__(self, container, *, outcomes=None):
            super().__init__(container)
            self.outcomes = outcomes or {}
            self.initialize_health_checks(cache_ttl_seconds=0.0)

        def _register_component_checks(self) -> None:
            super()._register_component_checks()
            self.register_component_check("db", self._db, critical=True, timeout_seconds=0.05)
            self.register_component_check(STEP, self._remote, critical=False, timeout_seconds=0.05)
            self.register_component_check("cache", lambda: self._sync("cache"), critical=False)
            self.register_component_check("queue", self._queue, timeout_seconds=0.05)

        async def _db(self):
            return await self._run("db")

        async def _remote(self):
            return await self._run("remote")

        async def _queue(self):
            return await self._run("queue")

        async def _run(self, name):
            outcome = self.outcomes.get(name, "healthy")
            if outcome == "hang":
                await asyncio.sleep(1)
            if outcome == "raise":
                raise ConnectionError(name)
            return outcome, f"{name} said {outcome}", {}

        def _sync(self, name):
            outcome = self.outcomes.get(name, "healthy")
            if outcome == "raise":
                raise RuntimeError(name)
            return HealthStatus(outcome) if outcome in ("healthy", "degraded", "unhealthy") else outcome, "", {}
    """

SCENARIOS = [
    {},
    {"db": "unhealthy"},
    {"db": "degraded"},
    {"db": "hang"},
    {"db": "raise"},
    {"remote": "unhealthy"},
    {"remote": "hang"},
    {"cache": "raise"},
    {"cache": "unhealthy", "remote": "degraded"},
    {"queue": "raise"},
    {"queue": "weird"},
    {"remote": "UNHEALTHY"},
]


def _load(root: Path, text: str, module: str):
    (root / "pkg" / "example_node" / "node.py").write_text(text, encoding="utf-8")
    sys.path.insert(0, str(root))
    try:
        for name in [m for m in sys.modules if m.split(".")[0] in ("pkg", "omninode_bridge")]:
            del sys.modules[name]
        return importlib.import_module(module)
    finally:
        sys.path.remove(str(root))


def _fixture_mixin_support() -> dict[str, str]:
    """The fixture corpus's own health mixin (its base node_runtime check left out: that one is refused)."""
    src = FIXTURE_ROOT / "src" / "omninode_bridge"
    mixin = (src / "nodes" / "mixins" / "health_mixin.py").read_text(encoding="utf-8")
    base_check = ('        self.register_component_check(\n'
                  '            "node_runtime", self._check_node_runtime, critical=False, timeout_seconds=1.0\n'
                  '        )\n')
    if base_check not in mixin:
        raise AssertionError("the fixture health mixin no longer registers node_runtime as this test expects")
    support = {
        "omninode_bridge/__init__.py": "",
        "omninode_bridge/utils/__init__.py": "",
        "omninode_bridge/utils/clock.py": (src / "utils" / "clock.py").read_text(encoding="utf-8"),
        "omninode_bridge/nodes/__init__.py": "",
        "omninode_bridge/nodes/mixins/__init__.py": "",
        "omninode_bridge/nodes/mixins/health_mixin.py": mixin.replace(base_check, ""),
    }
    return support


def test_migrated_checks_roll_up_exactly_like_the_local_mixin(tmp_path):
    """A local mixin omnimix cannot rebuild on MixinHealthCheck (the example's has no runner returning a
    result with status and critical): each node's registrations become get_health_checks()."""
    from omnibase_core.models.container.model_onex_container import ModelONEXContainer

    source = BEHAVIOUR_NODE
    before = textwrap.dedent(source)
    after, result = migrate(tmp_path, source)
    assert result.status.value == "changed", result.warnings
    assert "HealthCheckMixin" not in after and "initialize_health_checks" not in after
    assert '_health_check_adapter("remote", self._remote, critical=False, timeout_seconds=0.05)' in after
    assert '"cache", lambda: self._sync("cache"), critical=False, timeout_seconds=5.0' in after  # mixin default
    original = _load(tmp_path, before, "pkg.example_node.node").NodeProbeEffect
    migrated = _load(tmp_path, after, "pkg.example_node.node").NodeProbeEffect
    assert [c.__name__ for c in migrated.__mro__][:2] == ["NodeProbeEffect", "NodeEffect"]
    names = [f.__name__ for f in migrated(ModelONEXContainer()).get_health_checks()]
    assert len(set(names)) == len(names) == 4

    async def statuses(outcomes):
        old = await original(ModelONEXContainer(), outcomes=outcomes).check_health(force=True)
        new = await migrated(ModelONEXContainer(), outcomes=outcomes).check_health(force=True)
        return old.status.value, new.status.value

    for outcomes in SCENARIOS:
        old, new = asyncio.run(statuses(outcomes))
        assert old == new, f"{outcomes}: local mixin {old}, MixinHealthCheck {new}"


def test_a_node_on_the_fixture_mixin_gets_it_rebuilt_on_mixin_health_check(tmp_path):
    """The corpus's shared mixin is rebuilt once, on MixinHealthCheck: the node stays as it is, and
    health_check_async() gives the verdict check_health() gives, in every scenario."""
    from omnibase_core.models.container.model_onex_container import ModelONEXContainer

    support = _fixture_mixin_support()
    source = BEHAVIOUR_NODE.replace("from pkg.health import", "from omninode_bridge.nodes.mixins.health_mixin import")
    after, result = migrate(tmp_path, source, support=support)
    assert after == textwrap.dedent(source)
    (shared,) = [c for c in result.changes if c.path.name == "health_mixin.py"]
    assert shared.changed and "class HealthCheckMixin(MixinHealthCheck):" in shared.after
    notes = {d.note for d in result.decisions if str(d.finding.concern) == "health_check"}
    assert {d.outcome for d in result.decisions} == {Outcome.APPLIED}
    assert any(note.startswith("runs through MixinHealthCheck: the shared HealthCheckMixin") for note in notes)
    shared.path.write_text(shared.after, encoding="utf-8")
    node = _load(tmp_path, after, "pkg.example_node.node").NodeProbeEffect
    assert "MixinHealthCheck" in [c.__name__ for c in node.__mro__]

    async def statuses(outcomes):
        probe = node(ModelONEXContainer(), outcomes=outcomes)
        local = await probe.check_health(force=True)
        core = await probe.health_check_async()
        return local.status.value, str(getattr(core.status, "value", core.status)).lower()

    for outcomes in SCENARIOS:
        local, core = asyncio.run(statuses(outcomes))
        assert local == core, f"{outcomes}: check_health() {local}, health_check_async() {core}"
    again, second = migrate(tmp_path, source, support={})
    assert again == after and not any(c.changed for c in second.changes)
    assert {d.outcome for d in second.decisions} == {Outcome.APPLIED}


def test_second_run_changes_nothing(tmp_path):
    after, _ = migrate(tmp_path / "one", BEHAVIOUR_NODE)
    again, result = migrate(tmp_path / "two", after)
    assert again == after
    assert all(d.outcome is not Outcome.APPLIED for d in result.decisions)


def test_every_finding_is_decided_once(tmp_path):
    _, result = migrate(tmp_path, BEHAVIOUR_NODE)
    decided = [(d.path, d.finding) for d in result.decisions if str(d.finding.concern) == "health_check"]
    assert decided and len(decided) == len(set(decided))
    assert {d.outcome for d in result.decisions} == {Outcome.APPLIED}


def test_a_base_check_that_needs_mixin_state_is_refused(tmp_path):
    mixin = EXAMPLE_HEALTH_MIXIN.replace(
        '        """Hook: nodes call super() first, then register their checks."""\n',
        '        """Hook: nodes call super() first, then register their checks."""\n'
        '        self.register_component_check("runtime", self._check_runtime, critical=False)\n\n'
        '    def _check_runtime(self):\n'
        '        return HealthStatus.HEALTHY, "up", {"ttl": self._health_ttl}\n')
    after, result = migrate(tmp_path, BEHAVIOUR_NODE, support={"pkg/health.py": mixin})
    assert after == textwrap.dedent(BEHAVIOUR_NODE)
    message = " ".join(result.warnings)
    assert "registers the local mixin's own check 'runtime'" in message and "_health_ttl" in message
    assert {d.outcome for d in result.decisions} == {Outcome.KEPT}


def test_a_node_overriding_the_base_check_is_migrated(tmp_path):
    mixin = EXAMPLE_HEALTH_MIXIN.replace(
        '        """Hook: nodes call super() first, then register their checks."""\n',
        '        """Hook: nodes call super() first, then register their checks."""\n'
        '        self.register_component_check("runtime", self._check_runtime, critical=False, timeout_seconds=1)\n')
    node = BEHAVIOUR_NODE + "\n        def _check_runtime(self):\n            return \"healthy\", \"up\", {}\n"
    after, result = migrate(tmp_path, node, support={"pkg/health.py": mixin})
    assert '_health_check_adapter("runtime", self._check_runtime, critical=False, timeout_seconds=1.0)' in " ".join(
        after.split()).replace("( ", "(").replace(" )", ")")
    assert after.index('"runtime"') < after.index('"db"')


@pytest.mark.parametrize("change, reason", [
    ("critical=True, timeout_seconds=0.05)\n", None),
    ('self.register_component_check("db", self._db', "not literal"),
])
def test_unreadable_or_unknown_mixins_are_refused(tmp_path, change, reason):
    if reason is None:  # the mixin module is not in the repository
        after, result = migrate(tmp_path, BEHAVIOUR_NODE, support={})
        assert "is not among the repository files" in " ".join(result.warnings)
    else:
        rolled = EXAMPLE_HEALTH_MIXIN.replace("return HealthStatus.DEGRADED", "return HealthStatus.UNHEALTHY")
        after, result = migrate(tmp_path, BEHAVIOUR_NODE, support={"pkg/health.py": rolled})
        assert "does not recognise the roll-up" in " ".join(result.warnings)
    assert after == textwrap.dedent(BEHAVIOUR_NODE)


def test_registration_with_a_local_name_is_refused(tmp_path):
    source = BEHAVIOUR_NODE.replace(
        '            self.register_component_check("cache", lambda: self._sync("cache"), critical=False)\n',
        '            name = "cache"\n'
        '            self.register_component_check(name, lambda: self._sync(name), critical=False)\n')
    after, result = migrate(tmp_path, source)
    assert after == textwrap.dedent(source)
    assert "does more than register checks" in " ".join(result.warnings)


def test_status_only_callers_elsewhere_keep_it_safe_and_other_uses_make_it_unsafe(tmp_path):
    caller = (
        "async def probe(node):\n"
        "    result = await node.check_health(force=True)\n"
        "    ok = result.status == 'healthy'\n"
        "    return ok, (await node.check_health()).status.value\n")
    support = {**EXAMPLE_SUPPORT_FILES, "pkg/api.py": caller}
    after, result = migrate(tmp_path / "safe", BEHAVIOUR_NODE, support=support)
    assert result.status.value == "changed"
    assert "async def check_health(self, *, force: bool = False) -> ModelHealthStatus:" in after

    support["pkg/api.py"] = caller + "\n\ndef show(node):\n    return node.check_health().to_dict()\n"
    support["pkg/admin.py"] = "def reset(node):\n    node.register_component_check('x', print)\n"
    after, result = migrate(tmp_path / "unsafe", BEHAVIOUR_NODE, support=support)
    assert after == textwrap.dedent(BEHAVIOUR_NODE)
    message = " ".join(result.warnings)
    assert "pkg/api.py:8: reads check_health().to_dict" in message
    assert "pkg/admin.py:2: calls register_component_check()" in message
    assert {d.outcome for d in result.decisions} == {Outcome.PENDING_UNSAFE}


def test_identity_comparison_of_status_is_unsafe(tmp_path):
    support = {**EXAMPLE_SUPPORT_FILES,
               "pkg/api.py": "from pkg.health import HealthStatus\n\n"
                             "async def ok(node):\n"
                             "    return (await node.check_health()).status is HealthStatus.HEALTHY\n"}
    _, result = migrate(tmp_path, BEHAVIOUR_NODE, support=support)
    assert "compares check_health().status with `is`" in " ".join(result.warnings)


def test_nothing_happens_unless_the_contract_declares_mixin_health_check(tmp_path):
    write_support(tmp_path)
    example = Example("t", textwrap.dedent(BEHAVIOUR_NODE), "", "name: n\nnode_type: EFFECT\nmixins:\n"
                      "  - {name: MixinMetrics}\n")
    after, result = run_example(ReplaceHealthChecks, example, tmp_path)
    assert "HealthCheckMixin)" not in after or "class NodeProbeEffect(NodeEffect, HealthCheckMixin" in after
    assert all(d.outcome is Outcome.NOT_DECLARED for d in result.decisions if str(d.finding.concern) == "health_check")


def test_a_differently_named_family_is_recognised():
    mixin = scan("""\
        from enum import Enum

        class Status(Enum):
            HEALTHY = "ok"
            UNHEALTHY = "down"

        class ProbeRegistry:
            def add_probe(self, name, fn, critical=True):
                self._probes[name] = (fn, critical)

            async def overall(self):
                results = [await fn() for fn, _ in self._probes.values()]
                return Status.UNHEALTHY if any(r[0] is Status.UNHEALTHY for r in results) else Status.HEALTHY
        """, "probes.py")
    assert {symbol for symbol, *_ in mixin} == {"ProbeRegistry", "Status"}
    node = scan("""\
        from omnibase_core.nodes import NodeCompute
        from acme.probes import ProbeRegistry

        class NodeX(NodeCompute, ProbeRegistry):
            def wire(self):
                self.add_probe("llm", self.ping_llm, critical=False)

            async def ping_llm(self):
                return ("healthy", "llm answers")
        """)
    assert {symbol for symbol, *_ in node} == {"NodeX.wire", "NodeX.ping_llm"}


def test_a_class_listing_the_shared_mixin_before_the_node_base_keeps_it_as_it_is(tmp_path):
    """MixinHealthCheck.__init__ takes no positional arguments: listed first, the mixin would take the
    container that NodeEffect.__init__ needs. The shared mixin is not rebuilt, and the summary says why."""
    support = _fixture_mixin_support()
    source = BEHAVIOUR_NODE.replace("from pkg.health import", "from omninode_bridge.nodes.mixins.health_mixin import")
    source = source.replace("(NodeEffect, HealthCheckMixin)", "(HealthCheckMixin, NodeEffect)")
    _, result = migrate(tmp_path, source, support=support)
    assert not any(c.changed for c in result.changes if c.path.name == "health_mixin.py")
    assert any("lists HealthCheckMixin before NodeEffect" in w for w in result.warnings), result.warnings
