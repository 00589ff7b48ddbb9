"""Line counts: physical lines and code lines (non-blank, non-comment)."""

import io
import tokenize
from dataclasses import dataclass

from omnimix.analysis import cache


@dataclass(frozen=True)
class LineCount:
    """Physical lines and code lines of one text."""

    lines: int
    code_lines: int

    def __add__(self, other: "LineCount") -> "LineCount":
        return LineCount(self.lines + other.lines, self.code_lines + other.code_lines)

    def __sub__(self, other: "LineCount") -> "LineCount":
        return LineCount(self.lines - other.lines, self.code_lines - other.code_lines)


ZERO = LineCount(0, 0)


def count_lines(text: str) -> LineCount:
    """Count physical lines and code lines; a line inside a string literal is code if non-blank."""
    lines = text.splitlines()
    in_string = _string_lines(text)
    code = 0
    for number, line in enumerate(lines, start=1):
        stripped = line.strip()
        if not stripped:
            continue
        if stripped.startswith("#") and number not in in_string:
            continue
        code += 1
    return LineCount(len(lines), code)


def code_line_numbers(text: str) -> set[int]:
    """The 1-based numbers of the code lines of ``text``."""
    in_string = _string_lines(text)
    numbers = set()
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if stripped and (not stripped.startswith("#") or number in in_string):
            numbers.add(number)
    return numbers


_KNOWN: dict[str, frozenset[int]] = {}  # by text, least recently used first


def _string_lines(text: str) -> frozenset[int]:
    """Lines that continue a multi-line string token (so a leading '#' there is not a comment).

    Remembered by text in the process and in the on-disk cache: a migration counts the same texts after
    every codemod, and a re-run's summary counts every file of the run again."""
    found = _KNOWN.pop(text, None)
    if found is None:
        found = cache.by_text("loc", text, _tokenized_string_lines)
        if len(_KNOWN) >= 256:
            del _KNOWN[next(iter(_KNOWN))]
    _KNOWN[text] = found
    return found


def _tokenized_string_lines(text: str) -> frozenset[int]:
    inside: set[int] = set()
    try:
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            if token.type == tokenize.STRING and token.end[0] > token.start[0]:
                inside.update(range(token.start[0] + 1, token.end[0] + 1))
    except (tokenize.TokenError, SyntaxError, IndentationError):
        pass
    return frozenset(inside)
