from pathlib import Path
from textwrap import dedent

import pytest
from codemod_examples import assert_example, run_example

from codemods.structured_logging import ReportStructuredLogging
from omnimix.analysis.context import FileContext
from omnimix.migration_state import Outcome
from omnimix.results import Status


@pytest.mark.parametrize("example", ReportStructuredLogging.examples, ids=lambda e: e.title)
def test_examples(example, tmp_path):
    assert_example(ReportStructuredLogging, example, tmp_path)
    _after, result = run_example(ReportStructuredLogging, example, tmp_path / "status")
    assert result.status in (Status.CHANGED, Status.UNCHANGED), result.message


def test_findings_are_kept_with_the_reason(tmp_path):
    _after, result = run_example(ReportStructuredLogging, ReportStructuredLogging.examples[0], tmp_path)
    assert len(result.decisions) == 3
    assert {d.outcome for d in result.decisions} == {Outcome.KEPT}
    assert all("does not redact" in d.note for d in result.decisions)


def spans(source: str, path: Path = Path("node.py")) -> list[tuple[int, int]]:
    ctx = FileContext(path, path.name, dedent(source))
    return [(f.start_line, f.end_line) for f in ReportStructuredLogging().detect(ctx)]


def test_structlog_style_wrapper_its_factory_and_module_instance_are_found():
    source = """\
        import logging


        class NodeLogger:
            def __init__(self, name):
                self._log = logging.getLogger(name)

            def log_start(self, op, **ctx):
                self._log.info("%s start %s", op, ctx)

            def log_done(self, op, **ctx):
                self._log.info("%s done %s", op, ctx)


        def make_logger(name):
            return NodeLogger(name)


        log = make_logger(__name__)


        class NodeStore:
            async def put(self, key):
                log.log_start("put", key=key)
                value = key.upper()
                log.log_done("put", key=key)
                return value
        """
    assert spans(source) == [(4, 12), (15, 16), (19, 19), (24, 24), (26, 26)]


def test_log_helper_method_is_reported_whole_and_its_call_sites_are_not():
    source = """\
        import json
        import logging

        logger = logging.getLogger(__name__)


        class NodeStore:
            async def put(self, key):
                self._log_event("store.put", key=key)

            def _log_event(self, event, **fields):
                logger.info(json.dumps({"event": event, "node": "store", **fields}))
        """
    assert spans(source) == [(11, 12)]


def test_correlation_context_variable_and_helpers_are_found():
    source = """\
        from contextlib import contextmanager
        from contextvars import ContextVar

        _request_id: ContextVar[str | None] = ContextVar("request_id", default=None)
        _retries: ContextVar[int] = ContextVar("retries", default=0)


        @contextmanager
        def request_context(value):
            token = _request_id.set(value)
            try:
                yield value
            finally:
                _request_id.reset(token)


        class NodeApi:
            async def call(self, rid):
                with request_context(rid):
                    return await self._send()
        """
    assert spans(source) == [(4, 4), (8, 14), (19, 19)]


def test_json_formatter_subclass_is_a_wrapper():
    source = """\
        import json
        import logging


        class JsonFormatter(logging.Formatter):
            def format(self, record):
                return json.dumps({"msg": record.getMessage(), "level": record.levelname})
        """
    assert spans(source) == [(5, 7)]


def test_plain_stdlib_logging_and_external_collectors_are_not_structured_logging():
    source = """\
        import logging

        logger = logging.getLogger(__name__)
        _log = logging.getLogger("x")


        class NodeStore:
            def __init__(self, collector):
                self._collector = collector
                self._logger = logging.getLogger(__name__)

            async def put(self, key, **fields):
                logger.info("put %s", key)
                self._logger.warning("slow put %s", key)
                self._collector.log("store.put", 1)
                return fields
        """
    assert spans(source) == []


def test_wrapper_imported_from_a_sibling_module_is_recognised(tmp_path):
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("")
    (tmp_path / "pkg" / "logs.py").write_text(dedent("""\
        import logging


        class Emitter:
            def __init__(self, logger: logging.Logger):
                self._logger = logger

            def info(self, msg, **ctx):
                self._logger.info(msg, extra={"ctx": ctx})

            def error(self, msg, **ctx):
                self._logger.error(msg, extra={"ctx": ctx})
        """))
    node = tmp_path / "pkg" / "node.py"
    node.write_text(dedent("""\
        import logging

        from .logs import Emitter


        class NodeX:
            def __init__(self):
                self.events = Emitter(logging.getLogger(__name__))

            async def run(self):
                self.events.info("run")
        """))
    assert spans(node.read_text(), node) == [(8, 8), (11, 11)]


def test_event_logger_over_a_module_logger_is_a_wrapper_but_a_node_with_log_methods_is_not():
    source = """\
        import json
        import logging

        logger = logging.getLogger(__name__)


        class EventLog:
            def __init__(self, node):
                self.node = node

            def info(self, event, **fields):
                logger.info(json.dumps({"event": event, "node": self.node, **fields}))

            def error(self, event, **fields):
                logger.error(json.dumps({"event": event, "node": self.node, **fields}))


        class NodeStore:
            def log_error(self, text):
                logger.error(text)

            def log_warning(self, text):
                logger.warning(text)

            async def put(self, key):
                return key

            async def get(self, key):
                return key

            async def delete(self, key):
                return key
        """
    assert spans(source) == [(7, 15)]


def test_operation_log_helpers_and_correlation_binding_on_the_node_are_found_with_their_call_sites():
    source = """\
        import contextvars
        import logging
        import uuid

        logger = logging.getLogger(__name__)
        _correlation_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("cid", default=None)


        class NodeRegistry:
            def _bind_correlation_id(self, value):
                return _correlation_id.set(str(value or uuid.uuid4()))

            def _reset_correlation_id(self, token):
                _correlation_id.reset(token)

            @staticmethod
            def _correlation_id_from_headers(message):
                return dict(message.headers).get("correlation_id")

            def _log_operation_start(self, operation, **fields):
                logger.debug("%s started", operation, extra={"cid": _correlation_id.get(), **fields})
                return self._clock.perf_counter()

            def _log_operation_complete(self, operation, started, **fields):
                duration_ms = (self._clock.perf_counter() - started) * 1000.0
                log = logger.warning if duration_ms > 1000.0 else logger.info
                log("%s completed", operation, extra={"cid": _correlation_id.get(), "ms": duration_ms, **fields})

            def _publish(self, event):
                return {"event": event, "correlation_id": _correlation_id.get()}

            async def register(self, message):
                token = self._bind_correlation_id(self._correlation_id_from_headers(message))
                started = self._log_operation_start("register")
                try:
                    await self._store(message)
                    self._log_operation_complete("register", started)
                finally:
                    self._reset_correlation_id(token)
        """
    assert spans(source) == [(6, 6), (10, 11), (13, 14), (16, 18), (20, 22), (24, 27), (33, 34), (37, 37),
                             (39, 39)]


def test_a_module_secure_logger_is_reported_but_not_its_everyday_log_lines(tmp_path):
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("")
    (tmp_path / "pkg" / "secure.py").write_text(dedent("""\
        import logging


        class SecureLogger:
            def __init__(self, logger: logging.Logger):
                self._logger = logger

            def info(self, msg, **fields):
                self._logger.info(msg, extra=fields)

            def warning(self, msg, **fields):
                self._logger.warning(msg, extra=fields)


        _LOGGERS: dict[str, SecureLogger] = {}


        def get_secure_logger(name):
            secure = _LOGGERS.get(name)
            if secure is None:
                secure = _LOGGERS[name] = SecureLogger(logging.getLogger(name))
            return secure
        """))
    assert spans((tmp_path / "pkg" / "secure.py").read_text(), tmp_path / "pkg" / "secure.py") == [
        (4, 12), (15, 15), (18, 22)]
    node = tmp_path / "pkg" / "node.py"
    node.write_text(dedent("""\
        from .secure import get_secure_logger

        logger = get_secure_logger(__name__)


        class NodeReceiver:
            def _log_context(self, deployment_id, **extra):
                context = {"node": "receiver", "deployment_id": str(deployment_id)}
                context["correlation_id"] = self._sessions[deployment_id].correlation_id
                context.update(extra)
                return context

            async def deploy(self, deployment_id):
                logger.info("deploying", **self._log_context(deployment_id))
        """))
    assert spans(node.read_text(), node) == [(3, 3), (7, 11)]


def test_definitions_only_the_logger_wrapper_uses_are_its_support_but_sanitisers_are_not():
    source = """\
        import logging
        import re

        LATENCY_BANDS = ((1000.0, logging.WARNING), (0.0, logging.DEBUG))
        _LITERALS = re.compile(r"'[^']*'")
        PAGE_SIZE = 50


        def level_for_latency(ms):
            return next(level for bound, level in LATENCY_BANDS if ms >= bound)


        def sanitize_query(query):
            return _LITERALS.sub("?", query)


        class QueryLogger:
            def __init__(self, name):
                self._logger = logging.getLogger(name)

            def log_start(self, query):
                self._logger.info("start %s", sanitize_query(query))

            def log_complete(self, query, ms):
                self._logger.log(level_for_latency(ms), "done %s", sanitize_query(query))


        def paginate(rows):
            return rows[:PAGE_SIZE]
        """
    assert spans(source) == [(4, 4), (9, 10), (17, 25)]
