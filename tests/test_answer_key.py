"""The fixture answer key still points at the code it describes (so it cannot silently drift)."""

import ast
from functools import cache
from pathlib import Path

import pytest

from answer_key import FIXTURE_ROOT, load_key

NODES = (
    "database_adapter_effect", "llm_effect", "orchestrator", "reducer", "registry",
    "deployment_receiver_effect", "deployment_sender_effect", "distributed_lock_effect",
    "store_effect", "test_generator_effect", "codegen_orchestrator", "codegen_metrics_reducer",
)
CONCERNS = {"circuit_breaker", "retry", "health_check", "metrics", "dead_letter_queue",
            "structured_logging", "redaction", "service_registration"}
KEY = load_key()


@cache
def _spans(path: str) -> dict[str, tuple[int, int]]:
    tree = ast.parse((FIXTURE_ROOT / path).read_text(encoding="utf-8"))
    spans: dict[str, tuple[int, int]] = {}

    def walk(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
                name = f"{prefix}{child.name}"
                start = min([child.lineno, *(d.lineno for d in child.decorator_list)])
                spans[name] = (start, child.end_lineno)
                walk(child, name + ".")
            else:
                walk(child, prefix)

    walk(tree, "")
    return spans


def test_every_node_is_covered():
    covered = {entry.path.split("/nodes/")[1].split("/")[0] for entry in KEY if "/nodes/" in entry.path}
    assert set(NODES) <= covered


@pytest.mark.parametrize("entry", KEY, ids=lambda e: f"{e.path.rsplit('/', 3)[-3]}:{e.start_line}:{e.concern}")
def test_entry_points_at_its_code(entry):
    path = FIXTURE_ROOT / entry.path
    assert path.is_file(), f"{entry.path} does not exist"
    assert entry.concern in CONCERNS
    lines = path.read_text(encoding="utf-8").splitlines()
    assert 1 <= entry.start_line <= entry.end_line <= len(lines)
    text = "\n".join(lines[entry.start_line - 1:entry.end_line])
    assert entry.anchor and entry.anchor in text, f"anchor {entry.anchor!r} not in {entry.path}:{entry.start_line}-{entry.end_line}"
    if entry.symbol == "<module>":
        inner = [s for s in _spans(entry.path).values() if s[0] <= entry.start_line <= s[1]]
        assert not inner, f"{entry.path}:{entry.start_line} is inside a definition, not at module level"
    else:
        spans = _spans(entry.path)
        assert entry.symbol in spans, f"{entry.symbol} is not defined in {entry.path}"
        start, end = spans[entry.symbol]
        assert start <= entry.start_line and entry.end_line <= end, (
            f"{entry.path}:{entry.start_line}-{entry.end_line} is outside {entry.symbol} ({start}-{end})")
