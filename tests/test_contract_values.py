"""Contract values are data, never code: every place a value from contract.yaml (or a node's folder name)
could reach emitted Python, tried with each kind of dangerous text.

Where values reach code: mixin names become class bases and imports, and ``main_class`` picks the class
(both must be class names, else the contract is refused with file and line); circuit-breaker settings
become keyword literals of ``ModelCircuitBreaker(...)`` (numbers only: a ``${ENV}`` placeholder keeps the
breaker); node folder names go into the docstring of a consolidated mixin (escaped). Everything else a
contract holds (names, descriptions, topics, tags, paths...) never reaches code, which the last tests show.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
import yaml
from codemod_examples import run_example, write_example_node

from codemods.base import Example
from codemods.circuit_breaker import ReplaceCircuitBreaker
from codemods.registry import all_codemods
from omnimix.consolidation.render import mixin_module, python_docstring, python_string
from omnimix.discovery import node_dirs, python_files
from omnimix.engine import migrate_node, migrate_nodes
from omnimix.migration_state import Outcome
from omnimix.results import Status

MARK = "OMX"
DANGEROUS = {
    "quotes": f'{MARK} "double" \'single\' """triple""" \'\'\'',
    "newline": f"{MARK}\nsecond line\r\nthird line\u2028",
    "backslash": f"{MARK}\\ \\n \\x00 trailing\\",
    "braces": f"{MARK} {{name}} {{{{doubled}}}} {{0!r}} {{",
    "import": f'{MARK}"); __import__("os").system("echo {MARK}"); ("',
}
KINDS = list(DANGEROUS)


def migrate_example(example: Example, root: Path, *, unsafe: bool | None = None):
    node_dir = write_example_node(example, root)
    return migrate_node(node_dirs(node_dir)[0], root, allow_unsafe=example.unsafe if unsafe is None else unsafe,
                        allow_longer=True, repository_files=tuple(python_files([root])))


def emitted(result) -> list[str]:
    return [change.after for change in result.changes if change.after is not None and change.changed]


def assert_inert(result) -> None:
    """The migration ran, what it emits parses, and no contract text is in it."""
    assert result.status is not Status.INTERNAL_ERROR, result.traceback or result.message
    for text in emitted(result):
        ast.parse(text)
        assert MARK not in text


def example_with(codemod: type, title: str) -> Example:
    return next(e for e in codemod.examples if e.title.startswith(title))


# -- mixin names: class bases and imports ------------------------------------------------------
@pytest.mark.parametrize("kind", KINDS)
def test_a_mixin_name_that_is_not_a_class_name_is_refused_with_file_and_line(kind, tmp_path):
    contract = yaml.safe_dump({"name": "n", "node_type": "EFFECT", "mixins": [{"name": DANGEROUS[kind]}]})
    before = "from omnibase_core.nodes import NodeEffect\n\n\nclass NodeX(NodeEffect):\n    pass\n"
    result = migrate_example(Example("mixin", before, before, contract), tmp_path)
    assert result.status is Status.INPUT_ERROR
    line = next(i for i, text in enumerate(contract.splitlines(), 1) if "name:" in text and "- " in text)
    assert f"contract.yaml:{line}: mixins[0].name: expected a Python class name (an identifier)" in result.message
    assert not emitted(result)


# -- main_class: which class the mixins go on --------------------------------------------------
@pytest.mark.parametrize("kind", KINDS)
def test_a_main_class_that_is_not_a_class_name_is_refused_with_file_and_line(kind, tmp_path):
    contract = yaml.safe_dump({"name": "n", "node_type": "EFFECT", "main_class": DANGEROUS[kind],
                               "mixins": [{"name": "MixinMetrics"}]}, sort_keys=False)
    before = "from omnibase_core.nodes import NodeEffect\n\n\nclass NodeX(NodeEffect):\n    pass\n"
    result = migrate_example(Example("main class", before, before, contract), tmp_path)
    assert result.status is Status.INPUT_ERROR
    assert "contract.yaml:3: main_class: expected a Python class name (an identifier)" in result.message
    assert not emitted(result)


# -- circuit-breaker settings: keyword literals of ModelCircuitBreaker(...) ----------------------
HAND_WRITTEN_BREAKER = example_with(ReplaceCircuitBreaker, "with --unsafe a hand-written breaker becomes")


def breaker_contract(**settings: object) -> str:
    return yaml.safe_dump({"name": "n", "node_type": "EFFECT",
                           "advanced_features": {"circuit_breaker": {"enabled": True, **settings}}})


@pytest.mark.parametrize("kind", KINDS)
def test_a_placeholder_setting_keeps_the_breaker_and_never_reaches_code(kind, tmp_path):
    placeholder = "${OMX_THRESHOLD:-" + DANGEROUS[kind].replace("}", ")") + "}"
    example = Example("placeholder", HAND_WRITTEN_BREAKER.before, HAND_WRITTEN_BREAKER.before,
                      breaker_contract(failure_threshold=placeholder), unsafe=True)
    result = migrate_example(example, tmp_path)
    assert_inert(result)
    kept = [d for d in result.decisions if d.finding.concern == "circuit_breaker" and d.outcome is Outcome.KEPT]
    assert kept and all(repr(placeholder) in d.note for d in kept)
    assert not any(d.outcome is Outcome.APPLIED and d.finding.concern == "circuit_breaker" for d in result.decisions)


@pytest.mark.parametrize(("kind", "value"), [("quotes", '7"'), ("newline", "7\n"), ("backslash", "7\\"),
                                             ("braces", "{7}"), ("import", '__import__("os").getpid()')])
def test_a_setting_that_is_not_a_number_is_refused_with_file_and_line(kind, value, tmp_path):
    example = Example("text", HAND_WRITTEN_BREAKER.before, HAND_WRITTEN_BREAKER.before,
                      breaker_contract(failure_threshold=value), unsafe=True)
    result = migrate_example(example, tmp_path)
    assert result.status is Status.INPUT_ERROR
    assert ("contract.yaml:4: advanced_features.circuit_breaker.failure_threshold: expected an integer or a "
            f"${{ENV}} placeholder (got {value!r})") in result.message


def test_number_settings_come_out_as_literals_that_evaluate_to_the_contract_values(tmp_path):
    example = Example("numbers", HAND_WRITTEN_BREAKER.before, HAND_WRITTEN_BREAKER.before,
                      breaker_contract(failure_threshold=7, recovery_timeout_ms=42_000, success_threshold=2,
                                       half_open_max_calls=5), unsafe=True)
    after, result = run_example(ReplaceCircuitBreaker, example, tmp_path)
    assert result.status is Status.CHANGED, result.message
    calls = [node for node in ast.walk(ast.parse(after))
             if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "ModelCircuitBreaker"]
    assert calls
    for call in calls:
        values = {keyword.arg: ast.literal_eval(keyword.value) for keyword in call.keywords}
        assert values["failure_threshold"] == 7 and values["minimum_request_threshold"] == 7
        assert values["timeout_seconds"] == 42 and values["success_threshold"] == 2
        assert values["half_open_max_requests"] == 5


# -- node folder names: the docstring of a consolidated mixin -----------------------------------
@pytest.mark.parametrize("kind", KINDS)
def test_a_mixin_docstring_reads_back_exactly_whatever_the_folder_names(kind):
    docstring = f"Code shared by the nodes.\n\nConsolidated by omnimix from 2 copies ({DANGEROUS[kind]}, b).\n"
    text = mixin_module(class_name="SharedMixin", docstring=docstring, methods=[], attributes=[("A", "int")],
                        bindings=[], future_annotations=False)
    assert ast.get_docstring(ast.parse(text), clean=False) == docstring
    assert ast.literal_eval(python_docstring(DANGEROUS[kind])) == DANGEROUS[kind]


@pytest.mark.parametrize("kind", KINDS)
def test_a_text_literal_of_a_consolidated_mixin_reads_back_exactly(kind):
    assert ast.literal_eval(python_string(DANGEROUS[kind])) == DANGEROUS[kind]


@pytest.mark.parametrize("kind", KINDS)
def test_consolidating_nodes_in_dangerously_named_folders_writes_an_inert_docstring(kind, tmp_path):
    from test_consolidation import CONTRACT, NODE, PAIR

    nodes = tmp_path / "src" / "bridge" / "nodes"
    (nodes / "mixins").mkdir(parents=True)
    for package in (tmp_path / "src" / "bridge", nodes, nodes / "mixins"):
        (package / "__init__.py").write_text('"""Package."""\n')
    folders = {"Alpha": "alpha" + DANGEROUS[kind].replace("/", "|"), "Beta": "beta"}
    for index, (cls, folder) in enumerate(folders.items()):
        directory = nodes / folder / "v1_0_0"
        directory.mkdir(parents=True)
        for package in (directory.parent, directory):
            (package / "__init__.py").write_text("")
        pair = PAIR.format(name=f"bridge-{cls.lower()}", port=8070 + index, tag="effect", health="/health")
        (directory / "node.py").write_text(NODE.format(name=cls.lower(), cls=cls, pair=pair))
        (directory / "contract.yaml").write_text(CONTRACT.format(name=cls.lower(), cls=cls))
    results = migrate_nodes(node_dirs(nodes), tmp_path)
    created = {c.path: c.after for r in results for c in r.changes if c.before is None and c.after}
    assert len(created) == 1, [r.warnings for r in results]
    [text] = created.values()
    docstring = ast.get_docstring(ast.parse(text), clean=False)
    assert folders["Alpha"] in docstring
    assert all(isinstance(node, (ast.Expr, ast.ImportFrom, ast.Import, ast.ClassDef, ast.Assign))
               for node in ast.parse(text).body)


# -- everything else a contract holds never reaches code -----------------------------------------
CHANGING_EXAMPLES = [(type(codemod), example) for codemod in all_codemods() for example in codemod.examples
                     if example.before != example.after]


def with_text_everywhere(contract: str, value: str) -> str:
    """``contract`` with ``value`` in every free-text field the schema has (features enabled where needed)."""
    data = yaml.safe_load(contract)
    data["name"] = data["description"] = value
    data.setdefault("dependencies", []).append({"name": "kafka", "type": "kafka", "description": value})
    data["io_operations"] = [{"name": value, "description": value}]
    features = data.setdefault("advanced_features", {})
    features.setdefault("dead_letter_queue", {}).update({"topic": value, "topic_suffix": value})
    features.setdefault("retry_policy", {}).update({"retryable_errors": [value]})
    features["service_registration"] = {"enabled": True, "service_name": value, "tags": [value, value],
                                        "health_path": value, "provider": value}
    features["transactions"] = {"enabled": False, "isolation_level": value}
    features.setdefault("observability", {}).update({"logging": {"enabled": True, "level": value}})
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


@pytest.mark.parametrize("kind", KINDS)
def test_names_topics_tags_and_paths_of_a_contract_never_reach_code(kind, tmp_path):
    for index, (codemod, example) in enumerate(CHANGING_EXAMPLES):
        contract = with_text_everywhere(example.contract, DANGEROUS[kind])
        result = migrate_example(Example(example.title, example.before, example.after, contract,
                                         unsafe=example.unsafe), tmp_path / str(index))
        assert result.status in (Status.CHANGED, Status.UNCHANGED), f"{codemod.__name__}: {result.message}"
        assert_inert(result)

