"""Hypothesis strategies for the properties: the node modules of both fixture corpora (found when the tests
are collected) with renamed locals, reordered methods, and added comments and blank lines; and random
valid Python from hypothesmith."""

from __future__ import annotations

import ast
import os
import warnings
from dataclasses import dataclass
from pathlib import Path

import hypothesmith
import libcst as cst
from answer_key import CORPORA
from hypothesis import strategies as st

from omnimix.analysis.nodes import find_node_classes
from omnimix.discovery import node_dirs

PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "ci")
#: Modules longer than this are left out of the CI profile, which must stay fast (the long one takes all).
CI_MAX_LINES = 400


@dataclass(frozen=True)
class CorpusModule:
    corpus: str
    path: Path
    text: str
    node_type: str | None  # of its node class, if it has one

    @property
    def name(self) -> str:
        return f"{self.corpus}:{self.path.parent.parent.name}/{self.path.name}"


def corpus_modules(max_lines: int | None) -> list[CorpusModule]:
    """Every Python file of every node directory of the corpora that exist now, smallest first."""
    found = []
    for corpus, root in CORPORA.items():
        if not (root / "src").is_dir():
            continue
        for node in node_dirs(root / "src"):
            for path in node.files:
                text = path.read_text(encoding="utf-8")
                if max_lines is not None and len(text.splitlines()) > max_lines:
                    continue
                classes = find_node_classes({path: cst.parse_module(text)}) if "class " in text else []
                found.append(CorpusModule(corpus, path, text, classes[0].node_type if classes else None))
    return sorted(found, key=lambda module: (len(module.text), module.name))


MODULES = corpus_modules(None if PROFILE == "long" else CI_MAX_LINES)


def python_problem(text: str) -> bool:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ast.parse(text)
        cst.parse_module(text)
    except (SyntaxError, ValueError, RecursionError, cst.ParserSyntaxError):
        return True
    return False


# -- the transformations -----------------------------------------------------------------------
class _Shape(cst.CSTVisitor):
    """What a module offers to vary: local names of functions, classes with methods, statements."""

    def __init__(self) -> None:
        self.locals: set[str] = set()
        self.classes: list[int] = []  # method count of each class, in visit order
        self.statements = 0

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.locals |= _bound(node)

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self.classes.append(len(_methods(node)))

    def on_visit(self, node: cst.CSTNode) -> bool:
        if isinstance(node, cst.BaseStatement):
            self.statements += 1
        return super().on_visit(node)


def _bound(function: cst.FunctionDef) -> set[str]:
    names = {param.name.value for param in (*function.params.params, *function.params.posonly_params,
                                            *function.params.kwonly_params)}
    for node in _walk(function.body):
        if isinstance(node, cst.AssignTarget) and isinstance(node.target, cst.Name):
            names.add(node.target.value)
        elif isinstance(node, (cst.AnnAssign, cst.For)) and isinstance(node.target, cst.Name):
            names.add(node.target.value)
    return {name for name in names if name not in ("self", "cls", "_") and not name.startswith("__")}


def _walk(node: cst.CSTNode):
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(current.children)


def _methods(cls: cst.ClassDef) -> list[int]:
    body = cls.body.body if isinstance(cls.body, cst.IndentedBlock) else ()
    return [i for i, statement in enumerate(body) if isinstance(statement, cst.FunctionDef)]


class _Vary(cst.CSTTransformer):
    """Renames locals (inside the functions that bind them, not attributes or keywords), permutes the
    methods of each class, and puts comments and blank lines before chosen statements."""

    def __init__(self, renames: dict[str, str], orders: list[list[int]], before: dict[int, str]) -> None:
        self.renames = renames
        self.orders = orders
        self.before = before  # statement number -> "" (blank line) or a comment
        self.functions: list[set[str]] = []
        self.class_index = 0
        self.statement_index = 0
        self.numbers: dict[int, int] = {}

    def on_visit(self, node: cst.CSTNode) -> bool:
        if isinstance(node, cst.BaseStatement):
            self.numbers[id(node)] = self.statement_index
            self.statement_index += 1
        return super().on_visit(node)

    def on_leave(self, original_node, updated_node):
        updated_node = super().on_leave(original_node, updated_node)
        number = self.numbers.get(id(original_node))
        if number in self.before and isinstance(updated_node, cst.BaseStatement) and hasattr(updated_node,
                                                                                              "leading_lines"):
            text = self.before[number]
            line = cst.EmptyLine(comment=cst.Comment(text)) if text else cst.EmptyLine()
            updated_node = updated_node.with_changes(leading_lines=[line, *updated_node.leading_lines])
        return updated_node

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.functions.append(_bound(node))

    def leave_FunctionDef(self, original_node, updated_node):
        self.functions.pop()
        return updated_node

    def leave_Name(self, original_node, updated_node):
        if updated_node.value in self.renames and any(updated_node.value in bound for bound in self.functions):
            return updated_node.with_changes(value=self.renames[updated_node.value])
        return updated_node

    def leave_Attribute(self, original_node, updated_node):
        return updated_node.with_changes(attr=original_node.attr)

    def leave_Arg(self, original_node, updated_node):
        return updated_node.with_changes(keyword=original_node.keyword)

    def leave_ClassDef(self, original_node, updated_node):
        order = self.orders[self.class_index] if self.class_index < len(self.orders) else None
        self.class_index += 1
        if not order or not isinstance(updated_node.body, cst.IndentedBlock):
            return updated_node
        body = list(updated_node.body.body)
        slots = _methods(updated_node)
        methods = [body[i] for i in slots]
        for slot, index in zip(slots, order):
            body[slot] = methods[index]
        return updated_node.with_changes(body=updated_node.body.with_changes(body=body))


WORDS = ("note", "kept as is", "see the runbook", "TODO(ops): none", "hypothesis was here", "é ünïcode")


@st.composite
def variants(draw, text: str) -> str:
    """``text`` with renamed locals, reordered methods, and comments and blank lines added."""
    module = cst.parse_module(text)
    shape = _Shape()
    module.visit(shape)
    chosen = draw(st.sets(st.sampled_from(sorted(shape.locals)), max_size=6)) if shape.locals else set()
    suffix = draw(st.text("abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=4))
    renames = {name: f"{name}_{suffix}" for name in chosen}
    orders = [draw(st.permutations(range(count))) if count > 1 and draw(st.booleans()) else []
              for count in shape.classes]
    spots = draw(st.sets(st.integers(0, max(shape.statements - 1, 0)), max_size=8)) if shape.statements else set()
    before = {spot: draw(st.sampled_from(["", *(f"# {word}" for word in WORDS)])) for spot in spots}
    return module.visit(_Vary(renames, orders, before)).code


@dataclass(frozen=True)
class Unit:
    """What a property migrates: one module (as node.py when it holds the node class, else beside a small
    node.py) and whether unsafe changes are allowed."""

    origin: str
    text: str
    node_type: str | None
    unsafe: bool


def corpus_units(modules: list[CorpusModule] = MODULES) -> st.SearchStrategy[Unit]:
    @st.composite
    def build(draw) -> Unit:
        module = draw(st.sampled_from(modules))
        text = draw(variants(module.text))
        return Unit(module.name, text, module.node_type, draw(st.booleans()))
    return build()


def random_units() -> st.SearchStrategy[Unit]:
    """Random valid Python from hypothesmith's grammar, kept only when LibCST parses it too."""
    return hypothesmith.from_grammar().filter(lambda text: not python_problem(text)).map(
        lambda text: Unit("hypothesmith", text, None, False))
