"""Load YAML together with the line of every key, so errors can name file, line and field."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

#: A YAML file larger than this is refused before parsing (contracts are a few kilobytes).
MAX_YAML_BYTES = 1024 * 1024
#: Values a document may expand to through anchors and aliases; more is refused (a "billion laughs" file).
MAX_YAML_NODES = 100_000


class YamlError(Exception):
    """A YAML file that cannot be read or parsed; the message names file and line (also in ``line``)."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.line = line


def load_with_lines(path: Path) -> tuple[Any, dict[tuple[str | int, ...], int]]:
    """Parse ``path``; return the data and a map from key path to 1-based line.

    Refused with the line: a file over ``MAX_YAML_BYTES``, a key set twice in one mapping, and aliases
    that expand to more than ``MAX_YAML_NODES`` values."""
    try:
        size = path.stat().st_size
        if size > MAX_YAML_BYTES:
            raise YamlError(f"{path}: cannot read: {size} bytes is over the limit of {MAX_YAML_BYTES} bytes "
                            "for a YAML file")
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise YamlError(f"{path}: cannot read: {exc}") from exc
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        if root is not None:
            _check_structure(path, root)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark is not None else str(path)
        problem = getattr(exc, "problem", None) or str(exc)
        raise YamlError(f"{where}: invalid YAML: {problem}") from exc
    except RecursionError as exc:
        raise YamlError(f"{path}: invalid YAML: nested too deeply") from exc
    lines: dict[tuple[str | int, ...], int] = {}
    if root is not None:
        _walk(root, (), lines)
    return data, lines


def _check_structure(path: Path, root: yaml.Node) -> None:
    """Duplicate keys (PyYAML keeps the last silently) and alias expansion beyond ``MAX_YAML_NODES``."""
    sizes: dict[int, int] = {}
    open_nodes: set[int] = set()

    def size(node: yaml.Node) -> int:  # values the node stands for once every alias is expanded
        if id(node) in sizes:
            return sizes[id(node)]
        if id(node) in open_nodes:
            line = node.start_mark.line + 1
            raise YamlError(f"{path}:{line}: invalid YAML: an alias refers to the anchor it is inside of "
                            "(a recursive value)", line)
        open_nodes.add(id(node))
        total = 1
        if isinstance(node, yaml.MappingNode):
            seen: dict[object, int] = {}
            for key, value in node.value:
                if isinstance(key, yaml.ScalarNode) and key.tag != "tag:yaml.org,2002:merge":
                    if key.value in seen:
                        line = key.start_mark.line + 1
                        raise YamlError(f"{path}:{line}: invalid YAML: key {key.value!r} is set twice in one "
                                        f"mapping (also line {seen[key.value]})", line)
                    seen[key.value] = key.start_mark.line + 1
                total += size(key) + size(value)
        elif isinstance(node, yaml.SequenceNode):
            total += sum(size(item) for item in node.value)
        if total > MAX_YAML_NODES:
            line = node.start_mark.line + 1
            raise YamlError(f"{path}:{line}: invalid YAML: anchors and aliases expand to more than "
                            f"{MAX_YAML_NODES} values", line)
        open_nodes.discard(id(node))
        sizes[id(node)] = total
        return total

    size(root)


def line_of(lines: dict[tuple[str | int, ...], int], loc: tuple[str | int, ...]) -> int | None:
    """The line of ``loc`` or of its nearest ancestor that has one."""
    for end in range(len(loc), -1, -1):
        if loc[:end] in lines:
            return lines[loc[:end]]
    return None


def _walk(node: yaml.Node, path: tuple[str | int, ...], lines: dict) -> None:
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            child = (*path, key.value)
            lines[child] = key.start_mark.line + 1
            _walk(value, child, lines)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _walk(item, (*path, index), lines)
