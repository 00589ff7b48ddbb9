"""Which classes are ONEX nodes: derived from an omnibase-core node base, directly or not."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import libcst as cst

NODE_BASES = {
    "NodeEffect": "effect",
    "NodeCompute": "compute",
    "NodeReducer": "reducer",
    "NodeOrchestrator": "orchestrator",
    "ModelServiceEffect": "effect",
    "ModelServiceCompute": "compute",
    "ModelServiceReducer": "reducer",
    "ModelServiceOrchestrator": "orchestrator",
}


@dataclass(frozen=True)
class NodeClass:
    """A node class: where it is, its direct bases, and the omnibase-core base it derives from."""

    name: str
    path: Path
    bases: tuple[str, ...]
    core_base: str

    @property
    def node_type(self) -> str:
        return NODE_BASES[self.core_base]


def base_names(node: cst.ClassDef) -> tuple[str, ...]:
    """The simple names of a class's bases: ``a.NodeEffect`` and ``NodeReducer[X, Y]`` included."""
    names = []
    for arg in node.bases:
        value = arg.value
        if isinstance(value, cst.Subscript):
            value = value.value
        if isinstance(value, cst.Attribute):
            names.append(value.attr.value)
        elif isinstance(value, cst.Name):
            names.append(value.value)
    return tuple(names)


def top_level_classes(module: cst.Module) -> list[cst.ClassDef]:
    return [statement for statement in module.body if isinstance(statement, cst.ClassDef)]


def find_node_classes(modules: dict[Path, cst.Module]) -> list[NodeClass]:
    """Node classes across ``modules``, following local base classes between them."""
    classes: dict[str, tuple[Path, tuple[str, ...]]] = {}
    for path, module in modules.items():
        for node in top_level_classes(module):
            classes.setdefault(node.name.value, (path, base_names(node)))
    resolved: dict[str, str | None] = {}

    def core_base(name: str, seen: frozenset[str]) -> str | None:
        if name in NODE_BASES:
            return name
        if name in resolved:
            return resolved[name]
        if name in seen or name not in classes:
            return None
        found = None
        for base in classes[name][1]:
            found = core_base(base, seen | {name})
            if found:
                break
        resolved[name] = found
        return found

    nodes = []
    for name, (path, bases) in classes.items():
        base = core_base(name, frozenset())
        if base is not None and name not in NODE_BASES:
            nodes.append(NodeClass(name, path, bases, base))
    return nodes
