"""Render the catalog as the Markdown reference `docs/reference/OMNIBASE_CORE_MIXIN_CATALOG.md`."""

from __future__ import annotations

from pathlib import Path

from omnimix.catalog import Catalog, CatalogEntry, MethodSpec, load_catalog

DOC_PATH = Path(__file__).resolve().parents[2] / "docs" / "reference" / "OMNIBASE_CORE_MIXIN_CATALOG.md"

_SECTIONS = (
    ("mixin", "Mixins"),
    ("node_base", "Node bases"),
    ("model", "Models"),
    ("method", "Methods"),
    ("function", "Functions"),
    ("enum", "Enums"),
)


def render_catalog_markdown(catalog: Catalog) -> str:
    """The whole reference document for `catalog`, ending with one newline."""
    lines = [
        "# omnibase-core mixin catalog",
        "",
        "<!-- Generated from catalog/*.yaml by omnimix.catalog.doc; do not edit by hand. -->",
        "",
        f"What omnimix knows about omnibase-core {catalog.omnibase_core_version}: every mixin it ships, the node "
        "built-ins omnimix migrates code to, and the names the library documents but does not ship. "
        "Every entry is checked against the installed package by `omnimix catalog verify`.",
        "",
        "## Contents",
        "",
    ]
    for kind, title in _SECTIONS:
        entries = [entry for entry in catalog.entries if entry.kind == kind]
        if entries:
            links = ", ".join(f"[{entry.name}](#{_anchor(entry.name)})" for entry in entries)
            lines += [f"- **{title}**: {links}"]
    lines += ["- [Not shipped](#not-shipped)", ""]
    for kind, title in _SECTIONS:
        entries = [entry for entry in catalog.entries if entry.kind == kind]
        if entries:
            lines += [f"## {title}", ""]
            for entry in entries:
                lines += _entry(entry)
    lines += _not_shipped(catalog)
    return "\n".join(lines).rstrip("\n") + "\n"


def write_catalog_markdown(catalog: Catalog, path: Path = DOC_PATH) -> Path:
    """Write the rendered reference to `path` and return it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_catalog_markdown(catalog), encoding="utf-8")
    return path


def _anchor(name: str) -> str:
    return "".join(ch for ch in name.lower() if ch.isalnum() or ch in "-_ ").replace(" ", "-")


def _entry(entry: CatalogEntry) -> list[str]:
    lines = [
        f"### {entry.name}",
        "",
        "```python",
        entry.import_line,
        "```",
        "",
        f"*{entry.kind}*, defined in `{entry.module}`.",
        "",
        f"**Purpose.** {entry.purpose}",
        "",
        f"**When to use.** {entry.when_to_use}",
        "",
    ]
    lines += _bullets("Capabilities", entry.capabilities)
    lines += _methods("Hooks (override in your node)", entry.hooks)
    lines += _methods("Methods", entry.methods)
    if entry.composition is not None:
        c = entry.composition
        lines += [
            "**Composition.**",
            "",
            f"- Node types: {_names(c.node_types) or 'none'}",
            f"- Must follow the node base: {'yes' if c.must_follow_node_base else 'no'}",
            f"- Incompatible with: {_names(c.incompatible_with) or 'nothing known'}",
            f"- Already in: {_names(c.already_in) or 'no node base'}",
            f"- Why: {c.reason}",
            "",
        ]
    lines += [f"**Replaces.** {_names(entry.replaces) or 'no migration concern'}", ""]
    lines += _bullets("Caveats", entry.caveats)
    if entry.config_keys:
        lines += [f"**Config keys.** {_names(entry.config_keys)}", ""]
    if entry.members:
        lines += [f"**Members.** {_names(entry.members)}", ""]
    lines += ["**Example.**", "", "```python", entry.example.rstrip("\n"), "```", ""]
    return lines


def _bullets(title: str, items: list[str]) -> list[str]:
    if not items:
        return []
    return [f"**{title}.**", "", *(f"- {item}" for item in items), ""]


def _methods(title: str, specs: list[MethodSpec]) -> list[str]:
    if not specs:
        return []
    lines = [f"**{title}.**", ""]
    for spec in specs:
        prefix = "async " if spec.is_async else ""
        kind = "" if spec.kind in ("method", "function") else f" ({spec.kind})"
        lines.append(f"- `{prefix}{spec.name}{spec.signature}`{kind}")
    return [*lines, ""]


def _names(items: list[str]) -> str:
    return ", ".join(f"`{item}`" for item in items)


def _not_shipped(catalog: Catalog) -> list[str]:
    lines = [
        "## Not shipped",
        "",
        "Documented by omnibase-core but not importable from it. "
        "A contract naming one is rejected with the alternative.",
        "",
        "| Name | Why it is not offered | Use instead |",
        "| --- | --- | --- |",
    ]
    for item in catalog.not_shipped:
        lines.append(f"| `{item.name}` | {_cell(item.reason)} | {_cell(item.alternative)} |")
    return [*lines, ""]


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


if __name__ == "__main__":
    print(write_catalog_markdown(load_catalog()))
