"""The project's shared health mixin, rebuilt once on MixinHealthCheck (omnimix.consolidation.health_base)."""

import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from omnimix.consolidation.health_base import rebuild_on_core

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
CORPORA = ["omninode_bridge", "omninode_bridge_b"]
MIXIN = Path("src/omninode_bridge/nodes/mixins/health_mixin.py")

#: Every pair of checks (five outcomes, critical or not): check_health() and health_check_async() agree.
AGREEMENT = textwrap.dedent('''
    import asyncio, itertools, sys
    from omnibase_core.models.container.model_onex_container import ModelONEXContainer
    from omnibase_core.nodes import NodeEffect
    from omninode_bridge.nodes.mixins import health_mixin as hm

    HS = hm.HealthStatus

    async def hang():
        await asyncio.sleep(1)
        return HS.HEALTHY, "late", {}

    OUTCOMES = {"healthy": lambda: (HS.HEALTHY, "ok", {}), "degraded": lambda: (HS.DEGRADED, "slow", {}),
                "unhealthy": lambda: (HS.UNHEALTHY, "down", {}), "raises": lambda: 1 / 0, "hangs": hang}
    SETUP = hm.HealthCheckMixin.initialize_health_checks.__code__.co_varnames

    async def main():
        agreed = 0
        for first, first_critical, second, second_critical in itertools.product(
                OUTCOMES, [True, False], OUTCOMES, [True, False]):
            class Node(NodeEffect, hm.HealthCheckMixin):
                def __init__(self, container):
                    super().__init__(container)
                    self.initialize_health_checks(**({"node_name": "n"} if "node_name" in SETUP else {}))

                def _register_component_checks(self):
                    super()._register_component_checks()
                    self.register_component_check("a", OUTCOMES[first], critical=first_critical,
                                                  timeout_seconds=0.01)
                    self.register_component_check("b", OUTCOMES[second], critical=second_critical,
                                                  timeout_seconds=0.01)

            node = Node(ModelONEXContainer())
            local = (await node.check_health(force=True)).status.value
            core = await node.health_check_async()
            core = str(getattr(core.status, "value", core.status)).lower()
            if local != core:
                sys.exit(f"{first}/{first_critical}, {second}/{second_critical}: {local} against {core}")
            names = [check.__name__ for check in node.get_health_checks()]
            if len(set(names)) != len(names):
                sys.exit(f"check names repeat: {names}")
            agreed += 1
        print(agreed)

    asyncio.run(main())
    ''')


@pytest.fixture(params=CORPORA)
def corpus(request, tmp_path):
    root = tmp_path / request.param
    shutil.copytree(FIXTURES / request.param / "src", root / "src")
    shutil.copy(FIXTURES / request.param / "pyproject.toml", root / "pyproject.toml")
    return root


def test_each_corpus_mixin_is_rebuilt_and_reports_through_mixin_health_check(corpus):
    path = corpus / MIXIN
    before = path.read_text(encoding="utf-8")
    rebuild = rebuild_on_core(path, "HealthCheckMixin")
    assert not isinstance(rebuild, str), rebuild
    assert rebuild.before == before and rebuild.after is not None
    assert "class HealthCheckMixin(MixinHealthCheck):" in rebuild.after
    assert "from omnibase_core.mixins import MixinHealthCheck" in rebuild.after
    kept = set(before.splitlines())
    assert all(len(line) <= 100 for line in rebuild.after.splitlines() if line not in kept)
    removed = [line for line in before.splitlines() if line not in set(rebuild.after.splitlines())]
    assert removed == ["class HealthCheckMixin:"]  # everything else of the mixin stays as it was
    path.write_text(rebuild.after, encoding="utf-8")
    again = rebuild_on_core(path, "HealthCheckMixin")
    assert not isinstance(again, str) and again.done
    ran = subprocess.run([sys.executable, "-c", AGREEMENT], check=False, capture_output=True, text=True, timeout=300,
                         env={"PYTHONPATH": str(corpus / "src"), "PATH": ""})
    assert ran.returncode == 0, ran.stderr[-2000:]
    assert ran.stdout.split()[-1] == "100"


@pytest.mark.parametrize(("change", "reason"), [
    (lambda text: text.replace("class HealthCheckMixin:", "class HealthCheckMixin:\n    def get_health_status(self):\n"
                               "        return {}\n", 1), "defines get_health_status"),
    (lambda text: text.replace("class HealthCheckMixin:", "class HealthCheckMixin:\n    def __init__(self):\n"
                               "        pass\n", 1), "own __init__"),
    (lambda text: text.replace("class HealthCheckMixin:", "class HealthCheckMixin(Base):", 1), "derives from Base"),
    (lambda text: text.replace("critical=check.critical", "importance=check.critical"), "one method that runs a single check"),
])
def test_a_mixin_omnimix_cannot_read_that_way_is_refused_with_the_reason(tmp_path, change, reason):
    path = tmp_path / "health_mixin.py"
    path.write_text(change((FIXTURES / CORPORA[0] / MIXIN).read_text(encoding="utf-8")), encoding="utf-8")
    refusal = rebuild_on_core(path, "HealthCheckMixin")
    assert isinstance(refusal, str) and reason in refusal


def test_a_roll_up_omnimix_does_not_recognise_is_refused(tmp_path):
    text = (FIXTURES / CORPORA[0] / MIXIN).read_text(encoding="utf-8")
    strict = text.replace("    if any(c.critical and c.status is HealthStatus.UNHEALTHY for c in components.values()):",
                          "    if any(c.status is HealthStatus.UNHEALTHY for c in components.values()):")
    assert strict != text
    path = tmp_path / "health_mixin.py"
    path.write_text(strict, encoding="utf-8")
    refusal = rebuild_on_core(path, "HealthCheckMixin")
    assert isinstance(refusal, str) and "roll-up" in refusal


SYNC_MIXIN = textwrap.dedent('''
    from dataclasses import dataclass


    @dataclass
    class Outcome:
        name: str
        status: str
        critical: bool
        message: str = ""


    def roll_up(outcomes):
        if any(o.critical and o.status == "unhealthy" for o in outcomes):
            return "unhealthy"
        if any(o.status != "healthy" for o in outcomes):
            return "degraded"
        return "healthy"


    class LocalHealth:
        def add_probe(self, name, probe, critical=True):
            if not hasattr(self, "_probes"):
                self._probes = {}
            self._probes[name] = (probe, critical)

        def _probe(self, entry):
            probe, critical = entry
            try:
                status, message = probe()
            except Exception as exc:
                status, message = "unhealthy", str(exc)
            return Outcome(probe.__name__, status, critical, message)

        def check_health(self):
            return roll_up([self._probe(entry) for entry in self._probes.values()])
    ''')


def _compute_node_on(path: Path, rebuilt: str) -> type:
    """A ``NodeCompute`` on the rebuilt mixin ``LocalHealth``, imported from ``path`` with ``rebuilt`` in it."""
    import importlib

    from omnibase_core.nodes import NodeCompute

    path.write_text(rebuilt, encoding="utf-8")
    sys.path.insert(0, str(path.parent))
    try:
        module = importlib.import_module(path.stem)
    finally:
        sys.path.remove(str(path.parent))

    class Node(NodeCompute, module.LocalHealth):
        pass

    return Node


def test_a_sync_runner_building_its_result_by_position_is_read_too(tmp_path):
    import asyncio

    from omnibase_core.models.container.model_onex_container import ModelONEXContainer

    path = tmp_path / "local_health.py"
    path.write_text(SYNC_MIXIN, encoding="utf-8")
    rebuild = rebuild_on_core(path, "LocalHealth")
    assert not isinstance(rebuild, str), rebuild
    assert "result = self._probe(check)" in rebuild.after and "await self._probe" not in rebuild.after
    node_class = _compute_node_on(path, rebuild.after)

    for probes in ([("healthy", True), ("unhealthy", False)], [("degraded", True)], [("unhealthy", True)], []):
        node = node_class(ModelONEXContainer())
        node._probes = {}
        for index, (status, critical) in enumerate(probes):
            node.add_probe(f"p{index}", lambda status=status: (status, "said so"), critical=critical)
        core = asyncio.run(node.health_check_async())
        assert str(getattr(core.status, "value", core.status)).lower() == node.check_health(), probes


def test_a_registry_the_mixin_reads_with_a_default_is_read_with_one_too(tmp_path):
    """A mixin that reads its registry with getattr(self, "_probes", {}) works before any check is registered;
    so does its get_health_checks()."""
    import asyncio

    from omnibase_core.models.container.model_onex_container import ModelONEXContainer

    text = SYNC_MIXIN.replace("self._probes.values()", 'getattr(self, "_probes", {}).values()')
    path = tmp_path / "lazy_health.py"
    path.write_text(text, encoding="utf-8")
    rebuild = rebuild_on_core(path, "LocalHealth")
    assert not isinstance(rebuild, str), rebuild
    assert 'checks = getattr(self, "_probes", {})' in rebuild.after
    node_class = _compute_node_on(path, rebuild.after)

    node = node_class(ModelONEXContainer())
    assert node.check_health() == "healthy" and node.get_health_checks() == []
    assert str(asyncio.run(node.health_check_async()).status.value).lower() == "healthy"
