"""Merge a corpus's answer-key parts (.expected/*.yaml) into its EXPECTED.yaml.

Usage: python scripts/merge_answer_key.py fixtures/omninode_bridge_b [--check]

With --check, exit 1 when EXPECTED.yaml differs from the merge of its parts.
"""

from __future__ import annotations

import sys
from pathlib import Path

import yaml

HEADER = """\
# The answer key of the fixture corpus: every hand-rolled instance and every planted look-alike.
# Paths are relative to this directory; lines are 1-based and inclusive. `symbol` is the innermost
# enclosing class or function (`<module>` at top level) and `anchor` a text inside the range;
# tests/test_answer_key.py checks both, so the key cannot drift silently when a fixture is edited.
# Merged from .expected/*.yaml by scripts/merge_answer_key.py.
"""


def merged(root: Path) -> str:
    files: dict[str, dict[str, list]] = {}
    for part in sorted((root / ".expected").glob("*.yaml")):
        data = yaml.safe_load(part.read_text(encoding="utf-8")) or {}
        for path, sections in (data.get("files") or {}).items():
            entry = files.setdefault(path, {"instances": [], "lookalikes": []})
            for kind in ("instances", "lookalikes"):
                entry[kind].extend((sections or {}).get(kind) or [])
    for entry in files.values():
        for kind in ("instances", "lookalikes"):
            entry[kind].sort(key=lambda item: (int(item["start_line"]), int(item["end_line"]), item["concern"]))
    body = yaml.safe_dump({"version": 1, "files": dict(sorted(files.items()))}, sort_keys=False, width=110,
                          allow_unicode=True)
    return HEADER + body


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__, file=sys.stderr)
        return 2
    root = Path(argv[0])
    text = merged(root)
    target = root / "EXPECTED.yaml"
    if "--check" in argv[1:]:
        current = target.read_text(encoding="utf-8") if target.is_file() else ""
        if current != text:
            print(f"{target} is not the merge of {root / '.expected'}: run scripts/merge_answer_key.py {root}")
            return 1
        return 0
    target.write_text(text, encoding="utf-8")
    print(f"wrote {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
