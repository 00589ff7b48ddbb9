"""What a module-level name means in a node module, so moved code can mean the same in a mixin module."""

from __future__ import annotations

import re
from dataclasses import dataclass

import libcst as cst
from libcst.helpers import get_absolute_module_from_package, get_full_name_for_node

LOGGER = re.compile(r"^(logging\.getLogger|structlog\.get_logger|getLogger|get_logger)\(__name__\)$")


@dataclass(frozen=True)
class Binding:
    """``kind`` is ``import``, ``logger`` or ``assign``; ``code`` is the statement to repeat."""

    kind: str
    code: str


def binding_of(module: cst.Module, name: str, package: str | None) -> Binding | None:
    """How ``module`` binds ``name`` at top level, or None when it is something omnimix will not move."""
    for statement in module.body:
        if isinstance(statement, cst.SimpleStatementLine):
            for small in statement.body:
                found = _small_binding(module, small, name, package)
                if found is not None:
                    return found
        elif isinstance(statement, cst.If) and _is_type_checking(statement):
            continue
        elif isinstance(statement, (cst.FunctionDef, cst.ClassDef)) and statement.name.value == name:
            return None
    return None


def _small_binding(module: cst.Module, small: cst.BaseSmallStatement, name: str, package: str | None) -> Binding | None:
    if isinstance(small, cst.Import):
        for alias in small.names:
            full = get_full_name_for_node(alias.name) or ""
            bound = alias.asname.name.value if alias.asname and isinstance(alias.asname.name, cst.Name) else full.split(".")[0]
            if bound == name:
                code = f"import {full}" + (f" as {bound}" if alias.asname else "")
                return Binding("import", code)
    if isinstance(small, cst.ImportFrom) and not isinstance(small.names, cst.ImportStar):
        for alias in small.names:
            imported = get_full_name_for_node(alias.name) or ""
            bound = alias.asname.name.value if alias.asname and isinstance(alias.asname.name, cst.Name) else imported
            if bound != name:
                continue
            source = get_full_name_for_node(small.module) if small.module is not None else ""
            if small.relative:
                if package is None:
                    return None
                dots = "." * len(small.relative)
                source = get_absolute_module_from_package(package, f"{dots}{source or ''}".rstrip(".") or None)
                if source is None:
                    return None
            suffix = f" as {bound}" if alias.asname else ""
            return Binding("import", f"from {source} import {imported}{suffix}")
    if isinstance(small, (cst.Assign, cst.AnnAssign)):
        targets = [t.target for t in small.targets] if isinstance(small, cst.Assign) else [small.target]
        if any(isinstance(t, cst.Name) and t.value == name for t in targets) and small.value is not None:
            value = module.code_for_node(small.value)
            if LOGGER.match(value):
                return Binding("logger", value)
            return Binding("assign", module.code_for_node(small).strip())
    return None


def _is_type_checking(statement: cst.If) -> bool:
    return get_full_name_for_node(statement.test) in ("TYPE_CHECKING", "typing.TYPE_CHECKING")


def has_future_annotations(module: cst.Module) -> bool:
    for statement in module.body:
        if isinstance(statement, cst.SimpleStatementLine):
            for small in statement.body:
                if (isinstance(small, cst.ImportFrom) and get_full_name_for_node(small.module) == "__future__"
                        and not isinstance(small.names, cst.ImportStar)
                        and any(get_full_name_for_node(a.name) == "annotations" for a in small.names)):
                    return True
    return False
