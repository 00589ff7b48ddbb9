"""Health checks, the before/after examples the codemod documents and tests itself with."""

from __future__ import annotations

# == examples =====================================================================================
#: The project-local health mixin the examples import as ``pkg.health`` (their tests write it there).
EXAMPLE_HEALTH_MIXIN = '''\
"""Health checks shared by the bridge nodes."""

import asyncio
import inspect
from dataclasses import dataclass, field
from enum import Enum


class HealthStatus(str, Enum):
    HEALTHY = "healthy"
    DEGRADED = "degraded"
    UNHEALTHY = "unhealthy"
    UNKNOWN = "unknown"


@dataclass
class NodeHealth:
    status: HealthStatus
    components: dict[str, HealthStatus] = field(default_factory=dict)


def _coerce(value) -> HealthStatus:
    try:
        return HealthStatus(str(getattr(value, "value", value)).lower())
    except ValueError:
        return HealthStatus.UNKNOWN


def _roll_up(statuses: dict[str, HealthStatus], critical: dict[str, bool]) -> HealthStatus:
    if any(critical[name] and status is HealthStatus.UNHEALTHY for name, status in statuses.items()):
        return HealthStatus.UNHEALTHY
    if any(status is not HealthStatus.HEALTHY for status in statuses.values()):
        return HealthStatus.DEGRADED
    return HealthStatus.HEALTHY


class HealthCheckMixin:
    def initialize_health_checks(self, *, cache_ttl_seconds: float = 5.0) -> None:
        self._health_checks = {}
        self._health_ttl = cache_ttl_seconds

    def _register_component_checks(self) -> None:
        """Hook: nodes call super() first, then register their checks."""

    def register_component_check(self, name, check_func, *, critical=True, timeout_seconds=5.0) -> None:
        self._health_checks[name] = (check_func, critical, timeout_seconds)

    async def check_health(self, *, force: bool = False) -> NodeHealth:
        self._register_component_checks()
        statuses = {}
        for name, (check, critical, timeout) in self._health_checks.items():
            try:
                outcome = check()
                if inspect.isawaitable(outcome):
                    outcome = await asyncio.wait_for(outcome, timeout)
                statuses[name] = _coerce(outcome[0])
            except (asyncio.TimeoutError, TimeoutError):
                statuses[name] = HealthStatus.UNHEALTHY
            except Exception:
                statuses[name] = HealthStatus.UNHEALTHY
        critical = {name: entry[1] for name, entry in self._health_checks.items()}
        return NodeHealth(_roll_up(statuses, critical), statuses)
'''
EXAMPLE_SUPPORT_FILES = {"pkg/health.py": EXAMPLE_HEALTH_MIXIN}

_CONTRACT = "name: store\nnode_type: EFFECT\nmixins:\n  - {name: MixinHealthCheck}\n"

_LOCAL_MIXIN_NODE = '''\
from omnibase_core.nodes import NodeEffect

from pkg.health import HealthCheckMixin, HealthStatus


async def ping_database(pool):
    await pool.fetchval("SELECT 1")
    return HealthStatus.HEALTHY, "database answers", {}


class NodeStoreEffect(NodeEffect, HealthCheckMixin):
    def __init__(self, container, *, pool=None, cache=None):
        super().__init__(container)
        self._pool = pool
        self._cache = cache
        self.initialize_health_checks(cache_ttl_seconds=5.0)

    async def save(self, key, value):
        await self._pool.execute("INSERT INTO kv VALUES ($1, $2)", key, value)

    def _register_component_checks(self) -> None:
        super()._register_component_checks()
        self.register_component_check("database", lambda: ping_database(self._pool), timeout_seconds=3.0)
        self.register_component_check("cache", self._check_cache, critical=False, timeout_seconds=1.0)

    def _check_cache(self):
        if self._cache is None:
            return HealthStatus.DEGRADED, "no cache configured", {}
        return HealthStatus.HEALTHY, "cache ok", {}
'''

_LOOKALIKE_NODE = '''\
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from omnibase_core.mixins import MixinHealthCheck
from omnibase_core.models.health.model_health_status import ModelHealthStatus
from omnibase_core.nodes import NodeEffect


@dataclass(frozen=True)
class HealthReport:
    """How well one LLM model generated code during a window (a domain result, not node health)."""

    model: str
    success_rate: float

    @property
    def verdict(self) -> str:
        return "healthy" if self.success_rate >= 0.9 else "failing"


class NodeCodegenMetricsEffect(NodeEffect, MixinHealthCheck):
    def build_report(self, model: str, success_rate: float) -> HealthReport:
        return HealthReport(model, success_rate)

    def get_health_checks(self) -> list[Callable[[], Awaitable[ModelHealthStatus]]]:
        return [self._check_window]

    async def _check_window(self) -> ModelHealthStatus:
        return ModelHealthStatus.create_healthy()
'''

_NOT_LITERAL_NODE = '''\
from omnibase_core.nodes import NodeEffect

from pkg.health import HealthCheckMixin, HealthStatus


class NodeStoreEffect(NodeEffect, HealthCheckMixin):
    def __init__(self, container, *, pool=None, database_is_critical=True):
        super().__init__(container)
        self._pool = pool
        self._database_is_critical = database_is_critical
        self.initialize_health_checks()

    def _register_component_checks(self) -> None:
        super()._register_component_checks()
        self.register_component_check("database", self._check_database, critical=self._database_is_critical)

    async def _check_database(self):
        await self._pool.fetchval("SELECT 1")
        return HealthStatus.HEALTHY, "database answers", {}
'''

_COMPONENTS_NODE = '''\
from omnibase_core.nodes import NodeEffect

from pkg.health import HealthCheckMixin, HealthStatus


class NodeStoreEffect(NodeEffect, HealthCheckMixin):
    def __init__(self, container, *, pool=None):
        super().__init__(container)
        self._pool = pool
        self.initialize_health_checks()

    def _register_component_checks(self) -> None:
        super()._register_component_checks()
        self.register_component_check("database", self._check_database, critical=True, timeout_seconds=3.0)

    async def _check_database(self):
        await self._pool.fetchval("SELECT 1")
        return HealthStatus.HEALTHY, "database answers", {}

    async def health_payload(self) -> dict:
        result = await self.check_health()
        return {"status": result.status.value, "components": result.components}
'''

_LOCAL_MIXIN_NODE_MIGRATED = '''\
from omnibase_core.mixins import MixinHealthCheck
from omnibase_core.models.health.model_health_issue import ModelHealthIssue
from omnibase_core.models.health.model_health_status import ModelHealthStatus
from omnibase_core.nodes import NodeEffect

from pkg.health import HealthStatus
import asyncio
import inspect
from collections.abc import Awaitable, Callable
from typing import Any


def _health_check_adapter(
    name: str, check: Callable[[], Any], *, critical: bool, timeout_seconds: float
) -> Callable[[], Awaitable[ModelHealthStatus]]:
    """Run a ``(status, message, details)`` component check as a MixinHealthCheck check.

    As with the former local health mixin: an async check times out after ``timeout_seconds``,
    a check that raises or times out fails, a failing critical check makes the node unhealthy
    and any other non-healthy result only degraded.
    """

    async def run_check() -> ModelHealthStatus:
        try:
            outcome = check()
            if inspect.isawaitable(outcome):
                outcome = await asyncio.wait_for(outcome, timeout=timeout_seconds)
            if isinstance(outcome, tuple) and len(outcome) in (2, 3):
                status, message = outcome[0], str(outcome[1])
            else:
                status, message = outcome.status, str(outcome.message)
        except (asyncio.TimeoutError, TimeoutError):
            status, message = "unhealthy", f"health check timed out after {timeout_seconds:.1f}s"
        except Exception as exc:
            status, message = "unhealthy", f"health check failed: {exc}"
        value = str(getattr(status, "value", status)).lower()
        if value == "healthy":
            return ModelHealthStatus.create_healthy()
        issue = ModelHealthIssue.create_connectivity_issue(
            f"{name}: {message}", "critical" if critical else "medium"
        )
        if critical and value == "unhealthy":
            return ModelHealthStatus.create_unhealthy(issues=[issue])
        return ModelHealthStatus.create_degraded(issues=[issue])

    run_check.__name__ = f"check_{name}"
    return run_check


async def ping_database(pool):
    await pool.fetchval("SELECT 1")
    return HealthStatus.HEALTHY, "database answers", {}


class NodeStoreEffect(NodeEffect, MixinHealthCheck):
    def __init__(self, container, *, pool=None, cache=None):
        super().__init__(container)
        self._pool = pool
        self._cache = cache

    async def save(self, key, value):
        await self._pool.execute("INSERT INTO kv VALUES ($1, $2)", key, value)

    def get_health_checks(self) -> list[Callable[[], Awaitable[ModelHealthStatus]]]:
        return [
            _health_check_adapter(
                "database", lambda: ping_database(self._pool), critical=True, timeout_seconds=3.0
            ),
            _health_check_adapter("cache", self._check_cache, critical=False, timeout_seconds=1.0),
        ]

    async def check_health(self, *, force: bool = False) -> ModelHealthStatus:
        """MixinHealthCheck roll-up of get_health_checks(); nothing is cached, so ``force`` is ignored."""
        return await self.health_check_async()

    def _check_cache(self):
        if self._cache is None:
            return HealthStatus.DEGRADED, "no cache configured", {}
        return HealthStatus.HEALTHY, "cache ok", {}
'''

_COMPONENTS_NODE_MIGRATED = '''\
from omnibase_core.mixins import MixinHealthCheck
from omnibase_core.models.health.model_health_issue import ModelHealthIssue
from omnibase_core.models.health.model_health_status import ModelHealthStatus
from omnibase_core.nodes import NodeEffect

from pkg.health import HealthStatus
import asyncio
import inspect
from collections.abc import Awaitable, Callable
from typing import Any


def _health_check_adapter(
    name: str, check: Callable[[], Any], *, critical: bool, timeout_seconds: float
) -> Callable[[], Awaitable[ModelHealthStatus]]:
    """Run a ``(status, message, details)`` component check as a MixinHealthCheck check.

    As with the former local health mixin: an async check times out after ``timeout_seconds``,
    a check that raises or times out fails, a failing critical check makes the node unhealthy
    and any other non-healthy result only degraded.
    """

    async def run_check() -> ModelHealthStatus:
        try:
            outcome = check()
            if inspect.isawaitable(outcome):
                outcome = await asyncio.wait_for(outcome, timeout=timeout_seconds)
            if isinstance(outcome, tuple) and len(outcome) in (2, 3):
                status, message = outcome[0], str(outcome[1])
            else:
                status, message = outcome.status, str(outcome.message)
        except (asyncio.TimeoutError, TimeoutError):
            status, message = "unhealthy", f"health check timed out after {timeout_seconds:.1f}s"
        except Exception as exc:
            status, message = "unhealthy", f"health check failed: {exc}"
        value = str(getattr(status, "value", status)).lower()
        if value == "healthy":
            return ModelHealthStatus.create_healthy()
        issue = ModelHealthIssue.create_connectivity_issue(
            f"{name}: {message}", "critical" if critical else "medium"
        )
        if critical and value == "unhealthy":
            return ModelHealthStatus.create_unhealthy(issues=[issue])
        return ModelHealthStatus.create_degraded(issues=[issue])

    run_check.__name__ = f"check_{name}"
    return run_check


class NodeStoreEffect(NodeEffect, MixinHealthCheck):
    def __init__(self, container, *, pool=None):
        super().__init__(container)
        self._pool = pool

    def get_health_checks(self) -> list[Callable[[], Awaitable[ModelHealthStatus]]]:
        return [
            _health_check_adapter(
                "database", self._check_database, critical=True, timeout_seconds=3.0
            ),
        ]

    async def check_health(self, *, force: bool = False) -> ModelHealthStatus:
        """MixinHealthCheck roll-up of get_health_checks(); nothing is cached, so ``force`` is ignored."""
        return await self.health_check_async()

    async def _check_database(self):
        await self._pool.fetchval("SELECT 1")
        return HealthStatus.HEALTHY, "database answers", {}

    async def health_payload(self) -> dict:
        result = await self.check_health()
        return {"status": result.status.value, "components": result.components}
'''
