"""Consolidation: the same concern code in several nodes moves into one project mixin."""

from __future__ import annotations

import asyncio
import importlib
import sys
import textwrap
from pathlib import Path

import pytest

from omnimix.discovery import node_dirs
from omnimix.engine import migrate_nodes
from omnimix.writer import write_changes

PAIR = '''
    async def _register_with_consul(self) -> None:
        """Register with Consul (best effort)."""
        service_name = "{name}"
        config = self._config or {{}}
        host = config.get("service_host") or os.getenv("SERVICE_HOST", "localhost")
        try:
            port = int(config.get("service_port") or os.getenv("SERVICE_PORT", "{port}"))
        except (TypeError, ValueError):
            logger.warning("bad SERVICE_PORT")
            port = {port}
        client = self._consul_client
        if client is None:
            try:
                import consul
            except ImportError:
                logger.warning("python-consul not installed, skipping registration")
                return
            client = consul.aio.Consul()
        service_id = f"{{service_name}}-{{self.node_id}}"
        tags = ["onex", "{tag}", "v1"]
        check = {{"http": f"http://{{host}}:{{port}}{health}", "interval": "30s"}}
        try:
            await client.agent.service.register(
                name=service_name, service_id=service_id, address=host, port=port, tags=tags, check=check
            )
            self._consul_service_id = service_id
        except Exception as exc:  # registration never breaks start-up
            logger.error("registration failed: %s", exc)

    async def _deregister_from_consul(self) -> None:
        if not self._consul_service_id:
            return
        try:
            await self._consul_client.agent.service.deregister(self._consul_service_id)
        finally:
            self._consul_service_id = None
'''

NODE = '''"""The {name} node."""

from __future__ import annotations

import logging
import os

from omnibase_core.nodes import NodeEffect

logger = logging.getLogger(__name__)


class Node{cls}Effect(NodeEffect):
    """Does {name} things."""

    def __init__(self, container, *, consul_client=None) -> None:
        super().__init__(container)
        self._config: dict = {{}}
        self._consul_client = consul_client
        self._consul_service_id: str | None = None

    async def initialize(self) -> None:
        await self._register_with_consul()

    async def shutdown(self) -> None:
        await self._deregister_from_consul()
{pair}'''

CONTRACT = """name: {name}
node_type: EFFECT
main_class: Node{cls}Effect
advanced_features:
  service_registration: {{enabled: true, provider: consul}}
"""


def make_node(root: Path, name: str, port: int, tag: str = "effect", health: str = "/health",
              declared: bool = True) -> Path:
    directory = root / "src" / "bridge" / "nodes" / name / "v1_0_0"
    directory.mkdir(parents=True)
    (directory.parent / "__init__.py").write_text("")
    (directory / "__init__.py").write_text("")
    cls = name.capitalize()
    pair = PAIR.format(name=f"bridge-{name}", port=port, tag=tag, health=health)
    (directory / "node.py").write_text(NODE.format(name=name, cls=cls, pair=pair))
    contract = CONTRACT.format(name=name, cls=cls)
    if not declared:
        contract = contract.replace("service_registration", "observability: {enabled: true}\n  #")
    (directory / "contract.yaml").write_text(contract)
    return directory


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    mixins = tmp_path / "src" / "bridge" / "nodes" / "mixins"
    mixins.mkdir(parents=True)
    for package in (tmp_path / "src" / "bridge", tmp_path / "src" / "bridge" / "nodes", mixins):
        (package / "__init__.py").write_text('"""Package."""\n')
    return tmp_path


def migrate(repo: Path, path: Path | None = None):
    nodes = node_dirs(path or repo / "src" / "bridge" / "nodes")
    return migrate_nodes(nodes, repo)


def write(results, repo: Path) -> None:
    for result in results:
        write_changes(list(result.changes), repo, backup=False)


class RecordingConsul:
    def __init__(self) -> None:
        self.calls: list[tuple] = []
        self.agent = self
        self.service = self

    async def register(self, **kwargs):
        kwargs["service_id"] = kwargs["service_id"].rsplit("-", 5)[0]  # the node id is random
        self.calls.append(("register", kwargs))

    async def deregister(self, service_id):
        self.calls.append(("deregister",))


def lifecycle_calls(repo: Path, name: str) -> list[tuple]:
    """Start and stop the node with a recording Consul client, in a fresh import of the package."""
    from omnibase_core.models.container.model_onex_container import ModelONEXContainer

    for module in [m for m in sys.modules if m == "bridge" or m.startswith("bridge.")]:
        del sys.modules[module]
    sys.path.insert(0, str(repo / "src"))
    try:
        module = importlib.import_module(f"bridge.nodes.{name}.v1_0_0.node")
        node = getattr(module, f"Node{name.capitalize()}Effect")(ModelONEXContainer(),
                                                                 consul_client=RecordingConsul())
        client = node._consul_client

        async def run():
            await node.initialize()
            await node.shutdown()

        asyncio.run(run())
        return client.calls
    finally:
        sys.path.remove(str(repo / "src"))


def test_copies_in_three_nodes_move_into_one_mixin(repo: Path) -> None:
    for name, port, tag in (("alpha", 8070, "effect"), ("beta", 8071, "reducer"), ("gamma", 8072, "effect")):
        make_node(repo, name, port, tag)
    before = {name: lifecycle_calls(repo, name) for name in ("alpha", "beta", "gamma")}
    results = migrate(repo)
    mixin = repo / "src/bridge/nodes/mixins/service_registration.py"
    created = [c for r in results for c in r.changes if c.path == mixin]
    assert len(created) == 3 and created[0].before is None
    text = created[0].after
    assert "class ServiceRegistrationMixin:" in text
    assert "REGISTRATION_SERVICE_NAME: str" in text and "REGISTRATION_PORT: int" in text
    assert 'str(self.REGISTRATION_PORT)' in text
    node = next(c for c in results[0].changes if c.path.name == "node.py").after
    assert "class NodeAlphaEffect(ServiceRegistrationMixin, NodeEffect):" in node
    assert 'REGISTRATION_SERVICE_NAME = "bridge-alpha"' in node and "REGISTRATION_PORT = 8070" in node
    assert "_register_with_consul(self)" not in node
    assert "import os" not in node  # only the moved code used it
    outcomes = {str(d.outcome) for r in results for d in r.decisions}
    assert "consolidated" in outcomes
    write(results, repo)
    after = {name: lifecycle_calls(repo, name) for name in ("alpha", "beta", "gamma")}
    assert after == before
    assert all(result.changed_files == () for result in migrate(repo)), "a second run changes nothing"


def test_a_node_added_later_moves_onto_the_existing_mixin(repo: Path) -> None:
    for name, port in (("alpha", 8070), ("beta", 8071)):
        make_node(repo, name, port)
    write(migrate(repo), repo)
    mixin_text = (repo / "src/bridge/nodes/mixins/service_registration.py").read_text()
    late = make_node(repo, "delta", 8079)
    before = lifecycle_calls(repo, "delta")
    (result,) = migrate(repo, late)
    paths = {c.path.name for c in result.changed_files}
    assert paths == {"node.py"}, "the mixin is reused, not rewritten"
    write([result], repo)
    assert (repo / "src/bridge/nodes/mixins/service_registration.py").read_text() == mixin_text
    assert "REGISTRATION_PORT = 8079" in (late / "node.py").read_text()
    assert lifecycle_calls(repo, "delta") == before


def test_a_single_copy_stays_as_it_is(repo: Path) -> None:
    make_node(repo, "alpha", 8070)
    (result,) = migrate(repo)
    assert not result.changed_files


def test_copies_of_another_shape_are_not_a_family(repo: Path) -> None:
    make_node(repo, "alpha", 8070)
    other = make_node(repo, "beta", 8071)
    node = other / "node.py"
    node.write_text(node.read_text().replace('"interval": "30s"}', '"interval": "30s", "timeout": "5s"}'))
    results = migrate(repo)
    for result in results:
        node = next(c for c in result.changes if c.path.name == "node.py")
        assert "async def _register_with_consul(self)" in node.after, "another shape is not moved"
    assert "_deregister_from_consul" in next(c for c in results[0].changes if c.path.name == "service_registration.py").after


def test_an_undeclared_copy_blocks_the_family_and_says_why(repo: Path) -> None:
    make_node(repo, "alpha", 8070)
    make_node(repo, "beta", 8071, declared=False)
    results = migrate(repo)
    assert not any(r.changed_files for r in results)
    warnings = [w for r in results for w in r.warnings]
    assert any("does not declare service_registration" in w for w in warnings), warnings


def test_differing_health_path_inside_an_f_string_becomes_an_attribute(repo: Path) -> None:
    make_node(repo, "alpha", 8070, health="/health")
    make_node(repo, "beta", 8071, health="/healthz")
    results = migrate(repo)
    mixin = next(c for r in results for c in r.changes if c.path.name == "service_registration.py").after
    assert '{self.REGISTRATION_HTTP}' in mixin or "{self.REGISTRATION_" in mixin
    beta = next(c for c in results[1].changes if c.path.name == "node.py").after
    assert '"/healthz"' in beta
    write(results, repo)
    calls = lifecycle_calls(repo, "beta")
    assert calls[0][1]["check"]["http"].endswith(":8071/healthz")


def test_tag_lists_of_different_lengths_become_one_attribute_each_node_sets(repo: Path) -> None:
    make_node(repo, "alpha", 8070)
    beta = make_node(repo, "beta", 8071) / "node.py"
    beta.write_text(beta.read_text().replace('"v1"]', '"v1", "canary"]'))
    before = {name: lifecycle_calls(repo, name) for name in ("alpha", "beta")}
    results = migrate(repo)
    mixin = next(c for r in results for c in r.changes if c.path.name == "service_registration.py").after
    assert "tags = list(self.REGISTRATION_TAGS)" in mixin and "REGISTRATION_TAGS: tuple[str, ...]" in mixin
    node = next(c for c in results[1].changes if c.path.name == "node.py").after
    assert 'REGISTRATION_TAGS = ("onex", "effect", "v1", "canary")' in node
    write(results, repo)
    assert {name: lifecycle_calls(repo, name) for name in ("alpha", "beta")} == before
    assert before["beta"][0][1]["tags"] == ["onex", "effect", "v1", "canary"]
    late = make_node(repo, "delta", 8079, tag="reducer")
    calls = lifecycle_calls(repo, "delta")
    (result,) = migrate(repo, late)
    assert {c.path.name for c in result.changed_files} == {"node.py"}, "moved onto the existing mixin"
    write([result], repo)
    assert 'REGISTRATION_TAGS = ("onex", "reducer", "v1")' in (late / "node.py").read_text()
    assert lifecycle_calls(repo, "delta") == calls


def test_emitted_lines_fit_the_line_limit(repo: Path) -> None:
    for name, port in (("alpha", 8070), ("beta_with_a_rather_long_node_name", 8071)):
        make_node(repo, name, port)
    results = migrate(repo)
    before = {line for result in results for change in result.changes for line in (change.before or "").splitlines()}
    for result in results:
        for change in result.changed_files:
            emitted = [line for line in (change.after or "").splitlines() if line not in before]
            assert all(len(line) <= 100 for line in emitted), [l for l in emitted if len(l) > 100]


def test_unrelated_code_is_byte_identical(repo: Path) -> None:
    directory = make_node(repo, "alpha", 8070)
    make_node(repo, "beta", 8071)
    node = directory / "node.py"
    node.write_text(node.read_text().replace(
        "    async def initialize(self) -> None:",
        textwrap.indent("def ping(self):  # keep   this   spacing\n    return  'pong'\n\n", "    ")
        + "    async def initialize(self) -> None:"))
    results = migrate(repo)
    after = next(c for c in results[0].changes if c.path == node).after
    assert "    def ping(self):  # keep   this   spacing\n        return  'pong'\n" in after


def test_nodes_of_two_projects_in_one_run_are_consolidated_each_into_its_own_mixins(tmp_path: Path) -> None:
    roots = []
    for project in ("one", "two"):
        root = tmp_path / project
        mixins = root / "src" / "bridge" / "nodes" / "mixins"
        mixins.mkdir(parents=True)
        for package in (root / "src" / "bridge", root / "src" / "bridge" / "nodes", mixins):
            (package / "__init__.py").write_text('"""Package."""\n')
        for name, port in (("alpha", 8070), ("beta", 8071)):
            make_node(root, name, port)
        roots.append(root)
    nodes = [node for root in roots for node in node_dirs(root / "src" / "bridge" / "nodes")]
    results = migrate_nodes(nodes, tmp_path)
    assert not any("consolidation failed" in warning for result in results for warning in result.warnings)
    for root in roots:
        mixin = root / "src/bridge/nodes/mixins/service_registration.py"
        created = [c for r in results for c in r.changes if c.path == mixin]
        assert len(created) == 2 and all(r.directory.is_relative_to(root) for r in results
                                         if any(c.path == mixin for c in r.changes))
