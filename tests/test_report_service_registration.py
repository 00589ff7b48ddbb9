from pathlib import Path
from textwrap import dedent

import pytest
from codemod_examples import assert_example, run_example

from codemods.service_registration import ReportServiceRegistration
from omnimix.analysis.context import FileContext
from omnimix.migration_state import Outcome
from omnimix.results import Status


@pytest.mark.parametrize("example", ReportServiceRegistration.examples, ids=lambda e: e.title)
def test_examples(example, tmp_path):
    assert_example(ReportServiceRegistration, example, tmp_path)
    _after, result = run_example(ReportServiceRegistration, example, tmp_path / "status")
    assert result.status in (Status.CHANGED, Status.UNCHANGED), result.message


def test_no_contract_switch_exists_so_findings_are_reported_with_the_keep_reason(tmp_path):
    _after, result = run_example(ReportServiceRegistration, ReportServiceRegistration.examples[0], tmp_path)
    assert result.decisions
    assert {d.outcome for d in result.decisions} == {Outcome.NOT_DECLARED}
    assert all("catalogues OTHER tools" in d.note for d in result.decisions)


def spans(source: str) -> list[tuple[int, int]]:
    ctx = FileContext(Path("node.py"), "node.py", dedent(source))
    return [(f.start_line, f.end_line) for f in ReportServiceRegistration().detect(ctx)]


def test_registration_inline_in_the_lifecycle_is_reported_by_statement():
    source = """\
        import os


        class NodeApi:
            def __init__(self, consul):
                self._consul = consul
                self._sid = "api-1"
                self._host = os.environ.get("API_HOST", "localhost")
                self._timeout = 3

            async def start(self):
                await self._consul.agent.service.register("api", service_id=self._sid, address=self._host)
                await self._open()

            async def stop(self):
                await self._consul.agent.service.deregister(self._sid)
        """
    assert spans(source) == [(7, 8), (12, 12), (16, 16)]


def test_breaker_guarded_self_registration_method_and_its_address_helper():
    source = """\
        class NodeApi:
            async def initialize(self):
                await self._announce()

            def _address(self):
                return self._cfg.get("host", "0.0.0.0"), int(self._cfg.get("port", 8080))

            async def _announce(self):
                host, port = self._address()
                await self._breaker.call(self._registry.register_service, name="api", host=host, port=port)
        """
    assert spans(source) == [(3, 3), (5, 6), (8, 10)]


def test_registering_other_nodes_and_dependency_injection_are_not_self_registration():
    source = """\
        class NodeRegistry:
            def __init__(self, container, impl):
                container.service_registry.register_instance(ProtocolStore, impl)

            async def on_introspection(self, event):
                await self._consul.agent.service.register(event.name, service_id=event.service_id, port=event.port)

            async def forget(self, node_id):
                service_id = self._known[node_id].service_id
                await self._consul.agent.service.deregister(service_id)
        """
    assert spans(source) == []


def test_registration_through_the_registry_http_api_is_a_dedicated_method():
    source = """\
        class NodeApi:
            def __init__(self, http):
                self._http = http
                self._service_id = None

            async def initialize(self):
                await self._sync(register=True)

            async def shutdown(self):
                await self._sync(register=False)

            async def _sync(self, register):
                if register:
                    self._service_id = "api-1"
                    await self._http.put("http://consul:8500/v1/agent/service/register", json={"ID": self._service_id})
                else:
                    await self._http.put(f"http://consul:8500/v1/agent/service/deregister/{self._service_id}")
        """
    assert spans(source) == [(4, 4), (7, 7), (10, 10), (12, 17)]


def test_a_definition_built_from_an_event_is_another_nodes_registration():
    source = """\
        class NodeRegistry:
            async def initialize(self):
                await self._consul.agent.service.register("registry", service_id=self._own_id, port=8080)

            def _definition(self, event):
                return {"name": event.name, "service_id": event.service_id, "port": event.port}

            async def _register_announced(self, client, event):
                definition = self._definition(event)
                await client.agent.service.register(**definition)

            async def _discovery_client(self):
                if self._consul is None:
                    self._consul = make_client()
                return self._consul
        """
    assert spans(source) == [(3, 3)]


def test_an_http_request_to_another_path_is_not_registration():
    source = """\
        class NodeApi:
            async def initialize(self):
                await self._http.put("http://consul:8500/v1/kv/config", json={"name": "api"})
        """
    assert spans(source) == []
