"""``omnimix report``: render a saved ``--report-json`` document again, as Markdown or HTML; and the
writing of the report files of ``migrate`` and ``verify``."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, NoReturn

import typer

from omnimix.exit_codes import ExitCode
from omnimix.report.html import render_html
from omnimix.report.markdown import render_markdown
from omnimix.report.model import REPORT_VERSION

RENDERERS = {"md": render_markdown, "html": render_html}

REPORT_HELP = (
    f"Exit codes: {int(ExitCode.OK)} rendered; {int(ExitCode.INPUT_ERROR)} the file is missing, is not JSON, "
    f"or is not a report of this omnimix (report_version {REPORT_VERSION})."
)


def write_reports(data: dict, *, json_path: Path | None, md_path: Path | None, html_path: Path | None) -> None:
    """Write the report document and its renderings to the paths given."""
    if json_path:
        json_path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    if md_path:
        md_path.write_text(render_markdown(data), encoding="utf-8")
    if html_path:
        html_path.write_text(render_html(data), encoding="utf-8")


def report(
    run: Annotated[Path, typer.Argument(metavar="RUN.json", exists=True, dir_okay=False,
                                        help="A report written by `omnimix migrate --report-json`.")],
    format: Annotated[str, typer.Option("--format", "-f", help="md (Markdown) or html (one self-contained page).")] = "md",
    output: Annotated[Path | None, typer.Option("--output", "-o", dir_okay=False,
                                                help="Write here instead of stdout.")] = None,
) -> None:
    """Render a saved migration report (--report-json) as Markdown or HTML, without migrating again."""
    renderer = RENDERERS.get(format)
    if renderer is None:
        _fail(f"--format must be md or html, not {format!r}")
    try:
        data = json.loads(run.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        _fail(f"{run}: not a JSON report: {exc}")
    version = data.get("report_version") if isinstance(data, dict) else None
    if version != REPORT_VERSION:
        _fail(f"{run}: not a report this omnimix can render (report_version {version!r}, expected "
              f"{REPORT_VERSION}); write it again with `omnimix migrate ... --report-json`")
    try:
        text = renderer(data)
    except (KeyError, TypeError) as exc:
        _fail(f"{run}: an incomplete report ({type(exc).__name__}: {exc}); write it again with "
              "`omnimix migrate ... --report-json`")
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text, encoding="utf-8")
        sys.stderr.write(f"wrote {output}\n")


def _fail(message: str) -> NoReturn:
    sys.stderr.write(f"error: {message}\n")
    raise typer.Exit(ExitCode.INPUT_ERROR)
