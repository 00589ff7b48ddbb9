"""Imports added the way LibCST's ``AddImportsVisitor`` adds them, at the cost of the module's head."""

from __future__ import annotations

from dataclasses import replace

import libcst as cst
from libcst.codemod import Codemod, CodemodContext
from libcst.metadata import MetadataWrapper


def add_imports(context: CodemodContext, module: cst.Module) -> cst.Module:
    """``module`` with the imports that ``AddImportsVisitor.add_needed_import`` asked for in ``context``.

    The visitor reads and changes only the module's head: the statements up to the end of its first import
    block (after a docstring or ``__strict__`` flag), and the leading lines of the statement after it. It is
    run on that head, with a stand-in for the statement after it, and the rest of the module is kept as it is:
    visiting a whole node module was the costliest step. ``tests/test_add_imports.py`` holds the result equal
    to the whole visit's."""
    from libcst.codemod.visitors import AddImportsVisitor  # only a rewrite needs it

    body = list(module.body)
    start = 1 if body and _is_docstring_or_strict(body[0]) else 0
    end = start
    while end < len(body) and _is_import_line(body[end]):
        end += 1
    after = body[end] if end < len(body) else None
    stand_in = [cst.SimpleStatementLine([cst.Pass()], leading_lines=after.leading_lines)] if after else []
    head = transform_in_place(AddImportsVisitor(context), module.with_changes(body=[*body[:end], *stand_in]))
    if after is None:
        return head
    *new_head, placed = head.body
    return module.with_changes(body=[*new_head, after.with_changes(leading_lines=placed.leading_lines),
                                     *body[end + 1:]])


def transform_in_place(codemod: Codemod, module: cst.Module) -> cst.Module:
    """``Codemod.transform_module`` minus its deep copy of the tree (the costliest step on big files)."""
    wrapper = MetadataWrapper(module, unsafe_skip_copy=True)
    with codemod.resolve(wrapper):
        codemod.context = replace(codemod.context, wrapper=wrapper)
        return codemod.transform_module_impl(wrapper.module)


def _is_import_line(statement: cst.BaseStatement) -> bool:
    return (isinstance(statement, cst.SimpleStatementLine) and len(statement.body) == 1
            and isinstance(statement.body[0], (cst.Import, cst.ImportFrom)))


def _is_docstring_or_strict(statement: cst.BaseStatement) -> bool:
    """The first statements ``AddImportsVisitor`` never puts an import before."""
    if not isinstance(statement, cst.SimpleStatementLine) or len(statement.body) != 1:
        return False
    first = statement.body[0]
    if isinstance(first, cst.Expr):
        return isinstance(first.value, cst.SimpleString)
    return (isinstance(first, cst.Assign) and len(first.targets) == 1
            and isinstance(first.targets[0].target, cst.Name) and first.targets[0].target.value == "__strict__")
