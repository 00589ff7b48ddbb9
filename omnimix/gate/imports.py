"""Gate stage 3, imports: every import of the changed files resolves in the target interpreter.

The statements are collected here (relative imports made absolute) and executed by the probe
in a subprocess of the target interpreter, with the migrated copy first on sys.path. A deleted
module must not be imported by any file left in the repository.
"""

from __future__ import annotations

import ast
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from omnimix.discovery import dotted_module_name, python_files
from omnimix.gate.results import StageResult, failed, passed
from omnimix.gate.workspace import Workspace
from omnimix.results import FileChange

NAME = "imports"
SHOWN = 5


@dataclass(frozen=True)
class ImportStatement:
    """One imported name of one import statement, as code the probe can execute."""

    file: str
    line: int
    code: str
    source: str
    guarded: bool

    def to_spec(self) -> dict[str, object]:
        return {"file": self.file, "line": self.line, "code": self.code}


def module_of(change: FileChange) -> str | None:
    return dotted_module_name(change.path)


def collect(change: FileChange, text: str) -> list[ImportStatement]:
    """The import statements of ``text`` (a version of ``change``), one per imported name."""
    tree = ast.parse(text)
    module = module_of(change)
    package = module if change.path.name == "__init__.py" else (module.rpartition(".")[0] if module else None)
    guarded = _guarded_imports(tree)
    statements = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            codes = [f"import {alias.name}" for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.module == "__future__":
                continue
            base = _absolute(node, package)
            if base is None:
                codes = [f"raise ImportError('relative import outside a package: from {'.' * node.level}"
                         f"{node.module or ''} import ...')"]
            else:
                codes = [f"from {base} import {alias.name}" for alias in node.names]
        else:
            continue
        source = (ast.get_source_segment(text, node) or "").splitlines()[0]
        statements.extend(ImportStatement(change.display, node.lineno, code, source, node in guarded)
                          for code in codes)
    return statements


def _absolute(node: ast.ImportFrom, package: str | None) -> str | None:
    if node.level == 0:
        return node.module
    if not package:
        return None
    parts = package.split(".")
    if node.level - 1 > len(parts) - 1:
        return None
    base = parts[: len(parts) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


def _guarded_imports(tree: ast.Module) -> set[ast.AST]:
    """Imports inside ``try`` blocks that catch ImportError (optional dependencies)."""
    catches = {"ImportError", "ModuleNotFoundError", "Exception", "BaseException"}
    guarded: set[ast.AST] = set()
    for node in ast.walk(tree):
        if not isinstance(node, ast.Try):
            continue
        names = set()
        for handler in node.handlers:
            if handler.type is None:
                names.add("Exception")
            for item in (handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]):
                if isinstance(item, ast.Name):
                    names.add(item.id)
        if names & catches:
            for statement in node.body:
                guarded.update(n for n in ast.walk(statement) if isinstance(n, (ast.Import, ast.ImportFrom)))
    return guarded


def plan(changes: Sequence[FileChange]) -> tuple[list[str], list[ImportStatement]]:
    """The changed modules to import and the import statements to execute, for the probe."""
    modules, statements = [], []
    for change in changes:
        if not change.changed or change.after is None or change.path.suffix != ".py":
            continue
        module = module_of(change)
        if module:
            modules.append(module)
        statements.extend(collect(change, change.after))
    return modules, statements


def deleted_importers(changes: Sequence[FileChange], workspace: Workspace) -> list[str]:
    """'file:line imports deleted module M' for every unchanged file of the migrated copy importing one."""
    deleted = {module: change for change in changes if change.after is None and (module := module_of(change))}
    if not deleted:
        return []
    stems = {module.rpartition(".")[2] for module in deleted}
    checked = {workspace.in_copy(change.path, workspace.after).resolve() for change in changes if change.changed}
    problems = []
    for path in python_files([workspace.after]):
        if path in checked:
            continue  # a changed file: the probe executes its imports
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        if not any(stem in text for stem in stems):
            continue
        original = workspace.root / path.relative_to(workspace.after.resolve())
        try:
            statements = collect(FileChange(original, str(path.relative_to(workspace.after.resolve())), text, text),
                                 text)
        except SyntaxError:
            continue
        for statement in statements:
            target = statement.code.split()[1]
            name = statement.code.split()[-1]
            for module in deleted:
                if target == module or target.startswith(module + ".") or f"{target}.{name}" == module:
                    problems.append(f"{statement.file}:{statement.line}: `{statement.source}` imports the "
                                    f"deleted module {module}")
    return problems


def judge(
    output: dict | None,
    statements: Sequence[ImportStatement],
    deleted: Sequence[str],
    seconds: float,
    probe_failure: str | None,
    pre_existing: set[tuple[str, str]] = frozenset(),
) -> StageResult:
    """The stage result from the probe's output (None when the probe died: ``probe_failure`` says why)."""
    if output is None:
        return failed(NAME, f"the import probe did not finish: {probe_failure}", seconds)
    if output.get("probe_error"):
        return failed(NAME, "; ".join(output["problems"]), seconds, internal_error=True)
    problems = []
    optional = []
    kept = []
    by_code = {(s.file, s.line, s.code): s for s in statements}
    for entry in output["statements"]:
        if entry["ok"]:
            continue
        statement = by_code[(entry["file"], entry["line"], entry["code"])]
        message = f"{statement.file}:{statement.line}: `{statement.source}`: {entry['error']}"
        if statement.guarded:
            optional.append(message)
        elif (statement.file, statement.code) in pre_existing:
            kept.append(message)
        else:
            problems.append(message)
    explained = bool(problems or kept)  # a failed statement already explains why its module fails
    for entry in output["modules"]:
        if not entry["ok"] and (not explained or "outside the temporary copy" in entry["error"]):
            problems.append(f"importing {entry['module']}: {entry['error']}")
    problems.extend(deleted)
    details = {"statements": len(output["statements"]), "modules": [m["module"] for m in output["modules"]],
               "optional_unresolved": optional, "unresolved_before_migration": kept}
    if problems:
        shown = "; ".join(problems[:SHOWN]) + (f"; and {len(problems) - SHOWN} more" if len(problems) > SHOWN else "")
        return failed(NAME, shown, seconds, problems=problems, **details)
    note = f" ({len(kept)} already unresolved before the migration)" if kept else ""
    return passed(NAME, f"{len(output['statements'])} import(s) of {len(output['modules'])} changed module(s) "
                        f"resolve{note}", seconds, **details)


def suspects(output: dict | None, statements: Sequence[ImportStatement],
             before: dict[Path, str], changes: Sequence[FileChange]) -> list[ImportStatement]:
    """Failed imports that the file already had before the migration: maybe not omnimix's doing."""
    if not output or output.get("probe_error"):
        return []
    failed_keys = {(e["file"], e["code"]) for e in output["statements"] if not e["ok"]}
    earlier = set()
    for change in changes:
        if before.get(change.path) is not None:
            try:
                earlier.update((s.file, s.code) for s in collect(change, before[change.path]))
            except SyntaxError:
                continue
    return [s for s in statements if (s.file, s.code) in failed_keys & earlier]
