"""Bad inputs, one row each: the input, the command, the exit code, the message, and nothing written.

Each row turns a small, committed, migratable tree (one node whose contract adds MixinMetrics) into a bad
one, runs the command from the tree's root and checks the exit code, a fragment of the message (whitespace
and the boxes of usage errors ignored), and that every file of the tree has the bytes it had before.
``test_the_good_tree_is_written`` shows the command does write when the input is good, so "nothing
written" means something. The README's Troubleshooting table lists the same kinds (checked below).
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import re
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import libcst as cst
import pytest
from typer.testing import CliRunner

from omnimix.cli import app
from omnimix.engine import PYTHON

README = Path(__file__).resolve().parent.parent / "README.md"
NODE = Path("pkg/nodes/node_x")
NODE_PY = 'from omnibase_core.nodes import NodeEffect\n\n\nclass NodeXEffect(NodeEffect):\n    pass\n'
CONTRACT = "name: x\nnode_type: EFFECT\nmixins:\n  - name: MixinMetrics\n"
WRITE = ("migrate", str(NODE), "--write", "--no-verify", "--allow-longer")
#: Adjacent string literals LibCST 1.x rejects ("expected one of STRING") though Python parses them.
MANY_STRINGS = "DATA = (\n" + "".join(f'    "row {i};"\n' for i in range(3600)) + ")\n"


def write(root: Path, relative: str | Path, data: str | bytes) -> None:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))


def contract(text: str | bytes) -> Callable[[Path], None]:
    return lambda root: write(root, NODE / "contract.yaml", text)


def module(name: str, text: str | bytes) -> Callable[[Path], None]:
    return lambda root: write(root, NODE / name, text)


def link(name: str, target: str) -> Callable[[Path], None]:
    return lambda root: os.symlink(target, root / NODE / name)


def link_outside(name: str, text: str) -> Callable[[Path], None]:
    def build(root: Path) -> None:
        outside = root.parent / f"outside-{name}"
        outside.write_text(text, encoding="utf-8")
        (root / NODE / name).unlink(missing_ok=True)
        os.symlink(outside, root / NODE / name)
    return build


def unreadable_contract(root: Path) -> None:
    (root / NODE / "contract.yaml").chmod(0)


def alias_bomb(root: Path) -> None:
    lines = ["a: &a [x, x, x, x, x, x, x, x, x]"]
    for previous, name in zip("abcdefg", "bcdefgh"):
        lines.append(f"{name}: &{name} [{', '.join([f'*{previous}'] * 9)}]")
    write(root, NODE / "contract.yaml", CONTRACT + "\n".join(lines) + "\n")


@dataclass(frozen=True)
class BadInput:
    kind: str  # as in the README's Troubleshooting table
    build: Callable[[Path], None]
    message: str  # a fragment of the output; {python} is "Python 3.12" (the running version), {root} the
    # tree's root and {outside} the folder that holds it
    command: tuple[str, ...] = WRITE
    exit_code: int = 2
    needs: Callable[[], str | None] = field(default=lambda: None)  # why the row cannot run here, or None

    @property
    def id(self) -> str:
        return re.sub(r"[^a-z0-9]+", "-", self.kind.lower()).strip("-")


def _libcst_rejects_many_strings() -> str | None:
    try:
        cst.parse_module(MANY_STRINGS)
    except cst.ParserSyntaxError:
        return None
    return "this LibCST parses thousands of adjacent strings; the row has no example left"


def _before_python(version: tuple[int, int]) -> Callable[[], str | None]:
    return lambda: None if sys.version_info[:2] < version else f"valid syntax from Python {version[0]}.{version[1]}"


ROWS = [
    # -- the contract ------------------------------------------------------------------------
    BadInput("malformed YAML", contract("name: x\nnode_type: [EFFECT\nmixins: {\n"),
             "contract.yaml:3: <contract>: invalid YAML: expected ',' or ']'"),
    BadInput("YAML alias bomb", alias_bomb, "invalid YAML: anchors and aliases expand to more than 100000 values"),
    BadInput("recursive YAML alias", contract(CONTRACT + "loop: &loop [*loop]\n"),
             "contract.yaml:5: <contract>: invalid YAML: an alias refers to the anchor it is inside of"),
    BadInput("key set twice in the contract", contract(CONTRACT + "node_type: COMPUTE\n"),
             "contract.yaml:5: <contract>: invalid YAML: key 'node_type' is set twice in one mapping (also line 2)"),
    BadInput("empty contract", contract(""), "contract.yaml:1: <contract>: a contract must be a YAML mapping"),
    BadInput("contract that is not a mapping", contract("- MixinMetrics\n"),
             "contract.yaml:1: <contract>: a contract must be a YAML mapping"),
    BadInput("contract not in UTF-8", contract(CONTRACT.encode() + b"description: caf\xe9\n"),
             "<contract>: cannot read: 'utf-8' codec can't decode byte 0xe9"),
    BadInput("unreadable contract", unreadable_contract, "<contract>: cannot read: [Errno 13] Permission denied"),
    BadInput("directory given as --contract", lambda root: None,
             "Invalid value for '--contract': file 'pkg/nodes' is a directory",
             command=(*WRITE, "--contract", "pkg/nodes")),
    BadInput("missing path", lambda root: None, "Invalid value for 'paths': path 'pkg/nodes/node_y' does not exist",
             command=("migrate", "pkg/nodes/node_y", "--write", "--no-verify")),
    BadInput("--contract for several nodes", lambda root: write(root, "pkg/nodes/node_y/contract.yaml", CONTRACT),
             "--contract applies to one node, but 2 were found",
             command=("migrate", "pkg/nodes", "--write", "--no-verify", "--contract", str(NODE / "contract.yaml"))),
    BadInput("unknown contract key", contract(CONTRACT + "advanced_features:\n  circuit_breaker: {failure_treshold: 3}\n"),
             "contract.yaml:6: advanced_features.circuit_breaker.failure_treshold: unknown key"),
    BadInput("wrong type in the contract", contract(CONTRACT + "advanced_features:\n  circuit_breaker: "
                                                               "{failure_threshold: five}\n"),
             "contract.yaml:6: advanced_features.circuit_breaker.failure_threshold: expected an integer or a "
             "${ENV} placeholder (got 'five')"),
    BadInput("boolean where a number is expected", contract(CONTRACT + "advanced_features:\n  circuit_breaker: "
                                                                       "{failure_threshold: true}\n"),
             "failure_threshold: expected an integer or a ${ENV} placeholder (got True)"),
    BadInput("${ENV} placeholder with text after it", contract(CONTRACT + "advanced_features:\n  circuit_breaker: "
                                                                          "{failure_threshold: \"${N}\\n\"}\n"),
             "failure_threshold: expected an integer or a ${ENV} placeholder (got '${N}\\n')"),
    BadInput("mixin name that is not a class name", contract("name: x\nnode_type: EFFECT\nmixins:\n"
                                                             "  - name: 'MixinMetrics); __import__(\"os\"'\n"),
             "contract.yaml:4: mixins[0].name: expected a Python class name (an identifier)"),
    BadInput("mixin omnibase-core does not ship", contract("name: x\nnode_type: EFFECT\nmixins:\n"
                                                           "  - name: MixinRetry\n"),
             "contract.yaml:4: mixins[0].name: error: MixinRetry is not shipped by omnibase-core"),
    BadInput("unknown mixin", contract("name: x\nnode_type: EFFECT\nmixins:\n  - name: MixinMetrix\n"),
             "contract.yaml:4: mixins[0].name: error: unknown mixin 'MixinMetrix'; did you mean MixinMetrics?"),
    BadInput("markup in a contract value", contract(CONTRACT + "advanced_features:\n  circuit_breaker: "
                                                               "{failure_threshold: '[/]'}\n"),
             "failure_threshold: expected an integer or a ${ENV} placeholder (got '[/]')"),
    BadInput("main_class not in the node", contract(CONTRACT + "main_class: NodeMissingEffect\n"),
             "contract.yaml:5: main_class: no class NodeMissingEffect in pkg/nodes/node_x; its node classes: "
             "NodeXEffect"),
    BadInput("node class with an unknown base",
             module("node.py", "from somewhere import Base\n\n\nclass NodeXEffect(Base):\n    pass\n"),
             "contract.yaml:1: <contract>: the contract declares mixins or advanced_features, but no class in "
             "pkg/nodes/node_x derives from an omnibase-core node base"),
    BadInput("node without node.py", lambda root: (root / NODE / "node.py").unlink(),
             "no class is defined in pkg/nodes/node_x (it has no node.py)"),
    BadInput("empty node.py", module("node.py", ""), "no class is defined in pkg/nodes/node_x"),
    BadInput("two contracts for one node", lambda root: write(root, NODE / "contract.yml", CONTRACT),
             "pkg/nodes/node_x: two contracts for one node (contract.yaml and contract.yml); keep one"),
    # -- the Python files ---------------------------------------------------------------------
    BadInput("Python file not in UTF-8", module("helpers.py", b"NAME = 'caf\xe9'\n"),
             "pkg/nodes/node_x/helpers.py: cannot decode"),
    BadInput("unknown coding cookie", module("helpers.py", "# -*- coding: klingon -*-\nx = 1\n"),
             "pkg/nodes/node_x/helpers.py: cannot decode: unknown encoding: klingon"),
    BadInput("binary file", module("helpers.py", b"x = 1\n\x00\x01\x02\n"),
             "pkg/nodes/node_x/helpers.py:2:1: binary file (a NUL byte), not Python source"),
    BadInput("huge file", module("generated.py", "x = 1\n" * 800_000),
             "pkg/nodes/node_x/generated.py: 4800000 bytes is over the --max-file-size limit of 4194304 bytes"),
    BadInput("file over --max-file-size", lambda root: None,
             "pkg/nodes/node_x/node.py: 85 bytes is over the --max-file-size limit of 50 bytes",
             command=(*WRITE, "--max-file-size", "50")),
    BadInput("--max-file-size not a positive number", lambda root: None,
             "Invalid value for '--max-file-size'", command=(*WRITE, "--max-file-size", "0")),
    BadInput("syntax error", module("node.py", "class NodeXEffect(:\n    pass\n"),
             "pkg/nodes/node_x/node.py:1:19: syntax error under {python}: invalid syntax"),
    BadInput("Python rejects, LibCST accepts: non-ASCII bytes literal", module("helpers.py", "RAW = b'caf\xe9'\n"),
             "pkg/nodes/node_x/helpers.py:1:7: syntax error under {python}: bytes can only contain ASCII literal "
             "characters"),
    BadInput("Python rejects, LibCST accepts: type parameter default",
             module("helpers.py", "def first[T = int](items: list[T]) -> T:\n    return items[0]\n"),
             "pkg/nodes/node_x/helpers.py:1:10: syntax error under {python}: expected '('", needs=_before_python((3, 13))),
    BadInput("Python accepts, LibCST rejects: thousands of adjacent strings", module("helpers.py", MANY_STRINGS),
             "pkg/nodes/node_x/helpers.py:3602:0: {python} parses this file but LibCST cannot",
             needs=_libcst_rejects_many_strings),
    BadInput("symlink loop", link("loop.py", "loop.py"), "pkg/nodes/node_x/loop.py: symlink loop; not followed"),
    BadInput("symlink pointing outside the tree", link_outside("shared.py", "x = 1\n"),
             "pkg/nodes/node_x/shared.py: symlink to {outside}/outside-shared.py, outside the tree {root}; "
             "not followed"),
    BadInput("contract symlink pointing outside the tree", link_outside("contract.yaml", CONTRACT),
             "pkg/nodes/node_x/contract.yaml: symlink to {outside}/outside-contract.yaml, outside the tree"),
    BadInput("dangling symlink", link("gone.py", "nowhere.py"),
             "pkg/nodes/node_x/gone.py: symlink to nowhere.py, which does not exist; not followed"),
    # -- the other commands ---------------------------------------------------------------------
    BadInput("scan of a binary file", module("helpers.py", b"\x00\x01"),
             "error pkg/nodes/node_x/helpers.py:1:1: binary file (a NUL byte)", command=("scan", "pkg")),
    BadInput("validate of a YAML alias bomb", alias_bomb,
             "invalid YAML: anchors and aliases expand to more than 100000 values", command=("validate", "pkg")),
    BadInput("verify of a syntax error", module("helpers.py", "def f(:\n"),
             "pkg/nodes/node_x/helpers.py:1:7: syntax error under {python}", command=("verify", str(NODE))),
]


def good_tree(root: Path) -> None:
    write(root, "pyproject.toml", '[project]\nname = "bad-inputs"\nversion = "0"\n')
    for package in ("pkg", "pkg/nodes", NODE):
        write(root, Path(package) / "__init__.py", "")
    write(root, NODE / "node.py", NODE_PY)
    write(root, NODE / "contract.yaml", CONTRACT)


def commit(root: Path) -> None:
    for args in (("init", "-q"), ("add", "-A"), ("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "tree")):
        subprocess.run(["git", *args], cwd=root, capture_output=True, check=True)


def fingerprint(root: Path) -> dict[str, str]:
    """Every file and link of the tree outside .git (where run records live): its bytes' hash or its target."""
    found = {}
    for directory, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if d != ".git"]
        for name in [*files, *(d for d in dirs if os.path.islink(os.path.join(directory, d)))]:
            path = Path(directory, name)
            key = path.relative_to(root).as_posix()
            if path.is_symlink():
                found[key] = "-> " + os.readlink(path)
            elif os.access(path, os.R_OK) and path.stat().st_mode & 0o444:
                found[key] = hashlib.sha256(path.read_bytes()).hexdigest()
            else:
                found[key] = f"unreadable, {path.stat().st_size} bytes, mtime {path.stat().st_mtime_ns}"
    return found


def run(root: Path, command: tuple[str, ...], *, without_read_override: bool = False) -> tuple[int, str]:
    """Exit code and output (stdout and stderr) of ``omnimix COMMAND`` run from ``root``.

    In-process, except where root must lose its power to read any file: then in a child process whose
    capability bounding set lacks CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH."""
    if without_read_override:
        done = subprocess.run([sys.executable, "-m", "omnimix", *command], cwd=root, capture_output=True, text=True,
                              preexec_fn=_drop_read_override, env={**os.environ, "COLUMNS": "300"})
        return done.returncode, done.stdout + done.stderr
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(root)
        result = CliRunner().invoke(app, list(command), env={"COLUMNS": "300"})
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.output


def _drop_read_override() -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    for capability in (1, 2):  # CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH
        if libc.prctl(24, capability, 0, 0, 0) != 0:  # PR_CAPBSET_DROP
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")


def flat(text: str) -> str:
    return " ".join(re.sub(r"[│╭╮╰╯─]", " ", text).split())


def test_the_good_tree_is_written(tmp_path):
    root = tmp_path / "tree"
    good_tree(root)
    commit(root)
    before = fingerprint(root)
    code, output = run(root, WRITE)
    assert code == 0, output
    changed = {path for path, digest in fingerprint(root).items() if before.get(path) != digest}
    assert changed == {"pkg/nodes/node_x/node.py"}


@pytest.mark.parametrize("row", ROWS, ids=[row.id for row in ROWS])
def test_a_bad_input_is_refused_with_its_message_and_nothing_is_written(row: BadInput, tmp_path):
    reason = row.needs()
    if reason:
        pytest.skip(reason)
    root = tmp_path / "tree"
    good_tree(root)
    row.build(root)
    commit(root)
    before = fingerprint(root)
    as_root = row.build is unreadable_contract and os.geteuid() == 0
    code, output = run(root, row.command, without_read_override=as_root)
    expected = (row.message.replace("{python}", PYTHON).replace("{outside}", str(tmp_path.resolve()))
                .replace("{root}", str(root.resolve())))
    assert flat(expected) in flat(output), output
    assert code == row.exit_code, output
    assert "Traceback" not in output
    assert fingerprint(root) == before


def test_the_readme_lists_every_kind_with_its_exit_code():
    section = README.read_text(encoding="utf-8").split("## Troubleshooting", 1)[1].split("\n## ", 1)[0]
    table = {}
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) == 3 and cells[2].isdigit():
            table[cells[0].replace("`", "")] = int(cells[2])
    assert table == {row.kind: row.exit_code for row in ROWS}


@pytest.mark.parametrize("text", [
    "type Pair[T] = tuple[T, T]\n\ndef first[T](pair: Pair[T]) -> T:\n    return pair[0]\n",
    'NAME = "x"\nGREETING = f"{f"{NAME!r:>{10}}"}" + f"{"\\n".join([NAME])}"\n',
    "match 1, 2:\n    case (1, *rest):\n        pass\n",
], ids=["pep-695", "pep-701", "match"])
def test_modern_syntax_both_parsers_accept_is_migrated(text, tmp_path):
    root = tmp_path / "tree"
    good_tree(root)
    write(root, NODE / "helpers.py", text)
    commit(root)
    code, output = run(root, WRITE)
    assert code == 0, output
    assert (root / NODE / "helpers.py").read_text(encoding="utf-8") == text
    assert "MixinMetrics" in (root / NODE / "node.py").read_text(encoding="utf-8")
