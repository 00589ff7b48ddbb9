"""The verification gate: each stage fails for the right reason, nothing is written, and a real
fixture node migrated by ApplyDeclaredMixins alone passes every stage.

Planted failures are NodeResults whose ``after`` text is crafted on top of a real migration of
the fixture node store_effect (in a private copy of the corpus). The command-line tests use a
tiny repository of two contract-only nodes, so they do not depend on which concern codemods
exist.
"""

from __future__ import annotations

import dataclasses
import inspect
import json
import textwrap
from pathlib import Path

import pytest
from fixture_copy import NODES_DIR, copy_corpus, git, omnimix, snapshot

from codemods.declared_mixins import ApplyDeclaredMixins
from omnimix.discovery import node_dirs, python_files
from omnimix.engine import migrate_node
from omnimix.gate import STAGES, StageStatus, run_gate
from omnimix.gate.behaviour import discover_tests
from omnimix.gate.probe import _hook_problem, _signature_mismatch
from omnimix.gate.workspace import default_python, has_module
from omnimix.results import FileChange, NodeResult, Status

CODEMODS = (ApplyDeclaredMixins(),)
STORE = NODES_DIR / "store_effect"
HAS_MYPY = has_module(default_python(), "mypy")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    return copy_corpus(tmp_path_factory.mktemp("gate"))


@pytest.fixture(scope="module")
def store(corpus) -> NodeResult:
    node = node_dirs(corpus / STORE)[0]
    result = migrate_node(node, corpus, repository_files=tuple(python_files([corpus])), codemods=CODEMODS,
                          allow_longer=True)
    assert result.status is Status.CHANGED, result.message
    return result


def plant(result: NodeResult, old: str, new: str) -> NodeResult:
    """``result`` with ``old`` replaced by ``new`` in the migrated text of node.py."""
    changes = []
    for change in result.changes:
        if change.path.name == "node.py":
            assert change.after is not None and old in change.after
            change = dataclasses.replace(change, after=change.after.replace(old, new, 1))
        changes.append(change)
    return dataclasses.replace(result, changes=tuple(changes))


def line_of(result: NodeResult, text: str) -> int:
    after = next(c.after for c in result.changes if c.path.name == "node.py")
    return after.splitlines().index(text) + 1


def failed_for(report, stage: str, cause: str) -> None:
    """``stage`` failed because of ``cause``, and the one-line summary names both."""
    assert report.stage(stage).status is StageStatus.FAILED, report.stage(stage).reason
    assert cause in report.stage(stage).reason
    assert not report.passed
    assert "gate failed at " in report.summary() and f"{stage}: " in report.summary() and cause in report.summary()


def gate(result: NodeResult, corpus: Path, **kwargs):
    before = snapshot(corpus)
    report = run_gate(result, corpus, codemods=CODEMODS, **kwargs)
    assert snapshot(corpus) == before, "the gate must never write to the repository"
    assert [stage.name for stage in report.stages] == list(STAGES)
    return report


# -- the happy path ---------------------------------------------------------------------------
def test_real_fixture_node_passes_every_stage(corpus, store):
    assert "class NodeStoreEffect(NodeEffect, MixinHealthCheck, MixinMetrics)" in store.changed_files[0].after
    report = gate(store, corpus)
    statuses = {stage.name: stage.status for stage in report.stages if stage.name != "types"}
    assert statuses == dict.fromkeys(STAGES[:-1], StageStatus.PASSED), report.summary()
    types = report.stage("types")
    if HAS_MYPY:  # mypy sees the one known problem, which composition reports as a warning
        assert types.status is StageStatus.FAILED
        assert all("get_metrics" in error for error in types.details["new_errors"])
    else:
        assert (types.status, types.reason) == (StageStatus.SKIPPED, "mypy not installed")
        assert report.passed and not report.internal_error
    behaviour = report.stage("behaviour")
    assert behaviour.details["tests"] == ["tests/test_store_effect.py"]
    assert behaviour.details["before"] == behaviour.details["after"]
    assert behaviour.details["after"]["passed"] >= 10
    passed_before = behaviour.details["before"]["passed"]
    assert f"before: {passed_before} passed; after: {passed_before} passed" in behaviour.reason
    composition = report.stage("composition")
    assert composition.details["constructed"] is True
    mro = composition.details["mro"]
    assert mro.index("omnibase_core.nodes.node_effect.NodeEffect") < mro.index(
        "omnibase_core.mixins.mixin_health_check.MixinHealthCheck")
    assert "NodeStoreEffect.get_health_checks() returns what MixinHealthCheck expects" in composition.details["notes"]
    assert composition.details["warnings"] == [
        "NodeStoreEffect.get_metrics must be sync like MixinMetrics.get_metrics (it shadows a method of MixinMetrics, "
        "not a hook: code using MixinMetrics's API gets the node's version)"]
    assert "2 of 2 enabled mixin(s) are in the MRO" in report.stage("contract").reason
    assert all(stage.seconds > 0 for stage in report.stages if stage.status is StageStatus.PASSED)


# -- each stage failing for its reason --------------------------------------------------------
def test_syntax_broken_by_omnimix_is_an_internal_error_and_stops_the_gate(corpus, store):
    broken = plant(store, "    def __init__(\n", "    def __init__((\n")
    report = gate(broken, corpus)
    syntax = report.stage("syntax")
    failed_for(report, "syntax", "store_effect/v1_0_0/node.py: line ")
    assert syntax.reason.startswith("omnimix broke the syntax (a bug in omnimix; never written): ")
    assert report.internal_error
    assert all(stage.status is StageStatus.SKIPPED for stage in report.stages[1:])
    assert report.summary().startswith("gate failed at syntax: omnimix broke the syntax")


def test_syntax_of_an_input_that_was_already_broken_is_reported_apart(corpus, store):
    change = store.changed_files[0]
    already = FileChange(change.path, change.display, change.before + "\ndef (:\n", change.after + "\ndef (:\n")
    report = gate(dataclasses.replace(store, changes=(already,)), corpus)
    syntax = report.stage("syntax")
    failed_for(report, "syntax", "the input was already broken: ")
    assert syntax.details["broken"][0]["cause"] == "input"
    assert not report.internal_error


def test_imports_that_do_not_resolve_fail_imports_naming_file_line_and_cause(corpus, store):
    good = "from omnibase_core.mixins.mixin_metrics import MixinMetrics"
    bad = "from omnibase_core.mixins import MixinMetrics"
    planted = plant(store, good, bad)
    clock = corpus / "src/omninode_bridge/utils/clock.py"
    deletion = FileChange(clock, "src/omninode_bridge/utils/clock.py", clock.read_text(), None)
    report = gate(dataclasses.replace(planted, changes=(*planted.changes, deletion)), corpus, tests=[])
    failed_for(report, "imports",
               f"store_effect/v1_0_0/node.py:{line_of(planted, bad)}: `{bad}`: ImportError: cannot import name "
               "'MixinMetrics' from 'omnibase_core.mixins'")
    statement = "from omninode_bridge.utils.clock import SYSTEM_CLOCK, Clock"
    failed_for(report, "imports", f"store_effect/v1_0_0/node.py:{line_of(planted, statement)}: `{statement}`: "
                                  "ModuleNotFoundError: No module named 'omninode_bridge.utils.clock'")
    assert ("src/omninode_bridge/nodes/mixins/health_mixin.py:36: `from omninode_bridge.utils.clock import "
            "SYSTEM_CLOCK, Clock` imports the deleted module omninode_bridge.utils.clock"
            in report.stage("imports").details["problems"])
    assert report.stage("composition").status is StageStatus.FAILED  # the class cannot import either
    assert report.stage("behaviour").reason == "no tests given"
    assert not report.internal_error


def test_event_driven_mixin_with_a_node_base_fails_composition(corpus, store):
    bases = "class NodeStoreEffect(NodeEffect, MixinHealthCheck, MixinMetrics):"
    planted = plant(plant(store, bases, bases.replace("MixinMetrics)", "MixinMetrics, MixinEventDrivenNode)")),
                    "from omnibase_core.mixins import MixinHealthCheck",
                    "from omnibase_core.mixins import MixinEventDrivenNode, MixinHealthCheck")
    report = gate(planted, corpus, tests=[])
    assert report.stage("imports").status is StageStatus.PASSED
    failed_for(report, "composition", "MixinEventDrivenNode cannot be composed with NodeEffect: ")


def test_a_health_check_that_needs_arguments_fails_composition(corpus, store):
    anchor = "    # ------------------------------------------------------------------ lifecycle\n"
    hook = ("    def get_health_checks(self):\n        return [self._probe_pool]\n\n"
            "    def _probe_pool(self, pool):\n        return pool\n\n")
    report = gate(plant(store, anchor, hook + anchor), corpus, tests=[])
    failed_for(report, "composition", "NodeStoreEffect.get_health_checks() item 0 (NodeStoreEffect._probe_pool) "
                                      "needs arguments pool; health checks are called with none")


def test_a_change_that_breaks_a_node_test_fails_behaviour(corpus, store):
    planted = plant(store, "new_version = record.version + 1", "new_version = record.version + 2")
    report = gate(planted, corpus)
    for name in ("syntax", "idempotency", "imports", "composition", "contract"):
        assert report.stage(name).status is StageStatus.PASSED, report.stage(name).reason
    behaviour = report.stage("behaviour")
    failed_for(report, "behaviour", "1 test(s) passed before and fail after: "
                                    "tests.test_store_effect::test_save_upserts_with_bumped_version (failed")
    passed_before = behaviour.details["before"]["passed"]
    assert f"(before: {passed_before} passed; after: {passed_before - 1} passed, 1 failed)" in behaviour.reason
    assert behaviour.details["before"] == {"passed": passed_before, "failed": 0, "error": 0, "skipped": 0}


def test_a_dropped_mixin_fails_idempotency_and_contract(corpus, store):
    bases = "class NodeStoreEffect(NodeEffect, MixinHealthCheck, MixinMetrics):"
    planted = dataclasses.replace(plant(store, bases, "class NodeStoreEffect(NodeEffect, MixinHealthCheck):"),
                                  mixins_applied=("MixinHealthCheck",))
    report = gate(planted, corpus, tests=[])
    failed_for(report, "idempotency", "a second migration changes 1 more file(s): "
                                      "src/omninode_bridge/nodes/store_effect/v1_0_0/node.py")
    assert "+class NodeStoreEffect(NodeEffect, MixinHealthCheck, MixinMetrics):" in \
        report.stage("idempotency").details["diff"]
    failed_for(report, "contract", "enabled in the contract but not in the MRO of NodeStoreEffect: MixinMetrics")
    assert report.stage("composition").status is StageStatus.PASSED


@pytest.mark.skipif(not HAS_MYPY, reason="mypy is optional; the happy path checks the 'not installed' skip")
def test_a_new_type_error_fails_types(corpus, store):
    planted = plant(store, "new_version = record.version + 1", 'new_version: int = "one"')
    report = gate(planted, corpus, tests=[])
    failed_for(report, "types", "new mypy error(s)")
    assert "[assignment]" in report.stage("types").reason


# -- the gate never raises ------------------------------------------------------------------
def test_nothing_changed_means_nothing_to_verify(corpus, store):
    report = run_gate(dataclasses.replace(store, changes=(), status=Status.UNCHANGED), corpus)
    assert report.passed
    assert {stage.status for stage in report.stages} == {StageStatus.SKIPPED}
    assert report.stages[0].reason == "nothing to verify: the migration changes no file (unchanged)"


def test_a_change_outside_the_repository_is_a_failed_gate_not_an_exception(corpus, store, tmp_path):
    outside = tmp_path / "elsewhere.py"
    outside.write_text("x = 1\n")
    stray = FileChange(outside, "elsewhere.py", "x = 1\n", "x = 2\n")
    report = run_gate(dataclasses.replace(store, changes=(stray,)), corpus)
    assert not report.passed
    assert report.stage("imports").reason.startswith("cannot prepare the temporary copy: ")


# -- pieces -------------------------------------------------------------------------------------
def test_tests_are_discovered_through_re_exporting_packages(corpus, store):
    assert [p.name for p in discover_tests(store, corpus)] == ["test_store_effect.py"]


def _sig(function) -> inspect.Signature:
    return inspect.signature(function)


@pytest.mark.parametrize(
    ("hook", "override", "problem"),
    [
        (lambda self: None, lambda self, extra=1: None, None),
        (lambda self, x: None, lambda self, *args: None, None),
        (lambda self: None, lambda self, pool: None, "it requires 'pool', which callers of the hook do not pass"),
        (lambda self, x: None, lambda self: None, "it does not accept the positional parameter 'x'"),
        (lambda self, x=1: None, lambda self, x: None, "it requires 'x', which is optional in the hook"),
        (lambda self, *, key: None, lambda self, **kw: None, None),
    ],
)
def test_hook_signature_compatibility(hook, override, problem):
    assert _signature_mismatch(_sig(hook), _sig(override), 1) == problem


def test_hook_kind_and_async_must_match_the_mixin():
    from omnibase_core.mixins import MixinHealthCheck, MixinSensitiveFieldRedaction
    from omnibase_core.nodes import NodeEffect

    class AsyncChecks(NodeEffect, MixinHealthCheck):
        async def get_health_checks(self):
            return []

    class InstancePatterns(NodeEffect, MixinSensitiveFieldRedaction):
        def get_sensitive_field_patterns(self):
            return []

    class Fine(NodeEffect, MixinHealthCheck):
        def get_health_checks(self):
            return []

    assert _hook_problem(AsyncChecks, MixinHealthCheck, "get_health_checks") == (
        "AsyncChecks.get_health_checks must be sync like MixinHealthCheck.get_health_checks")
    assert _hook_problem(InstancePatterns, MixinSensitiveFieldRedaction, "get_sensitive_field_patterns") == (
        "InstancePatterns.get_sensitive_field_patterns is a method, but "
        "MixinSensitiveFieldRedaction.get_sensitive_field_patterns is a classmethod")
    assert _hook_problem(Fine, MixinHealthCheck, "get_health_checks") is None


# -- the command line, on a tiny repository of two contract-only nodes --------------------------
TINY_TEST = '''
from omnibase_core.nodes import NodeEffect

from tinypkg.nodes.{name} import {cls}


def test_{name}_is_a_node_effect():
    assert issubclass({cls}, NodeEffect)
'''


@pytest.fixture
def tiny(tmp_path) -> Path:
    """alpha and beta: effect nodes whose contracts declare MixinMetrics. beta's tests also pin its
    bases, so migrating beta breaks one of its tests."""
    root = tmp_path / "tiny"
    (root / "tests").mkdir(parents=True)
    (root / "pyproject.toml").write_text('[tool.pytest.ini_options]\npythonpath = ["src"]\n')
    (root / "src" / "tinypkg" / "nodes").mkdir(parents=True)
    (root / "src" / "tinypkg" / "__init__.py").write_text("")
    (root / "src" / "tinypkg" / "nodes" / "__init__.py").write_text("")
    for name in ("alpha", "beta"):
        cls = f"Node{name.title()}Effect"
        node = root / "src" / "tinypkg" / "nodes" / name
        node.mkdir()
        (node / "__init__.py").write_text(f"from .node import {cls}\n")
        (node / "node.py").write_text(textwrap.dedent(f'''\
            """The {name} node."""

            from omnibase_core.nodes import NodeEffect


            class {cls}(NodeEffect):
                """Does nothing, on purpose."""
            '''))
        (node / "contract.yaml").write_text(
            f"name: {name}\nnode_type: EFFECT\nversion: 1.0.0\nmixins:\n  - name: MixinMetrics\n    enabled: true\n")
        (root / "tests" / f"test_{name}.py").write_text(TINY_TEST.format(name=name, cls=cls))
    with (root / "tests" / "test_beta.py").open("a") as handle:
        handle.write("\n\ndef test_beta_bases_are_pinned():\n    assert NodeBetaEffect.__bases__ == (NodeEffect,)\n")
    git(root, "init", "-q")
    git(root, "add", "-A")  # committed: --write refuses files with uncommitted work
    git(root, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "tiny")
    return root


def test_write_skips_the_node_whose_gate_fails_and_writes_the_other(tiny):
    nodes = "src/tinypkg/nodes"
    beta_before = (tiny / nodes / "beta" / "node.py").read_text()
    done = omnimix(tiny, "migrate", nodes, "--write", "--no-backup", "--report-json", "r.json", "--report-md", "r.md")
    assert done.returncode == 1, done.stderr
    assert "not written src/tinypkg/nodes/beta: gate failed at behaviour: 1 test(s) passed before and fail " \
           "after: tests.test_beta::test_beta_bases_are_pinned (failed" in done.stderr.replace("\n", " ")
    assert "wrote 1 file(s) of src/tinypkg/nodes/alpha" in done.stderr
    assert "verification: on: 2 node(s) verified, 1 failed" in done.stderr
    assert "class NodeAlphaEffect(NodeEffect, MixinMetrics):" in (tiny / nodes / "alpha" / "node.py").read_text()
    assert (tiny / nodes / "beta" / "node.py").read_text() == beta_before
    report = json.loads((tiny / "r.json").read_text())
    gates = {node["node"]: node["quality_gates"] for node in report["nodes"]}
    assert gates[f"{nodes}/alpha"]["status"] == "passed"
    assert gates[f"{nodes}/beta"]["status"] == "failed"
    assert gates[f"{nodes}/beta"]["failed_stages"] == ["behaviour"]
    assert [s["name"] for s in gates[f"{nodes}/alpha"]["stages"]] == list(STAGES)
    assert report["totals"]["gates_failed"] == 1
    markdown = (tiny / "r.md").read_text()
    assert "## Quality gates" in markdown
    assert "| behaviour | **failed** |" in markdown


def test_verify_prints_every_stage_and_writes_nothing(tiny):
    before = snapshot(tiny)
    done = omnimix(tiny, "verify", "src/tinypkg/nodes")
    assert done.returncode == 1, done.stderr
    alpha, beta = done.stdout.split("src/tinypkg/nodes/beta: ")
    assert alpha.startswith("src/tinypkg/nodes/alpha: gate passed in")
    assert "before: 1 passed; after: 1 passed" in alpha
    assert beta.startswith("gate failed in")
    for name in STAGES:
        assert f"  {name}" in alpha and f"  {name}" in beta
    assert "behaviour    failed" in beta
    assert "types        skipped" in alpha or HAS_MYPY
    assert snapshot(tiny) == before


def test_dry_run_does_not_verify_unless_asked(tiny):
    dry = omnimix(tiny, "migrate", "src/tinypkg/nodes/beta")
    assert dry.returncode == 0
    assert "verification: off (dry-run; add --verify to run it)" in dry.stderr
    forced = omnimix(tiny, "migrate", "src/tinypkg/nodes/beta", "--write", "--no-verify", "--no-backup")
    assert forced.returncode == 0, forced.stderr
    assert "verification: off (--no-verify)" in forced.stderr
    assert "MixinMetrics" in (tiny / "src/tinypkg/nodes/beta/node.py").read_text()


def test_the_tests_before_the_migration_run_once_while_the_repository_is_unchanged(corpus, store, tmp_path,
                                                                                   monkeypatch):
    from omnimix.gate import behaviour as behaviour_stage

    monkeypatch.setenv("OMNIMIX_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("OMNIMIX_NO_CACHE")
    runs: list[str] = []
    real = behaviour_stage.run_tests
    monkeypatch.setattr(behaviour_stage, "run_tests", lambda *args: runs.append(args[3]) or real(*args))
    first = run_gate(store, corpus, codemods=CODEMODS).stage("behaviour")
    second = run_gate(store, corpus, codemods=CODEMODS).stage("behaviour")
    assert sorted(runs) == ["after", "after", "before"]
    assert second.details["before"] == first.details["before"] and second.details["before_cached"]
    assert "(cached)" in second.reason and second.status is first.status is StageStatus.PASSED
    (corpus / STORE / "v1_0_0" / "models.py").touch()  # any change to the repository runs them again
    run_gate(store, corpus, codemods=CODEMODS)
    assert runs.count("before") == 2
