"""Unified diffs that ``git apply`` accepts from the repository root, deletions included."""

import difflib

NO_NEWLINE = "\\ No newline at end of file\n"


def unified_diff(path: str, before: str | None, after: str | None, context: int = 3) -> str:
    """A git-style diff of one file; ``before=None`` adds it, ``after=None`` deletes it."""
    if before == after:
        return ""
    old_lines = _lines(before or "")
    new_lines = _lines(after or "")
    header = [f"diff --git a/{path} b/{path}\n"]
    old_name, new_name = f"a/{path}", f"b/{path}"
    if after is None:
        header.append("deleted file mode 100644\n")
        new_name = "/dev/null"
    elif before is None:
        header.append("new file mode 100644\n")
        old_name = "/dev/null"
    body = list(
        difflib.unified_diff(old_lines, new_lines, old_name, new_name, n=context, lineterm="\n")
    )
    if not body:
        return ""
    if after is None:
        body[2] = f"@@ -1,{len(old_lines)} +0,0 @@\n" if len(old_lines) != 1 else "@@ -1 +0,0 @@\n"
    elif before is None:
        body[2] = f"@@ -0,0 +1,{len(new_lines)} @@\n" if len(new_lines) != 1 else "@@ -0,0 +1 @@\n"
    return "".join(header) + "".join(_mark_missing_newlines(body))


def _lines(text: str) -> list[str]:
    return text.splitlines(keepends=True)


def _mark_missing_newlines(body: list[str]) -> list[str]:
    out: list[str] = []
    for line in body:
        if line.endswith("\n"):
            out.append(line)
        else:
            out.append(line + "\n")
            out.append(NO_NEWLINE)
    return out
