"""``omnimix explain CODE``: what a finding code means, the omnibase-core facts behind it, and what would
make the code it marks migratable (ruff's ``ruff rule``)."""

from __future__ import annotations

import difflib
import sys
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from omnimix import OMNIBASE_CORE_VERSION
from omnimix.catalog import CatalogError, load_catalog
from omnimix.cli.output import print_line
from omnimix.exit_codes import ExitCode
from omnimix.report.codes import CODES, Code, lookup

EXPLAIN_HELP = (
    f"Exit codes: {int(ExitCode.OK)} explained; {int(ExitCode.INPUT_ERROR)} no such code. "
    "Without CODE, lists every code."
)


def explain(
    code: Annotated[str | None, typer.Argument(help="A finding code, e.g. OMX101 (as `omnimix scan` prints it).")] = None,
) -> None:
    """Explain a finding code: why omnimix treats such code as it does, and what would make it migratable."""
    out = Console(highlight=False, soft_wrap=False)
    if code is None:
        for item in CODES:
            out.print(f"{item.code}  {item.concern!s:<21} {escape(item.title)}", soft_wrap=True)
        return
    found = lookup(code)
    if found is None:
        typo = lookup(code.upper().translate(str.maketrans("OIL", "011")).replace("0MX", "OMX"))
        close = [typo.code] if typo else difflib.get_close_matches(code.upper(), [c.code for c in CODES], n=3,
                                                                   cutoff=0.6)
        hint = f"; did you mean {', '.join(close)}?" if close else "; `omnimix explain` lists every code"
        sys.stderr.write(f"error: unknown code {code!r}{hint}\n")
        raise typer.Exit(ExitCode.INPUT_ERROR)
    for line in explanation(found):
        body = line.lstrip(" ")
        indent = len(line) - len(body) + (2 if body.startswith("- ") else 0)
        print_line(out, escape(line), indent=indent)


def explanation(code: Code) -> list[str]:
    """The text ``omnimix explain`` prints for ``code``, as lines (rich wraps them)."""
    lines = [f"{code.code} ({code.concern}): {code.title}", "", "Why", f"  {code.why}", ""]
    facts = _facts(code)
    if facts:
        lines += [f"What omnibase-core {OMNIBASE_CORE_VERSION} offers (from the catalog)"]
        for name, purpose, caveats in facts:
            lines.append(f"  {name}: {purpose}")
            lines += [f"    - {caveat}" for caveat in caveats]
        lines.append("")
    lines += ["What would make it migratable", f"  {code.migratable}", "",
              "Related: " + ", ".join(c.code for c in CODES if c.concern == code.concern and c is not code)]
    if code.catalog:
        lines.append("See also: " + "; ".join(f"omnimix catalog show {name}" for name in code.catalog))
    return lines


def _facts(code: Code) -> list[tuple[str, str, list[str]]]:
    try:
        catalog = load_catalog()
    except CatalogError:
        return []
    facts = []
    for name in code.catalog:
        entry = catalog.get(name)
        if entry is not None:
            facts.append((f"{entry.name} ({entry.import_from})", entry.purpose, list(entry.caveats)))
    return facts
