"""Structured logging, detection: what the codemod finds in one file, and the facts it reads."""

from __future__ import annotations

KEEP_REASON = (
    "omnibase-core's only structured-logging API, emit_log_event_sync(level, message, context), writes a "
    "different JSON record shape ({timestamp, level, message, context}) to the 'omnibase' logger, does not "
    "redact, has no bound/correlation context and no latency-banded levels: replacing this code would change "
    "what the log pipeline receives, so it is kept"
)
REPLACEMENT = "omnibase_core emit_log_event_sync (not equivalent)"


_OPERATION_LOG_NODE = (
    "import contextvars\nimport logging\n\nfrom omnibase_core.nodes import NodeEffect\n\n"
    "logger = logging.getLogger(__name__)\n"
    "_correlation_id = contextvars.ContextVar(\"correlation_id\", default=None)\n\n\n"
    "class NodeStoreEffect(NodeEffect):\n"
    "    def _bind_correlation_id(self, value):\n"
    "        return _correlation_id.set(str(value))\n\n"
    "    def _log_operation_start(self, operation, **fields):\n"
    "        logger.info(\"%s started\", operation, extra={\"correlation_id\": _correlation_id.get(), **fields})\n\n"
    "    async def put(self, key, correlation_id):\n"
    "        token = self._bind_correlation_id(correlation_id)\n"
    "        self._log_operation_start(\"put\", key=key)\n"
    "        _correlation_id.reset(token)\n"
    "        return key\n"
)
