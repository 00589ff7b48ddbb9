"""``omnimix contract upgrade``: legacy contracts gain mixins and advanced_features, by added lines only."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from fixture_copy import NODES_DIR, copy_corpus, git, omnimix
from test_contract_validation import run

from omnimix.analysis.loc import ZERO
from omnimix.catalog import Catalog, load_catalog
from omnimix.concerns import Action, Concern, Safety
from omnimix.contract import load_contract
from omnimix.contract.upgrade import recommend_mixins, upgrade_contract
from omnimix.contract.validation import validate_path
from omnimix.engine import scan_paths
from omnimix.findings import Finding
from omnimix.report.diff import unified_diff
from omnimix.results import FileScan, Status
from omnimix.writer import write_changes

CATALOG = load_catalog()
#: The legacy fixture contracts and the advanced_features their error_handling maps to.
LEGACY = {
    "codegen_metrics_reducer": {},
    "deployment_receiver_effect": {
        "retry_policy": {"enabled": True, "max_attempts": 3, "initial_delay_ms": 500, "backoff_multiplier": 2.0,
                         "max_delay_ms": 8000},
    },
    "deployment_sender_effect": {
        "retry_policy": {"enabled": True, "max_attempts": 4, "initial_delay_ms": 200, "backoff_multiplier": 2.0,
                         "max_delay_ms": 2000},
        "circuit_breaker": {"enabled": True, "failure_threshold": 3, "recovery_timeout_ms": 30000},
    },
    "distributed_lock_effect": {
        "retry_policy": {"enabled": True, "max_attempts": 5, "initial_delay_ms": 100, "backoff_multiplier": 2.0,
                         "max_delay_ms": 500},
    },
    "reducer": {
        "retry_policy": {"enabled": True, "max_attempts": 3},
        "dead_letter_queue": {"enabled": True},
    },
    "test_generator_effect": {
        "retry_policy": {"enabled": True, "max_attempts": 3, "initial_delay_ms": 1000, "backoff_multiplier": 2.0,
                         "max_delay_ms": 4000},
    },
}
TARGET_STATE = ["codegen_orchestrator", "database_adapter_effect", "llm_effect", "orchestrator", "registry",
                "store_effect"]


def contract_of(root: Path, node: str) -> Path:
    return root / NODES_DIR / node / "v1_0_0" / "contract.yaml"


def removed_lines(diff: str) -> list[str]:
    return [line for line in diff.splitlines() if line.startswith("-") and not line.startswith("---")]


def finding(concern: Concern, action: Action = Action.REPLACE) -> Finding:
    return Finding(1, 2, concern, "N", action, Safety.SAFE, "replacement", "reason", "detector")


def fake_scan(monkeypatch, *findings: Finding) -> None:
    def scan(files, base):
        return [FileScan(Path("node.py"), "node.py", ZERO, tuple(findings))]

    monkeypatch.setattr("omnimix.contract.upgrade.scan_paths", scan)


# -- the legacy fixture contracts -----------------------------------------------------------
@pytest.mark.parametrize("node", sorted(LEGACY))
def test_legacy_fixture_contract_upgrades_to_a_valid_target_state(node, tmp_path, monkeypatch):
    root = copy_corpus(tmp_path)
    path = contract_of(root, node)
    scans: list[FileScan] = []

    def spy(files, base):
        scans.extend(scan_paths(files, base))
        return scans

    monkeypatch.setattr("omnimix.contract.upgrade.scan_paths", spy)
    result = upgrade_contract(path, root)
    assert result.status in (Status.CHANGED, Status.UNCHANGED), result.message
    assert scans and all(scan.status is Status.UNCHANGED for scan in scans)
    if result.change is not None:
        assert removed_lines(unified_diff(result.display, result.change.before, result.change.after)) == []
        write_changes([result.change], root, backup=False)
    after = path.read_text(encoding="utf-8")

    loaded = load_contract(path)
    assert [problem.render() for problem in validate_path(path) if problem.is_error] == []
    features = loaded.contract.advanced_features
    assert (features.model_dump(exclude_unset=True) if features else {}) == LEGACY[node]
    expected, _ = recommend_mixins(scans, loaded.contract.kind.value, CATALOG)
    assert [(m.name, m.enabled, m.config) for m in loaded.contract.mixins] == [(r.mixin, True, {}) for r in expected]
    assert {m.name for m in loaded.contract.mixins} <= {"MixinHealthCheck", "MixinMetrics"}

    second = upgrade_contract(path, root)
    assert second.change is None
    assert second.status is (Status.SKIPPED if result.change else Status.UNCHANGED)
    assert path.read_text(encoding="utf-8") == after


@pytest.mark.parametrize("node", [n for n in TARGET_STATE if n != "registry"])
def test_contracts_declaring_a_target_state_are_left_alone(node):
    from answer_key import FIXTURE_ROOT

    result = upgrade_contract(contract_of(FIXTURE_ROOT, node), FIXTURE_ROOT)
    assert (result.status, result.change) == (Status.SKIPPED, None)
    assert result.message == "already declares mixins or advanced_features: left alone"


def test_a_target_state_contract_gains_only_service_registration_where_the_node_registers_itself(tmp_path):
    root = copy_corpus(tmp_path)
    path = contract_of(root, "registry")
    before = path.read_text(encoding="utf-8")
    result = upgrade_contract(path, root)
    assert result.message == "adds advanced_features service_registration (from the scan)"
    assert result.change.after == before + "  service_registration: {enabled: true, provider: consul}\n"
    path.write_text(result.change.after, encoding="utf-8")
    again = upgrade_contract(path, root)
    assert (again.status, again.change) == (Status.SKIPPED, None)


def test_the_upgrade_of_deployment_sender_adds_these_lines_and_nothing_else(tmp_path, monkeypatch):
    fake_scan(monkeypatch)
    root = copy_corpus(tmp_path)
    result = upgrade_contract(contract_of(root, "deployment_sender_effect"), root)
    assert result.message == "adds advanced_features retry_policy, circuit_breaker (from error_handling)"
    display = "src/omninode_bridge/nodes/deployment_sender_effect/v1_0_0/contract.yaml"
    assert unified_diff(result.display, result.change.before, result.change.after) == textwrap.dedent(f"""\
        diff --git a/{display} b/{display}
        --- a/{display}
        +++ b/{display}
        @@ -28,3 +28,7 @@
           # retried on timeouts, connection errors, 408/429 and 5xx
           retry_policy: {{max_attempts: 4, initial_delay_ms: 200, backoff_multiplier: 2.0, max_delay_ms: 2000}}
           circuit_breaker: {{failure_threshold: 3, recovery_timeout_ms: 30000}}
        +# Target state (added by `omnimix contract upgrade`)
        +advanced_features:
        +  retry_policy: {{enabled: true, max_attempts: 4, initial_delay_ms: 200, backoff_multiplier: 2.0, max_delay_ms: 2000}}
        +  circuit_breaker: {{enabled: true, failure_threshold: 3, recovery_timeout_ms: 30000}}
        """)


def test_mixins_come_from_scan_findings_that_a_mixin_replaces(tmp_path, monkeypatch):
    fake_scan(monkeypatch, finding(Concern.HEALTH_CHECK), finding(Concern.HEALTH_CHECK, Action.SIMPLIFY),
              finding(Concern.METRICS, Action.KEEP), finding(Concern.RETRY))
    root = copy_corpus(tmp_path)
    result = upgrade_contract(contract_of(root, "reducer"), root)
    assert result.message == ("adds mixins MixinHealthCheck (from 2 health_check finding(s)) and advanced_features "
                              "retry_policy, dead_letter_queue (from error_handling)")
    added = result.change.after[len(result.change.before):]
    assert added == textwrap.dedent("""
        # Target state (added by `omnimix contract upgrade`)
        mixins:
          - name: MixinHealthCheck
            enabled: true
        advanced_features:
          retry_policy: {enabled: true, max_attempts: 3}
          dead_letter_queue: {enabled: true}
        """)


def test_a_mixin_that_does_not_compose_with_the_node_type_is_not_recommended():
    entry = CATALOG.get("MixinMetrics")
    narrowed = entry.model_copy(update={"composition": entry.composition.model_copy(
        update={"node_types": ["effect"], "reason": "effect nodes only"})})
    catalog = Catalog(omnibase_core_version=CATALOG.omnibase_core_version, not_shipped=CATALOG.not_shipped,
                      entries=[narrowed if e.name == "MixinMetrics" else e for e in CATALOG.entries])
    scans = [FileScan(Path("node.py"), "node.py", ZERO, (finding(Concern.METRICS), finding(Concern.HEALTH_CHECK)))]
    recommendations, notes = recommend_mixins(scans, "reducer", catalog)
    assert [r.mixin for r in recommendations] == ["MixinHealthCheck"]
    assert notes == [f"MixinMetrics not added for 1 metrics finding(s): MixinMetrics cannot be combined with "
                     f"NodeReducer in omnibase-core {CATALOG.omnibase_core_version}: effect nodes only"]


# -- preserving the file ----------------------------------------------------------------------
WIDGET = """\
# Contract of the widget node.
name: 'widget'
version: "1.0.0"
node_type: effect
io_operations:
- name: save      # sequences not indented
  type: database
dependencies:
- name: db
  type: database
error_handling:
    retry_policy:
        max_attempts: 4   # four tries
        initial_delay_ms: 250
        jitter_pct: 20
    circuit_breaker: {failure_threshold: 0}
    dead_letter_queue: {topic_suffix: '.dead'}
    on_failure: raise
"""


@pytest.mark.parametrize("newline", ["\n", "\r\n"], ids=["lf", "crlf"])
def test_comments_quotes_indentation_and_line_endings_are_kept(newline, tmp_path, monkeypatch):
    fake_scan(monkeypatch)
    path = tmp_path / "widget" / "contract.yaml"
    path.parent.mkdir()
    path.write_bytes(WIDGET.replace("\n", newline).encode())
    result = upgrade_contract(path, tmp_path)
    assert result.status is Status.CHANGED, result.message
    assert result.change.after == (WIDGET + textwrap.dedent("""\
        # Target state (added by `omnimix contract upgrade`)
        advanced_features:
            retry_policy:
                enabled: true
                max_attempts: 4
                initial_delay_ms: 250
        """)).replace("\n", newline)
    assert list(result.notes) == [
        "error_handling.retry_policy.jitter_pct has no advanced_features equivalent: not carried over",
        "error_handling.circuit_breaker not carried over: failure_threshold: Value error, must be at least 1",
        "error_handling.dead_letter_queue not carried over: advanced_features.dead_letter_queue needs a dependency "
        "of type kafka (its dead-letter topic is a Kafka topic), and the contract declares none",
        "error_handling.on_failure has no advanced_features equivalent: kept as it is",
    ]


def test_a_file_ruamel_cannot_reproduce_exactly_is_refused_not_rewritten(tmp_path, monkeypatch):
    fake_scan(monkeypatch)
    path = tmp_path / "contract.yaml"
    path.write_text("name: n\nnode_type: effect\nerror_handling: { retry_policy: { max_attempts: 3 } }\n")
    result = upgrade_contract(path, tmp_path)
    assert (result.status, result.change) == (Status.INPUT_ERROR, None)
    assert result.message == ("ruamel.yaml cannot reproduce this file byte for byte, so it is not edited; add "
                              "mixins and advanced_features by hand")


def test_a_contract_with_nothing_to_map_and_no_findings_is_unchanged(tmp_path, monkeypatch):
    fake_scan(monkeypatch, finding(Concern.HEALTH_CHECK, Action.KEEP))
    path = tmp_path / "contract.yaml"
    path.write_text("name: n\nnode_type: compute\nerror_handling: {propagate_errors: true}\n")
    result = upgrade_contract(path, tmp_path)
    assert (result.status, result.change) == (Status.UNCHANGED, None)
    assert result.message == ("nothing to add: error_handling has nothing advanced_features takes, and the scan "
                              "found no code that an omnibase-core mixin replaces")


def test_an_invalid_contract_is_not_upgraded(tmp_path):
    path = tmp_path / "contract.yaml"
    path.write_text("name: n\nnode_type: effect\nio_operations:\n  - {name: save, type: database}\n"
                    "error_handling: {retry_policy: {max_attempts: 3}}\n")
    result = upgrade_contract(path, tmp_path)
    assert (result.status, result.change) == (Status.INPUT_ERROR, None)
    assert result.message == (
        "invalid contract, fix it first:\ncontract.yaml:4: io_operations[0].type: error: io operation 'save' has "
        "type database but no dependency can serve it; declare a dependency of type database")


# -- the command line, and migrate afterwards ---------------------------------------------------
def test_upgrade_dry_run_prints_a_patch_that_git_applies_and_write_applies_it(tmp_path, monkeypatch):
    fake_scan(monkeypatch)  # the scan itself is tested above; here the tree, the patch and the exit codes
    root = copy_corpus(tmp_path)
    nodes = NODES_DIR.as_posix()
    dry = run("contract", "upgrade", nodes, cwd=root)
    assert dry.exit_code == 0, dry.stderr
    assert git(root, "status", "--porcelain").stdout == ""
    assert removed_lines(dry.stdout) == [] and dry.stdout.count("diff --git") == 5
    (tmp_path / "upgrade.patch").write_text(dry.stdout)
    assert git(root, "apply", "--check", str(tmp_path / "upgrade.patch")).returncode == 0
    assert "src/omninode_bridge/nodes/llm_effect/v1_0_0/contract.yaml: skipped: already declares mixins or " \
           "advanced_features: left alone" in dry.stderr
    assert dry.stderr.splitlines()[-1] == "12 contracts: 5 to upgrade, 1 with nothing to add, 6 left alone, 0 errors"
    assert run("contract", "upgrade", nodes, "--check", cwd=root).exit_code == 1

    written = run("contract", "upgrade", nodes, "--write", "--no-backup", cwd=root)
    assert written.exit_code == 0 and written.stdout == dry.stdout
    assert git(root, "diff").stdout.count("diff --git") == 5

    again = run("contract", "upgrade", nodes, "--check", cwd=root)
    assert (again.exit_code, again.stdout) == (0, "")
    assert again.stderr.splitlines()[-1] == "12 contracts: 0 to upgrade, 1 with nothing to add, 11 left alone, 0 errors"


def test_upgrade_of_an_invalid_contract_exits_2(tmp_path):
    (tmp_path / "contract.yaml").write_text("name: n\nnode_type: gateway\n")
    result = run("contract", "upgrade", "contract.yaml", cwd=tmp_path)
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr.startswith("contract.yaml: error: invalid contract, fix it first:\n")


def test_migrate_uses_the_upgraded_contract(tmp_path):
    root = copy_corpus(tmp_path)
    node = (NODES_DIR / "deployment_sender_effect" / "v1_0_0").as_posix()
    before = omnimix(root, "migrate", node)
    assert "declares no mixins" in before.stderr

    assert run("contract", "upgrade", node, "--write", "--no-backup", cwd=root).exit_code == 0
    after = omnimix(root, "migrate", node, "--report-json", str(tmp_path / "report.json"))
    assert "declares no mixins" not in after.stderr, after.stderr
    [report] = json.loads((tmp_path / "report.json").read_text())["nodes"]
    assert report["status"] in ("changed", "unchanged"), report["message"]
