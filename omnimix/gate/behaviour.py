"""Gate stage 6, behaviour: the node's tests pass after the migration wherever they passed before.

The tests are those given with ``--tests``, or the repository's test files that import the node's
package or a changed module (directly, or through a package that re-exports it). They run with
pytest in the untouched copy and in the migrated copy at the same time, each from the directory
whose pytest configuration owns them; outcomes are compared test by test from JUnit XML. The outcomes
before the migration are cached (``omnimix.analysis.cache``) under the repository's files, the tests and
the interpreter: a node verified again with nothing changed runs its tests once, after.
"""

from __future__ import annotations

import ast
import configparser
import time
import tomllib
import xml.etree.ElementTree as ElementTree
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from omnimix.analysis import cache
from omnimix.discovery import dotted_module_name, python_files, tree_files
from omnimix.gate.results import StageResult, failed, passed, skipped
from omnimix.gate.workspace import Completed, Workspace, has_module
from omnimix.results import NodeResult

NAME = "behaviour"
SHOWN = 5
_RANK = {"passed": 0, "skipped": 1, "failed": 2, "error": 3}


# -- which tests ------------------------------------------------------------------------------
def discover_tests(result: NodeResult, root: Path) -> list[Path]:
    """Test files of the repository that import the node or a module the migration changed."""
    sources: dict[str, Path] = {}
    init = result.directory / "__init__.py"
    if init.is_file() and (package := dotted_module_name(init)):
        sources[package] = init
    for change in result.changed_files:
        if module := dotted_module_name(change.path):
            sources[module] = change.path
    if not sources:
        return []
    targets = set(sources)
    aliases = _reexporting_packages(sources)
    found = []
    for path in python_files([root]):
        if not (path.name.startswith("test_") or path.name.endswith("_test.py")):
            continue
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, SyntaxError, ValueError):
            continue
        if any(_matches(name, targets, aliases) for name in _imported(tree, dotted_module_name(path))):
            found.append(path)
    return found


def _imported(tree: ast.AST, module: str | None) -> set[str]:
    """Every module a file imports, and ``module.name`` for each ``from module import name``."""
    package = module.rpartition(".")[0] if module else ""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".") if package else []
                parts = parts[: len(parts) - (node.level - 1)] if node.level - 1 <= len(parts) else []
                base = ".".join([*parts, base] if base else parts)
            if base:
                names.add(base)
                names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


def _matches(name: str, targets: set[str], aliases: set[str]) -> bool:
    return name in aliases or any(name == t or name.startswith(t + ".") for t in targets)


def _reexporting_packages(sources: dict[str, Path]) -> set[str]:
    """Ancestor packages whose ``__init__`` imports a target: importing them reaches the node."""
    aliases: set[str] = set()
    for target, path in sources.items():
        reached = {target}
        directory = path.parent.parent if path.name == "__init__.py" else path.parent
        while (init := directory / "__init__.py").is_file():
            ancestor = dotted_module_name(init)
            try:
                imported = _imported(ast.parse(init.read_text(encoding="utf-8")), f"{ancestor}.__init__")
            except (OSError, UnicodeDecodeError, SyntaxError, ValueError):
                break
            if not ancestor or not any(_matches(name, reached, set()) for name in imported):
                break
            aliases.add(ancestor)
            reached.add(ancestor)
            directory = directory.parent
    return aliases


def config_dir(path: Path, root: Path) -> Path:
    """The nearest directory (up to ``root``) whose pytest configuration owns ``path``."""
    start = path if path.is_dir() else path.parent
    for directory in (start, *start.parents):
        if _has_pytest_config(directory):
            return directory
        if directory == root:
            break
    return root


def _has_pytest_config(directory: Path) -> bool:
    if (directory / "pytest.ini").is_file():
        return True
    pyproject = directory / "pyproject.toml"
    if pyproject.is_file():
        try:
            data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
            data = {}
        if "pytest" in data.get("tool", {}):
            return True
    for name, section in (("tox.ini", "pytest"), ("setup.cfg", "tool:pytest")):
        if (directory / name).is_file():
            parser = configparser.ConfigParser()
            try:
                parser.read(directory / name, encoding="utf-8")
            except (configparser.Error, UnicodeDecodeError):
                continue
            if parser.has_section(section):
                return True
    return False


# -- running them -----------------------------------------------------------------------------
@dataclass
class Run:
    """The outcome of every test in one copy."""

    outcomes: dict[str, str] = field(default_factory=dict)
    messages: dict[str, str] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    seconds: float = 0.0
    timed_out: bool = False

    def counts(self) -> dict[str, int]:
        counts = {"passed": 0, "failed": 0, "error": 0, "skipped": 0}
        for outcome in self.outcomes.values():
            counts[outcome] += 1
        return counts


def run_tests(workspace: Workspace, copy: Path, groups: dict[Path, list[Path]], label: str) -> Run:
    run = Run()
    for index, (directory, tests) in enumerate(sorted(groups.items())):
        cwd = workspace.in_copy(directory, copy)
        xml = workspace.directory / f"junit-{label}-{index}.xml"
        args = [str(test.relative_to(directory)) for test in tests]
        done = workspace.run(["-m", "pytest", "-q", "-p", "no:cacheprovider", f"--junitxml={xml}",
                              "-o", "junit_family=xunit2", *args], cwd, copy)
        run.seconds += done.seconds
        _read_junit(xml, run, done)
    return run


def _read_junit(xml: Path, run: Run, done: Completed) -> None:
    if done.timed_out:
        run.timed_out = True
        run.problems.append(f"pytest timed out after {done.seconds:.0f}s")
        return
    try:
        tree = ElementTree.parse(xml)
    except (OSError, ElementTree.ParseError):
        run.problems.append(f"pytest exited with {done.returncode} and wrote no results: {done.tail()}")
        return
    for case in tree.iter("testcase"):
        test_id = f"{case.get('classname', '')}::{case.get('name', '')}"
        outcome, message = "passed", ""
        for child in case:
            if child.tag in ("failure", "error", "skipped"):
                kind = {"failure": "failed"}.get(child.tag, child.tag)
                if _RANK[kind] > _RANK[outcome]:
                    outcome = kind
                    message = next(iter((child.get("message") or "").strip().splitlines()), kind)
        if _RANK[outcome] >= _RANK.get(run.outcomes.get(test_id, "passed"), 0):
            run.outcomes[test_id] = outcome
            if message:
                run.messages[test_id] = message
    if done.returncode not in (0, 1) and not run.outcomes:
        run.problems.append(f"pytest exited with {done.returncode}: {done.tail()}")


# -- the stage --------------------------------------------------------------------------------
def check_behaviour(result: NodeResult, workspace: Workspace, tests: Sequence[Path] | None) -> StageResult:
    started = time.perf_counter()
    root = workspace.root
    if tests is None:
        chosen = discover_tests(result, root)
        origin = "discovered"
    else:
        chosen = [Path(test).resolve() for test in tests]
        origin = "given"
        outside = [str(test) for test in chosen if not test.is_relative_to(root)]
        if outside:
            return failed(NAME, f"--tests outside the repository {root}: {', '.join(outside)}",
                          time.perf_counter() - started)
    if not chosen:
        why = "no tests given" if tests is not None else "no test file imports the node or a changed module"
        return skipped(NAME, why, time.perf_counter() - started)
    if not has_module(workspace.python, "pytest"):
        return skipped(NAME, f"pytest not installed in {workspace.python}", time.perf_counter() - started)
    groups: dict[Path, list[Path]] = {}
    for test in chosen:
        groups.setdefault(config_dir(test, root), []).append(test)
    key = _before_key(workspace, groups)
    known = cache.get("tests-before", key) if key else None
    with ThreadPoolExecutor(max_workers=2) as pool:
        after_future = pool.submit(run_tests, workspace, workspace.after, groups, "after")
        before = known if isinstance(known, Run) else run_tests(workspace, workspace.before(), groups, "before")
        after = after_future.result()
    if key and known is None and not (before.timed_out or before.problems):
        cache.put("tests-before", key, before)
    seconds = time.perf_counter() - started
    files = [test.relative_to(root).as_posix() for test in chosen]
    details = {"tests": files, "origin": origin, "before": before.counts(), "after": after.counts(),
               "before_seconds": 0.0 if known is not None else round(before.seconds, 3),
               "after_seconds": round(after.seconds, 3), "before_cached": known is not None}
    counts = f"before: {_counted(before)}{' (cached)' if known is not None else ''}; after: {_counted(after)}"
    if after.timed_out:
        return failed(NAME, f"the tests timed out after the migration ({counts})", seconds, **details)
    if not before.outcomes:
        return skipped(NAME, f"the tests do not run before the migration: {'; '.join(before.problems)}",
                       seconds, **details)
    regressions = {test: after.outcomes.get(test, "missing") for test, outcome in before.outcomes.items()
                   if outcome == "passed" and after.outcomes.get(test) not in ("passed", "skipped")}
    if regressions:
        listed = [f"{test} ({'did not run' if outcome == 'missing' else outcome}"
                  f"{': ' + after.messages[test] if test in after.messages else ''})"
                  for test, outcome in sorted(regressions.items())]
        more = f"; and {len(listed) - SHOWN} more" if len(listed) > SHOWN else ""
        problems = "; ".join(after.problems)
        return failed(NAME, f"{len(regressions)} test(s) passed before and fail after: "
                            f"{'; '.join(listed[:SHOWN])}{more} ({counts})" + (f"; {problems}" if problems else ""),
                      seconds, regressions=listed, **details)
    already = sorted(test for test, outcome in before.outcomes.items() if outcome in ("failed", "error"))
    note = f"; {len(already)} already failing before" if already else ""
    return passed(NAME, f"{len(files)} test file(s) {origin}; {counts}{note}", seconds,
                  already_failing=already, **details)


def _before_key(workspace: Workspace, groups: dict[Path, list[Path]]) -> str | None:
    """What the tests' outcomes before the migration depend on: every file of the repository (by size and
    modification time), the tests, and the interpreter."""
    if not cache.enabled():
        return None
    try:
        files = tree_files(workspace.root)
    except OSError:
        return None
    tests = [f"{directory}:{','.join(map(str, sorted(paths)))}" for directory, paths in sorted(groups.items())]
    return cache.key("tests-before", str(workspace.root), str(workspace.python), cache.files_digest(files),
                     *tests)


def _counted(run: Run) -> str:
    counts = run.counts()
    shown = ", ".join(f"{value} {key}" for key, value in counts.items() if value)
    return shown or "no tests"
