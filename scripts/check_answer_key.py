"""Check a fixture corpus's answer key against its code: files, line ranges, anchors and symbols.

Usage: python scripts/check_answer_key.py fixtures/omninode_bridge_b [PART.yaml ...]

Reads EXPECTED.yaml, or the parts under .expected/ when it is absent (or the parts named),
and prints one line per problem; exits 1 when there is any.
"""

from __future__ import annotations

import ast
import sys
from functools import cache
from pathlib import Path

import yaml

CONCERNS = {"circuit_breaker", "retry", "health_check", "metrics", "dead_letter_queue",
            "structured_logging", "redaction", "service_registration"}
FIELDS = ("concern", "symbol", "start_line", "end_line", "anchor", "description")


@cache
def symbol_spans(path: Path) -> dict[str, tuple[int, int]]:
    """Dotted names of every class and function in ``path`` with their line spans."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    spans: dict[str, tuple[int, int]] = {}

    def walk(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
                name = f"{prefix}{child.name}"
                start = min([child.lineno, *(d.lineno for d in child.decorator_list)])
                spans[name] = (start, child.end_lineno)
                walk(child, name + ".")
            else:
                walk(child, prefix)

    walk(tree, "")
    return spans


def entry_problems(root: Path, path: str, item: dict) -> list[str]:
    """What is wrong with one answer-key entry (empty when it points at its code)."""
    where = f"{path}:{item.get('start_line')}"
    missing = [name for name in FIELDS if name not in item]
    if missing:
        return [f"{where}: missing {', '.join(missing)}"]
    source = root / path
    if not source.is_file():
        return [f"{path}: no such file"]
    if item["concern"] not in CONCERNS:
        return [f"{where}: unknown concern {item['concern']!r}"]
    lines = source.read_text(encoding="utf-8").splitlines()
    start, end = int(item["start_line"]), int(item["end_line"])
    if not 1 <= start <= end <= len(lines):
        return [f"{where}: range {start}-{end} is outside the file (1-{len(lines)})"]
    text = "\n".join(lines[start - 1:end])
    problems = []
    if not item["anchor"] or item["anchor"] not in text:
        problems.append(f"{where}: anchor {item['anchor']!r} is not in lines {start}-{end}")
    spans = symbol_spans(source)
    if item["symbol"] == "<module>":
        if any(s <= start <= e for s, e in spans.values()):
            problems.append(f"{where}: symbol <module>, but line {start} is inside a definition")
    elif item["symbol"] not in spans:
        problems.append(f"{where}: symbol {item['symbol']} is not defined in {path}")
    else:
        s, e = spans[item["symbol"]]
        if not (s <= start and end <= e):
            problems.append(f"{where}: lines {start}-{end} are outside {item['symbol']} ({s}-{e})")
        inner = [name for name, (cs, ce) in spans.items()
                 if name.startswith(item["symbol"] + ".") and cs <= start and end <= ce]
        if inner:
            problems.append(f"{where}: the innermost symbol is {max(inner, key=len)}, not {item['symbol']}")
    return problems


def key_sources(root: Path, parts: list[str]) -> list[Path]:
    if parts:
        return [Path(p) for p in parts]
    merged = root / "EXPECTED.yaml"
    return [merged] if merged.is_file() else sorted((root / ".expected").glob("*.yaml"))


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__, file=sys.stderr)
        return 2
    root = Path(argv[0])
    problems: list[str] = []
    count = 0
    for source in key_sources(root, argv[1:]):
        data = yaml.safe_load(source.read_text(encoding="utf-8")) or {}
        for path, sections in (data.get("files") or {}).items():
            for kind in ("instances", "lookalikes"):
                for item in (sections or {}).get(kind) or []:
                    count += 1
                    problems += [f"{source.name}: {p}" for p in entry_problems(root, path, item)]
    for problem in problems:
        print(problem)
    print(f"{count} entries, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
