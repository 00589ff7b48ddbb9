"""Output people can read: finding codes, one line per finding, migrate's summary at 80 columns, explain,
[tool.omnimix], --only/--exclude, progress, and the pre-commit hook."""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
import sys
import textwrap
from dataclasses import replace
from pathlib import Path

import pytest
import yaml
from codemod_examples import run_example
from rich.console import Console
from typer.testing import CliRunner

import omnimix.cli
from codemods.circuit_breaker import ReplaceCircuitBreaker
from omnimix.analysis.loc import count_lines
from omnimix.analysis.wrap import line_limit
from omnimix.cli import app
from omnimix.cli.output import (
    DEFAULT,
    VERBOSE,
    Summary,
    by_priority,
    collapse,
    finding_line,
    node_progress,
    print_summary,
    select_nodes,
    short_names,
)
from omnimix.cli.settings import unsafe_setting
from omnimix.concerns import Action, Concern, Safety
from omnimix.config import ConfigError, OmnimixConfig, load_config, read_config
from omnimix.discovery import NodeDir, node_dirs, python_files, repository_root
from omnimix.engine import migrate_nodes
from omnimix.findings import Finding
from omnimix.report.codes import CODES, check_registry, code_of, finding_code, lookup
from omnimix.results import FileScan

REPO = Path(__file__).resolve().parent.parent
NODES = REPO / "fixtures" / "omninode_bridge" / "src" / "omninode_bridge" / "nodes"
NODE_NAMES = sorted(p.name for p in NODES.iterdir() if (p / "v1_0_0" / "contract.yaml").is_file())
#: A collapsed place list; the only place an ellipsis may appear.
COLLAPSED = re.compile(r", … \(\+\d+ more\)")
FINDING_LINE = re.compile(r"^(?P<path>[^\s:]+):(?P<line>\d+):(?P<col>\d+): (?P<code>OMX\d{3}) (?P<concern>[a-z_]+) "
                          r"(?P<action>replace|simplify|keep): .+$")
runner = CliRunner()


def cli(*args: str, cwd: Path = REPO, columns: int = 80) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "omnimix", *args], cwd=cwd, capture_output=True, text=True,
                          check=False, env={**os.environ, "COLUMNS": str(columns)})


@pytest.fixture(scope="module")
def results():
    """The dry-run of all twelve fixture nodes, as `omnimix migrate` runs it from the repository root."""
    files = tuple(python_files([repository_root(NODES)]))
    return migrate_nodes(node_dirs(NODES), REPO, jobs=os.cpu_count() or 1, repository_files=files)


def render(results, verbosity: int = DEFAULT, width: int = 80) -> str:
    buffer = io.StringIO()
    console = Console(file=buffer, width=width, color_system=None, highlight=False)
    names = short_names([result.directory for result in results])
    print_summary(console, results, Summary(verbosity, names), mode="dry-run",
                  verification="off (dry-run; add --verify to run it)")
    return buffer.getvalue()


def flat(text: str) -> str:
    return " ".join(text.split())


def assert_nothing_cut(text: str, width: int = 80) -> None:
    assert "…" not in COLLAPSED.sub("", flat(text)), text
    assert all(len(line) <= width for line in text.splitlines()), text


# -- codes --------------------------------------------------------------------------------------
def test_the_code_registry_is_consistent():
    assert check_registry() == []
    assert len({code.code for code in CODES}) == len(CODES)
    assert lookup("omx101") is lookup("OMX101") is not None
    assert lookup("OMX999") is None


@pytest.mark.parametrize(("concern", "reason", "code"), [
    (Concern.CIRCUIT_BREAKER, "hand-written circuit breaker: ModelCircuitBreaker replaces it, but ...", "OMX101"),
    (Concern.RETRY, "settings read only by the hand-written retry code; they go with it", "OMX205"),
    (Concern.HEALTH_CHECK, "component check N._check_db; it stays and MixinHealthCheck runs it", "OMX306"),
    (Concern.METRICS, "scalar counter(s) _hits: increment_counter keeps the same totals", "OMX401"),
    (Concern.DEAD_LETTER_QUEUE, "dead-letter publisher: omnibase-core has no dead-letter publishing", "OMX501"),
    (Concern.STRUCTURED_LOGGING, "logger wrapper class: omnibase-core's only ...", "OMX601"),
    (Concern.REDACTION, "redaction function: MixinSensitiveFieldRedaction is not equivalent", "OMX701"),
    (Concern.SERVICE_REGISTRATION, "dedicated self-registration method: omnibase-core has none", "OMX801"),
    (Concern.METRICS, "something no pattern knows", "OMX400"),
])
def test_a_code_comes_from_the_concern_and_the_start_of_the_reason(concern, reason, code):
    assert code_of(concern, reason).code == code


def test_every_finding_of_the_fixture_nodes_has_a_specific_code(results):
    generic = sorted({(str(f.concern), f.reason[:80]) for result in results for scan in result.scans
                      for f in scan.findings if finding_code(f).pattern is None})
    assert generic == [], "a new kind of finding needs its code in omnimix/report/codes.py"


# -- scan ---------------------------------------------------------------------------------------
def test_scan_prints_one_line_per_finding_and_statistics_count_them_per_code():
    node = str(NODES / "llm_effect")
    lines = runner.invoke(app, ["scan", node])
    assert lines.exit_code == 0, lines.output
    findings = [line for line in lines.stdout.splitlines() if line]
    assert findings and all(FINDING_LINE.match(line) for line in findings), findings
    assert re.search(r"\d+ finding\(s\) in 1 of \d+ file\(s\)", lines.stderr)
    stats = runner.invoke(app, ["scan", node, "--statistics"])
    assert stats.exit_code == 0, stats.output
    rows = [line.split() for line in stats.stdout.splitlines()]
    counted = {row[1]: int(row[0]) for row in rows}
    by_code: dict[str, int] = {}
    for line in findings:
        code = FINDING_LINE.match(line)["code"]
        by_code[code] = by_code.get(code, 0) + 1
    assert counted == by_code
    assert [int(row[0]) for row in rows] == sorted((int(row[0]) for row in rows), reverse=True)


def test_a_finding_line_has_path_line_column_code_concern_and_action():
    finding = Finding(12, 30, Concern.CIRCUIT_BREAKER, "Node.Breaker", Action.REPLACE, Safety.UNSAFE,
                      "omnibase_core ModelCircuitBreaker", "hand-written circuit breaker: ...", "replace-circuit-breaker")
    assert finding_line("pkg/node.py", finding, 5) == (
        "pkg/node.py:12:5: OMX101 circuit_breaker replace: hand-written circuit breaker in `Node.Breaker` (unsafe)")


# -- explain ------------------------------------------------------------------------------------
def test_explain_gives_the_reason_the_omnibase_core_facts_and_what_would_make_it_migratable():
    result = runner.invoke(app, ["explain", "omx101"])
    assert result.exit_code == 0, result.output
    text = flat(result.stdout)
    assert text.startswith("OMX101 (circuit_breaker): hand-written circuit breaker")
    assert "consecutive-failure" in text
    assert "ModelCircuitBreaker (omnibase_core.models.configuration.model_circuit_breaker)" in text
    assert "record_success() does not reset failure_count while CLOSED" in text  # a catalog caveat
    assert "What would make it migratable" in text


def test_explain_without_a_code_lists_every_code_and_refuses_an_unknown_one():
    listing = runner.invoke(app, ["explain"])
    assert listing.exit_code == 0
    assert [line.split()[0] for line in listing.stdout.splitlines()] == [code.code for code in CODES]
    unknown = runner.invoke(app, ["explain", "OMX1O1"])
    assert unknown.exit_code == 2
    assert unknown.stderr == "error: unknown code 'OMX1O1'; did you mean OMX101?\n"


# -- migrate's summary --------------------------------------------------------------------------
@pytest.mark.parametrize("name", NODE_NAMES)
def test_the_default_summary_of_each_fixture_node_reads_at_80_columns(results, name):
    [result] = [r for r in results if r.directory.parent.name == name]
    text = render([result])
    assert_nothing_cut(text)
    assert text.startswith(f"{name}: {result.status}")
    assert "fixtures/omninode_bridge/src" not in text and "v1_0_0" not in text
    assert len(text.splitlines()) <= 40  # one screen
    body = flat(text)
    for reason in {d.note or d.finding.reason for d in result.decisions}:
        if len(reason) > 60:
            assert body.count(flat(reason)) <= 1, reason
    assert "code lines" in text  # the payoff line


def test_verbose_prints_each_distinct_reason_once_with_all_its_places(results):
    [result] = [r for r in results if r.directory.parent.name == "database_adapter_effect"]
    text = render([result], VERBOSE)
    assert_nothing_cut(text)
    assert not COLLAPSED.search(flat(text))
    body = flat(text)
    printed = [flat(w) for w in result.warnings] + [flat(result.message)]
    reasons = {flat(d.note or d.finding.reason) for d in result.decisions}
    for reason in reasons:
        expected = sum(item.count(reason) for item in [*printed, *reasons])
        assert body.count(reason) == expected, reason
    for decision in result.decisions:
        assert f"{decision.path.name}:{decision.finding.start_line}" in body


def test_the_dry_run_of_all_twelve_nodes_fits_150_lines_at_80_columns(results, monkeypatch):
    """`omnimix migrate NODES` on an 80-column stderr, fed the fixture's migration (computing it again costs
    minutes): everything after the migration runs as it does for users."""
    monkeypatch.setattr(omnimix.cli, "migrate_nodes", lambda nodes, base, **options: list(results))
    monkeypatch.setattr(omnimix.cli, "scan_paths", lambda files, base, **options: [s for r in results for s in r.scans])
    monkeypatch.setattr(omnimix.cli, "err", Console(stderr=True, width=80, highlight=False))
    monkeypatch.chdir(REPO)
    run = runner.invoke(app, ["migrate", str(NODES.relative_to(REPO))])
    assert run.exit_code == 0, run.stderr[-3000:]
    assert run.stdout.startswith("diff --git ")
    lines = run.stderr.splitlines()
    assert len(lines) <= 150, run.stderr
    assert_nothing_cut(run.stderr)
    for name in NODE_NAMES:
        assert any(line.startswith(f"{name}: ") for line in lines), name
    assert "omnimix migrate (dry-run): 12 node(s)" in run.stderr
    assert any(line.startswith("code lines ") for line in lines)
    quiet = runner.invoke(app, ["migrate", str(NODES.relative_to(REPO)), "--quiet"])
    assert (quiet.exit_code, quiet.stderr) == (0, "")


def test_short_names_drop_the_common_prefix_and_the_version_folder(tmp_path):
    a, b = tmp_path / "src" / "nodes" / "alpha" / "v1_0_0", tmp_path / "src" / "nodes" / "beta" / "v2_1_0"
    assert short_names([a, b]) == {a: "alpha", b: "beta"}
    assert short_names([a]) == {a: "alpha"}
    twin = tmp_path / "src" / "nodes" / "alpha" / "v2_0_0"
    assert short_names([a, twin]) == {a: "alpha/v1_0_0", twin: "alpha/v2_0_0"}
    assert short_names([a, b], root=tmp_path / "src") == {a: "nodes/alpha", b: "nodes/beta"}


def test_places_collapse_at_default_verbosity():
    places = [f"node.py:{n}" for n in range(1, 8)]
    assert collapse(places, 2) == "node.py:1, node.py:2, … (+5 more)"
    assert collapse(places[:3], 2) == "node.py:1, node.py:2, node.py:3"
    assert collapse(places, None) == ", ".join(places)


# -- batches: --only/--exclude, priority, failures, progress ---------------------------------------
def test_only_and_exclude_select_nodes_by_glob_on_the_short_name():
    nodes = node_dirs(NODES)
    names = short_names([node.directory for node in nodes])
    chosen = select_nodes(nodes, names, ["deployment_*"], ["*receiver*"])
    assert [names[n.directory] for n in chosen] == ["deployment_sender_effect"]
    run = cli("migrate", str(NODES.relative_to(REPO)), "--only", "deployment_*", "--exclude", "*receiver*")
    assert run.returncode == 0, run.stderr
    assert run.stderr.startswith("deployment_sender_effect: skipped")
    assert "receiver" not in run.stderr
    none = cli("migrate", str(NODES.relative_to(REPO)), "--only", "nothing*")
    assert none.returncode == 2 and "no node left after --only/--exclude" in none.stderr


def test_nodes_run_in_priority_order_most_code_lines_in_findings_first(tmp_path):
    small, big = tmp_path / "small.py", tmp_path / "big.py"
    small.write_text("x = 1\n")
    big.write_text("a = 1\nb = 2\nc = 3\n")

    def finding(end: int) -> Finding:
        return Finding(1, end, Concern.RETRY, "<module>", Action.KEEP, Safety.SAFE, "", "retry settings", "")
    scans = [FileScan(small, "small.py", count_lines("x = 1\n"), (finding(1),)),
             FileScan(big, "big.py", count_lines(big.read_text()), (finding(3),))]
    nodes = [NodeDir(tmp_path / "s", None, (small,)), NodeDir(tmp_path / "b", None, (big,))]
    assert by_priority(nodes, scans) == [nodes[1], nodes[0]]


def test_a_failing_node_does_not_stop_the_batch_and_is_listed_at_the_end(tmp_path):
    for name, contract in (("good", "name: good\nnode_type: EFFECT\nversion: 1.0.0\n"),
                           ("bad", "name: bad\nnode_type: [not, a, type]\n")):
        node = tmp_path / "nodes" / name
        node.mkdir(parents=True)
        (node / "node.py").write_text("class N:\n    pass\n")
        (node / "contract.yaml").write_text(contract)
    run = cli("migrate", "nodes", cwd=tmp_path)
    assert run.returncode == 2
    assert "good: skipped" in run.stderr
    lines = run.stderr.splitlines()
    failed = lines.index("1 node(s) failed:")
    assert lines[failed + 1].startswith("  bad: input-error:")
    assert "node_type: Input should be a valid string" in flat("\n".join(lines[failed:]))


def test_the_progress_bar_names_the_node_in_flight_only_on_a_terminal(tmp_path):
    node = NodeDir(tmp_path / "alpha" / "v1_0_0", None, ())
    names = {node.directory.resolve(): "alpha"}
    plain = io.StringIO()
    with node_progress(Console(file=plain, width=80), names, 1) as step:
        step(node)
        step(None)
    assert plain.getvalue() == ""
    terminal = io.StringIO()
    with node_progress(Console(file=terminal, width=80, force_terminal=True), names, 1) as step:
        step(node)
    assert "alpha" in terminal.getvalue()


# -- [tool.omnimix] -----------------------------------------------------------------------------
def pyproject(tmp_path: Path, table: str) -> Path:
    path = tmp_path / "pyproject.toml"
    path.write_text("[project]\nname = 'x'\n\n[tool.omnimix]\n" + textwrap.dedent(table))
    return path


def test_config_reads_kebab_or_snake_keys_and_resolves_paths(tmp_path):
    path = pyproject(tmp_path, """\
        nodes-root = "src/nodes"
        exclude = ["legacy_*"]
        line-length = 88
        jobs = 0
        report_json = "out/r.json"
        unsafe_concerns = ["circuit_breaker"]
        """)
    (tmp_path / "src" / "nodes").mkdir(parents=True)
    config = load_config(tmp_path / "src" / "nodes")
    assert config.source == path
    assert config.path(config.nodes_root) == tmp_path / "src" / "nodes"
    assert config.path(config.report_json) == tmp_path / "out" / "r.json"
    assert (config.exclude, config.line_length, config.jobs) == (["legacy_*"], 88, 0)
    assert unsafe_setting(True, config) == ("circuit_breaker",)
    assert unsafe_setting(False, config) is False
    assert unsafe_setting(True, OmnimixConfig()) is True
    assert line_limit(tmp_path / "src") == 88


def test_omnimix_line_length_wins_over_ruff(tmp_path):
    (tmp_path / "pyproject.toml").write_text("[tool.ruff]\nline-length = 120\n\n[tool.omnimix]\nline-length = 79\n")
    assert line_limit(tmp_path) == 79


@pytest.mark.parametrize(("key", "suggestion"), [("line-lenght", "line-length"), ("unsafe_concern", "unsafe_concerns"),
                                                 ("node_root", "nodes_root")])
def test_an_unknown_key_names_the_key_the_file_and_the_closest_valid_key(tmp_path, key, suggestion):
    path = pyproject(tmp_path, f"{key} = 1\n")
    with pytest.raises(ConfigError) as raised:
        read_config(path)
    assert str(raised.value).startswith(f"{path}: [tool.omnimix] has an unknown key '{key}'; "
                                        f"did you mean '{suggestion}'?")


def test_a_bad_config_is_a_usage_error_before_anything_runs(tmp_path):
    pyproject(tmp_path, "jobz = 2\n")
    (tmp_path / "node.py").write_text("x = 1\n")
    scan = cli("scan", "node.py", cwd=tmp_path)
    assert scan.returncode == 2
    assert scan.stderr == (f"error: {tmp_path / 'pyproject.toml'}: [tool.omnimix] has an unknown key 'jobz'; "
                           "did you mean 'jobs'? (valid keys: nodes_root, exclude, line_length, jobs, report_json, "
                           "report_md, report_html, unsafe_concerns)\n")
    pyproject(tmp_path, 'unsafe-concerns = ["breakers"]\n')
    bad = cli("migrate", "node.py", cwd=tmp_path)
    assert bad.returncode == 2
    assert "[tool.omnimix] unsafe-concerns.0: Input should be 'circuit_breaker'" in flat(bad.stderr)


def test_nodes_root_and_exclude_of_the_config_apply_when_no_path_is_given(tmp_path):
    pyproject(tmp_path, 'nodes-root = "nodes"\nexclude = ["skip*"]\n')
    for name in ("keep", "skipme"):
        (tmp_path / "nodes" / name).mkdir(parents=True)
        (tmp_path / "nodes" / name / "node.py").write_text(
            "import time\n\n\ndef fetch(call):\n    for attempt in range(3):\n        try:\n            return call()\n"
            "        except ConnectionError:\n            time.sleep(2 ** attempt)\n")
    run = cli("scan", "--statistics", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    listing = cli("scan", cwd=tmp_path)
    assert listing.stdout and all(line.startswith("nodes/keep/") for line in listing.stdout.splitlines())


# -- pre-commit ---------------------------------------------------------------------------------
def pre_commit() -> list[str]:
    """The pre-commit command of this environment, installed into it when missing."""
    command = [sys.executable, "-m", "pre_commit"]
    if subprocess.run([*command, "--version"], capture_output=True, check=False).returncode != 0:
        install = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "pre-commit"],
                                 capture_output=True, text=True, check=False)
        if install.returncode != 0:
            pytest.skip(f"pre-commit is not installed and could not be installed: {install.stderr[-500:]}")
    return command


def test_the_pre_commit_hook_fails_while_a_migration_is_pending(tmp_path):
    command = pre_commit()
    manifest = REPO / ".pre-commit-hooks.yaml"
    assert subprocess.run([*command, "validate-manifest", str(manifest)], capture_output=True,
                          check=False).returncode == 0
    [hook] = [h for h in yaml.safe_load(manifest.read_text()) if h["id"] == "omnimix-check"]
    assert hook["entry"].split()[:3] == ["omnimix", "migrate", "--check"]
    omnimix = shutil.which("omnimix", path=str(Path(sys.executable).parent)) or "omnimix"
    # The hook as the manifest declares it, run by pre-commit in this environment (no hook venv to build).
    local = {**hook, "language": "system", "entry": hook["entry"].replace("omnimix", omnimix, 1),
             "args": ["--allow-longer"]}  # the node gains one import line
    repo = tmp_path / "repo"
    node = repo / "nodes" / "alpha"
    node.mkdir(parents=True)
    (node / "node.py").write_text('"""Alpha."""\n\nfrom omnibase_core.nodes import NodeEffect\n\n\n'
                                  'class NodeAlphaEffect(NodeEffect):\n    """Alpha."""\n')
    (node / "contract.yaml").write_text("name: alpha\nnode_type: EFFECT\nversion: 1.0.0\n"
                                        "mixins:\n  - name: MixinMetrics\n    enabled: true\n")
    (repo / ".pre-commit-config.yaml").write_text(yaml.safe_dump({"repos": [{"repo": "local", "hooks": [local]}]}))
    for args in (["init", "-q"], ["add", "-A"]):
        subprocess.run(["git", *args], cwd=repo, check=True)
    env = {**os.environ, "PRE_COMMIT_HOME": str(tmp_path / "cache")}
    pending = subprocess.run([*command, "run", "--all-files"], cwd=repo, capture_output=True, text=True,
                             check=False, env=env)
    assert pending.returncode == 1, pending.stdout + pending.stderr
    assert "class NodeAlphaEffect(NodeEffect, MixinMetrics):" in pending.stdout
    written = subprocess.run([omnimix, "migrate", "nodes", "--write", "--no-verify", "--allow-dirty", "--allow-longer"],
                             cwd=repo, capture_output=True, text=True, check=False)
    assert written.returncode == 0, written.stderr
    subprocess.run(["git", "add", "-A"], cwd=repo, check=True)
    done = subprocess.run([*command, "run", "--all-files"], cwd=repo, capture_output=True, text=True, check=False,
                          env=env)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize(("allowed", "applied"), [(("circuit_breaker",), True), (("retry",), False)])
def test_unsafe_concerns_limit_what_unsafe_applies(tmp_path, allowed, applied):
    example = next(e for e in ReplaceCircuitBreaker.examples if e.unsafe and e.after != e.before)
    after, _ = run_example(ReplaceCircuitBreaker, replace(example, unsafe=allowed), tmp_path)
    assert (after == example.after) is applied
    assert (after == example.before) is not applied


def test_a_node_that_changes_a_shared_file_says_so_with_its_counts(results):
    [result] = [r for r in results if r.directory.parent.name == "database_adapter_effect"]
    text = flat(render([result]))
    assert re.search(r"changes the shared health_mixin\.py \(\d+ → \d+\)", text), text
