from pathlib import Path
from textwrap import dedent

import pytest
from codemod_examples import assert_example, run_example

from codemods.redaction import ReportRedaction
from omnimix.analysis.context import FileContext
from omnimix.migration_state import Outcome
from omnimix.results import Status


@pytest.mark.parametrize("example", ReportRedaction.examples, ids=lambda e: e.title)
def test_examples(example, tmp_path):
    assert_example(ReportRedaction, example, tmp_path)
    _after, result = run_example(ReportRedaction, example, tmp_path / "status")
    assert result.status in (Status.CHANGED, Status.UNCHANGED), result.message


def test_findings_are_kept_with_the_reason(tmp_path):
    _after, result = run_example(ReportRedaction, ReportRedaction.examples[0], tmp_path)
    assert len(result.decisions) == 3
    assert {d.outcome for d in result.decisions} == {Outcome.KEPT}
    assert all("'monkey'" in d.note for d in result.decisions)


def test_not_declared_when_neither_switch_is_on(tmp_path):
    example = ReportRedaction.examples[0]
    contract = "name: n\nnode_type: EFFECT\nadvanced_features:\n  retry_policy: {max_attempts: 2}\n"
    _after, result = run_example(ReportRedaction, type(example)(example.title, example.before, example.after,
                                                                contract), tmp_path)
    assert {d.outcome for d in result.decisions} == {Outcome.NOT_DECLARED}


def spans(source: str) -> list[tuple[int, int]]:
    ctx = FileContext(Path("node.py"), "node.py", dedent(source))
    return [(f.start_line, f.end_line) for f in ReportRedaction().detect(ctx)]


def test_key_set_placeholder_masker_and_call_sites_are_found():
    source = """\
        import logging

        logger = logging.getLogger(__name__)

        HIDDEN = "<hidden:***>"
        SECRET_FIELDS = {"password", "client_secret", "refresh_token"}
        DEPTH = 4


        def scrub_fields(data, depth=0):
            if depth > DEPTH:
                return data
            return {k: HIDDEN if k in SECRET_FIELDS else scrub_fields(v, depth + 1) if isinstance(v, dict) else v
                    for k, v in data.items()}


        def token_hint(token: str) -> str:
            return token[:2] + "..." + token[-2:]


        class NodeAuth:
            async def login(self, request, token):
                logger.info("login %s token=%s", scrub_fields(request), token_hint(token))
                if not request:
                    raise ValueError(str(scrub_fields(request)))
                return True
        """
    assert spans(source) == [(5, 7), (10, 14), (17, 18), (23, 23), (25, 25)]


def test_own_redaction_method_is_reported_whole_but_not_its_call_sites():
    source = """\
        class NodeRegistry:
            async def register(self, event):
                await self._store(self._redact(event.metadata))

            def _redact(self, metadata):
                return {k: "[REDACTED]" if "password" in k.lower() else v for k, v in metadata.items()}
        """
    assert spans(source) == [(5, 6)]


def test_sql_injection_validators_and_hashing_are_not_redaction():
    source = """\
        import hashlib
        import re

        _INJECTION = re.compile(r"(?i)\\b(union\\s+select|drop\\s+table)\\b")
        _IDENT = re.compile(r"^[a-z_][a-z0-9_]*$")


        def sanitize_identifier(name: str) -> str:
            if not _IDENT.match(name):
                raise ValueError("bad identifier")
            return f'"{name}"'


        def validate_query(query: str) -> list[str]:
            return ["injection"] if _INJECTION.search(query) else []


        def hash_password(password: str, salt: bytes) -> str:
            return hashlib.sha256(salt + password.encode()).hexdigest()


        def checksum(payload: bytes) -> str:
            return hashlib.sha256(payload).hexdigest()
        """
    assert spans(source) == []


def test_sanitising_in_a_logger_wrappers_emit_path_belongs_to_the_wrapper():
    source = """\
        import logging
        import re

        _BEARER = re.compile(r"(?i)bearer\\s+\\S+")


        def mask(text):
            return _BEARER.sub("bearer ***", text)


        class SafeLogger:
            def __init__(self, logger: logging.Logger):
                self._logger = logger

            def info(self, msg, **ctx):
                self._logger.info(mask(msg), extra=ctx)

            def error(self, msg, **ctx):
                self._logger.error(mask(msg), extra=ctx)
        """
    assert spans(source) == [(4, 4), (7, 8)]


def test_secret_key_regex_tuple_its_matcher_normaliser_and_asterisk_masker_are_found():
    source = """\
        import re

        SENSITIVE_KEYS = (
            re.compile(r"pass(word)?"),
            re.compile(r"api[_-]?key"),
        )
        _CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])")
        PAGE = 20


        def _normalise(key):
            return _CAMEL.sub("_", str(key)).lower()


        def is_sensitive_key(key):
            return any(p.search(_normalise(key)) for p in SENSITIVE_KEYS)


        def mask_secret(value, visible=4):
            return "*" * 8 + value[-visible:]


        def page(rows):
            return rows[:PAGE]
        """
    assert spans(source) == [(3, 7), (11, 12), (15, 16), (19, 20)]


def test_a_docstring_that_mentions_masking_does_not_make_a_redaction_function():
    source = """\
        class NodeLLM:
            def get_config_summary(self):
                \"\"\"Settings for the admin page (the api_key is masked elsewhere).\"\"\"
                return {"base_url": self._base_url, "model": self._model}
        """
    assert spans(source) == []
