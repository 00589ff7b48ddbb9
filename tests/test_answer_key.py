"""Each corpus's answer key still points at the code it describes (so it cannot silently drift)."""

import sys
from pathlib import Path

import pytest
from answer_key import CORPORA, load_key

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))

from check_answer_key import entry_problems  # noqa: E402

NODES = {
    "a": ("database_adapter_effect", "llm_effect", "orchestrator", "reducer", "registry",
          "deployment_receiver_effect", "deployment_sender_effect", "distributed_lock_effect",
          "store_effect", "test_generator_effect", "codegen_orchestrator", "codegen_metrics_reducer"),
    "b": ("database_adapter_effect", "llm_effect", "orchestrator", "reducer", "registry",
          "deployment_receiver_effect", "deployment_sender_effect", "distributed_lock_effect", "store_effect"),
}
CASES = [(corpus, entry) for corpus, root in CORPORA.items() for entry in load_key(root)]


@pytest.mark.parametrize("corpus", sorted(CORPORA))
def test_every_node_is_covered(corpus):
    covered = {e.path.split("/nodes/")[1].split("/")[0] for e in load_key(CORPORA[corpus]) if "/nodes/" in e.path}
    assert set(NODES[corpus]) <= covered


@pytest.mark.parametrize(("corpus", "entry"), CASES,
                         ids=[f"{c}:{e.path.rsplit('/', 3)[-3]}:{e.start_line}:{e.concern}" for c, e in CASES])
def test_entry_points_at_its_code(corpus, entry):
    item = {"concern": entry.concern, "symbol": entry.symbol, "start_line": entry.start_line,
            "end_line": entry.end_line, "anchor": entry.anchor, "description": entry.description}
    assert entry_problems(CORPORA[corpus], entry.path, item) == []


def test_the_second_corpus_key_is_the_merge_of_its_parts():
    from merge_answer_key import main as merge_check

    assert merge_check([str(CORPORA["b"]), "--check"]) == 0
