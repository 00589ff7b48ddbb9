"""Text of a consolidated mixin module, and the rewrite of a node class onto it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import libcst as cst

from omnimix.analysis.imports import add_imports
from omnimix.consolidation.bindings import Binding

WRAP_AT = 100


def python_string(value: str) -> str:
    """``value`` as a double-quoted Python string literal (safe for any text)."""
    escaped = value.encode("unicode_escape").decode("ascii").replace('"', '\\"')
    return f'"{escaped}"'


def python_docstring(text: str) -> str:
    """``text`` as a triple-quoted literal that reads back as ``text``: backslashes, double quotes and
    unprintable characters (other than newlines) escaped, so text from paths cannot end it early."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    escaped = "".join(c if c == "\n" or c.isprintable() else c.encode("unicode_escape").decode("ascii")
                      for c in escaped)
    return f'"""{escaped}"""'


class ReplaceLiterals(cst.CSTTransformer):
    """Literal nodes (by identity) become an expression such as ``self.X``; text inside an f-string
    becomes ``{self.X}``."""

    def __init__(self, expressions: Mapping[int, str]) -> None:
        self.expressions = expressions

    def _swap(self, original: cst.CSTNode, updated: cst.CSTNode) -> cst.CSTNode:
        code = self.expressions.get(id(original))
        return updated if code is None else cst.parse_expression(code)

    def leave_SimpleString(self, original_node, updated_node):
        return self._swap(original_node, updated_node)

    def leave_ConcatenatedString(self, original_node, updated_node):
        return self._swap(original_node, updated_node)

    def leave_Integer(self, original_node, updated_node):
        return self._swap(original_node, updated_node)

    def leave_Call(self, original_node, updated_node):
        return self._swap(original_node, updated_node)

    def leave_Float(self, original_node, updated_node):
        return self._swap(original_node, updated_node)

    def leave_List(self, original_node, updated_node):
        return self._swap(original_node, updated_node)

    def leave_Set(self, original_node, updated_node):
        return self._swap(original_node, updated_node)

    def leave_FormattedStringText(self, original_node, updated_node):
        code = self.expressions.get(id(original_node))
        if code is None:
            return updated_node
        return cst.FormattedStringExpression(expression=cst.parse_expression(code))


def mixin_module(
    *,
    class_name: str,
    docstring: str,
    methods: Sequence[cst.FunctionDef],
    attributes: Sequence[tuple[str, str]],
    bindings: Sequence[Binding],
    future_annotations: bool,
) -> str:
    """The source of a new mixin module: imports, logger, and one class with ``methods``.

    ``attributes`` are ``(name, type name)`` pairs that every host class sets.
    """
    header = [python_docstring(docstring), ""]
    if future_annotations:
        header += ["from __future__ import annotations", ""]
    imports = sorted({b.code for b in bindings if b.kind == "import"}, key=_import_sort_key)
    loggers = [b for b in bindings if b.kind == "logger"]
    if loggers and not any(code in ("import logging",) for code in imports) and loggers[0].code.startswith("logging."):
        imports = sorted({*imports, "import logging"}, key=_import_sort_key)
    lines = header + imports
    assigns = sorted({b.code for b in bindings if b.kind == "assign"})
    if imports:
        lines.append("")
    for binding in loggers[:1]:
        lines.append(f"logger = {binding.code}")
    lines += assigns
    if loggers or assigns:
        lines.append("")
    members: list[cst.BaseStatement] = [cst.parse_statement(
        '"""Host classes set the attributes annotated below; the methods are theirs, moved here."""\n')]
    for index, (name, type_name) in enumerate(attributes):
        line = cst.parse_statement(f"{name}: {type_name}\n")
        members.append(line.with_changes(leading_lines=(cst.EmptyLine(indent=False),)) if index == 0 else line)
    for method in methods:
        members.append(method.with_changes(leading_lines=(cst.EmptyLine(indent=False),)))
    cls = cst.ClassDef(name=cst.Name(class_name), body=cst.IndentedBlock(body=members))
    return "\n".join(lines).rstrip() + "\n\n\n" + cst.Module(body=[cls]).code


def _import_sort_key(code: str) -> tuple[int, str]:
    module = code.split()[1]
    return (0 if module in _STDLIB_HINT or module.split(".")[0] in _STDLIB_HINT else 1, code)


_STDLIB_HINT = frozenset({"asyncio", "logging", "os", "time", "json", "random", "re", "typing", "uuid",
                          "datetime", "collections", "contextlib", "dataclasses", "enum", "functools"})


class MoveOntoMixin(cst.CSTTransformer):
    """Remove the moved methods from the node class, set its attributes, and put the mixin first."""

    def __init__(self, class_name: str, mixin: str, removed: set[str], attributes: Sequence[tuple[str, str]]) -> None:
        self.class_name = class_name
        self.mixin = mixin
        self.removed = removed
        self.attributes = attributes
        self.done = False

    def leave_ClassDef(self, original_node: cst.ClassDef, updated_node: cst.ClassDef) -> cst.ClassDef:
        if original_node.name.value != self.class_name or not isinstance(updated_node.body, cst.IndentedBlock):
            return updated_node
        body = [s for s in updated_node.body.body
                if not (isinstance(s, cst.FunctionDef) and s.name.value in self.removed)]
        position = 1 if body and _is_docstring(body[0]) else 0
        assigns = [cst.parse_statement(f"{name} = {value}\n") for name, value in self.attributes]
        if assigns:
            if position:
                assigns[0] = assigns[0].with_changes(leading_lines=(cst.EmptyLine(indent=False),))
            if position < len(body):
                body[position] = body[position].with_changes(
                    leading_lines=(cst.EmptyLine(indent=False), *[l for l in body[position].leading_lines if l.comment]))
            body[position:position] = assigns
        bases = [cst.Arg(value=cst.Name(self.mixin)), *updated_node.bases]
        if any(cst.helpers.get_full_name_for_node(b.value) == self.mixin for b in updated_node.bases):
            bases = list(updated_node.bases)
        self.done = True
        wrapped = _wrapped(updated_node, bases)
        lpar = updated_node.lpar
        if any(isinstance(b.comma, cst.Comma) and isinstance(b.comma.whitespace_after, cst.ParenthesizedWhitespace)
               for b in wrapped):
            lpar = cst.LeftParen(whitespace_after=cst.ParenthesizedWhitespace(
                first_line=cst.TrailingWhitespace(), empty_lines=(), indent=True,
                last_line=cst.SimpleWhitespace("    ")))
        elif isinstance(lpar, cst.LeftParen):
            lpar = cst.LeftParen()
        return updated_node.with_changes(bases=wrapped, lpar=lpar, body=updated_node.body.with_changes(body=body))

    def leave_Module(self, original_node, updated_node):
        return updated_node


def _wrapped(cls: cst.ClassDef, bases: list[cst.Arg]) -> list[cst.Arg]:
    """Bases separated by ``, `` on one line, or one per line when the header would be too long."""
    names = ", ".join(cst.Module(body=[]).code_for_node(b.value) for b in bases)
    one_line = [b.with_changes(comma=cst.MaybeSentinel.DEFAULT) for b in bases]
    if len(f"class {cls.name.value}({names}):") <= WRAP_AT:
        cleaned = []
        for index, base in enumerate(one_line):
            last = index == len(one_line) - 1
            cleaned.append(base.with_changes(comma=cst.MaybeSentinel.DEFAULT if last else cst.Comma(
                whitespace_after=cst.SimpleWhitespace(" "))))
        return cleaned
    wrapped = []
    for base in one_line:
        wrapped.append(base.with_changes(comma=cst.Comma(whitespace_after=cst.ParenthesizedWhitespace(
            first_line=cst.TrailingWhitespace(), empty_lines=(), indent=True,
            last_line=cst.SimpleWhitespace("    ")))))
    last = wrapped[-1]
    wrapped[-1] = last.with_changes(comma=cst.Comma(whitespace_after=cst.ParenthesizedWhitespace(
        first_line=cst.TrailingWhitespace(), empty_lines=(), indent=True, last_line=cst.SimpleWhitespace(""))))
    return wrapped


def _is_docstring(statement: cst.CSTNode) -> bool:
    return (isinstance(statement, cst.SimpleStatementLine) and len(statement.body) == 1
            and isinstance(statement.body[0], cst.Expr)
            and isinstance(statement.body[0].value, (cst.SimpleString, cst.ConcatenatedString)))


def rewrite_node_module(
    module: cst.Module,
    *,
    module_name: str | None,
    class_name: str,
    mixin_module_name: str,
    mixin: str,
    removed: set[str],
    attributes: Sequence[tuple[str, str]],
    unused_candidates: Sequence[tuple[str, str | None]],
) -> str:
    """The node module moved onto ``mixin``; imports only the moved code used are removed."""
    from libcst.codemod import CodemodContext  # only a consolidation needs it
    from libcst.codemod.visitors import AddImportsVisitor, RemoveImportsVisitor

    mover = MoveOntoMixin(class_name, mixin, removed, attributes)
    module = module.visit(mover)
    package = module_name.rpartition(".")[0] if module_name else None
    context = CodemodContext(full_module_name=module_name, full_package_name=package or None)
    AddImportsVisitor.add_needed_import(context, mixin_module_name, mixin)
    module = add_imports(context, module)
    for imported, obj in unused_candidates:
        RemoveImportsVisitor.remove_unused_import(context, imported, obj)
    if unused_candidates:
        module = RemoveImportsVisitor(context).transform_module(module)
    return module.code
