"""Files as they are: omnimix reads bytes, decodes them as Python does (PEP 263 cookie, UTF-8 BOM), keeps CRLF,
mixed line endings, tabs and a missing final newline, and writes back the same way, so that only the migrated
lines differ."""

from __future__ import annotations

import difflib
from pathlib import Path

import pytest
from fixture_copy import NODES_DIR, copy_corpus, git
from test_runs import cli

from omnimix.discovery import node_dirs, python_files
from omnimix.engine import migrate_nodes, scan_file
from omnimix.results import FileChange, Status
from omnimix.source import SourceError, decode_source
from omnimix.writer import WriteError, write_changes

LLM = NODES_DIR / "llm_effect"
LLM_NODE = LLM / "v1_0_0" / "node.py"

SMALL = b'''"""Small node."""

from omnibase_core.nodes import NodeEffect


class NodeSmallEffect(NodeEffect):
    """Does nothing."""

    def run(self):
        return 1
'''
CONTRACT = "name: small\nnode_type: EFFECT\nversion: 1.0.0\nmixins:\n  - name: MixinMetrics\n"
IMPORT = b"from omnibase_core.nodes import NodeEffect"
ADDED = b"from omnibase_core.mixins.mixin_metrics import MixinMetrics"
CLASS = b"class NodeSmallEffect(NodeEffect):"


def crlf_then_lf(text: bytes) -> bytes:
    lines = text.splitlines(keepends=True)
    return b"".join(line.replace(b"\n", b"\r\n") for line in lines[:7]) + b"".join(lines[7:])


VARIANTS = {
    "utf-8 BOM": (b"\xef\xbb\xbf" + SMALL, "utf-8", True, b"\n"),
    "latin-1 coding cookie": (b"# -*- coding: latin-1 -*-\n" + SMALL.replace(b"Small node.", b"Caf\xe9 node."),
                              "iso-8859-1", False, b"\n"),
    "tabs": (SMALL.replace(b"        ", b"\t\t").replace(b"    ", b"\t"), "utf-8", False, b"\n"),
    "no final newline": (SMALL.rstrip(b"\n"), "utf-8", False, b"\n"),
    "CRLF then LF": (crlf_then_lf(SMALL), "utf-8", False, b"\r\n"),
}


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_a_node_file_keeps_its_encoding_and_layout_and_only_migrated_lines_change(variant, tmp_path):
    before, encoding, bom, newline = VARIANTS[variant]
    node = tmp_path / "small"
    node.mkdir()
    (node / "node.py").write_bytes(before)
    (node / "contract.yaml").write_text(CONTRACT)
    [result] = migrate_nodes(node_dirs(node), tmp_path, allow_longer=True)
    assert result.status is Status.CHANGED, result.message
    [change] = result.changed_files
    assert (change.encoding, change.bom) == (encoding, bom)
    write_changes(list(result.changes), tmp_path)
    expected = before.replace(IMPORT, ADDED + newline + IMPORT).replace(CLASS, b"class NodeSmallEffect(NodeEffect, "
                                                                               b"MixinMetrics):")
    assert (node / "node.py").read_bytes() == expected


def changed_lines(before: bytes, after: bytes) -> int:
    old, new = before.decode("latin-1").splitlines(True), after.decode("latin-1").splitlines(True)
    return sum(1 for line in difflib.unified_diff(old, new, n=0)
               if line[:1] in "+-" and not line.startswith(("+++", "---")))


def test_a_crlf_node_comes_back_crlf_with_only_the_migrated_lines_changed(tmp_path):
    root = copy_corpus(tmp_path)
    node = root / LLM_NODE
    lf_before = node.read_bytes()
    assert b"\r" not in lf_before
    [lf] = migrate_nodes(node_dirs(root / LLM), root, repository_files=tuple(python_files([root])))
    lf_after = next(change.after for change in lf.changes if change.path == node).encode()
    assert lf_after != lf_before

    node.write_bytes(lf_before.replace(b"\n", b"\r\n"))
    git(root, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qam", "CRLF")
    written = cli("migrate", str(LLM), "--write", "--no-verify", cwd=root)
    assert written.exit_code == 0, written.output
    crlf_after = node.read_bytes()
    assert crlf_after == lf_after.replace(b"\n", b"\r\n")
    assert changed_lines(lf_before.replace(b"\n", b"\r\n"), crlf_after) == changed_lines(lf_before, lf_after)
    assert changed_lines(lf_before, lf_after) < len(lf_before.splitlines()) // 4


def test_text_that_the_file_encoding_cannot_hold_is_refused(tmp_path):
    path = tmp_path / "node.py"
    path.write_bytes(b"# -*- coding: latin-1 -*-\nx = '\xe9'\n")
    change = FileChange(path, "node.py", "# -*- coding: latin-1 -*-\nx = 'é'\n",
                        "# -*- coding: latin-1 -*-\nx = 'é'  # → ok\n", encoding="iso-8859-1")
    with pytest.raises(WriteError, match=r"^node.py: the new text cannot be encoded as iso-8859-1, the file's "
                                         r"encoding \(ordinal not in range\(256\): '→'\); nothing of this node"):
        write_changes([change], tmp_path)
    assert path.read_bytes() == b"# -*- coding: latin-1 -*-\nx = '\xe9'\n"


def test_a_file_that_is_not_valid_in_its_encoding_is_an_input_error(tmp_path):
    path = tmp_path / "broken.py"
    path.write_bytes(b"x = 1\ny = '\xff'\n")
    scan = scan_file(path, tmp_path)
    assert scan.status is Status.INPUT_ERROR
    assert scan.error == "broken.py: cannot decode as utf-8: invalid start byte at byte 11"
    with pytest.raises(SourceError, match="cannot decode: .*unknown encoding"):
        decode_source(b"# coding: no-such-codec\nx = 1\n")
