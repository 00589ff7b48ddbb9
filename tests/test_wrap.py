"""Lines a rewrite made too long are wrapped as black would, and lines it did not write stay as they are."""

from textwrap import dedent

import libcst as cst
import pytest
from codemod_examples import run_example

from codemods.base import Example
from codemods.metrics import ReplaceHandKeptMetrics
from omnimix.analysis.wrap import line_limit, wrap_long_lines


def test_a_long_conditional_goes_into_parentheses_with_if_and_else_on_their_own_lines():
    code = dedent("""\
        def f(self, total):
            rate = self._counter("successes") / self._counter("attempts") if self._counter("attempts") else 1.0
            return {
                "success_rate": round(self._counter("total_successes") / total, 4) if total else 1.0,
            }
        """)
    assert wrap_long_lines(code, 80) == dedent("""\
        def f(self, total):
            rate = (
                self._counter("successes") / self._counter("attempts")
                if self._counter("attempts")
                else 1.0
            )
            return {
                "success_rate": (
                    round(self._counter("total_successes") / total, 4)
                    if total
                    else 1.0
                ),
            }
        """)


def test_a_long_call_is_split_one_argument_per_line():
    code = 'result = build_the_report(first_argument_value, second_argument_value, third_argument_value)\n'
    assert wrap_long_lines(code, 60) == dedent("""\
        result = build_the_report(
            first_argument_value,
            second_argument_value,
            third_argument_value,
        )
        """)


@pytest.mark.parametrize("code", [
    "x = 'a string literal far longer than the limit allows, with nothing to split at all'\n",
    "value = first_option if condition_that_is_long else second_option_that_is_long  # noqa\n",
])
def test_a_line_left_alone_or_with_nothing_to_split_stays(code):
    assert wrap_long_lines(code, 40, leave=frozenset(code.splitlines())) == code
    wrapped = wrap_long_lines(code, 40)
    cst.parse_module(wrapped)
    assert wrapped == code or all(len(line) <= 40 for line in wrapped.splitlines()[1:-1])


def test_the_limit_comes_from_ruff_or_black_in_pyproject(tmp_path):
    assert line_limit(tmp_path) == 100
    (tmp_path / "pyproject.toml").write_text("[tool.black]\nline-length = 88\n")
    assert line_limit(tmp_path / "pkg") == 88
    (tmp_path / "pyproject.toml").write_text("[tool.ruff]\nline-length = 120\n[tool.black]\nline-length = 88\n")
    assert line_limit(tmp_path) == 120


def test_a_migration_wraps_a_read_it_made_too_long(tmp_path):
    source = dedent("""\
        from omnibase_core.nodes import NodeEffect


        class NodeUploadEffect(NodeEffect):
            def __init__(self, container) -> None:
                super().__init__(container)
                self._uploads = 0
                self._upload_ms = 0.0

            def record(self, elapsed_ms: float) -> None:
                self._uploads += 1
                self._upload_ms += elapsed_ms

            def average(self) -> float:
                average_upload_ms = self._upload_ms / self._uploads if self._uploads else 0.0
                return average_upload_ms
        """)
    contract = "name: n\nnode_type: EFFECT\nmixins:\n  - {name: MixinMetrics}\n"
    (tmp_path / "pyproject.toml").write_text("[tool.ruff]\nline-length = 80\n")
    after, _ = run_example(ReplaceHandKeptMetrics, Example("t", source, source, contract), tmp_path / "node")
    assert 'self.increment_counter("uploads")' in after
    assert "        average_upload_ms = (\n" in after
    assert max(len(line) for line in after.splitlines()) <= 80
