"""Circuit breakers, the before/after examples the codemod documents and tests itself with."""

from __future__ import annotations

# =============================================================================================
# Examples (documentation and unit tests)
# =============================================================================================
_LOCAL_BREAKER_NODE = (
    '"""Key-value store node guarded by its own breaker."""\n'
    '\n'
    'import asyncio\n'
    'import enum\n'
    '\n'
    'from omnibase_core.nodes import NodeEffect\n'
    '\n'
    '\n'
    'class BreakerState(enum.Enum):\n'
    '    CLOSED = "closed"\n'
    '    OPEN = "open"\n'
    '\n'
    '\n'
    'class BreakerOpen(Exception):\n'
    '    """The store is failing: calls are refused for a while."""\n'
    '\n'
    '\n'
    'class StoreBreaker:\n'
    '    def __init__(self, threshold: int = 3, reset_after: float = 30.0) -> None:\n'
    '        self.threshold = threshold\n'
    '        self.reset_after = reset_after\n'
    '        self.state = BreakerState.CLOSED\n'
    '        self._failures = 0\n'
    '        self._opened_at = 0.0\n'
    '\n'
    '    async def call(self, fn, *args):\n'
    '        loop = asyncio.get_running_loop()\n'
    '        if self.state is BreakerState.OPEN:\n'
    '            if loop.time() - self._opened_at < self.reset_after:\n'
    '                raise BreakerOpen()\n'
    '            self.state = BreakerState.CLOSED\n'
    '        try:\n'
    '            result = await fn(*args)\n'
    '        except Exception:\n'
    '            self._failures += 1\n'
    '            if self._failures >= self.threshold:\n'
    '                self.state = BreakerState.OPEN\n'
    '                self._opened_at = loop.time()\n'
    '            raise\n'
    '        self._failures = 0\n'
    '        return result\n'
    '\n'
    '\n'
    'class NodeKvStoreEffect(NodeEffect):\n'
    '    def __init__(self, container, pool) -> None:\n'
    '        super().__init__(container)\n'
    '        self._pool = pool\n'
    '        self._breaker = StoreBreaker(threshold=4, reset_after=5.0)\n'
    '\n'
    '    async def fetch(self, key: str):\n'
    '        try:\n'
    '            return await self._breaker.call(self._pool.fetchrow, "SELECT v FROM kv WHERE k = $1", key)\n'
    '        except BreakerOpen:\n'
    '            return None\n'
    '\n'
    '    def store_available(self) -> bool:\n'
    '        return self._breaker.state is not BreakerState.OPEN\n'
)

_LOCAL_BREAKER_REPLACED = (
    '"""Key-value store node guarded by its own breaker."""\n'
    '\n'
    'from omnibase_core.enums.enum_circuit_breaker_state import EnumCircuitBreakerState\n'
    'from omnibase_core.enums.enum_core_error_code import EnumCoreErrorCode\n'
    'from omnibase_core.errors.model_onex_error import ModelOnexError\n'
    'from omnibase_core.models.configuration.model_circuit_breaker import ModelCircuitBreaker\n'
    'from omnibase_core.nodes import NodeEffect\n'
    'from typing import Any\n'
    '\n'
    '\n'
    'class NodeKvStoreEffect(NodeEffect):\n'
    '    def __init__(self, container, pool) -> None:\n'
    '        super().__init__(container)\n'
    '        self._pool = pool\n'
    '        self._breaker = ModelCircuitBreaker(\n'
    '            failure_threshold=4,\n'
    '            minimum_request_threshold=4,\n'
    '            failure_rate_threshold=1.0,\n'
    '            timeout_seconds=10,\n'
    '        )\n'
    '\n'
    '    async def fetch(self, key: str):\n'
    '        try:\n'
    '            return await self._call_through_breaker(\n'
    '                self._breaker, self._pool.fetchrow, "SELECT v FROM kv WHERE k = $1", key\n'
    '            )\n'
    '        except ModelOnexError:\n'
    '            return None\n'
    '\n'
    '    def store_available(self) -> bool:\n'
    '        return self._breaker.state is not EnumCircuitBreakerState.OPEN\n'
    '\n'
    '    async def _call_through_breaker(\n'
    '        self, breaker: ModelCircuitBreaker, fn: Any, *args: Any, **kwargs: Any\n'
    '    ) -> Any:\n'
    '        """Call ``fn(*args, **kwargs)`` if ``breaker`` allows it, and record the outcome."""\n'
    '        if not breaker.should_allow_request():\n'
    '            raise ModelOnexError(\n'
    '                message=f"circuit breaker is {breaker.get_current_state()}",\n'
    '                error_code=EnumCoreErrorCode.RESOURCE_UNAVAILABLE,\n'
    '            )\n'
    '        try:\n'
    '            result = await fn(*args, **kwargs)\n'
    '        except Exception:\n'
    '            breaker.record_failure()\n'
    '            raise\n'
    '        breaker.record_success()\n'
    '        return result\n'
)

_LOCAL_READERS_NODE = _LOCAL_BREAKER_NODE.replace(
    '        self._failures = 0\n        return result\n',
    '        self._failures = 0\n        return result\n'
    '\n'
    '    def get_state(self) -> BreakerState:\n'
    '        return self.state\n'
    '\n'
    '    def get_metrics(self) -> dict:\n'
    '        return {"state": self.state.value, "failure_count": self._failures, "calls": 0}\n',
).replace(
    '    def store_available(self) -> bool:\n        return self._breaker.state is not BreakerState.OPEN\n',
    '    def health(self) -> dict:\n'
    '        state = self._breaker.get_state()\n'
    '        return {"store": "down" if state is BreakerState.OPEN else "up", "breaker": self._breaker.get_metrics()}\n',
)

_LOCAL_READERS_REPLACED = _LOCAL_BREAKER_REPLACED.replace(
    '    def store_available(self) -> bool:\n'
    '        return self._breaker.state is not EnumCircuitBreakerState.OPEN\n',
    '    def health(self) -> dict:\n'
    '        state = self._breaker.state\n'
    '        return {\n'
    '            "store": "down" if state is EnumCircuitBreakerState.OPEN else "up",\n'
    '            "breaker": self._breaker.model_dump(mode="json"),\n'
    '        }\n',
)

_DRIFT_NODE = (
    'from omnibase_core.enums.enum_core_error_code import EnumCoreErrorCode\n'
    'from omnibase_core.errors.model_onex_error import ModelOnexError\n'
    'from omnibase_core.models.configuration.model_circuit_breaker import ModelCircuitBreaker\n'
    'from omnibase_core.nodes import NodeEffect\n'
    '\n'
    '\n'
    'class NodeLlmEffect(NodeEffect):\n'
    '    def __init__(self, container, client) -> None:\n'
    '        super().__init__(container)\n'
    '        self._client = client\n'
    '        self._breaker = ModelCircuitBreaker(failure_threshold=3, minimum_request_threshold=3, failure_rate_threshold=1.0)\n'
    '\n'
    '    async def complete(self, prompt: str) -> str:\n'
    '        if not self._breaker.can_execute():\n'
    '            raise ModelOnexError(message="provider circuit open", error_code=EnumCoreErrorCode.RESOURCE_UNAVAILABLE)\n'
    '        try:\n'
    '            text = await self._client.complete(prompt)\n'
    '        except ConnectionError:\n'
    '            self._breaker.record_failure()\n'
    '            raise\n'
    '        self._breaker.record_success()\n'
    '        return text\n'
)

_SETTINGS_LOOKALIKE = (
    "from pydantic import BaseModel\n"
    "from omnibase_core.nodes import NodeEffect\n\n\n"
    "class CircuitBreakerSettings(BaseModel):\n"
    "    failure_threshold: int = 5\n"
    "    recovery_timeout_seconds: float = 60.0\n\n\n"
    "class NodeGatewayEffect(NodeEffect):\n"
    "    def __init__(self, container, settings: CircuitBreakerSettings | None = None) -> None:\n"
    "        super().__init__(container)\n"
    "        self._breaker_settings = settings or CircuitBreakerSettings()\n\n"
    "    def describe(self) -> dict:\n"
    '        return {"circuit_breaker": self._breaker_settings.model_dump(), "state": "open"}\n'
)
_BREAKER_CONTRACT = "name: n\nnode_type: EFFECT\nadvanced_features:\n  circuit_breaker: {enabled: true}\n"
_THRESHOLD_CONTRACT = (
    "name: n\nnode_type: EFFECT\nadvanced_features:\n  circuit_breaker: {enabled: true, failure_threshold: 3}\n"
)
