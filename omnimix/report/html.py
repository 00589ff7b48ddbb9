"""The Regeneration Report as one self-contained HTML page, rendered from the report document.

The page loads nothing: its style is inline, its two charts are inline SVG, and it has no script.
Every text that comes from code, contracts or the file system is escaped.
"""

from __future__ import annotations

from html import escape

from omnimix.report.markdown import in_node, status, where_in
from omnimix.report.model import short_names

#: Colours of the dispositions, in report order, and of the before/after bars.
DISPOSITION_COLOURS = ("#2e7d32", "#1565c0", "#e65100", "#8d8d8d", "#cfcfcf")
BEFORE_COLOUR, AFTER_COLOUR = "#b0bec5", "#1976d2"

STYLE = """
:root { --ink: #1d2329; --muted: #5b6670; --line: #dde3e8; --soft: #f5f7f9; --accent: #1976d2; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
       color: var(--ink); background: #fff; }
main { max-width: 1200px; margin: 0 auto; padding: 24px 28px 64px; }
h1 { font-size: 26px; margin: 0 0 4px; }
h2 { font-size: 19px; margin: 36px 0 10px; padding-bottom: 6px; border-bottom: 2px solid var(--line); }
h3 { font-size: 15px; margin: 18px 0 6px; }
p { margin: 6px 0; }
.meta, .note { color: var(--muted); }
code { font: 12.5px/1.3 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; background: var(--soft);
       padding: 1px 4px; border-radius: 3px; overflow-wrap: anywhere; }
.cards { display: grid; grid-template-columns: repeat(4, 1fr); gap: 12px; margin: 14px 0 18px; }
.card { border: 1px solid var(--line); border-radius: 8px; padding: 10px 14px; background: var(--soft); }
.card .label { color: var(--muted); font-size: 12px; text-transform: uppercase; letter-spacing: .04em; }
.card .value { font-size: 22px; font-weight: 650; }
.card .sub { color: var(--muted); font-size: 12.5px; }
figure { margin: 16px 0 22px; }
figcaption { font-weight: 600; margin-bottom: 6px; }
svg { display: block; width: 100%; height: auto; }
svg text { font: 12px system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif; fill: var(--ink); }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; margin: 8px 0 14px; font-size: 13px; }
th, td { border-bottom: 1px solid var(--line); padding: 5px 8px; text-align: left; vertical-align: top; }
th { background: var(--soft); font-weight: 600; vertical-align: bottom; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
td.num { white-space: nowrap; }
tr.total td { font-weight: 700; border-top: 2px solid var(--ink); }
tr.shared td { color: var(--muted); }
td.wrap { overflow-wrap: anywhere; min-width: 14em; }
.badge { display: inline-block; padding: 0 7px; border-radius: 9px; font-size: 12px; font-weight: 600;
         border: 1px solid transparent; white-space: nowrap; }
.ok { background: #e8f5e9; color: #1b5e20; border-color: #a5d6a7; }
.bad { background: #ffebee; color: #b71c1c; border-color: #ef9a9a; }
.idle { background: #eceff1; color: #455a64; border-color: #cfd8dc; }
.warn { background: #fff3e0; color: #8a4b00; border-color: #ffcc80; }
.high { background: #ffebee; color: #b71c1c; border-color: #ef9a9a; }
.medium { background: #fff8e1; color: #7a5a00; border-color: #ffe082; }
.low { background: #eceff1; color: #455a64; border-color: #cfd8dc; }
td.heat { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
td.heat b { color: #1b5e20; }
details.node { border: 1px solid var(--line); border-radius: 8px; margin: 10px 0; background: #fff; }
details.node > summary { cursor: pointer; padding: 10px 14px; background: var(--soft); border-radius: 8px;
                         display: flex; gap: 10px; align-items: center; flex-wrap: wrap; }
details.node[open] > summary { border-bottom: 1px solid var(--line); border-radius: 8px 8px 0 0; }
details.node > summary .name { font-weight: 650; overflow-wrap: anywhere; }
details.node > summary .figures { color: var(--muted); margin-left: auto; white-space: nowrap; }
details.node > .body { padding: 4px 16px 12px; }
details.findings > summary { cursor: pointer; font-weight: 600; margin: 10px 0 4px; }
ul.warnings { padding-left: 20px; color: #8a4b00; }
"""


def render_html(data: dict) -> str:
    """The whole page: summary with charts, the node × concern matrix, the core gaps and each node's report."""
    nodes = data["nodes"]
    anchors = {node["node"]: f"node-{index}" for index, node in enumerate(nodes, start=1)}
    body = [
        "<header>",
        "<h1>Regeneration Report</h1>",
        f'<p class="meta">omnimix {_e(data["omnimix_version"])} · target omnibase-core '
        f'{_e(data["omnibase_core_version"])} · {_e(data["mode"])} · verification: {_e(data["verification"])}</p>',
        "</header>",
        *_summary(data, anchors),
        *_matrix(data["matrix"], anchors),
        *_gaps(data["payoff"]["core_gaps"]),
        '<section id="nodes">',
        "<h2>Node reports</h2>",
        *(line for node in nodes for line in _node(node, anchors[node["node"]])),
        "</section>",
    ]
    return "\n".join([
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        "<title>omnimix Regeneration Report</title>",
        f"<style>{STYLE}</style>",
        "</head>",
        "<body>",
        "<main>",
        *body,
        "</main>",
        "</body>",
        "</html>",
    ]) + "\n"


def _e(value: object) -> str:
    return escape(str(value), quote=True)


def _num(value: object, css: str = "num") -> str:
    return f'<td class="{css}">{_e(value)}</td>'


# -- summary ----------------------------------------------------------------------------------
def _summary(data: dict, anchors: dict[str, str]) -> list[str]:
    summary, counts = data["summary"], data["totals"]
    totals, labels = summary["totals"], summary["dispositions"]
    _, short = short_names([row["node"] for row in summary["rows"]])
    findings = totals["findings_code_lines"]
    in_findings = sum(findings.values())
    cards = [
        ("Nodes", str(counts["nodes"]), f"{counts['changed']} changed"),
        ("Code lines", f"{totals['before']['code_lines']} → {totals['after']['code_lines']}",
         f"{totals['change']['code_lines']:+d} ({totals['percent']:+.1f}%)"),
        ("In findings", str(in_findings),
         ", ".join(f"{label} {findings[label]}" for label in labels if findings[label]) or "none"),
        ("Gates", f"{counts['gates_passed']} passed",
         f"{counts['gates_failed']} failed; verification {data['verification']}"),
    ]
    out = ['<section id="summary">', "<h2>Summary</h2>", '<div class="cards">']
    for label, value, sub in cards:
        out.append(f'<div class="card"><div class="label">{_e(label)}</div><div class="value">{_e(value)}</div>'
                   f'<div class="sub">{_e(sub)}</div></div>')
    out.append("</div>")
    out += _loc_chart(summary["rows"], short)
    out += _disposition_chart(summary["rows"], labels, short)
    out += ['<div class="scroll"><table class="summary">', "<thead><tr><th>node</th><th>status</th>"
            '<th class="num">lines</th><th class="num">code lines</th><th class="num">change</th>'
            + "".join(f'<th class="num">{_e(label)}</th>' for label in labels) + "<th>gate</th></tr></thead>", "<tbody>"]
    for row in summary["rows"]:
        gate = row["gate"]
        verdict = ("not run" if gate["status"] == "not_run" else f"{gate['status']} ({gate['seconds']:.1f}s)")
        css = {"passed": "ok", "failed": "bad"}.get(gate["status"], "idle")
        out.append(f'<tr><td><a href="#{anchors[row["node"]]}" title="{_e(row["node"])}">{_e(short[row["node"]])}</a></td>'
                   f"<td>{_e(row['status'])}</td>" + _sizes(row["before"], row["after"])
                   + "".join(_num(row["findings_code_lines"][label]) for label in labels)
                   + f'<td><span class="badge {css}">{_e(verdict)}</span></td></tr>')
    for item in summary["shared"]:
        out.append(f'<tr class="shared"><td class="wrap">{_e(item["path"])} ({_e(item["kind"])})</td><td></td>'
                   + _sizes(item["before"], item["after"]) + "<td></td>" * (len(labels) + 1) + "</tr>")
    out.append('<tr class="total"><td>total</td><td></td>' + _sizes(totals["before"], totals["after"], totals["percent"])
               + "".join(_num(findings[label]) for label in labels) + "<td></td></tr>")
    out += ["</tbody></table></div>",
            '<p class="note">Each node\'s own files before and after; the disposition columns count the code lines '
            "of its findings (before) by what the migration did with them, each line once. Files the run creates "
            "and project modules the nodes import are counted once, below the nodes.</p>", "</section>"]
    return out


def _sizes(before: dict, after: dict, percent: float | None = None) -> str:
    """Three cells: lines and code lines before → after, and the change in code lines."""
    change = after["code_lines"] - before["code_lines"]
    return (_num(f"{before['lines']} → {after['lines']}") + _num(f"{before['code_lines']} → {after['code_lines']}")
            + _num(f"{change:+d}" + (f" ({percent:+.1f}%)" if percent is not None else "")))


def _scale(value: int, largest: int, width: float) -> float:
    return 0.0 if largest <= 0 else width * value / largest


def _loc_chart(rows: list[dict], short: dict[str, str]) -> list[str]:
    """Code lines before and after of each node: two bars per node."""
    label_w, bar_w, row_h = 250, 640, 40
    largest = max([row["before"]["code_lines"] for row in rows] + [row["after"]["code_lines"] for row in rows] + [1])
    height = 34 + row_h * len(rows)
    out = ["<figure>", "<figcaption>Code lines per node, before and after</figcaption>",
           f'<svg viewBox="0 0 1000 {height}" role="img" aria-label="Code lines per node, before and after">',
           f'<rect x="{label_w}" y="6" width="12" height="12" fill="{BEFORE_COLOUR}"/>'
           f'<text x="{label_w + 18}" y="16">before</text>'
           f'<rect x="{label_w + 80}" y="6" width="12" height="12" fill="{AFTER_COLOUR}"/>'
           f'<text x="{label_w + 98}" y="16">after</text>']
    for index, row in enumerate(rows):
        y = 30 + index * row_h
        before, after = row["before"]["code_lines"], row["after"]["code_lines"]
        change = after - before
        out.append(f'<text x="{label_w - 8}" y="{y + 19}" text-anchor="end">{_e(_clip(short[row["node"]]))}'
                   f'<title>{_e(row["node"])}</title></text>')
        for offset, value, colour in ((0, before, BEFORE_COLOUR), (15, after, AFTER_COLOUR)):
            width = _scale(value, largest, bar_w)
            out.append(f'<rect x="{label_w}" y="{y + offset}" width="{width:.1f}" height="13" rx="2" fill="{colour}"/>'
                       f'<text x="{label_w + width + 5:.1f}" y="{y + offset + 11}">{value}</text>')
        out.append(f'<text x="990" y="{y + 19}" text-anchor="end">{change:+d}</text>')
    out += ["</svg>", "</figure>"]
    return out


def _disposition_chart(rows: list[dict], labels: list[str], short: dict[str, str]) -> list[str]:
    """Code lines in each node's findings, stacked by disposition."""
    label_w, bar_w, row_h = 250, 640, 26
    totals = [sum(row["findings_code_lines"][label] for label in labels) for row in rows]
    largest = max(totals + [1])
    height = 40 + row_h * len(rows)
    out = ["<figure>", "<figcaption>Code lines in findings, by what the migration did with them</figcaption>",
           f'<svg viewBox="0 0 1000 {height}" role="img" aria-label="Code lines in findings by disposition">']
    x = label_w
    for label, colour in zip(labels, DISPOSITION_COLOURS):
        out.append(f'<rect x="{x}" y="6" width="12" height="12" fill="{colour}"/>'
                   f'<text x="{x + 17}" y="16">{_e(label)}</text>')
        x += 24 + 7 * len(label)
    for index, (row, total) in enumerate(zip(rows, totals)):
        y = 32 + index * row_h
        out.append(f'<text x="{label_w - 8}" y="{y + 13}" text-anchor="end">{_e(_clip(short[row["node"]]))}'
                   f'<title>{_e(row["node"])}</title></text>')
        x = float(label_w)
        for label, colour in zip(labels, DISPOSITION_COLOURS):
            value = row["findings_code_lines"][label]
            if not value:
                continue
            width = _scale(value, largest, bar_w)
            out.append(f'<rect x="{x:.1f}" y="{y}" width="{width:.1f}" height="18" fill="{colour}">'
                       f'<title>{_e(label)}: {value}</title></rect>')
            if width > 30:
                fill = "#fff" if colour not in DISPOSITION_COLOURS[3:] else "#1d2329"
                out.append(f'<text x="{x + width / 2:.1f}" y="{y + 13}" text-anchor="middle" '
                           f'style="fill:{fill}">{value}</text>')
            x += width
        note = f"{total}" if total or row["status"] in ("changed", "unchanged") else f"0 (not migrated: {row['status']})"
        out.append(f'<text x="{x + 5:.1f}" y="{y + 13}">{_e(note)}</text>')
    out += ["</svg>", "</figure>"]
    return out


def _clip(text: str, limit: int = 38) -> str:
    return text if len(text) <= limit else "…" + text[-(limit - 1):]


# -- matrix and gaps --------------------------------------------------------------------------
def _matrix(matrix: dict, anchors: dict[str, str]) -> list[str]:
    concerns = matrix["concerns"]
    prefix, short = short_names([row["node"] for row in matrix["rows"]])
    out = ['<section id="matrix">', "<h2>Node × concern matrix</h2>",
           '<p class="note">Code lines in findings / <b>estimated saving</b>, from the scan of the code before the '
           "migration: the saving counts findings whose action is replace or simplify, and concern methods that "
           "several nodes carry in the same shape (all copies but one). Priority: "
           + _e("; ".join(f"{k} when {v}" for k, v in matrix["priority"].items())) + "."
           + (f" Nodes under <code>{_e(prefix)}/</code>." if prefix else "") + "</p>"]
    if not matrix["rows"]:
        return out + ["<p>No nodes.</p>", "</section>"]
    largest = max([cell["code_lines"] for row in matrix["rows"] for cell in row["cells"].values()] + [1])
    out += ['<div class="scroll"><table class="matrix">',
            "<thead><tr><th>node</th>" + "".join(f'<th class="num">{_e(c)}</th>' for c in concerns)
            + '<th class="num">in findings</th><th class="num">saving</th><th>priority</th></tr></thead>', "<tbody>"]
    for row in matrix["rows"]:
        cells = []
        for concern in concerns:
            cell = row["cells"].get(concern)
            if not cell:
                cells.append('<td class="heat">·</td>')
                continue
            alpha = 0.08 + 0.5 * cell["code_lines"] / largest
            cells.append(f'<td class="heat" style="background: rgba(25, 118, 210, {alpha:.2f})" '
                         f'title="{_e(concern)}: {cell["replace_simplify"]} replace/simplify, '
                         f'{cell["duplicates"]} in copies">{cell["code_lines"]} / <b>{cell["saving"]}</b></td>')
        link = anchors.get(row["node"])
        name = _e(short[row["node"]])
        out.append("<tr><td>" + (f'<a href="#{link}">{name}</a>' if link else name) + "</td>" + "".join(cells)
                   + _num(row["code_lines"]) + _num(row["saving"])
                   + f'<td><span class="badge {_e(row["priority"])}">{_e(row["priority"])}</span></td></tr>')
    totals = matrix["totals"]
    out.append('<tr class="total"><td>total</td>'
               + "".join(f'<td class="heat">{totals["cells"][c]["code_lines"]} / {totals["cells"][c]["saving"]}</td>'
                         for c in concerns)
               + _num(totals["code_lines"]) + _num(totals["saving"]) + "<td></td></tr>")
    out += ["</tbody></table></div>", *(f'<p class="note">Note: {_e(note)}</p>' for note in matrix["notes"]),
            "</section>"]
    return out


def _gaps(gaps: list[dict]) -> list[str]:
    out = ['<section id="gaps">', "<h2>What omnibase-core is missing</h2>",
           '<p class="note">Capabilities omnibase-core lacks, with the findings and code lines they keep in the '
           "nodes (kept, consolidated or pending as unsafe), largest first.</p>",
           '<div class="scroll"><table class="gaps"><thead><tr><th>capability</th><th>concern</th>'
           '<th class="num">findings</th><th class="num">code lines</th><th class="num">nodes</th></tr></thead><tbody>']
    for gap in gaps:
        out.append(f'<tr><td class="wrap">{_e(gap["capability"])}</td><td>{_e(gap["concern"])}</td>'
                   + _num(gap["findings"]) + _num(gap["code_lines"])
                   + f'<td class="num" title="{_e(", ".join(gap["nodes"]))}">{len(gap["nodes"])}</td></tr>')
    if not gaps:
        out.append('<tr><td colspan="5">none</td></tr>')
    out += ["</tbody></table></div>", "</section>"]
    return out


# -- one node ---------------------------------------------------------------------------------
def _node(node: dict, anchor: str) -> list[str]:
    size, gate = node["size"], node["quality_gates"]
    before, after = size["before"]["code_lines"], size["after"]["code_lines"]
    status_css = {"changed": "ok", "unchanged": "idle", "skipped": "idle"}.get(node["status"], "bad")
    gate_css = {"passed": "ok", "failed": "bad"}.get(gate["status"], "idle")
    gate_text = "gate not run" if gate["status"] == "not_run" else f"gate {gate['status']} in {gate['seconds']:.1f}s"
    out = [f'<details class="node" id="{anchor}">',
           f'<summary><span class="name">{_e(node["node"])}</span>'
           f'<span class="badge {status_css}">{_e(node["status"])}</span>'
           f'<span class="badge {gate_css}">{_e(gate_text)}</span>'
           f'<span class="figures">code lines {before} → {after} ({after - before:+d})</span></summary>',
           '<div class="body">']
    if node["class"]:
        out.append(f"<p>Node class <code>{_e(node['class'])}</code>.</p>")
    if node["message"]:
        out.append(f'<p class="note">{_e(node["message"])}</p>')
    out += ["<h3>LOC</h3>", '<div class="scroll"><table><thead><tr><th>file</th><th>status</th>'
            '<th class="num">lines before</th><th class="num">lines after</th><th class="num">code lines before</th>'
            '<th class="num">code lines after</th></tr></thead><tbody>']
    for file in size["files"]:
        out.append(f'<tr><td class="wrap">{_e(in_node(node, file["path"]))}</td><td>{_e(file["status"])}</td>'
                   + _num(file["before"]["lines"]) + _num(file["after"]["lines"])
                   + _num(file["before"]["code_lines"]) + _num(file["after"]["code_lines"]) + "</tr>")
    out.append('<tr class="total"><td>total</td><td></td>' + _num(size["before"]["lines"]) + _num(size["after"]["lines"])
               + _num(before) + _num(after) + "</tr></tbody></table></div>")
    for created in size["created"]:
        out.append(f'<p>Creates <code>{_e(created["path"])}</code> ({created["after"]["lines"]} lines, '
                   f'{created["after"]["code_lines"]} code lines), counted once in the summary.</p>')
    for shared in size["shared"]:
        out.append(f'<p>Changes <code>{_e(shared["path"])}</code>, shared with other nodes '
                   f'({shared["before"]["code_lines"]} → {shared["after"]["code_lines"]} code lines), '
                   "counted once in the summary.</p>")
    out.append("<h3>Feature parity</h3>")
    if node["feature_parity"]:
        out.append('<div class="scroll"><table><thead><tr><th>feature</th><th>original</th><th>migrated</th>'
                   "<th>status</th></tr></thead><tbody>")
        for row in node["feature_parity"]:
            after_lines = row["code_lines_after"]
            migrated = _e(row["migrated"]) + (f' <span class="note">({after_lines} code lines after)</span>'
                                              if after_lines is not None else "")
            out.append(f"<tr><td>{_e(row['feature'])}</td><td class=\"wrap\">{_original(row)}</td>"
                       f'<td class="wrap">{migrated}</td><td>{_e(status(row))}</td></tr>')
        out.append("</tbody></table></div>")
    else:
        out.append("<p>No hand-rolled concern found.</p>")
    if node["decisions"]:
        out += [f'<details class="findings"><summary>Findings ({len(node["decisions"])})</summary>',
                '<div class="scroll"><table><thead><tr><th>concern</th><th>where</th><th>outcome</th>'
                "<th>replacement</th><th>why</th></tr></thead><tbody>"]
        for d in sorted(node["decisions"], key=lambda d: (d["concern"], d["path"], d["start_line"])):
            out.append(f"<tr><td>{_e(d['concern'])}</td><td class=\"wrap\"><code>{_e(where_in(node, d))}</code> "
                       f"<code>{_e(d['symbol'])}</code></td><td>{_e(d['outcome'])}</td>"
                       f'<td class="wrap">{_e(d["replacement"])}</td><td class="wrap">{_e(d["note"] or d["reason"])}</td></tr>')
        out.append("</tbody></table></div></details>")
    if node["warnings"]:
        out += ['<ul class="warnings">', *(f"<li>{_e(w)}</li>" for w in node["warnings"]), "</ul>"]
    out += ["<h3>Mixins applied</h3>",
            "<p>" + (", ".join(f"<code>{_e(m)}</code>" for m in node["mixins_applied"]) or "none") + "</p>",
            "<h3>Quality gates</h3>", *_gate(gate), "</div>", "</details>"]
    return out


def _original(row: dict) -> str:
    symbols = row["original"]["symbols"]
    shown = ", ".join(f"<code>{_e(s)}</code>" for s in symbols[:3])
    more = f" (+{len(symbols) - 3} more)" if len(symbols) > 3 else ""
    return f"{row['findings']} finding(s), {row['original']['code_lines']} code lines: {shown}{more}"


def _gate(gate: dict) -> list[str]:
    if gate["status"] == "not_run":
        return [f"<p>Not run: {_e(gate['reason'])}.</p>"]
    out = [f"<p>Gate <b>{_e(gate['status'])}</b> in {gate['seconds']:.1f}s.</p>",
           '<div class="scroll"><table><thead><tr><th>stage</th><th>status</th><th class="num">seconds</th>'
           "<th>reason</th></tr></thead><tbody>"]
    for stage in gate["stages"]:
        css = {"passed": "ok", "failed": "bad"}.get(stage["status"], "idle")
        out.append(f"<tr><td>{_e(stage['name'])}</td><td><span class=\"badge {css}\">{_e(stage['status'])}</span></td>"
                   + _num(f"{stage['seconds']:.2f}") + f'<td class="wrap">{_e(stage["reason"])}</td></tr>')
    out.append("</tbody></table></div>")
    return out
