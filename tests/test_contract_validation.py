"""``omnimix validate`` and ``omnimix contract schema``: one test per rule, each asserting the exact message."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
import typer
from answer_key import FIXTURE_ROOT
from typer.testing import CliRunner

from omnimix.catalog import Catalog, load_catalog
from omnimix.cli.contract import contract_app, validate
from omnimix.contract import load_contract
from omnimix.contract.validation import validate_path
from omnimix.discovery import node_dirs
from omnimix.engine import migrate_node
from omnimix.exit_codes import HELP
from omnimix.results import Status

CATALOG = load_catalog()
VERSION = CATALOG.omnibase_core_version
FIXTURE_CONTRACTS = sorted(FIXTURE_ROOT.glob("src/omninode_bridge/nodes/*/v1_0_0/contract.yaml"))
HEAD = "name: n\nnode_type: EFFECT\n"


def cli() -> typer.Typer:
    """The commands as cli.py registers them."""
    app = typer.Typer()

    @app.callback()
    def _root() -> None:
        """omnimix"""

    app.command(epilog=HELP)(validate)
    app.add_typer(contract_app, name="contract")
    return app


def problems(tmp_path: Path, body: str, catalog: Catalog | None = None) -> list[str]:
    path = tmp_path / "contract.yaml"
    path.write_text(body, encoding="utf-8")
    return [problem.render("contract.yaml") for problem in validate_path(path, catalog)]


# -- mixins -----------------------------------------------------------------------------------
def test_unknown_mixin_is_an_error_with_did_you_mean(tmp_path):
    assert problems(tmp_path, HEAD + "mixins:\n  - name: MixinHealtCheck\n") == [
        "contract.yaml:4: mixins[0].name: error: unknown mixin 'MixinHealtCheck'; did you mean MixinHealthCheck?"
    ]


def test_unknown_mixin_without_a_close_name_points_to_the_catalog(tmp_path):
    assert problems(tmp_path, HEAD + "mixins:\n  - name: Zebra\n") == [
        "contract.yaml:4: mixins[0].name: error: unknown mixin 'Zebra'; see `omnimix catalog list`"
    ]


def test_a_documented_but_not_shipped_mixin_is_an_error_naming_the_alternative(tmp_path):
    missing = CATALOG.not_shipped_entry("MixinRetry")
    assert missing is not None and "ModelRetryPolicy" in missing.alternative
    assert problems(tmp_path, HEAD + "mixins:\n  - name: MixinRetry\n") == [
        f"contract.yaml:4: mixins[0].name: error: MixinRetry is not shipped by omnibase-core {VERSION}: "
        f"{missing.reason} Use instead: {missing.alternative}"
    ]


def test_a_catalog_entry_that_is_not_a_mixin_is_an_error(tmp_path):
    assert problems(tmp_path, HEAD + "mixins:\n  - name: NodeEffect\n") == [
        "contract.yaml:4: mixins[0].name: error: NodeEffect is a node base in omnibase-core, not a mixin"
    ]


def test_a_mixin_incompatible_with_every_node_base_is_an_error_with_the_reason(tmp_path):
    reason = CATALOG.get("MixinEventDrivenNode").composition.reason
    assert problems(tmp_path, HEAD + "mixins:\n  - name: MixinEventDrivenNode\n") == [
        f"contract.yaml:4: mixins[0].name: error: MixinEventDrivenNode cannot be combined with NodeEffect "
        f"in omnibase-core {VERSION}: {reason}"
    ]


def test_a_mixin_for_other_node_types_is_an_error_with_the_reason(tmp_path):
    reason = CATALOG.get("MixinComputeExecution").composition.reason
    assert problems(tmp_path, HEAD + "mixins:\n  - name: MixinComputeExecution\n") == [
        f"contract.yaml:4: mixins[0].name: error: MixinComputeExecution cannot be combined with NodeEffect "
        f"in omnibase-core {VERSION}: {reason}"
    ]


def test_a_mixin_already_in_the_node_base_is_a_warning(tmp_path):
    assert problems(tmp_path, HEAD + "mixins:\n  - name: MixinEffectExecution\n") == [
        "contract.yaml:4: mixins[0].name: warning: MixinEffectExecution is already part of NodeEffect; "
        "it is not added again"
    ]


def test_a_mixin_declared_twice_is_an_error(tmp_path):
    body = HEAD + "mixins:\n  - name: MixinMetrics\n  - name: MixinHealthCheck\n  - name: MixinMetrics\n"
    assert problems(tmp_path, body) == [
        "contract.yaml:6: mixins[2].name: error: MixinMetrics is declared twice (also mixins[0]); "
        "a class cannot list the same base twice"
    ]


def test_two_mixins_the_catalog_says_are_incompatible_is_an_error(tmp_path):
    entry = CATALOG.get("MixinHealthCheck")
    clash = entry.model_copy(update={"composition": entry.composition.model_copy(
        update={"incompatible_with": ["MixinMetrics"], "reason": "both define get_metrics"})})
    catalog = Catalog(omnibase_core_version=VERSION, not_shipped=CATALOG.not_shipped,
                      entries=[clash if e.name == "MixinHealthCheck" else e for e in CATALOG.entries])
    body = HEAD + "mixins:\n  - name: MixinMetrics\n  - name: MixinHealthCheck\n"
    assert problems(tmp_path, body, catalog) == [
        "contract.yaml:5: mixins[1].name: error: MixinHealthCheck cannot be combined with MixinMetrics "
        "(mixins[0]): both define get_metrics"
    ]


def test_disabled_mixins_are_not_checked(tmp_path):
    assert problems(tmp_path, HEAD + "mixins:\n  - {name: MixinRetry, enabled: false}\n") == []


# -- config -----------------------------------------------------------------------------------
def test_config_for_a_mixin_that_takes_none_is_an_error(tmp_path):
    body = HEAD + "mixins:\n  - name: MixinHealthCheck\n    config:\n      health_check_interval_ms: 5000\n"
    assert problems(tmp_path, body) == [
        "contract.yaml:6: mixins[0].config.health_check_interval_ms: error: MixinHealthCheck takes no config "
        "keys, so 'health_check_interval_ms' is not accepted"
    ]


def test_a_config_key_the_mixin_does_not_take_is_an_error_with_did_you_mean(tmp_path):
    body = HEAD + "mixins:\n  - name: MixinCaching\n    config: {default_ttl: 60}\n"
    assert problems(tmp_path, body) == [
        "contract.yaml:5: mixins[0].config.default_ttl: error: MixinCaching does not take config key "
        "'default_ttl'; did you mean default_ttl_seconds? It takes backend, default_ttl_seconds, "
        "max_consecutive_failures"
    ]


def test_config_keys_the_mixin_takes_are_fine(tmp_path):
    assert problems(tmp_path, HEAD + "mixins:\n  - name: MixinCaching\n    config: {default_ttl_seconds: 60}\n") == []


# -- dependencies -----------------------------------------------------------------------------
def test_an_io_operation_without_a_dependency_of_its_type_is_an_error(tmp_path):
    body = HEAD + textwrap.dedent("""\
        io_operations:
          - name: save
            type: database
        dependencies:
          - {name: kafka, type: kafka}
        """)
    assert problems(tmp_path, body) == [
        "contract.yaml:5: io_operations[0].type: error: io operation 'save' has type database but no dependency "
        "can serve it; declare a dependency of type database"
    ]


def test_an_http_operation_is_served_by_a_service_dependency(tmp_path):
    body = HEAD + "io_operations:\n  - {name: call, type: http}\ndependencies:\n  - {name: api, type: service}\n"
    assert problems(tmp_path, body) == []


def test_an_http_operation_without_any_http_capable_dependency_is_an_error(tmp_path):
    assert problems(tmp_path, HEAD + "io_operations:\n  - {name: call, type: http}\n") == [
        "contract.yaml:4: io_operations[0].type: error: io operation 'call' has type http but no dependency can "
        "serve it; declare a dependency of type http, service or llm"
    ]


def test_a_dead_letter_queue_needs_a_kafka_dependency(tmp_path):
    body = HEAD + "dependencies:\n  - {name: db, type: database}\nadvanced_features:\n  dead_letter_queue: {enabled: true}\n"
    assert problems(tmp_path, body) == [
        "contract.yaml:6: advanced_features.dead_letter_queue: error: dead_letter_queue needs a dependency of "
        "type kafka (its dead-letter topic is a Kafka topic), but none is declared"
    ]


def test_transactions_need_a_database_dependency(tmp_path):
    assert problems(tmp_path, HEAD + "advanced_features:\n  transactions: {isolation_level: serializable}\n") == [
        "contract.yaml:4: advanced_features.transactions: error: transactions needs a dependency of type "
        "database (transactions are database transactions), but none is declared"
    ]


def test_a_disabled_feature_needs_no_dependency(tmp_path):
    assert problems(tmp_path, HEAD + "advanced_features:\n  dead_letter_queue: {enabled: false}\n") == []


# -- error_handling and advanced_features -------------------------------------------------------
def test_a_key_in_both_error_handling_and_advanced_features_is_a_warning(tmp_path):
    body = HEAD + textwrap.dedent("""\
        error_handling:
          retry_policy: {max_attempts: 3}
          propagate_errors: true
        advanced_features:
          retry_policy: {max_attempts: 5}
        """)
    assert problems(tmp_path, body) == [
        "contract.yaml:4: error_handling.retry_policy: warning: also set as advanced_features.retry_policy "
        "(line 7); advanced_features wins and error_handling.retry_policy is ignored"
    ]
    loaded = load_contract(tmp_path / "contract.yaml")
    assert loaded.contract.feature("retry_policy").max_attempts == 5


# -- schema -----------------------------------------------------------------------------------
def test_schema_errors_are_errors_with_line_and_field(tmp_path):
    body = HEAD + textwrap.dedent("""\
        mixins:
          - name: MixinMetrics
            enable: true
        advanced_features:
          retry_policy: {max_attempts: 0}
        """)
    assert problems(tmp_path, body) == [
        "contract.yaml:5: mixins[0].enable: error: unknown key",
        "contract.yaml:7: advanced_features.retry_policy.max_attempts: error: must be at least 1 (got 0)",
    ]


def test_a_missing_required_key_and_an_unknown_node_type_are_errors(tmp_path):
    assert problems(tmp_path, "node_type: EFFECT\n") == ["contract.yaml:1: name: error: required key is missing"]
    assert problems(tmp_path, "name: n\nnode_type: GATEWAY\n") == [
        "contract.yaml:2: node_type: error: unknown node type 'GATEWAY'; expected one of effect, compute, "
        "reducer, orchestrator"
    ]


def test_invalid_yaml_is_an_error_at_its_line(tmp_path):
    [line] = problems(tmp_path, HEAD + "mixins: [\n  - name: x\n")
    assert line.startswith("contract.yaml:4: <contract>: error: invalid YAML: ")


def test_env_placeholders_are_kept_as_text(tmp_path):
    body = HEAD + "advanced_features:\n  retry_policy:\n    max_attempts: '${RETRIES:-3}'\n    initial_delay_ms: ${DELAY}\n"
    assert problems(tmp_path, body) == []
    policy = load_contract(tmp_path / "contract.yaml").contract.feature("retry_policy")
    assert (policy.max_attempts, policy.initial_delay_ms) == ("${RETRIES:-3}", "${DELAY}")
    assert problems(tmp_path, HEAD + "advanced_features:\n  retry_policy: {max_attempts: lots}\n") == [
        "contract.yaml:4: advanced_features.retry_policy.max_attempts: error: expected an integer or a ${ENV} "
        "placeholder (got 'lots')"
    ]


# -- the fixture corpus and the engine --------------------------------------------------------
@pytest.mark.parametrize("path", FIXTURE_CONTRACTS, ids=lambda p: p.parents[1].name)
def test_fixture_contracts_have_no_errors(path):
    assert [p.render() for p in validate_path(path) if p.is_error] == []


def test_migrate_refuses_a_contract_with_errors_with_the_same_message(tmp_path):
    node = tmp_path / "node"
    node.mkdir()
    (node / "node.py").write_text("from omnibase_core.nodes import NodeEffect\n\n\nclass N(NodeEffect):\n    pass\n")
    (node / "contract.yaml").write_text(HEAD + "mixins:\n  - name: MixinHealtCheck\n")
    result = migrate_node(node_dirs(node)[0], tmp_path)
    assert result.status is Status.INPUT_ERROR
    assert result.message == (f"{node / 'contract.yaml'}:4: mixins[0].name: error: unknown mixin 'MixinHealtCheck'; "
                              "did you mean MixinHealthCheck?")


# -- the command line -------------------------------------------------------------------------
def run(*args: str, cwd: Path):
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(cwd)
        return CliRunner().invoke(cli(), list(args))


def test_validate_prints_one_line_per_problem_and_a_summary_on_stderr(tmp_path):
    node = tmp_path / "nodes" / "store"
    node.mkdir(parents=True)
    (node / "contract.yaml").write_text(HEAD + "mixins:\n  - name: MixinRetry\n  - name: MixinEffectExecution\n")
    result = run("validate", "nodes/store", cwd=tmp_path)
    assert result.exit_code == 2
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert lines[0].startswith("nodes/store/contract.yaml:4: mixins[0].name: error: MixinRetry is not shipped")
    assert lines[1] == ("nodes/store/contract.yaml:5: mixins[1].name: warning: MixinEffectExecution is already "
                        "part of NodeEffect; it is not added again")
    assert lines[2:] == ["1 contract checked: 1 error, 1 warning"]


def test_validate_exits_0_with_warnings_only_and_quiet_hides_them(tmp_path):
    (tmp_path / "contract.yaml").write_text(HEAD + "mixins:\n  - name: MixinEffectExecution\n")
    assert run("validate", "contract.yaml", cwd=tmp_path).exit_code == 0
    quiet = run("validate", "contract.yaml", "-q", cwd=tmp_path)
    assert (quiet.exit_code, quiet.stderr) == (0, "")


def test_validate_json_on_stdout(tmp_path):
    (tmp_path / "contract.yaml").write_text(HEAD + "mixins:\n  - name: MixinHealtCheck\n")
    result = run("validate", ".", "--format", "json", cwd=tmp_path)
    assert result.exit_code == 2
    document = json.loads(result.stdout)
    assert document["contracts"] == ["contract.yaml"]
    assert (document["errors"], document["warnings"]) == (1, 0)
    assert document["problems"] == [{
        "path": "contract.yaml", "line": 4, "field": "mixins[0].name", "severity": "error",
        "message": "unknown mixin 'MixinHealtCheck'; did you mean MixinHealthCheck?",
    }]


def test_validate_a_tree_checks_every_contract_below_it():
    result = run("validate", "src", "--format", "json", cwd=FIXTURE_ROOT)
    assert result.exit_code == 0, result.stderr
    document = json.loads(result.stdout)
    assert len(document["contracts"]) == len(FIXTURE_CONTRACTS) == 12
    assert document["errors"] == 0


def test_validate_a_directory_without_a_contract_is_a_usage_error(tmp_path):
    (tmp_path / "empty").mkdir()
    result = run("validate", "empty", cwd=tmp_path)
    assert (result.exit_code, result.stderr) == (2, "error: empty: no contract.yaml in this directory or below it\n")


def test_validate_reports_a_bug_as_an_internal_error(tmp_path, monkeypatch):
    (tmp_path / "contract.yaml").write_text(HEAD)

    def broken(path, catalog=None):
        raise RuntimeError("rule crashed")

    monkeypatch.setattr("omnimix.cli.contract.validate_path", broken)
    result = run("validate", "contract.yaml", cwd=tmp_path)
    assert result.exit_code == 3
    assert "omnimix failed on this contract (a bug in omnimix)" in result.stderr
    assert "RuntimeError: rule crashed" in result.stderr


def test_schema_prints_the_json_schema_of_the_contract(tmp_path):
    result = run("contract", "schema", cwd=tmp_path)
    assert result.exit_code == 0
    schema = json.loads(result.stdout)
    assert schema["title"] == "NodeContract"
    assert {"name", "node_type", "io_operations", "dependencies", "error_handling", "mixins",
            "advanced_features"} <= set(schema["properties"])
    assert schema["required"] == ["name", "node_type"]
    features = schema["$defs"]["AdvancedFeatures"]["properties"]
    assert set(features) == {"circuit_breaker", "retry_policy", "dead_letter_queue", "transactions",
                             "security_validation", "observability", "service_registration"}
