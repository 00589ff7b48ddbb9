"""The shape of a method: its syntax tree with literals and local names abstracted.

Two copies of a method have the same shape when they differ only in literal values (strings,
numbers, the text of f-strings), in the names of their local variables, and in comments,
docstrings and layout. The literals are kept in a fixed order, so that the k-th literal of
one copy is the k-th literal of every other copy of the same shape.
"""

from __future__ import annotations

import ast
import builtins
import hashlib
import textwrap
from dataclasses import dataclass

import libcst as cst

LITERAL = "__omnimix_literal__"
BUILTINS = frozenset(dir(builtins))
LITERAL_TYPES = (cst.SimpleString, cst.ConcatenatedString, cst.Integer, cst.Float, cst.FormattedStringText,
                 cst.List, cst.Set)


@dataclass(frozen=True)
class Literal:
    """One literal of a method: its node, its source text, and where it stands."""

    node: cst.CSTNode
    code: str
    hint: str
    in_signature: bool


@dataclass(frozen=True)
class Shape:
    """A method's fingerprint, its literals in order, and the module-level names it reads."""

    name: str
    fingerprint: str
    literals: tuple[Literal, ...]
    free_names: frozenset[str]
    uses_super: bool
    mangled: bool


def docstring_free(function: cst.FunctionDef) -> cst.FunctionDef:
    """``function`` without its docstring (docstrings do not make two copies different code)."""
    body = function.body
    if not isinstance(body, cst.IndentedBlock) or not body.body:
        return function
    first = body.body[0]
    if (isinstance(first, cst.SimpleStatementLine) and len(first.body) == 1
            and isinstance(first.body[0], cst.Expr)
            and isinstance(first.body[0].value, (cst.SimpleString, cst.ConcatenatedString))):
        rest = list(body.body[1:]) or [cst.SimpleStatementLine([cst.Pass()])]
        return function.with_changes(body=body.with_changes(body=rest))
    return function


def shape_of(function: cst.FunctionDef, placeholders: frozenset[str] = frozenset()) -> Shape:
    """The shape of ``function``. ``self.<name>`` for a name in ``placeholders`` counts as a literal
    (how a consolidated mixin's parameters line up with the literals of a copy not yet moved)."""
    function = docstring_free(function)
    local = _local_names(function)
    collector = _Collector(local, placeholders)
    function.visit(collector)
    normalized = function.visit(_Normalizer(local, placeholders, {id(l.node) for l in collector.literals}))
    code = textwrap.dedent(cst.Module(body=[normalized]).code)
    try:
        dumped = ast.dump(ast.parse(code), annotate_fields=False, include_attributes=False)
    except SyntaxError:
        dumped = code
    return Shape(
        name=function.name.value,
        fingerprint=hashlib.sha256(dumped.encode()).hexdigest()[:20],
        literals=tuple(collector.literals),
        free_names=frozenset(collector.free - local - BUILTINS - {"self", "cls", LITERAL, function.name.value}),
        uses_super="super" in collector.free,
        mangled=collector.mangled,
    )


def _local_names(function: cst.FunctionDef) -> set[str]:
    """Names the function binds: parameters and every assignment target inside it (``self`` excluded)."""
    names: set[str] = set()
    params = function.params
    for param in [*params.posonly_params, *params.params, *params.kwonly_params]:
        names.add(param.name.value)
    for star in (params.star_arg, params.star_kwarg):
        if isinstance(star, cst.Param):
            names.add(star.name.value)

    class Binder(cst.CSTVisitor):
        def visit_Assign(self, node: cst.Assign) -> None:
            for target in node.targets:
                _bind(target.target, names)

        def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
            _bind(node.target, names)

        def visit_AugAssign(self, node: cst.AugAssign) -> None:
            _bind(node.target, names)

        def visit_For(self, node: cst.For) -> None:
            _bind(node.target, names)

        def visit_CompFor(self, node: cst.CompFor) -> None:
            _bind(node.target, names)

        def visit_WithItem(self, node: cst.WithItem) -> None:
            if node.asname is not None:
                _bind(node.asname.name, names)

        def visit_ExceptHandler(self, node: cst.ExceptHandler) -> None:
            if node.name is not None:
                _bind(node.name.name, names)

        def visit_NamedExpr(self, node: cst.NamedExpr) -> None:
            _bind(node.target, names)

    function.body.visit(Binder())
    names.discard("self")
    names.discard("cls")
    return names


def _bind(target: cst.BaseExpression, names: set[str]) -> None:
    if isinstance(target, cst.Name):
        names.add(target.value)
    elif isinstance(target, (cst.Tuple, cst.List)):
        for element in target.elements:
            _bind(element.value, names)
    elif isinstance(target, cst.StarredElement):
        _bind(target.value, names)


#: How a moved container literal is rebuilt from its class attribute (a tuple), so that each call still
#: gets a container of its own: ``list(self.TAGS)``.
REBUILT = {cst.List: "list", cst.Set: "set"}
_REBUILT_BY_NAME = {name: kind for kind, name in REBUILT.items()}


def constant(node: cst.CSTNode) -> bool:
    """A literal that holds no code: a string without substitutions, a number, True/False/None, or a
    list, tuple or set of those."""
    if isinstance(node, cst.SimpleString | cst.Integer | cst.Float):
        return True
    if isinstance(node, cst.ConcatenatedString):
        return constant(node.left) and constant(node.right)
    if isinstance(node, cst.Name):
        return node.value in ("True", "False", "None")
    if isinstance(node, cst.UnaryOperation) and isinstance(node.operator, cst.Minus):
        return isinstance(node.expression, cst.Integer | cst.Float)
    return constant_container(node)


def constant_container(node: cst.CSTNode) -> bool:
    """A non-empty list or set whose elements are all constants (no starred element)."""
    return (isinstance(node, cst.List | cst.Set) and bool(node.elements)
            and all(isinstance(e, cst.Element) and constant(e.value) for e in node.elements))


def _self_placeholder(node: cst.CSTNode, placeholders: frozenset[str]) -> bool:
    """``self.X``, ``str(self.X)``, ``list(self.X)`` or ``set(self.X)`` for a placeholder attribute ``X``."""
    if (isinstance(node, cst.Call) and isinstance(node.func, cst.Name) and node.func.value in ("str", "list", "set")
            and len(node.args) == 1):
        node = node.args[0].value
    return (isinstance(node, cst.Attribute) and isinstance(node.value, cst.Name)
            and node.value.value == "self" and node.attr.value in placeholders)


class _Collector(cst.CSTVisitor):
    """Literals in visiting order, with a name hint from their context; free names read."""

    def __init__(self, local: set[str], placeholders: frozenset[str]) -> None:
        self.local = local
        self.placeholders = placeholders
        self.literals: list[Literal] = []
        self.free: set[str] = set()
        self.mangled = False
        self._hints: list[str] = ["value"]
        self._signature = 0

    # -- context for hints ------------------------------------------------------------------
    def visit_Parameters(self, node: cst.Parameters) -> None:
        self._signature += 1

    def leave_Parameters(self, original_node: cst.Parameters) -> None:
        self._signature -= 1

    def visit_Decorator(self, node: cst.Decorator) -> None:
        self._signature += 1

    def leave_Decorator(self, original_node: cst.Decorator) -> None:
        self._signature -= 1

    def visit_Annotation(self, node: cst.Annotation) -> None:
        self._signature += 1

    def leave_Annotation(self, original_node: cst.Annotation) -> None:
        self._signature -= 1

    def visit_Arg(self, node: cst.Arg) -> bool:
        self._hints.append(node.keyword.value if node.keyword is not None else self._hints[-1])
        node.value.visit(self)
        return False

    def leave_Arg(self, original_node: cst.Arg) -> None:
        self._hints.pop()

    def visit_Assign(self, node: cst.Assign) -> None:
        target = node.targets[0].target if len(node.targets) == 1 else None
        self._hints.append(_target_hint(target) or self._hints[-1])

    def leave_Assign(self, original_node: cst.Assign) -> None:
        self._hints.pop()

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        self._hints.append(_target_hint(node.target) or self._hints[-1])

    def leave_AnnAssign(self, original_node: cst.AnnAssign) -> None:
        self._hints.pop()

    def visit_DictElement(self, node: cst.DictElement) -> None:
        key = node.key.evaluated_value if isinstance(node.key, cst.SimpleString) else None
        self._hints.append(key if isinstance(key, str) and key.isidentifier() else self._hints[-1])

    def leave_DictElement(self, original_node: cst.DictElement) -> None:
        self._hints.pop()

    # -- literals -----------------------------------------------------------------------------
    def _literal(self, node: cst.CSTNode, code: str) -> None:
        self.literals.append(Literal(node, code, self._hints[-1], self._signature > 0))

    def visit_SimpleString(self, node: cst.SimpleString) -> bool:
        self._literal(node, node.value)
        return False

    def visit_ConcatenatedString(self, node: cst.ConcatenatedString) -> bool:
        self._literal(node, cst.Module(body=[]).code_for_node(node))
        return False

    def visit_Integer(self, node: cst.Integer) -> bool:
        self._literal(node, node.value)
        return False

    def visit_Float(self, node: cst.Float) -> bool:
        self._literal(node, node.value)
        return False

    def visit_FormattedStringText(self, node: cst.FormattedStringText) -> bool:
        self._literal(node, node.value)
        return False

    def _container(self, node: cst.List | cst.Set) -> bool:
        """A container of constants is one literal: copies that list different tags are the same code."""
        if self._signature or not constant_container(node):
            return True
        self._literal(node, cst.Module(body=[]).code_for_node(node))
        return False

    def visit_List(self, node: cst.List) -> bool:
        return self._container(node)

    def visit_Set(self, node: cst.Set) -> bool:
        return self._container(node)

    def visit_Call(self, node: cst.Call) -> bool:
        if self.placeholders and _self_placeholder(node, self.placeholders):
            self._literal(node, cst.Module(body=[]).code_for_node(node))
            return False
        if (isinstance(node.func, cst.Name) and node.func.value == "str" and len(node.args) == 1
                and node.args[0].keyword is None and isinstance(node.args[0].value, cst.Integer)):
            self._literal(node, '"' + str(node.args[0].value.evaluated_value) + '"')  # str(8064) is "8064"
            return False
        return True

    def visit_Attribute(self, node: cst.Attribute) -> bool:
        if _self_placeholder(node, self.placeholders):
            self._literal(node, f"self.{node.attr.value}")
            return False
        if node.attr.value.startswith("__") and not node.attr.value.endswith("__"):
            self.mangled = True
        node.value.visit(self)
        return False

    # -- names ------------------------------------------------------------------------------
    def visit_Name(self, node: cst.Name) -> None:
        self.free.add(node.value)

    def visit_Import(self, node: cst.Import) -> bool:
        for alias in node.names:
            bound = alias.asname.name if alias.asname is not None else alias.name
            if isinstance(bound, cst.Name):
                self.local.add(bound.value)
            elif isinstance(bound, cst.Attribute):
                root = bound
                while isinstance(root, cst.Attribute):
                    root = root.value
                if isinstance(root, cst.Name):
                    self.local.add(root.value)
        return False

    def visit_ImportFrom(self, node: cst.ImportFrom) -> bool:
        if not isinstance(node.names, cst.ImportStar):
            for alias in node.names:
                bound = alias.asname.name if alias.asname is not None else alias.name
                if isinstance(bound, cst.Name):
                    self.local.add(bound.value)
        return False


def _target_hint(target: cst.BaseExpression | None) -> str | None:
    if isinstance(target, cst.Name):
        return target.value
    if isinstance(target, cst.Attribute):
        return target.attr.value.lstrip("_") or None
    return None


class _Normalizer(cst.CSTTransformer):
    """Literals become one placeholder name; local names become their order of first use."""

    def __init__(self, local: set[str], placeholders: frozenset[str], literal_ids: set[int]) -> None:
        self.local = local
        self.placeholders = placeholders
        self.literal_ids = literal_ids
        self.renamed: dict[str, str] = {}

    def _placeholder(self, original: cst.CSTNode, updated: cst.CSTNode) -> cst.CSTNode:
        return cst.Name(LITERAL) if id(original) in self.literal_ids else updated

    def leave_SimpleString(self, original_node, updated_node):
        return self._placeholder(original_node, updated_node)

    def leave_ConcatenatedString(self, original_node, updated_node):
        return self._placeholder(original_node, updated_node)

    def leave_Integer(self, original_node, updated_node):
        return self._placeholder(original_node, updated_node)

    def leave_Float(self, original_node, updated_node):
        return self._placeholder(original_node, updated_node)

    def leave_FormattedStringText(self, original_node, updated_node):
        if id(original_node) in self.literal_ids:
            return cst.FormattedStringExpression(expression=cst.Name(LITERAL))
        return updated_node

    def leave_Call(self, original_node, updated_node):
        if id(original_node) not in self.literal_ids:
            return updated_node
        rebuilt = _REBUILT_BY_NAME.get(getattr(original_node.func, "value", None))
        if rebuilt is not None:  # a consolidated mixin's list(self.TAGS) lines up with a copy's list literal
            return rebuilt(elements=[cst.Element(cst.Name(LITERAL))])
        return cst.Name(LITERAL)

    def _container(self, original, updated):
        """A container literal keeps its kind: a list of tags is not the same code as a string."""
        if id(original) not in self.literal_ids:
            return updated
        return type(original)(elements=[cst.Element(cst.Name(LITERAL))])

    def leave_List(self, original_node, updated_node):
        return self._container(original_node, updated_node)

    def leave_Set(self, original_node, updated_node):
        return self._container(original_node, updated_node)

    def leave_Attribute(self, original_node, updated_node):
        if id(original_node) in self.literal_ids:
            return cst.Name(LITERAL)
        return updated_node.with_changes(attr=original_node.attr)

    def leave_Arg(self, original_node, updated_node):
        return updated_node.with_changes(keyword=original_node.keyword)

    def visit_Import(self, node) -> bool:
        return False

    def visit_ImportFrom(self, node) -> bool:
        return False

    def leave_FunctionDef(self, original_node, updated_node):
        return updated_node.with_changes(name=original_node.name)

    def leave_Name(self, original_node, updated_node):
        if original_node.value in self.local:
            canonical = self.renamed.setdefault(original_node.value, f"__omnimix_v{len(self.renamed)}")
            return updated_node.with_changes(value=canonical)
        return updated_node
