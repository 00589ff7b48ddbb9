"""Properties: code with nothing to migrate is left byte-identical; a migration is idempotent; every output
parses; the printed diff, applied with `git apply` to the original tree, gives exactly the written files;
``restore`` after ``--write`` gives back the original bytes.

Inputs come from the node modules of both fixture corpora (``corpus_variants``: renamed locals, reordered
methods, comments and blank lines added) and from hypothesmith's random valid Python. The number of
examples comes from the Hypothesis profile (tests/conftest.py): ``ci`` by default, ``long`` for thousands.
"""

from __future__ import annotations

import ast
import shutil
import string
import subprocess
from pathlib import Path

import libcst as cst
import pytest
import yaml
from codemod_examples import run_example, write_example_node
from corpus_variants import MODULES, Unit, corpus_units, random_units
from hypothesis import assume, event, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from codemods.base import Example
from codemods.declared_mixins import ApplyDeclaredMixins
from omnimix.catalog import load_catalog
from omnimix.cli import app
from omnimix.contract.validation import composition_problem
from omnimix.discovery import node_dirs, python_files
from omnimix.engine import migrate_node
from omnimix.results import NodeResult, Status

CONTRACT = "name: n\nnode_type: EFFECT\nmixins:\n  - {name: MixinHealthCheck}\n  - {name: MixinMetrics}\n"
identifiers = st.text(string.ascii_lowercase, min_size=1, max_size=8).map(lambda s: "v_" + s)
HOST = "from omnibase_core.nodes import NodeEffect\n\n\nclass NodeHostEffect(NodeEffect):\n    pass\n"
CORE_BASES = {"effect": "NodeEffect", "compute": "NodeCompute", "reducer": "NodeReducer",
              "orchestrator": "NodeOrchestrator"}


def scaled(fraction: float) -> int:
    """A share of the profile's examples, for properties that cost several migrations each."""
    return max(3, int(settings.default.max_examples * fraction))


# -- building a node from a unit ---------------------------------------------------------------
def full_contract(node_type: str | None) -> str:
    """A contract that asks for everything omnimix migrates or consolidates, for a node of ``node_type``."""
    kind = node_type or "effect"
    catalog = load_catalog()
    mixins = [{"name": name} for name in ("MixinHealthCheck", "MixinMetrics")
              if composition_problem(catalog.get(name), kind, catalog) is None]
    features = {name: {"enabled": True} for name in ("circuit_breaker", "retry_policy", "dead_letter_queue",
                                                     "security_validation", "service_registration")}
    features["observability"] = {"enabled": True, "logging": {"structured": True}}
    return yaml.safe_dump({"name": "unit", "node_type": kind.upper(), "mixins": mixins,
                           "dependencies": [{"name": "kafka", "type": "kafka"}], "advanced_features": features},
                          sort_keys=False)


def undeclared_contract(node_type: str | None) -> str:
    """A contract that declares a target state none of omnimix's codemods acts on (transactions)."""
    return yaml.safe_dump({"name": "unit", "node_type": (node_type or "effect").upper(),
                           "dependencies": [{"name": "db", "type": "database"}],
                           "advanced_features": {"transactions": {"enabled": True}}}, sort_keys=False)


def node_tree(root: Path, unit: Unit, contract: str) -> Path:
    """``root/pkg/unit_node``: the unit as node.py when it holds the node class, else as helpers.py beside
    a small node.py."""
    node = root / "pkg" / "unit_node"
    node.mkdir(parents=True)
    for package in (root / "pkg", node):
        (package / "__init__.py").write_text("", encoding="utf-8")
    if unit.node_type:
        (node / "node.py").write_text(unit.text, encoding="utf-8")
    else:
        (node / "node.py").write_text(HOST, encoding="utf-8")
        (node / "helpers.py").write_text(unit.text, encoding="utf-8")
    (node / "contract.yaml").write_text(contract, encoding="utf-8")
    return node


def migrate(root: Path, node: Path, unit: Unit) -> NodeResult:
    result = migrate_node(node_dirs(node)[0], root, allow_unsafe=unit.unsafe, allow_longer=True,
                          repository_files=tuple(python_files([root])))
    assert result.status is not Status.INTERNAL_ERROR, f"{unit.origin}: {result.message}\n{result.traceback}"
    assert result.status is not Status.INPUT_ERROR, f"{unit.origin}: {result.message}"
    return result


def files_of(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file() and ".git" not in p.relative_to(root).parts}


def apply(result: NodeResult) -> None:
    for change in result.changes:
        if change.after is None:
            change.path.unlink()
        else:
            change.path.write_bytes(change.encode(change.after))


any_unit = st.one_of(corpus_units(), random_units())


# -- nothing to migrate: byte-identical --------------------------------------------------------
@settings(max_examples=scaled(0.5))
@given(unit=any_unit)
def test_a_module_whose_concerns_the_contract_does_not_declare_comes_back_byte_identical(unit, tmp_path_factory):
    root = tmp_path_factory.mktemp("undeclared")
    node = node_tree(root, unit, undeclared_contract(unit.node_type))
    before = files_of(root)
    result = migrate(root, node, unit)
    assert all(not change.changed for change in result.changes), unit.origin
    apply(result)
    assert files_of(root) == before


@settings(max_examples=scaled(0.5))
@given(unit=random_units())
def test_a_module_with_nothing_to_migrate_comes_back_byte_identical_under_a_full_contract(unit, tmp_path_factory):
    root = tmp_path_factory.mktemp("nothing")
    node = node_tree(root, unit, full_contract(None))
    result = migrate(root, node, unit)
    helpers = next(change for change in result.changes if change.path.name == "helpers.py")
    assume(not next(scan for scan in result.scans if scan.path.name == "helpers.py").findings)
    assert not helpers.changed
    assert helpers.encode(helpers.after) == (node / "helpers.py").read_bytes()


@settings(max_examples=scaled(0.5))
@given(source=st.builds(lambda names, spaces, value: (names, spaces, value),
                        st.lists(identifiers, min_size=1, max_size=4, unique=True),
                        st.sampled_from([" ", "  "]), st.integers(-10**6, 10**6)))
def test_module_without_a_node_is_left_byte_identical(source, tmp_path_factory):
    names, spaces, value = source
    lines = ["import os", ""]
    for name in names:
        lines += [f"def {name}(a,{spaces}b=1):  # keep me", f"    return (a +{spaces}b)", ""]
    lines += ["class Plain:", f"    value = {value}", "", "    def get(self):", "        return self.value", ""]
    text = "\n".join(lines)
    root = tmp_path_factory.mktemp("plain")
    node_dir = write_example_node(Example("plain", text, text, CONTRACT), root)
    result = migrate_node(node_dirs(node_dir)[0], root)
    assert all(not change.changed for change in result.changes)
    assert (node_dir / "node.py").read_text() == text


# -- idempotent ----------------------------------------------------------------------------------
@settings(max_examples=scaled(0.25))
@given(unit=corpus_units())
def test_migrating_twice_equals_migrating_once(unit, tmp_path_factory):
    root = tmp_path_factory.mktemp("twice")
    node = node_tree(root, unit, full_contract(unit.node_type))
    first = migrate(root, node, unit)
    apply(first)
    once = files_of(root)
    second = migrate(root, node, unit)
    changed = [change.display for change in second.changes if change.changed]
    assert not changed, f"{unit.origin}: a second migration changed {changed}"
    assert files_of(root) == once


@settings(max_examples=scaled(0.25))
@given(extra=st.lists(st.sampled_from(["MixinHealthCheck", "MixinMetrics", "MixinCaching", "MixinFailFast"]),
                      min_size=1, max_size=4, unique=True),
       multiline=st.booleans())
def test_declaring_mixins_is_idempotent(extra, multiline, tmp_path_factory):
    bases = "(\n    NodeEffect,\n)" if multiline else "(NodeEffect)"
    before = f"from omnibase_core.nodes import NodeEffect\n\n\nclass NodeX{bases}:\n    pass\n"
    contract = "name: n\nnode_type: EFFECT\nmixins:\n" + "".join(f"  - {{name: {m}}}\n" for m in extra)
    example = Example("idempotent", before, before, contract)
    after, result = run_example(ApplyDeclaredMixins, example, tmp_path_factory.mktemp("first"))
    assert all(name in after for name in extra), result.message
    again, _ = run_example(ApplyDeclaredMixins, example, tmp_path_factory.mktemp("second"), text=after)
    assert again == after
    compile(after, "node.py", "exec")


# -- every output parses -------------------------------------------------------------------------
@settings(max_examples=scaled(0.5))
@given(unit=any_unit)
def test_every_output_parses(unit, tmp_path_factory):
    root = tmp_path_factory.mktemp("parses")
    node = node_tree(root, unit, full_contract(unit.node_type))
    result = migrate(root, node, unit)
    for change in result.changes:
        if change.after is not None and change.changed:
            ast.parse(change.after, change.display)
            cst.parse_module(change.after)


# -- the printed diff is what --write writes -------------------------------------------------------
def cli(root: Path, *args: str):
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(root)
        result = CliRunner().invoke(app, list(args))
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result


def git(root: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", *args], cwd=root, input=stdin, capture_output=True, text=True, check=False)


def committed_node_tree(root: Path, unit: Unit) -> Path:
    """``node_tree`` under the full contract, in a git repository with everything committed (so --write
    finds no uncommitted work)."""
    node = node_tree(root, unit, full_contract(unit.node_type))
    for args in (("init", "-q"), ("add", "-A"), ("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "t")):
        assert git(root, *args).returncode == 0
    return node


def migrate_flags(unit: Unit) -> list[str]:
    return ["--no-verify", "--allow-longer", *(["--unsafe"] if unit.unsafe else [])]


@settings(max_examples=scaled(1 / 6))
@given(unit=corpus_units())
def test_the_printed_diff_applied_with_git_apply_gives_the_written_files(unit, tmp_path_factory):
    base = tmp_path_factory.mktemp("diff")
    root = base / "tree"
    node = committed_node_tree(root, unit)
    pristine = base / "pristine"
    shutil.copytree(root, pristine, ignore=shutil.ignore_patterns(".git"))
    flags = migrate_flags(unit)
    dry = cli(root, "migrate", str(node.relative_to(root)), *flags)
    assert dry.exit_code == 0, dry.output
    written = cli(root, "migrate", str(node.relative_to(root)), "--write", *flags)
    assert written.exit_code == 0, written.output
    if dry.stdout:
        applied = git(pristine, "apply", "--whitespace=nowarn", "-", stdin=dry.stdout)
        assert applied.returncode == 0, f"{unit.origin}: {applied.stderr}\n{dry.stdout}"
    assert files_of(pristine) == files_of(root), unit.origin


# -- restore after --write gives back the original bytes -------------------------------------------
#: One entry per example of the restore property: whether its --write changed any file.
RESTORE_EXAMPLES: list[bool] = []


def git_paths(root: Path) -> set[str]:
    """The files inside .git, but omnimix's own records (``.git/omnimix/``)."""
    git_folder = root / ".git"
    return {p.relative_to(git_folder).as_posix() for p in git_folder.rglob("*")
            if p.is_file() and p.relative_to(git_folder).parts[0] != "omnimix"}


def write_then_restore(root: Path, unit: Unit) -> bool:
    """Commit the unit's node, ``migrate --write`` it, then ``restore``; assert every byte is back and
    nothing was added or left behind but omnimix's records in .git. Returns whether --write changed files."""
    node = committed_node_tree(root, unit)
    before, git_before = files_of(root), git_paths(root)
    written = cli(root, "migrate", str(node.relative_to(root)), "--write", *migrate_flags(unit))
    assert written.exit_code == 0, f"{unit.origin}: {written.output}"
    changed = files_of(root) != before
    restored = cli(root, "restore")
    if changed:
        assert restored.exit_code == 0, f"{unit.origin}: {restored.output}"
    after = files_of(root)
    assert sorted(after) == sorted(before), f"{unit.origin}: added {sorted(set(after) - set(before))}, " \
                                            f"missing {sorted(set(before) - set(after))}"
    different = [path for path in before if after[path] != before[path]]
    assert not different, f"{unit.origin}: restore left {different} different from the original"
    assert git_paths(root) <= git_before, f"{unit.origin}: {sorted(git_paths(root) - git_before)}"
    assert git(root, "status", "--porcelain").stdout == "", unit.origin
    return changed


@settings(max_examples=scaled(1 / 6))
@given(unit=corpus_units())
def test_restore_after_write_gives_back_the_original_bytes(unit, tmp_path_factory):
    changed = write_then_restore(tmp_path_factory.mktemp("restore") / "tree", unit)
    event("--write changed files" if changed else "--write changed nothing")
    RESTORE_EXAMPLES.append(changed)


def test_restore_after_write_gives_back_the_original_bytes_of_a_migrated_corpus_module(tmp_path):
    module = next(module for module in MODULES if module.node_type)
    assert write_then_restore(tmp_path / "tree", Unit(module.name, module.text, module.node_type, True))


def test_the_restore_property_restored_written_changes(tmp_path_factory):
    if not RESTORE_EXAMPLES:  # the property was deselected: run it here
        test_restore_after_write_gives_back_the_original_bytes(tmp_path_factory=tmp_path_factory)
    assert any(RESTORE_EXAMPLES), f"none of {len(RESTORE_EXAMPLES)} examples of the restore property changed a file"
