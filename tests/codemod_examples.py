"""Run a codemod's before/after examples through the real engine, as its unit tests do."""

from __future__ import annotations

from pathlib import Path

from codemods.base import Codemod, Example
from codemods.declared_mixins import ApplyDeclaredMixins
from omnimix.discovery import node_dirs, python_files
from omnimix.engine import migrate_node
from omnimix.results import NodeResult


def write_example_node(example: Example, root: Path, text: str | None = None) -> Path:
    """A package ``pkg/example_node`` holding the example's node module and contract."""
    package = root / "pkg"
    node = package / "example_node"
    node.mkdir(parents=True, exist_ok=True)
    (package / "__init__.py").write_text("", encoding="utf-8")
    (node / "__init__.py").write_text("", encoding="utf-8")
    (node / "node.py").write_text(example.before if text is None else text, encoding="utf-8")
    (node / "contract.yaml").write_text(example.contract, encoding="utf-8")
    return node


def run_example(codemod_cls: type[Codemod], example: Example, root: Path,
                text: str | None = None) -> tuple[str, NodeResult]:
    """Migrate the example node with this codemod plus bases/imports; return the new node.py text."""
    node_dir = write_example_node(example, root, text)
    codemods = [codemod_cls()] if codemod_cls is ApplyDeclaredMixins else [codemod_cls(), ApplyDeclaredMixins()]
    node = node_dirs(node_dir)[0]
    result = migrate_node(node, root, allow_unsafe=example.unsafe, allow_longer=True, codemods=codemods,
                          repository_files=tuple(python_files([root])))
    original = example.before if text is None else text
    after = next((c.after for c in result.changes if c.path.name == "node.py"), original)
    return (after if after is not None else ""), result


def assert_example(codemod_cls: type[Codemod], example: Example, root: Path) -> None:
    """The example's after text, its warning, and idempotency on a second run."""
    after, result = run_example(codemod_cls, example, root / "first")
    messages = " ".join([result.message, *result.warnings])
    assert after == example.after, f"{example.title}: unexpected output\n{after}\n{messages}"
    if example.warning:
        assert example.warning in messages, f"{example.title}: missing warning {example.warning!r} in {messages!r}"
    again, second = run_example(codemod_cls, example, root / "second", text=after)
    assert again == after, f"{example.title}: second run changed the output\n{again}"
