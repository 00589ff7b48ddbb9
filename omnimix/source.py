"""Python source files as they are on disk: bytes decoded as PEP 263 says (coding cookie, UTF-8 BOM),
line endings, tabs and a missing final newline kept, so writing back leaves untouched bytes identical."""

from __future__ import annotations

import codecs
import io
import re
import tokenize
from dataclasses import dataclass
from pathlib import Path

_LONE_LF = re.compile(r"(?<!\r)\n")


class SourceError(Exception):
    """A source file cannot be read or decoded; the message gives the reason (without the path)."""


@dataclass(frozen=True)
class SourceText:
    """The text of a source file and how it is stored: its codec and whether it starts with a UTF-8 BOM."""

    text: str
    encoding: str = "utf-8"
    bom: bool = False

    def encode(self, text: str | None = None) -> bytes:
        return encode_source(self.text if text is None else text, self.encoding, self.bom)


def read_source(path: Path) -> SourceText:
    """The file's text, decoded as Python itself would decode it, with every line ending kept."""
    return decode_source(read_bytes(path))


def read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise SourceError(f"cannot read: {exc.strerror or exc}") from exc


def decode_source(data: bytes) -> SourceText:
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError as exc:  # an unknown codec in the cookie, or a cookie that contradicts the BOM
        raise SourceError(f"cannot decode: {exc}") from exc
    bom = encoding == "utf-8-sig"
    codec = "utf-8" if bom else encoding
    body = data[len(codecs.BOM_UTF8):] if bom else data
    try:
        text = body.decode(codec)
    except UnicodeDecodeError as exc:
        raise SourceError(f"cannot decode as {codec}: {exc.reason} at byte {exc.start + len(data) - len(body)}") from exc
    return SourceText(text, codec, bom)


def encode_source(text: str, encoding: str = "utf-8", bom: bool = False) -> bytes:
    """``text`` as bytes in ``encoding``, after a UTF-8 BOM when ``bom``; raises ``UnicodeEncodeError``."""
    return (codecs.BOM_UTF8 if bom else b"") + text.encode(encoding)


def keep_line_endings(before: str, after: str) -> str:
    """``after`` with CRLF for the lines omnimix wrote with LF, when every line of ``before`` ends in CRLF.

    LibCST writes new statements with the file's own line ending already; this catches the rest
    (new lines inside a multi-line string, for instance). A file of mixed endings is left as it comes.
    """
    if "\r\n" not in before or _LONE_LF.search(before) or not _LONE_LF.search(after):
        return after
    return _LONE_LF.sub("\r\n", after)
