"""Service registration, detection: what the codemod finds in one file, and the facts it reads."""

from __future__ import annotations

import re
from collections.abc import Sequence

import libcst as cst

from omnimix.analysis.context import FileContext
from omnimix.analysis.logging_facts import (
    Spans,
    function_body,
    inner_blocks,
    param_names,
)
from omnimix.analysis.syntax import assign_targets, dotted_name, self_attr
from omnimix.analysis.tree import index_module, nodes_of

REGISTER_METHODS = frozenset({"register", "deregister", "register_service", "deregister_service",
                              "register_instance", "deregister_instance", "unregister", "unregister_service"})
REGISTRY_WORDS = ("consul", "agent", "eureka", "zookeeper", "etcd", "discovery", "catalog")
SERVICE_KEYWORDS = frozenset({"address", "port", "host", "service_id", "check", "tags", "ip", "health_check"})
IDENTITY_KEYWORDS = ("service_id", "id", "name", "service_name", "service", "json", "data", "body", "content")
#: Paths of a registry's HTTP API that register or deregister a service (Consul agent and catalog, Eureka).
REGISTRY_PATH = re.compile(r"/v\d+/(?:agent/service|catalog)/(?:de)?register|/eureka/apps/", re.IGNORECASE)
HTTP_METHODS = frozenset({"put", "post", "delete", "request", "send", "fetch"})
LIFECYCLE = frozenset({"__init__", "initialize", "start", "startup", "setup", "shutdown", "stop", "cleanup",
                       "close", "aclose", "teardown", "__aenter__", "__aexit__", "run", "serve",
                       "_initialize_node_resources", "_cleanup_node_resources"})

KEEP_REASON = (
    "omnibase-core has no self-registration in a service registry: MixinServiceRegistry is a hub that "
    "catalogues OTHER tools from event-bus announcements, and MixinContractPublisher/MixinDiscoveryResponder "
    "announce the node on the event bus, not in Consul with an HTTP health check, so this code is kept"
)
REPLACEMENT = "none in omnibase_core (MixinServiceRegistry catalogues other tools)"


def _registration_call(call: cst.Call, registry_urls: frozenset[str] = frozenset()
                       ) -> tuple[cst.BaseExpression, Sequence[cst.Arg]] | None:
    """``(register_function, its_arguments)`` for ``x.agent.service.register(...)``, for a guard such as
    ``breaker.call(x.agent.service.register, ...)``, or for an HTTP request to the registry's register
    or deregister path (``http.put(url, json=body)``; ``registry_urls`` are local names bound to one)."""
    if _is_register_ref(call.func, call.args):
        return call.func, call.args
    if _is_registry_request(call, registry_urls):
        return call.func, call.args
    for index, arg in enumerate(call.args):
        if arg.keyword is None and _is_register_ref(arg.value, call.args[index + 1:]):
            return arg.value, call.args[index + 1:]
    return None


def _is_register_ref(node: cst.BaseExpression, args: Sequence[cst.Arg]) -> bool:
    if not isinstance(node, cst.Attribute) or node.attr.value not in REGISTER_METHODS:
        return False
    chain = (dotted_name(node) or "").lower()
    if any(word in chain for word in REGISTRY_WORDS):
        return True
    return any(arg.keyword is not None and arg.keyword.value in SERVICE_KEYWORDS for arg in args)


def _is_registry_request(call: cst.Call, registry_urls: frozenset[str]) -> bool:
    if not isinstance(call.func, cst.Attribute) or call.func.attr.value not in HTTP_METHODS:
        return False
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value not in ("url", "path"):
            continue
        value = arg.value
        if isinstance(value, cst.Name) and value.value in registry_urls:
            return True
        if _mentions_registry_path(value):
            return True
    return False


def _mentions_registry_path(node: cst.CSTNode) -> bool:
    texts = [part.value for part in nodes_of(node, cst.FormattedStringText)]
    texts += [s.raw_value for s in nodes_of(node, cst.SimpleString)]
    return any(REGISTRY_PATH.search(text) for text in texts)


def _registry_urls(function: cst.FunctionDef) -> frozenset[str]:
    """Local names bound to a registry register/deregister URL in ``function``."""
    names: set[str] = set()
    for small in nodes_of(function, cst.Assign):
        if _mentions_registry_path(small.value):
            names.update(n for t in small.targets for n in _bound_names(t.target))
    for small in nodes_of(function, cst.AnnAssign):
        if small.value is not None and _mentions_registry_path(small.value):
            names.update(_bound_names(small.target))
    return frozenset(names)


def _free_names(node: cst.CSTNode) -> set[str]:
    """Variable names read in ``node`` (attribute names after a dot excluded)."""
    attributes = {id(a.attr) for a in nodes_of(node, cst.Attribute)}
    return {n.value for n in nodes_of(node, cst.Name) if id(n) not in attributes}


def _bound_names(target: cst.BaseExpression) -> set[str]:
    if isinstance(target, cst.Name):
        return {target.value}
    if isinstance(target, (cst.Tuple, cst.List)):
        return {n for element in target.elements for n in _bound_names(element.value)}
    return set()


def _identity(args: Sequence[cst.Arg]) -> list[cst.BaseExpression]:
    """What names the registered service: identity keywords, the first positional argument, and any
    ``*args`` / ``**definition`` unpacked into the call (a definition built elsewhere)."""
    keyed = [a.value for a in args if a.keyword is not None and a.keyword.value in IDENTITY_KEYWORDS]
    positional = [a.value for a in args if a.keyword is None and a.star == ""][:1]
    unpacked = [a.value for a in args if a.star]
    return keyed + positional + unpacked


class ServiceRegistrationScan:
    """Self-registration code of one module, class by class."""

    def __init__(self, ctx: FileContext) -> None:
        self.ctx = ctx
        index_module(ctx.module)
        self.spans = Spans(ctx)
        self._own: set[int] = set()
        for statement in ctx.module.body:
            if isinstance(statement, cst.ClassDef):
                self._scan_class(statement)

    def _scan_class(self, cls: cst.ClassDef) -> None:
        methods = [s for s in (cls.body.body if isinstance(cls.body, cst.IndentedBlock) else [])
                   if isinstance(s, cst.FunctionDef)]
        by_name = {m.name.value: m for m in methods}
        own_calls: dict[str, list[tuple[cst.Call, Sequence[cst.Arg]]]] = {}
        for method in methods:
            calls = self._self_registrations(method)
            if calls:
                own_calls[method.name.value] = calls
        if not own_calls:
            return
        dedicated = {name for name in own_calls if name not in LIFECYCLE}
        helpers = self._helpers(methods, dedicated)
        state = self._state_attributes(by_name, own_calls, dedicated)
        self._own = {id(call) for calls in own_calls.values() for call, _args in calls}
        for method in methods:
            name = method.name.value
            if name in dedicated:
                self.spans.whole(method, "dedicated self-registration method")
            elif name in helpers:
                self.spans.whole(method, "address of the node's own service (config or environment)")
            else:
                # The registration id and flag are the node's own only where the lifecycle keeps them;
                # elsewhere the same client or id may serve the node's business (registering others).
                self._scan_block(function_body(method), dedicated, state if name in LIFECYCLE else set())

    def _self_registrations(self, function: cst.FunctionDef) -> list[tuple[cst.Call, Sequence[cst.Arg]]]:
        """Registration calls whose service identity does not come from the function's parameters
        (registering another node from an incoming event is a registry's business logic)."""
        derived = set(param_names(function)) - {"self", "cls"}
        for assign in nodes_of(function, cst.Assign):
            if _free_names(assign.value) & derived:
                derived.update(n for t in assign.targets for n in _bound_names(t.target))
        for annotated in nodes_of(function, cst.AnnAssign):
            if annotated.value is not None and _free_names(annotated.value) & derived:
                derived.update(_bound_names(annotated.target))
        found = []
        urls = _registry_urls(function)
        for call in nodes_of(function, cst.Call):
            registration = _registration_call(call, urls)
            if registration is None:
                continue
            identity = _identity(registration[1])
            if any(_free_names(value) & derived for value in identity):
                continue
            found.append((call, registration[1]))
        return found

    @staticmethod
    def _helpers(methods: list[cst.FunctionDef], dedicated: set[str]) -> set[str]:
        """Methods called only from the dedicated self-registration methods."""
        callers: dict[str, set[str]] = {}
        for method in methods:
            for attribute in nodes_of(method, cst.Attribute):
                name = self_attr(attribute)
                if name is not None:
                    callers.setdefault(name, set()).add(method.name.value)
        return {m.name.value for m in methods
                if m.name.value not in dedicated and m.name.value not in LIFECYCLE
                and callers.get(m.name.value) and callers[m.name.value] <= dedicated}

    @staticmethod
    def _state_attributes(by_name: dict[str, cst.FunctionDef], own_calls: dict, dedicated: set[str]) -> set[str]:
        """Attributes that are the node's own registration: passed bare to the registration call or
        written by a dedicated registration method."""
        state: set[str] = set()
        for calls in own_calls.values():
            for _call, args in calls:
                state.update(a for arg in args if (a := self_attr(arg.value)))
        for name in dedicated:
            for assign in nodes_of(by_name[name], cst.Assign):
                state.update(a for t in assign.targets if (a := self_attr(t.target)))
        return state

    def _scan_block(self, block: Sequence[cst.BaseStatement], dedicated: set[str], state: set[str]) -> None:
        for index, statement in enumerate(block):
            if isinstance(statement, cst.SimpleStatementLine):
                kind = self._statement_kind(statement, dedicated, state)
                if kind is not None:
                    self.spans.statement(statement, kind, block, index)
                continue
            if isinstance(statement, (cst.FunctionDef, cst.ClassDef)):
                continue
            for inner in inner_blocks(statement):
                self._scan_block(inner, dedicated, state)

    def _statement_kind(self, statement: cst.SimpleStatementLine, dedicated: set[str], state: set[str]) -> str | None:
        for call in nodes_of(statement, cst.Call):
            if self_attr(call.func) in dedicated:
                return "self-registration step of the lifecycle"
            if id(call) in self._own:
                return "self-registration call"
        targets = [t for small in statement.body for t in assign_targets(small)]
        if state and targets and all(self_attr(t) in state for t in targets):
            return "the node's own registration id and flag"
        return None


_HTTP_API_NODE = (
    "import os\n\nfrom omnibase_core.nodes import NodeEffect\n\n\n"
    "class NodeApiEffect(NodeEffect):\n"
    "    def __init__(self, container, http):\n"
    "        super().__init__(container)\n"
    "        self._http = http\n"
    "        self._service_id = None\n\n"
    "    async def initialize(self):\n"
    "        await super().initialize()\n"
    "        await self._sync_registration(register=True)\n\n"
    "    async def _sync_registration(self, register):\n"
    "        agent = os.getenv(\"CONSUL_HTTP_ADDR\", \"http://localhost:8500\")\n"
    "        if register:\n"
    "            service_id = f\"api-{self.node_id}\"\n"
    "            url = f\"{agent}/v1/agent/service/register\"\n"
    "            body = {\"ID\": service_id, \"Name\": \"api\", \"Port\": 8080}\n"
    "        else:\n"
    "            service_id, body = self._service_id, None\n"
    "            url = f\"{agent}/v1/agent/service/deregister/{service_id}\"\n"
    "        await self._http.put(url, json=body)\n"
    "        self._service_id = service_id if register else None\n"
)
