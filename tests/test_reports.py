"""The reports of a migration (JSON, Markdown, HTML), `omnimix report`, and `omnimix scan --matrix`."""

from __future__ import annotations

import io
import json
import re
import tokenize
from html.parser import HTMLParser
from pathlib import Path

import pytest
from fixture_copy import git, omnimix
from shop_corpus import CACHE, NODES, build_shop
from typer.testing import CliRunner

from omnimix.analysis.loc import LineCount
from omnimix.cli import app
from omnimix.concerns import Action, Concern, Safety
from omnimix.findings import Finding
from omnimix.gate.results import GateReport, failed, passed, skipped
from omnimix.report.html import render_html
from omnimix.report.markdown import render_markdown
from omnimix.report.model import feature_parity
from omnimix.results import ConcernDelta, FileScan, NodeResult, Status

EXISTING_KEYS = {"omnimix_version", "omnibase_core_version", "mode", "payoff", "verification", "nodes", "totals"}
EXISTING_NODE_KEYS = {"node", "contract", "class", "status", "message", "loc", "files", "concerns", "decisions",
                      "mixins_applied", "warnings", "quality_gates"}


@pytest.fixture(scope="module")
def shop(tmp_path_factory) -> Path:
    return build_shop(tmp_path_factory.mktemp("reports") / "shop")


@pytest.fixture(scope="module")
def scanned(shop) -> dict:
    """``scan --matrix --format json`` of the shop before anything is migrated, and (under the key
    "table") the output of ``scan --matrix``."""
    done = omnimix(shop, "scan", NODES, "--matrix", "--format", "json")
    assert done.returncode == 0, done.stderr
    table = omnimix(shop, "scan", NODES, "--matrix")
    assert table.returncode == 0, table.stderr
    return {**json.loads(done.stdout), "table": table.stdout}


@pytest.fixture(scope="module")
def written(shop, scanned) -> dict:
    """The shop migrated and written (without the gate: it has its own tests), with all three reports."""
    done = omnimix(shop, "migrate", NODES, "--write", "--no-verify", "--no-backup", "--allow-longer",
                   "--report-json", "r.json", "--report-md", "r.md", "--report-html", "r.html")
    assert done.returncode == 0, done.stderr
    return json.loads((shop / "r.json").read_text())


def tokenize_count(text: str) -> dict[str, int]:
    """Physical lines, and non-blank lines that hold (part of) a token other than a comment."""
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    ignored = {tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT,
               tokenize.ENDMARKER}
    code: set[int] = set()
    for token in tokenize.generate_tokens(io.StringIO(text).readline):
        if token.type not in ignored:
            code.update(range(token.start[0], token.end[0] + 1))
    return {"lines": len(lines), "code_lines": sum(1 for n in code if n <= len(lines) and lines[n - 1].strip())}


def _sum(counts) -> dict[str, int]:
    counts = list(counts)
    return {key: sum(c[key] for c in counts) for key in ("lines", "code_lines")}


# -- JSON: the numbers add up -----------------------------------------------------------------
def test_json_keeps_its_keys_and_adds_the_report(written):
    assert EXISTING_KEYS | {"report_version", "summary", "matrix"} <= set(written)
    for node in written["nodes"]:
        assert EXISTING_NODE_KEYS | {"size", "feature_parity"} <= set(node)


def test_summary_totals_are_the_sum_of_the_node_figures(written):
    summary = written["summary"]
    by_node = {node["node"]: node for node in written["nodes"]}
    assert [row["node"] for row in summary["rows"]] == list(by_node)
    for row in summary["rows"]:
        size = by_node[row["node"]]["size"]
        assert row["before"] == size["before"] == _sum(f["before"] for f in size["files"])
        assert row["after"] == size["after"] == _sum(f["after"] for f in size["files"])
    everything = [*summary["rows"], *summary["shared"]]
    totals = summary["totals"]
    assert totals["before"] == _sum(item["before"] for item in everything)
    assert totals["after"] == _sum(item["after"] for item in everything)
    for label in summary["dispositions"]:
        assert totals["findings_code_lines"][label] == sum(r["findings_code_lines"][label] for r in summary["rows"])
    payoff = written["payoff"]["code_lines"]
    assert (totals["before"]["code_lines"], totals["after"]["code_lines"]) == (payoff["before"], payoff["after"])
    assert [item["kind"] for item in summary["shared"]] == ["created"]


def test_node_figures_match_an_independent_count_of_the_files(shop, written):
    for node in written["nodes"]:
        for file in node["size"]["files"]:
            original = git(shop, "show", f"HEAD:{file['path']}").stdout
            assert file["before"] == tokenize_count(original), file["path"]
            current = shop / file["path"]
            expected = {"lines": 0, "code_lines": 0} if file["status"] == "deleted" else \
                tokenize_count(current.read_text())
            assert file["after"] == expected, file["path"]
    for item in written["summary"]["shared"]:
        assert item["after"] == tokenize_count((shop / item["path"]).read_text())
    paths = [file["path"] for node in written["nodes"] for file in node["size"]["files"]]
    created = [item["path"] for item in written["summary"]["shared"]]
    totals = written["summary"]["totals"]
    assert totals["before"] == _sum(tokenize_count(git(shop, "show", f"HEAD:{path}").stdout) for path in paths)
    assert totals["after"] == _sum(tokenize_count((shop / path).read_text())
                                   for path in paths + created if (shop / path).exists())


def test_feature_parity_says_what_replaced_each_concern(written):
    parity = {node["node"].split("/")[-2]: {row["feature"]: row for row in node["feature_parity"]}
              for node in written["nodes"]}
    assert parity["cache"]["metrics"]["status"] == "migrated to omnibase-core"
    assert "MixinMetrics" in parity["cache"]["metrics"]["migrated"]
    assert parity["cache"]["retry"]["original"]["symbols"] == ["NodeCacheEffect.fetch"]
    registration = parity["alpha"]["service_registration"]
    assert registration["status"] == "partial"
    assert registration["outcomes"] == {"kept": 3, "consolidated": 2}
    assert "ServiceRegistrationMixin" in registration["migrated"]
    assert parity["legacy"]["metrics"]["status"] == "not declared"


# -- Markdown ---------------------------------------------------------------------------------
def test_markdown_has_the_summary_and_one_report_per_node(shop, written):
    markdown = (shop / "r.md").read_text()
    totals = written["summary"]["totals"]
    assert (f"| **total** | | **{totals['before']['lines']}** | **{totals['after']['lines']}** | "
            f"**{totals['before']['code_lines']}** | **{totals['after']['code_lines']}** |") in markdown
    for heading in ("## Summary", "## Node × concern matrix", "## What omnibase-core is missing", "## Node reports"):
        assert heading in markdown
    sections = markdown.split("\n### ")[1:]
    assert [s.split("\n")[0] for s in sections] == [node["node"] for node in written["nodes"]]
    for section in sections:
        for part in ("#### LOC", "#### Feature parity", "#### Mixins applied", "#### Quality gates"):
            assert part in section
    assert "| feature | original | migrated | status |" in markdown
    assert "| cache | 9 / 9 | 10 / 10 | · | 19 | 19 | medium |" in markdown


def test_gate_results_and_their_timings_are_in_the_node_report(shop, written):
    """A gate report goes into the node's JSON and from there into both renderings."""
    gate = GateReport(CACHE, (passed("syntax", "1 file parses", 0.012), failed("behaviour", "1 | test <failed>", 2.5),
                              skipped("types", "mypy not installed")), 3.25)
    data = json.loads((shop / "r.json").read_text())
    node = next(n for n in data["nodes"] if n["node"] == CACHE)
    node["quality_gates"] = gate.to_json()
    markdown, html = render_markdown(data), render_html(data)
    assert "Gate **failed** in 3.2s." in markdown
    assert "| syntax | passed | 0.01 | 1 file parses |" in markdown
    assert "| behaviour | **failed** | 2.50 | 1 \\| test <failed> |" in markdown
    assert "1 | test &lt;failed&gt;" in html and "<failed>" not in html


# -- HTML -------------------------------------------------------------------------------------
class Page(HTMLParser):
    """What the structural checks need from a page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.urls: list[str] = []
        self.sections: dict[str, str] = {}
        self.total_cells: list[str] = []
        self._details: str | None = None
        self._name: list[str] | None = None
        self._table: str | None = None
        self._total_row = False
        self._cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.append(tag)
        for name in ("src", "href", "xlink:href", "action", "data"):
            if attrs.get(name):
                self.urls.append(attrs[name])
        if tag == "details" and "node" in (attrs.get("class") or ""):
            self._details = attrs["id"]
        if tag == "span" and self._details and attrs.get("class") == "name":
            self._name = []
        if tag == "table":
            self._table = attrs.get("class")
        if tag == "tr" and self._table == "summary":
            self._total_row = attrs.get("class") == "total"
        if tag == "td" and self._total_row:
            self._cell = []

    def handle_endtag(self, tag):
        if tag == "span" and self._name is not None:
            self.sections[self._details] = "".join(self._name)
            self._name = self._details = None
        if tag == "td" and self._cell is not None:
            self.total_cells.append("".join(self._cell).strip())
            self._cell = None
        if tag == "table":
            self._table = None

    def handle_data(self, data):
        if self._name is not None:
            self._name.append(data)
        if self._cell is not None:
            self._cell.append(data)


def parse(html: str) -> Page:
    page = Page()
    page.feed(html)
    return page


def test_html_is_self_contained_with_one_svg_per_chart(shop, written):
    html = (shop / "r.html").read_text()
    page = parse(html)
    assert page.tags.count("svg") == 2  # code lines before/after per node; code lines by disposition
    assert not {"script", "link", "img", "iframe", "object", "embed"} & set(page.tags)
    assert not [url for url in page.urls if re.match(r"\s*(https?:)?//", url)]
    assert all(url.startswith("#") for url in page.urls)
    assert "@import" not in html and "url(" not in html


def test_html_has_a_section_per_node_and_the_totals_of_the_json(shop, written):
    page = parse((shop / "r.html").read_text())
    assert list(page.sections.values()) == [node["node"] for node in written["nodes"]]
    assert list(page.sections) == [f"node-{n}" for n in range(1, len(written["nodes"]) + 1)]
    totals = written["summary"]["totals"]
    lines, code = page.total_cells[2], page.total_cells[3]
    assert lines == f"{totals['before']['lines']} → {totals['after']['lines']}"
    assert code == f"{totals['before']['code_lines']} → {totals['after']['code_lines']}"
    labels = written["summary"]["dispositions"]
    assert page.total_cells[5:5 + len(labels)] == [str(totals["findings_code_lines"][label]) for label in labels]


def test_html_escapes_text_from_code_and_contracts(shop, written):
    data = json.loads((shop / "r.json").read_text())
    hostile = '<script>alert("x")</script><img src="https://example.com/x.png">'
    node = data["nodes"][0]
    node["node"] = node["message"] = hostile
    node["decisions"][0]["symbol"] = node["decisions"][0]["note"] = hostile
    node["feature_parity"][0]["original"]["symbols"] = [hostile]
    data["summary"]["rows"][0]["node"] = data["matrix"]["rows"][0]["node"] = hostile
    data["payoff"]["core_gaps"][0]["capability"] = hostile
    html = render_html(data)
    page = parse(html)
    assert "script" not in page.tags and "img" not in page.tags
    assert html.count("&lt;script&gt;") >= 6


# -- omnimix report ---------------------------------------------------------------------------
def report(*args: str):
    return CliRunner().invoke(app, ["report", *args])


def test_report_renders_a_saved_run_again(shop, written, tmp_path):
    markdown = report(str(shop / "r.json"), "--format", "md")
    assert markdown.exit_code == 0, markdown.stderr
    assert markdown.stdout == (shop / "r.md").read_text()
    page = tmp_path / "again.html"
    html = report(str(shop / "r.json"), "--format", "html", "-o", str(page))
    assert html.exit_code == 0, html.stderr
    assert page.read_text() == (shop / "r.html").read_text()


def test_report_refuses_what_is_not_a_report(shop, written, tmp_path):
    (tmp_path / "scan.json").write_text(json.dumps({"files": []}))
    (tmp_path / "broken.json").write_text("{")
    for name, why in (("scan.json", "not a report this omnimix can render"), ("broken.json", "not a JSON report")):
        done = report(str(tmp_path / name))
        assert done.exit_code == 2
        assert why in done.stderr
    wrong = report(str(shop / "r.json"), "--format", "pdf")
    assert wrong.exit_code == 2 and "--format must be md or html" in wrong.stderr


# -- the node × concern matrix ----------------------------------------------------------------
def test_scan_matrix_counts_findings_and_estimates_the_saving(scanned):
    matrix = scanned["matrix"]
    assert {"files", "nodes", "matrix"} <= set(scanned)
    rows = {row["node"].split("/")[-2]: row for row in matrix["rows"]}
    assert rows["cache"]["cells"]["retry"] == {"code_lines": 9, "saving": 9, "replace_simplify": 9,
                                               "duplicates": 0, "priority": "low"}
    assert rows["cache"]["cells"]["metrics"]["saving"] == 10
    assert rows["cache"]["code_lines"] == 19 and rows["cache"]["priority"] == "medium"
    # the same registration code in alpha and beta: one copy stays (as the shared mixin)
    assert rows["alpha"]["cells"]["service_registration"]["duplicates"] == 0
    assert rows["beta"]["cells"]["service_registration"]["duplicates"] == 35
    assert rows["beta"]["priority"] == "medium"
    assert matrix["totals"]["saving"] == sum(row["saving"] for row in matrix["rows"])
    assert matrix["totals"]["cells"]["metrics"]["code_lines"] == sum(
        row["cells"].get("metrics", {}).get("code_lines", 0) for row in matrix["rows"])


def test_the_migration_report_holds_the_matrix_of_the_code_before(scanned, written):
    assert written["matrix"] == scanned["matrix"]


def test_scan_matrix_table(scanned):
    table = scanned["table"]
    assert "omnimix scan --matrix" in table
    assert re.search(r"│ cache\s+│\s+9 / 9 │\s+10 / 10 │", table), table
    assert "nodes under src/bridge/nodes/" in table
    assert "high saving >= 50 code lines" in table


def test_feature_parity_falls_back_to_the_scan_when_a_node_is_not_migrated():
    """A node skipped or failed has no decisions: its findings are listed as they are."""
    finding = Finding(2, 3, Concern.RETRY, "f", Action.REPLACE, Safety.SAFE, "ModelRetryConfig", "loop")
    scan = FileScan(Path("/nowhere/n.py"), "n.py", LineCount(3, 3), (finding,))
    failed_node = NodeResult(Path("/nowhere"), "n", Status.INPUT_ERROR, scans=(scan,), message="bad contract",
                             concern_deltas=(ConcernDelta("retry", LineCount(2, 2), LineCount(2, 2)),))
    [row] = feature_parity(failed_node)
    assert (row["feature"], row["status"], row["migrated"]) == ("retry", "not migrated",
                                                                 "unchanged: the node was not migrated")
