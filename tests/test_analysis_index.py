"""The shared analysis pass agrees with LibCST: line numbers with ``PositionProvider``, parents with
``ParentNodeProvider``, walk order with LibCST's own visit order, on every node of real code."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import libcst as cst
import omnibase_core
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from libcst.metadata import MetadataWrapper, ParentNodeProvider, PositionProvider

from omnimix.analysis.lines import Lines
from omnimix.analysis.tree import Parents, Tree, children, nodes_of, walk

ROOT = Path(__file__).resolve().parents[1]
CORE = Path(omnibase_core.__file__).parent
# The first fixture corpus and a spread of omnibase_core's modules (the same comparison over all 4,900 of
# omnibase_core's modules and both corpora, 7 million nodes, finds no difference, in minutes).
FILES = sorted([*(ROOT / "fixtures" / "omninode_bridge").rglob("*.py"), *sorted(CORE.rglob("*.py"))[::60]])


class _Order(cst.CSTVisitor):
    def __init__(self) -> None:
        self.seen: list[cst.CSTNode] = []

    def on_visit(self, node: cst.CSTNode) -> bool:
        self.seen.append(node)
        return True


@lru_cache(maxsize=None)
def _parsed(path: Path) -> cst.Module | None:
    try:
        return cst.parse_module(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, cst.ParserSyntaxError):
        return None


def _modules():
    for path in FILES:
        module = _parsed(path)
        if module is not None:
            yield path, module


def test_line_numbers_are_position_providers_on_every_node():
    checked = 0
    for path, module in _modules():
        expected = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
        lines = Lines(module)
        for node, where in expected.items():
            got = lines[node]
            assert (got.start.line, got.end.line) == (where.start.line, where.end.line), (path, node)
        checked += len(expected)
    assert checked > 100_000


def test_the_tree_walks_in_libcsts_order_and_knows_libcsts_parents():
    for path, module in _modules():
        tree = Tree(module)
        order = _Order()
        module.visit(order)
        kept = {id(node) for node in tree.nodes}
        assert [node for node in order.seen if id(node) in kept] == tree.nodes, path
        parents = MetadataWrapper(module, unsafe_skip_copy=True).resolve(ParentNodeProvider)
        view = Parents(tree)
        for node in tree.nodes[1:]:
            assert view[node] is parents[node], (path, node)


@settings(max_examples=40, deadline=None)
@given(st.sampled_from(FILES[:80]), st.sampled_from([cst.Call, cst.Name, cst.FunctionDef, cst.BaseExpression,
                                                    cst.BaseSmallStatement, (cst.Assign, cst.AugAssign)]),
       st.integers(min_value=0))
def test_queries_answer_what_a_plain_walk_finds(path, kind, pick):
    module = _parsed(path)
    tree = Tree(module)
    root = tree.nodes[pick % len(tree.nodes)]
    plain: list[cst.CSTNode] = []
    stack = [root]
    while stack:
        node = stack.pop()
        plain.append(node)
        stack.extend(reversed(children(node)))
    assert tree.within(root, kind) == [node for node in plain if isinstance(node, kind)]
    assert nodes_of(root, kind) == tree.within(root, kind)  # a loose tree of the same root
    nested = (cst.FunctionDef, cst.ClassDef, cst.Lambda)
    outside = [node for node in plain[1:] if isinstance(node, nested)]
    skipped = {id(inner) for node in outside for inner in tree.walk(node, itself=False)}
    assert list(walk(root)) == [node for node in plain if id(node) not in skipped]


@pytest.mark.parametrize("source", ["", "\n", "x = 1", "x = 1\n", "\n\n# c\n", "s = '''a\nb\r\nc'''\n",
                                    "if x:\r\n    y = (1,\r\n  2)\r\n"])
def test_line_numbers_at_the_edges(source):
    module = cst.parse_module(source)
    expected = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
    lines = Lines(module)
    assert {id(n): (r.start.line, r.end.line) for n, r in expected.items()} == {
        id(n): (lines[n].start.line, lines[n].end.line) for n in expected}


def test_what_is_computed_from_a_module_goes_when_the_parse_cache_lets_go_of_it(monkeypatch):
    """Memory follows the largest files: a module the parse cache drops takes its tree along."""
    from omnimix.analysis import module_cache
    from omnimix.analysis import tree as tree_module

    monkeypatch.setattr(module_cache, "_BUDGET", 2_000)
    texts = [f"class C{i}:\n    def m(self):\n        return {i}\n" + "# padding\n" * 60 for i in range(6)]
    first = module_cache.parse_text(texts[0])
    nodes = {id(node) for node in tree_module.index_module(first).nodes}
    assert id(first) in tree_module._MODULES
    for text in texts[1:]:
        tree_module.index_module(module_cache.parse_text(text))
    assert texts[0] not in module_cache._MODULES
    assert id(first) not in tree_module._MODULES
    assert not nodes & set(tree_module._OWNER)


def test_a_module_under_analysis_stays_parsed_whatever_its_neighbours_cost(monkeypatch):
    """The file being scanned keeps its module (and its tree) while neighbours pass through the budget."""
    from omnimix.analysis import module_cache
    from omnimix.analysis import tree as tree_module

    monkeypatch.setattr(module_cache, "_BUDGET", 2_000)
    texts = [f"class H{i}:\n    def m(self):\n        return {i}\n" + "# padding\n" * 60 for i in range(6)]
    first = module_cache.parse_text(texts[0])
    tree = tree_module.index_module(first)
    with module_cache.held(first):
        for text in texts[1:]:
            tree_module.index_module(module_cache.parse_text(text))
        assert module_cache.parse_text(texts[0]) is first
        assert tree_module.index_module(first) is tree
    assert sum(map(len, module_cache._MODULES)) <= 2_000  # the budget holds again once it is let go


def test_a_node_of_a_module_parsed_for_a_neighbour_is_walked_in_that_modules_tree():
    from omnimix.analysis import module_cache
    from omnimix.analysis import tree as tree_module

    module = module_cache.parse_text("def neighbour_only():\n    if ready:\n        return 1\n")
    block = module.body[0].body
    assert tree_module.tree_of(block) is tree_module.index_module(module)
    assert [type(n).__name__ for n in walk(block)][:2] == ["IndentedBlock", "If"]
