"""The Markdown "Regeneration Report", rendered from the report document (``--report-json``)."""

from __future__ import annotations

from omnimix.report.model import short_names


def render_markdown(data: dict) -> str:
    """The summary across nodes (sizes by disposition, the node × concern matrix, what omnibase-core is
    missing), then one report per node: LOC, feature parity, findings, mixins applied, quality gates."""
    out = ["# Regeneration Report", "",
           f"omnimix {data['omnimix_version']}, target omnibase-core {data['omnibase_core_version']}, "
           f"{data['mode']}; verification: {data['verification']}.", ""]
    out += _summary(data) + [""] + _matrix(data["matrix"]) + [""] + _gaps(data["payoff"]["core_gaps"])
    out += ["", "## Node reports", ""]
    for node in data["nodes"]:
        out += node_markdown(node) + [""]
    return "\n".join(out).rstrip("\n") + "\n"


def _summary(data: dict) -> list[str]:
    summary = data["summary"]
    totals = summary["totals"]
    labels = summary["dispositions"]
    counts = data["totals"]
    prefix, short = short_names([row["node"] for row in summary["rows"]])
    out = ["## Summary", "",
           f"{counts['nodes']} node(s), {counts['changed']} changed; code lines {totals['before']['code_lines']} → "
           f"{totals['after']['code_lines']} ({totals['change']['code_lines']:+d}, {totals['percent']:+.1f}%); "
           f"gates: {counts['gates_passed']} passed, {counts['gates_failed']} failed.", "",
           "Each node's own files before and after; the disposition columns count the code lines of its "
           "findings (before) by what the migration did with them, each line once. Files the run creates and "
           "project modules the nodes import are counted once, below the nodes."
           + (f" Nodes under `{prefix}/`." if prefix else ""), "",
           "| node | status | lines before | lines after | code lines before | code lines after | change | "
           + " | ".join(labels) + " | gate |",
           "|---|---|---:|---:|---:|---:|---:|" + "---:|" * len(labels) + "---|"]
    for row in summary["rows"]:
        change = row["after"]["code_lines"] - row["before"]["code_lines"]
        gate = row["gate"]
        verdict = "not run" if gate["status"] == "not_run" else f"{gate['status']} ({gate['seconds']:.1f}s)"
        out.append(f"| {cell(short[row['node']])} | {row['status']} | {row['before']['lines']} | {row['after']['lines']} | "
                   f"{row['before']['code_lines']} | {row['after']['code_lines']} | {change:+d} | "
                   + " | ".join(str(row["findings_code_lines"][label]) for label in labels) + f" | {verdict} |")
    for item in summary["shared"]:
        change = item["after"]["code_lines"] - item["before"]["code_lines"]
        out.append(f"| {cell(item['path'])} ({item['kind']}) | | {item['before']['lines']} | {item['after']['lines']} | "
                   f"{item['before']['code_lines']} | {item['after']['code_lines']} | {change:+d} |"
                   + " |" * len(labels) + " |")
    out.append(f"| **total** | | **{totals['before']['lines']}** | **{totals['after']['lines']}** | "
               f"**{totals['before']['code_lines']}** | **{totals['after']['code_lines']}** | "
               f"**{totals['change']['code_lines']:+d} ({totals['percent']:+.1f}%)** | "
               + " | ".join(f"**{totals['findings_code_lines'][label]}**" for label in labels) + " | |")
    return out


def _matrix(matrix: dict) -> list[str]:
    concerns = matrix["concerns"]
    prefix, short = short_names([row["node"] for row in matrix["rows"]])
    out = ["## Node × concern matrix", "",
           "Code lines in findings / estimated saving, from the scan of the code before the migration: the "
           "saving counts findings whose action is replace or simplify, and concern methods that several "
           "nodes carry in the same shape (all copies but one). Priority: "
           + "; ".join(f"{k} when {v}" for k, v in matrix["priority"].items()) + "."
           + (f" Nodes under `{prefix}/`." if prefix else ""), ""]
    if not matrix["rows"]:
        return out + ["No nodes."]
    out += ["| node | " + " | ".join(concerns) + " | in findings | saving | priority |",
            "|---|" + "---:|" * len(concerns) + "---:|---:|---|"]
    for row in matrix["rows"]:
        cells = [_pair(row["cells"].get(concern)) for concern in concerns]
        out.append(f"| {cell(short[row['node']])} | " + " | ".join(cells)
                   + f" | {row['code_lines']} | {row['saving']} | {row['priority']} |")
    totals = matrix["totals"]
    out.append("| **total** | " + " | ".join(f"**{_pair(totals['cells'][c])}**" for c in concerns)
               + f" | **{totals['code_lines']}** | **{totals['saving']}** | |")
    out += ["", *(f"Note: {note}" for note in matrix["notes"])] if matrix["notes"] else []
    return out


def _pair(value: dict | None) -> str:
    return "·" if not value else f"{value['code_lines']} / {value['saving']}"


def _gaps(gaps: list[dict]) -> list[str]:
    out = ["## What omnibase-core is missing", "",
           "Capabilities omnibase-core lacks, with the findings and code lines they keep in the nodes "
           "(kept, consolidated or pending as unsafe), largest first.", "",
           "| capability | concern | findings | code lines | nodes |", "|---|---|---:|---:|---:|"]
    for gap in gaps:
        out.append(f"| {cell(gap['capability'])} | {gap['concern']} | {gap['findings']} | {gap['code_lines']} | "
                   f"{len(gap['nodes'])} |")
    if not gaps:
        out.append("| (none) | | | | |")
    return out


def node_markdown(node: dict) -> list[str]:
    """One node's report: LOC by file, feature parity, findings, mixins applied and quality gates."""
    size = node["size"]
    out = [f"### {node['node']}", "", f"Status: {node['status']}." + (f" Class `{node['class']}`." if node["class"] else "")]
    if node["message"]:
        out += ["", cell(node["message"])]
    out += ["", "#### LOC", "", "| file | status | lines before | lines after | code lines before | code lines after |",
            "|---|---|---:|---:|---:|---:|"]
    for file in size["files"]:
        out.append(f"| {cell(in_node(node, file['path']))} | {file['status']} | {file['before']['lines']} | {file['after']['lines']} | "
                   f"{file['before']['code_lines']} | {file['after']['code_lines']} |")
    out.append(f"| **total** | | **{size['before']['lines']}** | **{size['after']['lines']}** | "
               f"**{size['before']['code_lines']}** | **{size['after']['code_lines']}** |")
    for created in size["created"]:
        out += ["", f"Creates {cell(created['path'])} ({created['after']['lines']} lines, "
                    f"{created['after']['code_lines']} code lines), counted once in the summary."]
    for shared in size["shared"]:
        out += ["", f"Changes {cell(shared['path'])}, shared with other nodes ({shared['before']['code_lines']} → "
                    f"{shared['after']['code_lines']} code lines), counted once in the summary."]
    out += ["", "#### Feature parity", ""]
    if node["feature_parity"]:
        out += ["| feature | original | migrated | status |", "|---|---|---|---|"]
        for row in node["feature_parity"]:
            out.append(f"| {row['feature']} | {cell(original(row))} | {cell(migrated(row))} | {cell(status(row))} |")
    else:
        out.append("No hand-rolled concern found.")
    if node["decisions"]:
        out += ["", "#### Findings", "", "| concern | where | outcome | replacement | why |", "|---|---|---|---|---|"]
        for d in sorted(node["decisions"], key=lambda d: (d["concern"], d["path"], d["start_line"])):
            where = f"{where_in(node, d)} `{d['symbol']}`"
            out.append(f"| {d['concern']} | {cell(where)} | {d['outcome']} | {cell(d['replacement'])} | "
                       f"{cell(d['note'] or d['reason'])} |")
    if node["warnings"]:
        out += ["", *(f"- warning: {cell(warning)}" for warning in node["warnings"])]
    out += ["", "#### Mixins applied", "", ", ".join(node["mixins_applied"]) or "none"]
    out += ["", "#### Quality gates", ""] + _gate(node["quality_gates"])
    return out


def _gate(gate: dict) -> list[str]:
    if gate["status"] == "not_run":
        return [f"Not run: {cell(gate['reason'])}."]
    verdict = "passed" if gate["status"] == "passed" else "**failed**"
    out = [f"Gate {verdict} in {gate['seconds']:.1f}s.", "", "| stage | status | seconds | reason |",
           "|---|---|---:|---|"]
    for stage in gate["stages"]:
        shown = f"**{stage['status']}**" if stage["status"] == "failed" else stage["status"]
        out.append(f"| {stage['name']} | {shown} | {stage['seconds']:.2f} | {cell(stage['reason'])} |")
    return out


def in_node(node: dict, path: str) -> str:
    """``path`` relative to the node's directory when it is inside it."""
    return path.removeprefix(node["node"].rstrip("/") + "/")


def where_in(node: dict, decision: dict) -> str:
    """``file:lines`` of a decision, the file relative to the node's directory."""
    path = in_node(node, decision["path"])
    lines = decision["start_line"] if decision["start_line"] == decision["end_line"] \
        else f"{decision['start_line']}-{decision['end_line']}"
    return f"{path}:{lines}"


def original(row: dict) -> str:
    """The original column of a feature parity row: findings, code lines and the symbols they are in."""
    symbols = row["original"]["symbols"]
    shown = ", ".join(f"`{s}`" for s in symbols[:3]) + (f" (+{len(symbols) - 3} more)" if len(symbols) > 3 else "")
    return f"{row['findings']} finding(s), {row['original']['code_lines']} code lines: {shown}"


def migrated(row: dict) -> str:
    after = row["code_lines_after"]
    return row["migrated"] + (f" ({after} code lines after)" if after is not None else "")


def status(row: dict) -> str:
    if row["status"] != "partial":
        return row["status"]
    return "partial: " + ", ".join(f"{label} {count}" for label, count in row["outcomes"].items())


def cell(text: str) -> str:
    """``text`` safe in a Markdown table cell."""
    return str(text).replace("|", "\\|").replace("\r", " ").replace("\n", " ")
