"""Syntax queries shared by codemods: dotted names, ``self.`` attributes, statement blocks and spans, a module's
imports and the symbols they resolve to."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import libcst as cst

from omnimix.analysis.context import FileContext
from omnimix.analysis.module_cache import parse_file
from omnimix.analysis.tree import walk

LOG_METHODS = frozenset({"debug", "info", "warning", "warn", "error", "exception", "critical", "log", "fatal"})


# ``type(x) is cst.Name`` rather than ``isinstance``: LibCST's node classes are final, and an isinstance test
# against them goes through ABCMeta; these helpers run on every node a detector looks at.
def dotted_name(expr: cst.BaseExpression | None) -> str | None:
    """``a.b.c`` for a chain of names and attributes, else None."""
    kind = type(expr)
    if kind is cst.Name:
        return expr.value  # type: ignore[union-attr]
    if kind is cst.Attribute:
        base = dotted_name(expr.value)  # type: ignore[union-attr]
        return f"{base}.{expr.attr.value}" if base else None  # type: ignore[union-attr]
    return None


def self_attr(expr: cst.CSTNode) -> str | None:
    """``x`` for ``self.x``."""
    if type(expr) is cst.Attribute:
        value = expr.value  # type: ignore[attr-defined]
        if type(value) is cst.Name and value.value == "self":
            return expr.attr.value  # type: ignore[attr-defined]
    return None


def walk_body(func: cst.FunctionDef) -> Iterator[cst.CSTNode]:
    """Everything in a function's body, not descending into nested definitions."""
    yield from walk(func.body)


def is_logging_call(node: cst.CSTNode) -> bool:
    """``logger.warning(...)``, ``self._log.info(...)``, ``log(...)``: a call that only logs."""
    if not isinstance(node, cst.Call):
        return False
    func = node.func
    if isinstance(func, cst.Attribute) and func.attr.value in LOG_METHODS:
        receiver = dotted_name(func.value) or ""
        return "log" in receiver.rsplit(".", 1)[-1].lower() or receiver == "logging"
    if isinstance(func, cst.Name):
        return func.value in {"log", "_log"}
    if isinstance(func, cst.Attribute) and func.attr.value in {"_log", "log"}:
        return True
    return False


def is_logging_statement(stmt: cst.CSTNode) -> bool:
    if not isinstance(stmt, cst.SimpleStatementLine) or len(stmt.body) != 1:
        return False
    small = stmt.body[0]
    if not isinstance(small, cst.Expr):
        return False
    value = small.value.expression if isinstance(small.value, cst.Await) else small.value
    return is_logging_call(value)


def body_statements(func: cst.FunctionDef) -> list[cst.BaseStatement]:
    """The statements of a function, without its docstring."""
    body = list(func.body.body) if isinstance(func.body, cst.IndentedBlock) else []
    if body and isinstance(body[0], cst.SimpleStatementLine) and len(body[0].body) == 1:
        first = body[0].body[0]
        if isinstance(first, cst.Expr) and isinstance(first.value, (cst.SimpleString, cst.ConcatenatedString)):
            body = body[1:]
    return body


def child_blocks(stmt: cst.CSTNode) -> list[list[cst.BaseStatement]]:
    """The statement lists nested in a compound statement (bodies, branches, handlers)."""
    blocks: list[list[cst.BaseStatement]] = []

    def add(suite: cst.CSTNode | None) -> None:
        if isinstance(suite, cst.IndentedBlock):
            blocks.append(list(suite.body))

    if isinstance(stmt, cst.If):
        add(stmt.body)
        orelse = stmt.orelse
        while isinstance(orelse, cst.If):
            add(orelse.body)
            orelse = orelse.orelse
        if isinstance(orelse, cst.Else):
            add(orelse.body)
    elif isinstance(stmt, (cst.Try, cst.TryStar)):
        add(stmt.body)
        for handler in stmt.handlers:
            add(handler.body)
        if stmt.orelse:
            add(stmt.orelse.body)
        if stmt.finalbody:
            add(stmt.finalbody.body)
    elif isinstance(stmt, (cst.For, cst.While)):
        add(stmt.body)
        if stmt.orelse:
            add(stmt.orelse.body)
    elif isinstance(stmt, cst.With):
        add(stmt.body)
    return blocks


def function_symbols(ctx: FileContext) -> list[tuple[str, cst.FunctionDef]]:
    return [(s.name, s.node) for s in ctx.symbols.symbols if isinstance(s.node, cst.FunctionDef)]


def merge_spans(ctx: FileContext, spans: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """Join spans that touch or are separated only by blank or comment lines, within one symbol."""
    merged: list[tuple[int, int]] = []
    for start, end in sorted(set(spans)):
        if merged:
            last_start, last_end = merged[-1]
            gap = ctx.lines[last_end:start - 1]
            if (start <= last_end + 1 or all(not line.strip() or line.strip().startswith("#") for line in gap)) \
                    and ctx.symbols.enclosing(start) == ctx.symbols.enclosing(last_start):
                merged[-1] = (last_start, max(end, last_end))
                continue
        merged.append((start, end))
    return merged


def span_of(ctx: FileContext, node: cst.CSTNode) -> tuple[int, int]:
    symbol = ctx.symbols.of(node)
    if symbol is not None:
        return symbol.start_line, symbol.end_line
    return ctx.span(node)


@dataclass(frozen=True)
class Imported:
    """Where a local name comes from: ``from <module> import <name>`` (``level`` dots)."""

    module: str
    level: int
    name: str | None  # None for ``import module``


_IMPORT_TABLES: dict[int, tuple[cst.Module, dict[str, Imported]]] = {}


def import_table(module: cst.Module) -> dict[str, Imported]:
    """Local names bound by imports anywhere at module level (including try/except blocks)."""
    cached = _IMPORT_TABLES.get(id(module))
    if cached is not None and cached[0] is module:
        return cached[1]
    if len(_IMPORT_TABLES) > 16:
        _IMPORT_TABLES.clear()
    table = _import_table(module)
    _IMPORT_TABLES[id(module)] = (module, table)
    return table


def _import_table(module: cst.Module) -> dict[str, Imported]:
    table: dict[str, Imported] = {}
    for node in walk(module):
        if isinstance(node, cst.ImportFrom) and not isinstance(node.names, cst.ImportStar):
            source = dotted_name(node.module) if node.module is not None else ""
            for alias in node.names:
                name = dotted_name(alias.name) or ""
                local = dotted_name(alias.asname.name) if alias.asname else name
                table[local or name] = Imported(source or "", len(node.relative), name)
        elif isinstance(node, cst.Import):
            for alias in node.names:
                name = dotted_name(alias.name) or ""
                local = dotted_name(alias.asname.name) if alias.asname else name.split(".")[0]
                table[local or name] = Imported(name if alias.asname else name.split(".")[0], 0, None)
    return table


def _package_root(path: Path) -> Path:
    directory = path.parent
    while (directory / "__init__.py").is_file():
        directory = directory.parent
    return directory


def module_file(from_path: Path, module: str, level: int) -> Path | None:
    """The file a (relative or absolute) import in ``from_path`` refers to, when it is in the project."""
    if level:
        base = from_path.parent
        for _ in range(level - 1):
            base = base.parent
    else:
        base = _package_root(from_path)
    parts = [part for part in module.split(".") if part]
    if not parts:
        candidate = base / "__init__.py"
        return candidate if candidate.is_file() else None
    target = base.joinpath(*parts)
    if target.with_suffix(".py").is_file():
        return target.with_suffix(".py")
    if (target / "__init__.py").is_file():
        return target / "__init__.py"
    return None


def top_level_names(module: cst.Module) -> set[str]:
    names: set[str] = set()
    for stmt in module.body:
        if isinstance(stmt, (cst.ClassDef, cst.FunctionDef)):
            names.add(stmt.name.value)
    return names


def resolve_symbol(path: Path, module: cst.Module, local: str, depth: int = 3) -> tuple[Path, str] | None:
    """The project file and name a local name is defined as, following re-exports."""
    if local in top_level_names(module):
        return path, local
    imported = import_table(module).get(local)
    if imported is None or imported.name is None or depth <= 0:
        return None
    target = module_file(path, imported.module, imported.level)
    if target is None:
        return None
    target_module = parse_file(target)
    if target_module is None:
        return None
    return resolve_symbol(target, target_module, imported.name, depth - 1)


_NOT_STATE_CALLS = {"TypeVar", "ParamSpec", "NewType", "getLogger", "get_logger", "get_secure_logger"}


def module_constants_used_only_in(ctx: FileContext, covered: set[int], passed_through: frozenset[int] = frozenset()
                                  ) -> list[tuple[int, int, str]]:
    """Module-level assignments whose name is read, and read only on ``covered`` lines.

    Reads inside ``passed_through`` nodes (ids; arguments handed on to a guarded or retried call) are
    the protected operation's data, not concern code, so they count as reads elsewhere.
    """
    assignments: dict[str, list[cst.SimpleStatementLine]] = {}
    for node in walk(ctx.module):
        if not isinstance(node, cst.SimpleStatementLine) or ctx.symbols.enclosing(ctx.span(node)[0]) != "<module>":
            continue
        for small in node.body:
            target, value = None, None
            if isinstance(small, cst.Assign) and len(small.targets) == 1:
                target, value = small.targets[0].target, small.value
            elif isinstance(small, cst.AnnAssign) and small.value is not None:
                target, value = small.target, small.value
            if not isinstance(target, cst.Name) or target.value.startswith("__"):
                continue
            if isinstance(value, cst.Call) and (dotted_name(value.func) or "").rsplit(".", 1)[-1] in _NOT_STATE_CALLS:
                continue
            assignments.setdefault(target.value, []).append(node)
    if not assignments:
        return []
    targets = {id(small_target) for stmts in assignments.values() for stmt in stmts
               for small in stmt.body for small_target in assign_targets(small)}
    inside_passed = {id(n) for node in walk(ctx.module, into_defs=True) if id(node) in passed_through
                     for n in walk(node, into_defs=True)}
    reads: dict[str, list[int]] = {}
    for node in walk(ctx.module, into_defs=True):
        if isinstance(node, cst.Name) and node.value in assignments and id(node) not in targets:
            if node in ctx.positions:
                line = ctx.positions[node].start.line
                reads.setdefault(node.value, []).append(-line if id(node) in inside_passed else line)
    found = []
    for name, stmts in assignments.items():
        lines = [line for line in reads.get(name, [])
                 if not any(ctx.span(stmt)[0] <= abs(line) <= ctx.span(stmt)[1] for stmt in stmts)]
        if lines and all(line in covered for line in lines):
            for stmt in stmts:
                start, end = ctx.span(stmt)
                found.append((start, end, name))
    return found


def assign_targets(small: cst.CSTNode) -> list[cst.CSTNode]:
    """The targets an assignment statement writes."""
    kind = type(small)
    if kind is cst.Assign:
        return [t.target for t in small.targets]  # type: ignore[attr-defined]
    if kind is cst.AnnAssign or kind is cst.AugAssign:
        return [small.target]  # type: ignore[attr-defined]
    return []


def annotation_names(node: cst.CSTNode | None) -> set[str]:
    """Names mentioned by an annotation, including inside string annotations."""
    if node is None:
        return set()
    names = {n.value for n in walk(node) if isinstance(n, cst.Name)}
    for n in walk(node):
        if isinstance(n, cst.SimpleString):
            names.update(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", n.value))
    return names
