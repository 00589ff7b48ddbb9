import importlib.util
import re
import sys
import textwrap
from pathlib import Path

import pytest
from codemod_examples import assert_example, run_example
from omnibase_core.enums.enum_core_error_code import EnumCoreErrorCode
from omnibase_core.errors.model_onex_error import ModelOnexError
from omnibase_core.models.container.model_onex_container import ModelONEXContainer

from codemods.circuit_breaker import ReplaceCircuitBreaker
from codemods.circuit_breaker import examples as breaker_examples
from codemods.declared_mixins import ApplyDeclaredMixins
from omnimix.analysis.context import FileContext
from omnimix.concerns import Action, Safety
from omnimix.discovery import node_dirs, python_files
from omnimix.engine import migrate_node
from omnimix.migration_state import Outcome
from omnimix.results import Status


@pytest.mark.parametrize("example", ReplaceCircuitBreaker.examples, ids=lambda e: e.title)
def test_examples(example, tmp_path):
    assert_example(ReplaceCircuitBreaker, example, tmp_path)


# -- helpers ----------------------------------------------------------------------------------
def write_package(root: Path, files: dict[str, str]) -> Path:
    """Files under ``root/pkg`` (every directory a package); returns the package directory."""
    package = root / "pkg"
    for name, text in files.items():
        path = package / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    for directory in [package, *[p for p in package.rglob("*") if p.is_dir()]]:
        (directory / "__init__.py").touch()
    return package


def detect(path: Path):
    return ReplaceCircuitBreaker().detect(FileContext(path, path.name, path.read_text(encoding="utf-8")))


def spans(findings):
    return [(f.start_line, f.end_line) for f in findings]


def line_of(path: Path, text: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if text in line)


def line_range(path: Path, first: str, last: str | None = None, after: str | None = None) -> tuple[int, int]:
    numbered = list(enumerate(path.read_text().splitlines(), 1))
    floor = line_of(path, after) if after else 0
    start = next(i for i, line in numbered if i > floor and first in line)
    return start, next(i for i, line in numbered if i >= start and (last or first) in line)


FUSE_MODULE = '''\
    import time
    from enum import Enum


    class FuseState(str, Enum):
        CLOSED = "closed"
        OPEN = "open"


    class FuseBlown(Exception):
        def __init__(self, wait_seconds: float) -> None:
            super().__init__(f"fuse blown, wait {wait_seconds:.1f}s")
            self.wait_seconds = wait_seconds


    class Fuse:
        def __init__(self, *, limit: int = 3, rest: float = 20.0) -> None:
            self.limit = limit
            self.rest = rest
            self.state = FuseState.CLOSED
            self._bad = 0
            self._blown_at = 0.0

        @classmethod
        def from_settings(cls, settings: dict) -> "Fuse":
            return cls(limit=settings["limit"], rest=settings["rest"])

        async def run(self, work, *args):
            if self.state is FuseState.OPEN:
                waited = time.monotonic() - self._blown_at
                if waited < self.rest:
                    raise FuseBlown(self.rest - waited)
                self.state = FuseState.CLOSED
            try:
                value = await work(*args)
            except Exception:
                self._bad += 1
                if self._bad >= self.limit:
                    self.state = FuseState.OPEN
                    self._blown_at = time.monotonic()
                raise
            self._bad = 0
            return value


    if __name__ == "__main__":
        print(Fuse(limit=2, rest=1.0))
'''

FUSE_NODE = '''\
    from omnibase_core.nodes import NodeEffect

    from .fuses import Fuse, FuseBlown


    class NodeMailerEffect(NodeEffect):
        def __init__(self, container, smtp) -> None:
            super().__init__(container)
            self._smtp = smtp
            self._fuse = Fuse(limit=4, rest=30.0)

        async def send(self, message: str) -> bool:
            try:
                await self._fuse.run(self._smtp.send, message)
            except FuseBlown:
                return False
            return True

        async def status(self) -> dict:
            return {"fuse": self._fuse.state.value, "smtp": self._smtp.name}
'''


# -- detection --------------------------------------------------------------------------------
def test_local_breaker_module_and_its_node(tmp_path):
    package = write_package(tmp_path, {"mailer/fuses.py": FUSE_MODULE, "mailer/node.py": FUSE_NODE})
    module, node = package / "mailer/fuses.py", package / "mailer/node.py"

    in_module = detect(module)
    assert spans(in_module) == [
        (line_of(module, "class FuseState"), line_of(module, 'OPEN = "open"')),
        (line_of(module, "class FuseBlown"), line_of(module, "self.wait_seconds = wait_seconds")),
        (line_of(module, "class Fuse:"), line_of(module, "return value")),
        (line_of(module, '__name__ == "__main__"'), line_of(module, "print(Fuse(")),
    ]
    in_node = detect(node)
    assert spans(in_node) == [
        (line_of(node, "self._fuse = Fuse("), line_of(node, "self._fuse = Fuse(")),
        (line_of(node, "await self._fuse.run("), line_of(node, "return False")),
        (line_of(node, '"fuse": self._fuse.state.value'),) * 2,  # a state read in a status report
    ]
    for finding in in_module + in_node:
        assert (finding.action, finding.safety) == (Action.REPLACE, Safety.UNSAFE)
        assert "a success resets the count" in finding.reason
        assert "minimum_request_threshold" in finding.reason


def test_factory_breaker_call_sites_and_its_state_reads(tmp_path):
    package = write_package(tmp_path, {
        "shared/guards.py": '''\
            import time

            _ALL = {}


            class Guard:
                def __init__(self, name, threshold, cooldown):
                    self.name, self.threshold, self.cooldown = name, threshold, cooldown
                    self.open = False
                    self._fails = 0
                    self._since = 0.0

                def invoke(self, op, *args):
                    if self.open and time.monotonic() - self._since < self.cooldown:
                        raise RuntimeError("open")
                    try:
                        result = op(*args)
                    except Exception:
                        self._fails += 1
                        if self._fails >= self.threshold:
                            self.open, self._since = True, time.monotonic()
                        raise
                    self._fails = 0
                    self.open = False
                    return result


            def guard_for(name, threshold=5, cooldown=60.0):
                guard = Guard(name, threshold, cooldown)
                _ALL[name] = guard
                return guard
        ''',
        "inventory/node.py": '''\
            from omnibase_core.nodes import NodeEffect

            from pkg.shared.guards import guard_for


            class NodeInventoryEffect(NodeEffect):
                def __init__(self, container, db) -> None:
                    super().__init__(container)
                    self._db = db
                    self._db_guard = guard_for("inventory.db", threshold=3)

                def count(self, sku: str) -> int:
                    total = self._db_guard.invoke(self._db.count, sku)
                    return int(total)

                def health(self) -> dict:
                    return {"db": "down" if self._db_guard.open else "up", "rows": self._db.size()}
        ''',
    })
    guards, node = package / "shared/guards.py", package / "inventory/node.py"
    assert spans(detect(guards)) == [(line_of(guards, "_ALL = {}"), line_of(guards, "_ALL = {}")),
                                     (line_of(guards, "class Guard:"), line_of(guards, "return result")),
                                     (line_of(guards, "def guard_for"), line_of(guards, "return guard"))]
    assert spans(detect(node)) == [(line_of(node, "self._db_guard = guard_for("),) * 2,
                                   (line_of(node, "total = self._db_guard.invoke("),) * 2,
                                   (line_of(node, '"down" if self._db_guard.open'),) * 2]


def test_breaker_kept_in_node_fields(tmp_path):
    package = write_package(tmp_path, {"hooks/node.py": '''\
        from omnibase_core.nodes import NodeEffect


        class WebhookPaused(Exception):
            pass


        class NodeWebhookEffect(NodeEffect):
            def __init__(self, container, http, clock) -> None:
                super().__init__(container)
                self._http = http
                self._clock = clock
                self._strikes = 0
                self._max_strikes = 5
                self._paused_until = None
                self._pause = 45.0

            async def deliver(self, url: str, body: dict) -> int:
                self._ensure_not_paused()
                try:
                    response = await self._http.post(url, json=body)
                except ConnectionError:
                    self._strike()
                    raise
                self._strikes = 0
                return response.status_code

            def _ensure_not_paused(self) -> None:
                if self._paused_until is not None and self._clock.monotonic() < self._paused_until:
                    raise WebhookPaused()

            def _strike(self) -> None:
                self._strikes += 1
                if self._strikes >= self._max_strikes:
                    self._paused_until = self._clock.monotonic() + self._pause
    '''})
    node = package / "hooks/node.py"
    found = detect(node)
    assert spans(found) == [
        line_range(node, "class WebhookPaused", "pass"),
        line_range(node, "self._strikes = 0", "self._pause = 45.0"),
        line_range(node, "self._ensure_not_paused()"),
        line_range(node, "self._strike()"),
        line_range(node, "        self._strikes = 0", after="self._strike()"),
        line_range(node, "def _ensure_not_paused", "raise WebhookPaused()"),
        line_range(node, "def _strike", "self._clock.monotonic() + self._pause"),
    ]
    assert all("plain node fields" in f.reason and f.safety == Safety.UNSAFE for f in found)


def test_model_circuit_breaker_drift_is_safe_and_current_use_is_kept(tmp_path):
    package = write_package(tmp_path, {"llm/node.py": '''\
        from omnibase_core.models.configuration.model_circuit_breaker import ModelCircuitBreaker
        from omnibase_core.nodes import NodeEffect


        class NodeLlmEffect(NodeEffect):
            def __init__(self, container) -> None:
                super().__init__(container)
                self._cb = ModelCircuitBreaker(failure_threshold=3, minimum_request_threshold=3)

            def may_call(self) -> bool:
                return self._cb.can_execute()

            def state(self) -> str:
                return self._cb.get_current_state()
    '''})
    found = {f.symbol: f for f in detect(package / "llm/node.py")}
    assert (found["NodeLlmEffect.may_call"].action, found["NodeLlmEffect.may_call"].safety) == (Action.REPLACE, Safety.SAFE)
    assert "can_execute() -> should_allow_request()" in found["NodeLlmEffect.may_call"].reason
    assert found["NodeLlmEffect.state"].action == Action.KEEP
    assert found["NodeLlmEffect.__init__"].action == Action.KEEP


@pytest.mark.parametrize("source", [
    # breaker settings in a model and a state enum on its own are data, not a breaker
    '''\
    from enum import Enum
    from pydantic import BaseModel


    class CircuitState(str, Enum):
        CLOSED = "closed"
        OPEN = "open"


    class BreakerConfig(BaseModel):
        failure_threshold: int = 5
        recovery_timeout: float = 60.0
        state: CircuitState = CircuitState.CLOSED
    ''',
    # a rate limiter guards calls and counts, but has no open state
    '''\
    class RateLimiter:
        def __init__(self, limit: int) -> None:
            self.limit = limit
            self._calls = 0

        async def execute(self, fn, *args):
            self._calls += 1
            if self._calls >= self.limit:
                raise RuntimeError("rate limited")
            return await fn(*args)
    ''',
    # a valve that opens is domain logic: no guarded call
    '''\
    class Valve:
        def __init__(self) -> None:
            self.state = "closed"
            self._turns = 0

        def turn(self) -> None:
            self._turns += 1
            if self._turns >= 3:
                self.state = "open"
    ''',
])
def test_lookalikes_are_not_breakers(tmp_path, source):
    package = write_package(tmp_path, {"misc/model.py": source})
    assert detect(package / "misc/model.py") == []


# -- migration --------------------------------------------------------------------------------
BREAKER_CONTRACT = "name: mailer\nnode_type: EFFECT\nadvanced_features:\n  circuit_breaker: {enabled: true}\n"


def migrate(root: Path, node: str, unsafe: bool):
    directory = root / "pkg" / node
    return migrate_node(node_dirs(directory)[0], root, allow_unsafe=unsafe, allow_longer=True,
                        codemods=[ReplaceCircuitBreaker(), ApplyDeclaredMixins()],
                        repository_files=tuple(python_files([root])))


def apply(result) -> None:
    for change in result.changes:
        if change.after is None:
            change.path.unlink()
        elif change.changed:
            change.path.write_text(change.after, encoding="utf-8")


def test_unsafe_replacement_deletes_the_unused_local_module(tmp_path):
    package = write_package(tmp_path, {"mailer/fuses.py": FUSE_MODULE, "mailer/node.py": FUSE_NODE})
    (package / "mailer/contract.yaml").write_text(BREAKER_CONTRACT)

    pending = migrate(tmp_path, "mailer", unsafe=False)
    assert pending.status is Status.UNCHANGED
    assert {d.outcome for d in pending.decisions} == {Outcome.PENDING_UNSAFE}
    assert any("consecutive failures" in d.note for d in pending.decisions)

    result = migrate(tmp_path, "mailer", unsafe=True)
    assert result.status is Status.CHANGED, result.message + (result.traceback or "")
    assert {d.outcome for d in result.decisions} == {Outcome.APPLIED}
    deleted = [c.path.name for c in result.changes if c.after is None]
    assert deleted == ["fuses.py"]
    node = next(c.after for c in result.changes if c.path.name == "node.py")
    assert "ModelCircuitBreaker(limit" not in node
    assert ("ModelCircuitBreaker(failure_threshold=4, minimum_request_threshold=4, failure_rate_threshold=1.0, "
            "timeout_seconds=30)") in joined(node)
    assert "await self._call_through_breaker(self._fuse, self._smtp.send, message)" in node
    assert "except ModelOnexError:" in node
    assert '"fuse": self._fuse.get_current_state()' in node
    assert "fuses" not in node
    apply(result)
    assert migrate(tmp_path, "mailer", unsafe=True).status is Status.UNCHANGED


def joined(code: str) -> str:
    """``code`` with the lines a call was wrapped over joined back (as one line, without the trailing comma)."""
    return re.sub(r",?\s*\n\s*\)", ")", re.sub(r"\(\s*\n\s*", "(", re.sub(r",\s*\n\s*(?=\w)", ", ", code)))


def test_local_module_imported_elsewhere_is_kept(tmp_path):
    package = write_package(tmp_path, {"mailer/fuses.py": FUSE_MODULE, "mailer/node.py": FUSE_NODE,
                                       "tools/check.py": "from pkg.mailer.fuses import Fuse\n"})
    (package / "mailer/contract.yaml").write_text(BREAKER_CONTRACT)
    result = migrate(tmp_path, "mailer", unsafe=True)
    assert result.status is Status.CHANGED
    assert all(c.after is not None for c in result.changes)
    module_decisions = [d for d in result.decisions if d.path.name == "fuses.py"]
    assert module_decisions and all(d.outcome is Outcome.KEPT and "still imported" in d.note for d in module_decisions)


def test_threshold_from_configuration_needs_the_contract(tmp_path):
    source = FUSE_NODE.replace("Fuse(limit=4, rest=30.0)", "Fuse(limit=settings.limit, rest=30.0)").replace(
        "def __init__(self, container, smtp)", "def __init__(self, container, smtp, settings)")
    package = write_package(tmp_path, {"mailer/fuses.py": FUSE_MODULE, "mailer/node.py": source})
    (package / "mailer/contract.yaml").write_text(BREAKER_CONTRACT)
    result = migrate(tmp_path, "mailer", unsafe=True)
    assert result.status is Status.UNCHANGED
    assert all(d.outcome is Outcome.KEPT for d in result.decisions)
    assert any("settings.limit is not a literal" in d.note for d in result.decisions)

    (package / "mailer/contract.yaml").write_text(BREAKER_CONTRACT.replace("{enabled: true}",
                                                                          "{enabled: true, failure_threshold: 6}"))
    result = migrate(tmp_path, "mailer", unsafe=True)
    node = next(c.after for c in result.changes if c.path.name == "node.py")
    assert "ModelCircuitBreaker(failure_threshold=6, minimum_request_threshold=6" in joined(node)


def test_replaced_breaker_runs_against_real_omnibase_core(tmp_path):
    example = next(e for e in ReplaceCircuitBreaker.examples if e.unsafe)
    after, _ = run_example(ReplaceCircuitBreaker, example, tmp_path)
    module_path = tmp_path / "migrated_kv.py"
    module_path.write_text(after)
    spec = importlib.util.spec_from_file_location("migrated_kv", module_path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["migrated_kv"] = module
    spec.loader.exec_module(module)

    class Pool:
        calls = 0

        async def fetchrow(self, query, key):
            Pool.calls += 1
            raise ConnectionError("refused")

    node = module.NodeKvStoreEffect(ModelONEXContainer(), Pool())

    async def scenario():
        for _ in range(4):
            with pytest.raises(ConnectionError):
                await node._call_through_breaker(node._breaker, node._pool.fetchrow, "q", "k")
        with pytest.raises(ModelOnexError) as info:
            await node._call_through_breaker(node._breaker, node._pool.fetchrow, "q", "k")
        assert info.value.error_code == EnumCoreErrorCode.RESOURCE_UNAVAILABLE
        assert await node.fetch("k") is None
        assert not node.store_available()

    import asyncio
    asyncio.run(scenario())
    assert Pool.calls == 4


def test_model_circuit_breaker_driven_through_helpers_and_a_dict(tmp_path):
    package = write_package(tmp_path, {"calls/node.py": '''\
        from omnibase_core.models.configuration.model_circuit_breaker import ModelCircuitBreaker
        from omnibase_core.nodes import NodeEffect


        class NodeCallsEffect(NodeEffect):
            def __init__(self, container, http, clock) -> None:
                super().__init__(container)
                self._http = http
                self._clock = clock
                self._a = ModelCircuitBreaker(failure_threshold=3, minimum_request_threshold=3)
                self._b = ModelCircuitBreaker(failure_threshold=5, minimum_request_threshold=5)
                self._breakers = {"a": self._a, "b": self._b}
                self._opened_at: dict[str, float] = {}
                self._calls = 0

            async def call(self, name: str, url: str) -> dict:
                self._guard(name)
                self._calls += 1
                try:
                    response = await self._http.get(url)
                except TimeoutError:
                    self._record_failure(name)
                    raise
                self._breakers[name].record_success()
                return response.json()

            def _guard(self, name: str) -> None:
                breaker = self._breakers[name]
                if breaker.should_allow_request():
                    return
                self._calls += 0
                raise RuntimeError(f"{name} circuit open")

            def _record_failure(self, name: str) -> None:
                breaker = self._breakers[name]
                breaker.record_failure()
                if breaker.is_open and name not in self._opened_at:
                    self._opened_at[name] = self._clock.monotonic()

            def health(self) -> dict:
                report = {"calls": self._calls}
                for name, breaker in self._breakers.items():
                    state = breaker.state.value
                    report[name] = {"state": state, "failures": breaker.failure_count}
                return report
    '''})
    node = package / "calls/node.py"
    assert spans(detect(node)) == [  # statements about different breakers stay apart
        (line_of(node, "self._a = ModelCircuitBreaker("),) * 2,
        (line_of(node, "self._b = ModelCircuitBreaker("),) * 2,
        (line_of(node, "self._breakers = {"),) * 2,
        (line_of(node, "self._guard(name)"),) * 2,
        (line_of(node, "self._record_failure(name)"),) * 2,
        (line_of(node, "self._breakers[name].record_success()"),) * 2,
        line_range(node, "def _guard(", 'raise RuntimeError(f"{name} circuit open")'),
        line_range(node, "def _record_failure(", "self._opened_at[name] = self._clock.monotonic()"),
        line_range(node, "state = breaker.state.value", 'report[name] = {"state": state'),
    ]


def test_state_and_metrics_readers_and_open_error_checks(tmp_path):
    package = write_package(tmp_path, {
        "shared/breakers.py": '''\
            import time
            from enum import Enum


            class State(str, Enum):
                CLOSED = "closed"
                OPEN = "open"


            class Refused(Exception):
                def __init__(self, wait: float) -> None:
                    super().__init__("refused")
                    self.wait = wait


            class Breaker:
                def __init__(self, limit: int = 3, pause: float = 30.0) -> None:
                    self.limit, self.pause = limit, pause
                    self._state = State.CLOSED
                    self._fails = 0
                    self._since = 0.0

                async def execute(self, fn, *args):
                    if self._state is State.OPEN and time.monotonic() - self._since < self.pause:
                        raise Refused(self.pause)
                    try:
                        result = await fn(*args)
                    except Exception:
                        self._fails += 1
                        if self._fails >= self.limit:
                            self._state, self._since = State.OPEN, time.monotonic()
                        raise
                    self._fails = 0
                    self._state = State.CLOSED
                    return result

                def get_state(self) -> State:
                    return self._state

                def get_metrics(self) -> dict:
                    return {"state": self._state.value, "failure_count": self._fails, "pause": self.pause}


            class Breakers:
                def __init__(self) -> None:
                    self._all: dict[str, Breaker] = {}

                def add(self, name: str, breaker: Breaker) -> None:
                    self._all[name] = breaker


            REGISTRY = Breakers()


            def registry() -> Breakers:
                return REGISTRY
        ''',
        "store/node.py": '''\
            from omnibase_core.nodes import NodeEffect

            from pkg.shared.breakers import Breaker, Refused


            class NodeStoreEffect(NodeEffect):
                def __init__(self, container, pool) -> None:
                    super().__init__(container)
                    self._pool = pool
                    self._breaker = Breaker(limit=4)

                async def _write(self, sql: str):
                    return await self._breaker.execute(self._pool.execute, sql)

                async def save(self, sql: str) -> dict:
                    try:
                        await self._write(sql)
                    except Refused as e:
                        return {"ok": False, "wait": e.wait}
                    except OSError as e:
                        return self._failure(e)
                    return {"ok": True}

                def _failure(self, error: Exception) -> dict:
                    data = {"wait": error.wait} if isinstance(error, Refused) else None
                    return {"ok": False, "data": data, "type": type(error).__name__}

                def metrics(self) -> dict:
                    snapshot = {"pool": self._pool.size()}
                    snapshot["breaker"] = self._breaker.get_metrics() if self._breaker is not None else None
                    return snapshot

                def health(self) -> dict:
                    if self._breaker is None:
                        status = "unknown"
                    else:
                        state = self._breaker.get_state()
                        status = "degraded" if state.value == "open" else "ok"
                    return {
                        "status": status,
                        "pool": self._pool.size(),
                        "version": "1",
                    }
        ''',
    })
    module, node = package / "shared/breakers.py", package / "store/node.py"
    assert line_range(module, "class Breakers:", "self._all[name] = breaker") in spans(detect(module))
    assert (line_of(module, "REGISTRY = Breakers()"),) * 2 in spans(detect(module))
    assert line_range(module, "def registry()", "return REGISTRY") in spans(detect(module))
    assert spans(detect(node)) == [
        (line_of(node, "self._breaker = Breaker(limit=4)"),) * 2,
        (line_of(node, "return await self._breaker.execute("),) * 2,
        line_range(node, "except Refused as e:", 'return {"ok": False, "wait": e.wait}'),
        (line_of(node, "data = {\"wait\": error.wait} if isinstance(error, Refused)"),) * 2,
        (line_of(node, 'snapshot["breaker"] = self._breaker.get_metrics()'),) * 2,
        line_range(node, "if self._breaker is None:", 'status = "degraded" if state.value'),
    ]


def test_readers_are_proposed_with_their_differences(tmp_path):
    text = breaker_examples._LOCAL_READERS_NODE
    node_dir = tmp_path / "pkg" / "kv"
    node_dir.mkdir(parents=True)
    (tmp_path / "pkg" / "__init__.py").write_text("")
    (node_dir / "__init__.py").write_text("")
    (node_dir / "node.py").write_text(text)
    (node_dir / "contract.yaml").write_text("name: n\nnode_type: EFFECT\nadvanced_features:\n  circuit_breaker: {enabled: true}\n")
    result = migrate_node(node_dirs(node_dir)[0], tmp_path, codemods=[ReplaceCircuitBreaker(), ApplyDeclaredMixins()],
                          repository_files=tuple(python_files([tmp_path])))
    notes = [d.note for d in result.decisions if str(d.finding.concern) == "circuit_breaker"]
    assert notes and all(d.outcome == Outcome.PENDING_UNSAFE for d in result.decisions
                         if str(d.finding.concern) == "circuit_breaker")
    assert "get_state() reads ModelCircuitBreaker.state" in notes[0]
    assert "get_metrics() becomes model_dump(mode=\"json\") of ModelCircuitBreaker; its keys calls have no counterpart" \
        in notes[0]
    assert "failure_count is the failures within window_size_seconds" in notes[0]
