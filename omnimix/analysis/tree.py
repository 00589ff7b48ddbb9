"""One flattening of a syntax tree, shared by every detector: each node once, in source order.

LibCST's visitors rebuild every node they pass, and each detector used to walk a module again for itself.
A :class:`Tree` lists a module's nodes once, in pre-order, with the end of each node's subtree and its
parent; a walk is then a slice of that list, and "every call in this method" a lookup in it.

Formatting is left out (whitespace, parentheses, commas, colons, blank and comment lines): no detector
asks about it, and it is half of the nodes.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator

import libcst as cst

from omnimix.analysis.module_cache import on_forget, parsed_modules

#: Fields that hold formatting only.
_FORMATTING = frozenset({"lpar", "rpar", "leading_lines", "lines_after_decorators", "header", "footer",
                         "newline", "trailing_whitespace", "semicolon", "comma", "colon", "equal", "dot"})
_DEFINITIONS = frozenset({cst.FunctionDef, cst.ClassDef, cst.Lambda})  # final classes: a type test suffices

_ORDER: dict[type, tuple[str, ...]] = {}
_IS_NODE: dict[type, bool] = {}


class _FieldOrder(cst.CSTVisitor):
    """The order in which LibCST visits one node's fields (source order), read off one visit."""

    def __init__(self, node: cst.CSTNode) -> None:
        self.node = node
        self.names: list[str] = []

    def on_visit(self, node: cst.CSTNode) -> bool:
        return node is self.node

    def on_visit_attribute(self, node: cst.CSTNode, attribute: str) -> None:
        if node is self.node and attribute not in _FORMATTING and "whitespace" not in attribute:
            self.names.append(attribute)


def _fields(node: cst.CSTNode) -> tuple[str, ...]:
    kind = type(node)
    names = _ORDER.get(kind)
    if names is None:
        order = _FieldOrder(node)
        node.visit(order)
        names = _ORDER[kind] = tuple(dict.fromkeys(order.names))
    return names


def _is_node(value: object) -> bool:
    kind = type(value)
    flag = _IS_NODE.get(kind)
    if flag is None:
        flag = _IS_NODE[kind] = issubclass(kind, cst.CSTNode)
    return flag


def children(node: cst.CSTNode) -> list[cst.CSTNode]:
    """The direct children of ``node`` that carry meaning, in source order."""
    found: list[cst.CSTNode] = []
    for name in _fields(node):
        value = getattr(node, name)
        kind = type(value)
        if kind is list or kind is tuple:
            found.extend(item for item in value if _is_node(item))
        elif value is not None and _is_node(value):
            found.append(value)
    return found


class Tree:
    """The nodes under ``root`` in pre-order, with each subtree's end and each node's parent."""

    def __init__(self, root: cst.CSTNode) -> None:
        self.root = root
        nodes: list[cst.CSTNode] = []
        ends: list[int] = []
        parents: list[int] = []
        stack: list[tuple[cst.CSTNode | None, int]] = [(root, -1)]
        while stack:
            node, parent = stack.pop()
            if node is None:
                ends[parent] = len(nodes)
                continue
            index = len(nodes)
            nodes.append(node)
            ends.append(0)
            parents.append(parent)
            stack.append((None, index))
            stack.extend((child, index) for child in reversed(children(node)))
        self.nodes = nodes
        self.ends = ends
        self.parents = parents
        self.where = {id(node): index for index, node in enumerate(nodes)}
        self._types: dict[type, list[int]] | None = None
        self._kinds: dict[type | tuple[type, ...], list[list[int]]] = {}

    def index(self, node: cst.CSTNode) -> int | None:
        index = self.where.get(id(node))
        return index if index is not None and self.nodes[index] is node else None

    def walk(self, node: cst.CSTNode, *, into_defs: bool = True, itself: bool = True) -> Iterator[cst.CSTNode]:
        """``node`` (unless ``itself`` is false) and everything under it, in source order; with ``into_defs``
        false, nested functions, classes and lambdas are passed over (``node`` itself may be one)."""
        start = self.where[id(node)]
        nodes, ends = self.nodes, self.ends
        if itself:
            yield node
        index, end = start + 1, ends[start]
        while index < end:
            child = nodes[index]
            yield child
            if not into_defs and type(child) in _DEFINITIONS:
                index = ends[index]
            else:
                index += 1

    def parent(self, node: cst.CSTNode) -> cst.CSTNode | None:
        index = self.index(node)
        if index is None or self.parents[index] < 0:
            return None
        return self.nodes[self.parents[index]]

    def within[T: cst.CSTNode](self, root: cst.CSTNode, kind: type[T] | tuple[type[T], ...]) -> list[T]:
        """Every node of ``kind`` (subclasses included) in ``root``'s subtree, ``root`` included, in source
        order."""
        start = self.where[id(root)]
        stop = self.ends[start]
        lists = self._kinds.get(kind)
        if lists is None:
            if self._types is None:
                types: dict[type, list[int]] = {}
                for index, node in enumerate(self.nodes):
                    types.setdefault(type(node), []).append(index)
                self._types = types
            lists = self._kinds[kind] = [found for known, found in self._types.items() if issubclass(known, kind)]
        hits: list[int] = []
        for found in lists:
            hits.extend(found[bisect.bisect_left(found, start):bisect.bisect_left(found, stop)])
        if len(lists) > 1:
            hits.sort()
        return [self.nodes[index] for index in hits]  # type: ignore[misc]


class Parents:
    """``parents.get(node)`` and ``parents[node]``: a node's parent, as LibCST's ``ParentNodeProvider``
    gives it for every node that carries meaning (the root has none)."""

    def __init__(self, tree: Tree) -> None:
        self.tree = tree

    def get(self, node: cst.CSTNode, default: cst.CSTNode | None = None) -> cst.CSTNode | None:
        parent = self.tree.parent(node)
        return default if parent is None else parent

    def __getitem__(self, node: cst.CSTNode) -> cst.CSTNode:
        parent = self.tree.parent(node)
        if parent is None:
            raise KeyError(node)
        return parent


_MODULES: dict[int, Tree] = {}  # trees of the modules under analysis, by root id (kept alive: ids stay valid)
_OWNER: dict[int, Tree] = {}  # id of every node of those trees -> its tree
_LOOSE: dict[int, Tree] = {}  # trees of other roots walked lately (a node built by a rewrite, a snippet)
_MODULES_KEPT = 64  # the parse cache's modules, and those of rewrites
_LOOSE_KEPT = 32


def register(tree: Tree) -> Tree:
    """Make ``tree`` the one that walks of its nodes use (a module's tree, built once for all detectors)."""
    if _MODULES.get(id(tree.root)) is tree:
        return tree
    if len(_MODULES) >= _MODULES_KEPT:
        stale = _MODULES.pop(next(iter(_MODULES)))
        for node in stale.nodes:
            if _OWNER.get(id(node)) is stale:
                del _OWNER[id(node)]
    _MODULES[id(tree.root)] = tree
    for node in tree.nodes:
        _OWNER[id(node)] = tree
    return tree


@on_forget
def _forget(module: cst.Module) -> None:
    """A module the parse cache let go of: its tree goes, and with it what the tree keeps alive."""
    stale = _MODULES.pop(id(module), None)  # a registered tree keeps its root alive, so the id is this module's
    for node in stale.nodes if stale is not None else ():
        if _OWNER.get(id(node)) is stale:
            del _OWNER[id(node)]


def index_module(module: cst.Module) -> Tree:
    """The registered tree of ``module``, built the first time it is asked for."""
    tree = _MODULES.get(id(module))
    return tree if tree is not None and tree.root is module else register(Tree(module))


def tree_of(node: cst.CSTNode) -> Tree:
    """The flattened tree that contains ``node``: its module's when that is registered, else one rooted at
    it (kept for a while)."""
    tree = _OWNER.get(id(node))
    if tree is not None and tree.index(node) is not None:
        return tree
    tree = _LOOSE.get(id(node))
    if tree is not None and tree.root is node:
        return tree
    if _index_parsed():  # a node of a module parsed as a neighbour, not indexed yet
        tree = _OWNER.get(id(node))
        if tree is not None and tree.index(node) is not None:
            return tree
    if len(_LOOSE) >= _LOOSE_KEPT:
        del _LOOSE[next(iter(_LOOSE))]
    tree = _LOOSE[id(node)] = Tree(node)
    return tree


def _index_parsed() -> bool:
    """Index every module the parse cache holds that has no tree yet; whether there was one."""
    fresh = [module for module in parsed_modules() if _MODULES.get(id(module)) is None]
    for module in fresh:
        register(Tree(module))
    return bool(fresh)


def walk(node: cst.CSTNode, *, into_defs: bool = False) -> Iterator[cst.CSTNode]:
    """``node`` and everything under it in source order; nested definitions are passed over unless
    ``into_defs``."""
    return tree_of(node).walk(node, into_defs=into_defs)


def descendants(node: cst.CSTNode, *, into_defs: bool = True) -> Iterator[cst.CSTNode]:
    """Everything under ``node`` (not ``node`` itself), in source order."""
    return tree_of(node).walk(node, into_defs=into_defs, itself=False)


def nodes_of[T: cst.CSTNode](root: cst.CSTNode, kind: type[T] | tuple[type[T], ...]) -> list[T]:
    """Every node of ``kind`` (subclasses included) in ``root``'s subtree, ``root`` included, in source
    order; nested definitions are included."""
    return tree_of(root).within(root, kind)
