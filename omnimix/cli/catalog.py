"""``omnimix catalog``: what omnimix knows about omnibase-core, and a check against the installed one."""

from __future__ import annotations

import time
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from omnimix.catalog import CatalogError, load_catalog
from omnimix.exit_codes import ExitCode

catalog_app = typer.Typer(name="catalog", help="The omnibase-core catalog: list, show, verify, docs.",
                          no_args_is_help=True)
out = Console()
err = Console(stderr=True, highlight=False)


def _catalog():
    try:
        return load_catalog()
    except CatalogError as exc:
        err.print(f"[red]error[/red] {exc}")
        raise typer.Exit(ExitCode.INPUT_ERROR) from exc


@catalog_app.command("list")
def list_entries(
    kind: Annotated[str | None, typer.Option(help="Only entries of this kind (mixin, node_base, model...).")] = None,
) -> None:
    """Every catalog entry: name, kind, import path, purpose."""
    catalog = _catalog()
    table = Table(title=f"omnibase-core {catalog.omnibase_core_version}")
    for column in ("name", "kind", "import from", "replaces", "purpose"):
        table.add_column(column)
    for entry in catalog.entries:
        if kind and entry.kind != kind:
            continue
        table.add_row(entry.name, entry.kind, entry.import_from, ", ".join(map(str, entry.replaces)), entry.purpose)
    out.print(table)
    if not kind:
        names = ", ".join(item.name for item in catalog.not_shipped)
        out.print(f"Documented by the library but not shipped (refused in contracts): {names}")


@catalog_app.command()
def show(name: Annotated[str, typer.Argument(help="An entry name, e.g. MixinHealthCheck.")]) -> None:
    """One entry in full: import, hooks, methods, composition, caveats, example."""
    catalog = _catalog()
    entry = catalog.get(name)
    if entry is None:
        missing = catalog.not_shipped_entry(name)
        if missing is not None:
            err.print(f"[red]error[/red] {name} is not shipped by omnibase-core {catalog.omnibase_core_version}: "
                      f"{missing.reason}; use {missing.alternative}")
        else:
            hint = catalog.suggest(name)
            err.print(f"[red]error[/red] unknown catalog entry {name!r}" + (f"; did you mean {', '.join(hint)}?" if hint else ""))
        raise typer.Exit(ExitCode.INPUT_ERROR)
    out.print(f"[bold]{entry.name}[/bold] ({entry.kind})  {entry.import_line}")
    out.print(entry.purpose)
    out.print(f"[bold]When to use:[/bold] {entry.when_to_use}")
    for title, specs in (("Hooks", entry.hooks), ("Methods", entry.methods)):
        if specs:
            out.print(f"[bold]{title}:[/bold]")
            for spec in specs:
                prefix = "async " if spec.is_async else ""
                out.print(f"  {prefix}{spec.name}{spec.signature}  [dim]{spec.kind}[/dim]", markup=True, highlight=False)
    if entry.composition is not None:
        c = entry.composition
        out.print(f"[bold]Composition:[/bold] node types {', '.join(map(str, c.node_types)) or 'none'}; "
                  f"after the node base: {c.must_follow_node_base}; incompatible with: "
                  f"{', '.join(c.incompatible_with) or 'nothing'}; {c.reason}")
    if entry.replaces:
        out.print(f"[bold]Replaces:[/bold] {', '.join(map(str, entry.replaces))}")
    for caveat in entry.caveats:
        out.print(f"[yellow]caveat[/yellow] {caveat}")
    out.print("[bold]Example:[/bold]")
    out.print(entry.example, markup=False, highlight=False)


@catalog_app.command()
def verify() -> None:
    """Import the installed omnibase-core and check every entry; exit 1 on any mismatch."""
    from omnimix.catalog.verify import verify_catalog

    catalog = _catalog()
    start = time.perf_counter()
    problems = verify_catalog(catalog)
    elapsed = time.perf_counter() - start
    for problem in problems:
        err.print(f"[red]mismatch[/red] {problem}")
    err.print(f"{len(catalog.entries)} entries and {len(catalog.not_shipped)} not-shipped names checked against "
              f"the installed omnibase-core in {elapsed:.1f}s: {len(problems)} problem(s)")
    raise typer.Exit(ExitCode.CHANGES_PENDING if problems else ExitCode.OK)


@catalog_app.command()
def docs(
    check: Annotated[bool, typer.Option("--check", help="Exit 1 if the committed document is out of date.")] = False,
) -> None:
    """Regenerate docs/reference/OMNIBASE_CORE_MIXIN_CATALOG.md from the catalog."""
    from omnimix.catalog.doc import (
        DOC_PATH,
        render_catalog_markdown,
        write_catalog_markdown,
    )

    catalog = _catalog()
    if check:
        current = DOC_PATH.read_text(encoding="utf-8") if DOC_PATH.is_file() else ""
        if current != render_catalog_markdown(catalog):
            err.print(f"{DOC_PATH.name} is out of date: run `omnimix catalog docs`")
            raise typer.Exit(ExitCode.CHANGES_PENDING)
        err.print(f"{DOC_PATH.name} is up to date")
        return
    path = write_catalog_markdown(catalog)
    err.print(f"wrote {path}")
