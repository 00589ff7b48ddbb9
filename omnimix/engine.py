"""The engine: scan files and migrate nodes. Each file and node is independent; nothing raises."""

from __future__ import annotations

import ast
import sys
import traceback
import warnings
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from functools import partial
from pathlib import Path

import libcst as cst
import libcst.helpers

from codemods.base import Codemod
from codemods.registry import all_codemods
from omnimix.analysis import cache
from omnimix.analysis.context import FileContext
from omnimix.analysis.imports import add_imports, transform_in_place
from omnimix.analysis.loc import ZERO, LineCount, code_line_numbers, count_lines
from omnimix.analysis.module_cache import held, parse_text
from omnimix.analysis.nodes import (
    NODE_BASES,
    NodeClass,
    base_names,
    find_node_classes,
    top_level_classes,
)
from omnimix.analysis.wrap import line_limit, wrap_long_lines
from omnimix.catalog import Catalog, load_catalog
from omnimix.consolidation import consolidate as consolidate_results
from omnimix.contract import ContractError, LoadedContract, NodeContract, load_contract
from omnimix.contract.validation import validate_contract
from omnimix.discovery import (
    NodeDir,
    display_path,
    link_problem,
    python_files,
    repository_root,
)
from omnimix.findings import Finding
from omnimix.migration_state import Decision, MigrationState, Outcome
from omnimix.results import ConcernDelta, FileChange, FileScan, NodeResult, Status
from omnimix.source import SourceError, SourceText, decode_source, keep_line_endings, read_bytes, read_source

#: Files larger than this are not read (``--max-file-size``); node modules run to a few hundred kB.
DEFAULT_MAX_FILE_SIZE = 4 * 1024 * 1024

PYTHON = f"Python {sys.version_info.major}.{sys.version_info.minor}"


# -- scanning ---------------------------------------------------------------------------------
def scan_file(path: Path, base: Path, codemods: Sequence[Codemod] | None = None,
              max_file_size: int = DEFAULT_MAX_FILE_SIZE, surroundings: str | None = None) -> FileScan:
    """Findings of one file. A file that cannot be read or parsed is reported, not raised."""
    return _scan_kept(path, base, codemods, max_file_size, surroundings)[1]


def _scan_kept(path: Path, base: Path, codemods: Sequence[Codemod] | None, max_file_size: int,
               surroundings: str | None) -> tuple[str | None, FileScan, SourceText | None]:
    """The scan of one file, the key it is kept under (None when it is not), and the file's text as read.

    Scans with every codemod are kept by the file's bytes and ``surroundings``, the digest of the files its
    detectors may read besides it (``surroundings_digest``; see ``omnimix.analysis.cache``): on disk unless the
    cache is off, and for the rest of the run in any case, so that a batch's ordering scan and its migrations
    scan each file once. The file is read once: its key and its text come from the same bytes."""
    if (codemods is not None and tuple(codemods) != all_codemods()) or file_problem(path, max_file_size):
        return (None, *_scan_source(path, base, codemods, max_file_size))
    try:
        data = path.read_bytes()
        name = cache.key("scan", str(path), display_path(path, base),
                         surroundings_digest([path]) if surroundings is None else surroundings, data)
    except OSError:
        return (None, *_scan_source(path, base, codemods, max_file_size))
    found = _SCANNED.get(name) or cache.get("scan", name)
    if isinstance(found, FileScan):
        _remember(name, found)
        try:
            return name, found, decode_source(data)
        except SourceError:
            return name, found, None  # the scan says why
    scan, source = _scan_bytes(path, display_path(path, base), codemods, data)
    if scan.status is Status.INTERNAL_ERROR:
        return None, scan, source
    cache.put("scan", name, scan)
    _remember(name, scan)
    return name, scan, source


def _kept_scan_and_key(path: Path, base: Path, max_file_size: int, surroundings: str) -> tuple[str | None, FileScan]:
    """A process pool's part of ``scan_paths``: the scan and its key, which the parent keeps for the run."""
    name, scan, _ = _scan_kept(path, base, None, max_file_size, surroundings)
    return name, scan


#: Scans made in this run, by the key of their file's bytes and surroundings (at most ``_SCANNED_KEPT``).
_SCANNED: dict[str, FileScan] = {}
_SCANNED_KEPT = 10_000


def _remember(name: str, scan: FileScan) -> None:
    if len(_SCANNED) >= _SCANNED_KEPT:
        _SCANNED.clear()
    _SCANNED[name] = scan


def _scan_source(path: Path, base: Path, codemods: Sequence[Codemod] | None,
                 max_file_size: int = DEFAULT_MAX_FILE_SIZE) -> tuple[FileScan, SourceText | None]:
    """The scan of one file and its text as read (bytes decoded per PEP 263, line endings kept)."""
    display = display_path(path, base)
    problem = file_problem(path, max_file_size)
    if problem:
        return FileScan(path, display, ZERO, status=Status.INPUT_ERROR, error=f"{display}: {problem}"), None
    try:
        data = read_bytes(path)
    except SourceError as exc:
        return FileScan(path, display, ZERO, status=Status.INPUT_ERROR, error=f"{display}: {exc}"), None
    return _scan_bytes(path, display, codemods, data)


def _scan_bytes(path: Path, display: str, codemods: Sequence[Codemod] | None,
                data: bytes) -> tuple[FileScan, SourceText | None]:
    try:
        source = decode_source(data)
    except SourceError as exc:
        return FileScan(path, display, ZERO, status=Status.INPUT_ERROR, error=f"{display}: {exc}"), None
    return scan_context(FileContext(path, display, source.text), codemods), source


def scan_context(ctx: FileContext, codemods: Sequence[Codemod] | None = None) -> FileScan:
    count = count_lines(ctx.text)
    problem = python_problem(ctx.text)
    if problem:
        return FileScan(ctx.path, ctx.display_path, count, status=Status.INPUT_ERROR,
                        error=f"{ctx.display_path}:{problem}")
    lowered = ctx.text.lower()
    active = [c for c in (codemods or all_codemods()) if c.concern and _prefilter(c, lowered)]
    if not active:
        return FileScan(ctx.path, ctx.display_path, count)
    try:
        ctx.module
    except cst.ParserSyntaxError as exc:
        return FileScan(ctx.path, ctx.display_path, count, status=Status.INPUT_ERROR,
                        error=_libcst_problem(ctx.display_path, exc))
    findings: list[Finding] = []
    with held(ctx.module):
        for codemod in active:
            try:
                findings.extend(codemod.detect(ctx))
            except Exception:  # a detector bug must not stop the scan of other files
                return FileScan(ctx.path, ctx.display_path, count, tuple(sorted(findings)),
                                status=Status.INTERNAL_ERROR,
                                error=f"{ctx.display_path}: detector {codemod.name} failed:\n"
                                      f"{traceback.format_exc()}")
    return FileScan(ctx.path, ctx.display_path, count, tuple(sorted(set(findings))))


def file_problem(path: Path, max_file_size: int = DEFAULT_MAX_FILE_SIZE) -> str | None:
    """Why a file is not read at all: a symlink omnimix does not follow, or a size over ``max_file_size``."""
    problem = link_problem(path)
    if problem:
        return problem
    try:
        size = path.stat().st_size
    except OSError:
        return None  # reading it says why
    if size > max_file_size:
        return (f"{size} bytes is over the --max-file-size limit of {max_file_size} bytes; not read "
                "(raise the limit to include it)")
    return None


def python_problem(text: str) -> str | None:
    """Why ``text`` is not a module this Python compiles, as ``line:column: problem``: a NUL byte (a binary
    file), a syntax error, or nesting too deep. LibCST accepts some such files (``b"é"``, PEP 696 defaults,
    ``except A, B:``), so it is not the judge of what is Python."""
    if "\0" in text:
        line = text.count("\n", 0, text.index("\0")) + 1
        return f"{line}:1: binary file (a NUL byte), not Python source"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # SyntaxWarnings of the input are not omnimix's to print
            ast.parse(text)
    except SyntaxError as exc:
        return f"{exc.lineno or 1}:{exc.offset or 1}: syntax error under {PYTHON}: {exc.msg}"
    except (RecursionError, MemoryError):
        return f"1:1: nested too deeply for {PYTHON} to parse"
    return None


def _libcst_problem(display: str, exc: cst.ParserSyntaxError) -> str:
    """A file that Python compiles but LibCST cannot parse (LibCST's limits, e.g. thousands of adjacent
    string literals): an input omnimix cannot handle, not a bug to hide."""
    return (f"{display}:{exc.raw_line}:{exc.raw_column}: {PYTHON} parses this file but LibCST cannot "
            f"({exc.message.splitlines()[0] if exc.message else 'parser error'}); omnimix cannot change it")


def _prefilter(codemod: Codemod, lowered_text: str) -> bool:
    keywords = getattr(codemod, "keywords", ())
    return not keywords or any(keyword in lowered_text for keyword in keywords)


def scan_paths(files: Iterable[Path], base: Path, jobs: int = 1,
               max_file_size: int = DEFAULT_MAX_FILE_SIZE) -> list[FileScan]:
    """Scan ``files``; with ``jobs > 1`` in that many processes (results keep the input order)."""
    files = list(files)
    surroundings = surroundings_digest(files)
    if jobs > 1 and len(files) >= PARALLEL_THRESHOLD:
        with ProcessPoolExecutor(max_workers=jobs) as pool:
            keyed = list(pool.map(partial(_kept_scan_and_key, base=base, max_file_size=max_file_size,
                                          surroundings=surroundings), files,
                                  chunksize=max(1, len(files) // (jobs * 4))))
        for name, scan in keyed:  # kept here too, for the migrations that follow
            if name is not None:
                _remember(name, scan)
        return [scan for _, scan in keyed]
    codemods = all_codemods()
    return [scan_file(path, base, codemods, max_file_size, surroundings) for path in files]


def surroundings_digest(files: Sequence[Path]) -> str:
    """A digest of every Python file of the repositories ``files`` are in (path, size, modification time):
    detectors read the modules a file imports and its neighbours, so a cached scan holds only while none of
    them changed. (With the cache off it still keys the scans kept for the rest of the run.)"""
    if not files:
        return ""
    roots = sorted({repository_root(path) for path in files})
    return cache.files_digest(python_files(roots))


def migrate_nodes(nodes: Sequence[NodeDir], base: Path, *, jobs: int = 1, consolidate: bool = True,
                  progress: Callable[[NodeDir | None], None] | None = None,
                  **options: object) -> list[NodeResult]:
    """Migrate each node (with ``jobs > 1`` in that many processes), then move concern code that
    several nodes share into project mixins (see ``omnimix.consolidation``).

    ``progress`` is called with each node as its migration starts (in parallel: as the one before it ends),
    and with None when only consolidation is left."""
    step = progress or (lambda node: None)
    options.setdefault("surroundings", surroundings_digest([file for node in nodes for file in node.files]))
    if jobs > 1 and len(nodes) > 1:
        with ProcessPoolExecutor(max_workers=jobs) as pool:
            step(nodes[0])
            results = []
            for index, result in enumerate(pool.map(partial(migrate_node, base=base, **options), nodes)):
                results.append(result)
                step(nodes[index + 1] if index + 1 < len(nodes) else None)
    else:
        results = []
        for node in nodes:
            step(node)
            results.append(migrate_node(node, base, **options))
        step(None)
    if not consolidate or options.get("codemods"):
        return results
    key = _consolidation_key(nodes, base, options)
    found = cache.get("consolidate", key) if key else None
    if isinstance(found, list):
        return found
    try:
        consolidated = _stored_as_read(consolidate_results(results, base), results)
        if key and not any(result.status is Status.INTERNAL_ERROR for result in consolidated):
            cache.put("consolidate", key, consolidated)
        return consolidated
    except Exception:
        note = "consolidation failed (a bug in omnimix); nodes were migrated without it:\n" + traceback.format_exc()
        return [replace(result, warnings=(*result.warnings, note)) for result in results]


def _consolidation_key(nodes: Sequence[NodeDir], base: Path, options: dict[str, object]) -> str | None:
    """What a run's consolidation depends on: every node's migration (its key), which covers the
    repository's files, or None when a node's migration is not cached."""
    if not cache.enabled() or options.get("codemods") is not None or options.get("catalog") is not None:
        return None
    keys = []
    unsafe: bool = options.get("allow_unsafe", False)  # type: ignore[assignment]  # as migrate_node gets it
    longer = bool(options.get("allow_longer"))
    repository_files: tuple[Path, ...] = options.get("repository_files", ())  # type: ignore[assignment]
    for node in nodes:
        contract: Path | None = options.get("contract_path") or node.contract  # type: ignore[assignment]
        key = _migration_key(node, base, contract, unsafe, longer, repository_files)
        if key is None:
            return None
        keys.append(key)
    return cache.key("consolidate", str(base.resolve()), *keys)


#: Below this many files a process pool costs more than it saves.
PARALLEL_THRESHOLD = 16


def _stored_as_read(results: list[NodeResult], read: list[NodeResult]) -> list[NodeResult]:
    """Changes that consolidation rebuilt, given back the text, encoding and line endings of each file as
    the engine read it (``omnimix.source``), so that writing them changes only the migrated lines."""
    as_read = {change.path: change for result in read for change in result.changes if change.before is not None}
    updated = []
    for result in results:
        changes = tuple(_as_read(change, as_read.get(change.path)) for change in result.changes)
        updated.append(result if changes == result.changes else replace(result, changes=changes))
    return updated


def _as_read(change: FileChange, read: FileChange | None) -> FileChange:
    if read is None or change.before is None or read.before is None:
        return change
    after = None if change.after is None else keep_line_endings(read.before, change.after)
    return replace(change, before=read.before, after=after, encoding=read.encoding, bom=read.bom)


# -- migrating --------------------------------------------------------------------------------
def migrate_node(
    node: NodeDir,
    base: Path,
    *,
    contract_path: Path | None = None,
    allow_unsafe: bool = False,
    allow_longer: bool = False,
    repository_files: tuple[Path, ...] = (),
    catalog: Catalog | None = None,
    codemods: Sequence[Codemod] | None = None,
    max_file_size: int = DEFAULT_MAX_FILE_SIZE,
    surroundings: str | None = None,
) -> NodeResult:
    """Migrate one node as its contract declares. Never raises: errors become results.

    ``codemods`` restricts the run (tests of one codemod); by default every registered codemod runs.
    ``surroundings`` is the batch's ``surroundings_digest``, computed once (by default, for each file).
    """
    display = display_path(node.directory, base)
    if node.problems:
        return NodeResult(node.directory, display, Status.INPUT_ERROR, node.contract, message="\n".join(
            f"{display}/{name}: {problem}" if name else f"{display}: {problem}" for name, problem in node.problems))
    name = None
    if codemods is None and catalog is None and not any(file_problem(f, max_file_size) for f in node.files):
        name = _migration_key(node, base, contract_path or node.contract, allow_unsafe, allow_longer,
                              repository_files)
        found = cache.get("migrate", name) if name else None
        if isinstance(found, NodeResult):
            return found
    try:
        migrate = partial(_migrate, node, base, display, contract_path or node.contract, allow_unsafe,
                          repository_files, catalog, tuple(codemods or all_codemods()), max_file_size,
                          surroundings=surroundings)
        result = migrate()
        if not allow_longer:
            held = _held_back(result)
            if held:  # what makes the node longer is held back; the rest is applied
                result = migrate(held=held)
            result = _unless_longer(result)
        if name and result.status is not Status.INTERNAL_ERROR:
            cache.put("migrate", name, result)
        return result
    except Exception:
        return NodeResult(node.directory, display, Status.INTERNAL_ERROR,
                          message="omnimix failed on this node (a bug in omnimix; nothing was written)",
                          traceback=traceback.format_exc())


def _migration_key(node: NodeDir, base: Path, contract: Path | None, allow_unsafe: bool, allow_longer: bool,
                   repository_files: tuple[Path, ...]) -> str | None:
    """What a node's migration depends on: its files' bytes, its contract, the options, and the
    repository it reads callers from (by size and modification time)."""
    try:
        parts: list[str | bytes] = ["migrate", str(node.directory), str(base.resolve()),
                                    f"unsafe={allow_unsafe} longer={allow_longer}",
                                    cache.files_digest(repository_files)]
        for path in (*node.files, *([contract] if contract else [])):
            parts += [str(path), path.read_bytes()]
    except OSError:
        return None
    return cache.key(*parts)


def _migrate(
    node: NodeDir,
    base: Path,
    display: str,
    contract_path: Path | None,
    allow_unsafe: bool,
    repository_files: tuple[Path, ...],
    catalog: Catalog | None,
    codemods: tuple[Codemod, ...],
    max_file_size: int = DEFAULT_MAX_FILE_SIZE,
    held: dict[str, list[Decision]] | None = None,
    surroundings: str | None = None,
) -> NodeResult:
    contexts: dict[Path, FileContext] = {}
    sources: dict[Path, SourceText] = {}
    scans: list[FileScan] = []
    for path in node.files:
        _, scan, source = _scan_kept(path, base, codemods, max_file_size, surroundings)
        scans.append(scan)
        if source is None or scan.status is Status.INPUT_ERROR:
            return NodeResult(node.directory, display, Status.INPUT_ERROR, contract_path,
                              message=scan.error or "", scans=tuple(scans))
        sources[path] = source
        contexts[path] = FileContext(path, scan.display, source.text)
        try:
            contexts[path].module  # every file a codemod may read must parse, not only those a detector read
        except cst.ParserSyntaxError as exc:
            return NodeResult(node.directory, display, Status.INPUT_ERROR, contract_path,
                              message=_libcst_problem(scan.display, exc), scans=tuple(scans))
    findings = {scan.path: list(scan.findings) for scan in scans}
    summary = _summary(scans)

    if contract_path is None:
        return NodeResult(node.directory, display, Status.SKIPPED, None, scans=tuple(scans),
                          message=f"no contract.yaml: nothing is declared, so nothing changes. Scan found: {summary}")
    try:
        loaded = load_contract(contract_path)
    except ContractError as exc:
        return NodeResult(node.directory, display, Status.INPUT_ERROR, contract_path,
                          message=str(exc), scans=tuple(scans))
    contract = loaded.contract
    problems = _declaration_problems(contract, loaded, catalog or load_catalog())
    if problems:
        return NodeResult(node.directory, display, Status.INPUT_ERROR, contract_path,
                          message="\n".join(problems), scans=tuple(scans))
    if not contract.declares_target_state:
        return NodeResult(node.directory, display, Status.SKIPPED, contract_path, scans=tuple(scans),
                          message="the contract declares no mixins and no advanced_features, so nothing "
                                  f"changes (see `omnimix contract upgrade`). Scan found: {summary}")

    node_classes = find_node_classes({p: c.module for p, c in contexts.items() if _mentions_node(c.text)})
    main = _main_class(node_classes, contract)
    if main is None:
        return NodeResult(node.directory, display, Status.INPUT_ERROR, contract_path, scans=tuple(scans),
                          message=_no_node_class(display_path(contract_path, base), loaded, display, contexts,
                                                 node_classes))

    state = MigrationState(
        contract=contract, files=contexts, node_path=main.path, node_class=main.name,
        node_base=main.core_base, findings=findings, allow_unsafe=allow_unsafe,
        repository_files=repository_files,
    )
    deltas, wrapping_by_concern = _run_codemods(state, codemods, held or {})
    if state.errors:
        return NodeResult(node.directory, display, Status.INPUT_ERROR, contract_path, main.name,
                          message="\n".join(state.errors), scans=tuple(scans))
    _apply_imports(state)

    changes = []
    wrapping = 0  # code lines that wrapping lines to the project's limit added
    for path, ctx in contexts.items():
        after = None
        if path not in state.deleted:
            rewritten = state.text_of(path)
            wrapped = _wrapped(ctx, rewritten)
            if wrapped != rewritten:
                wrapping += count_lines(wrapped).code_lines - count_lines(rewritten).code_lines
            after = keep_line_endings(ctx.text, wrapped)
        changes.append(FileChange(path, ctx.display_path, ctx.text, after, sources[path].encoding, sources[path].bom))
    changes += _shared_changes(state, base)
    broken = _broken_outputs(changes)
    if broken:
        return NodeResult(node.directory, display, Status.INTERNAL_ERROR, contract_path, main.name,
                          message="omnimix produced invalid code (a bug in omnimix; nothing was written):\n"
                                  + "\n".join(broken),
                          scans=tuple(scans), decisions=tuple(state.decisions))
    _record_undecided(state)
    status = Status.CHANGED if any(change.changed for change in changes) else Status.UNCHANGED
    return NodeResult(
        node.directory, display, status, contract_path, main.name,
        message="" if status is Status.CHANGED else "already migrated: nothing left that the contract asks for",
        changes=tuple(changes), scans=tuple(scans), decisions=tuple(state.decisions),
        concern_deltas=tuple(deltas), mixins_applied=tuple(state.mixins_to_add),
        warnings=tuple(state.warnings),
        extra={"wrapped_lines": wrapping, "wrapped_by_concern": wrapping_by_concern} if wrapping else {},
    )


def _shared_changes(state: MigrationState, base: Path) -> list[FileChange]:
    """The changes to files outside the node that a codemod made for every node using them."""
    changes = []
    for path, after in state.shared_texts.items():
        source = read_source(path)
        changes.append(FileChange(path, display_path(path, base), source.text, keep_line_endings(source.text, after),
                                  source.encoding, source.bom))
    return changes


BASES_AND_IMPORTS = "bases_and_imports"


def _growth(result: NodeResult) -> int:
    """Code lines a migration adds to the node. The declared bases and their imports are what the contract
    asks for, so they do not count; the lines that wrapping the rewrites to the project's limit added do."""
    return sum(d.after.code_lines - d.before.code_lines for d in result.concern_deltas
               if d.concern != BASES_AND_IMPORTS) + int(result.extra.get("wrapped_lines", 0))


def _held_back(result: NodeResult) -> dict[str, list[Decision]]:
    """For a migration that would make the node longer: each concern whose rewrites add code lines, with
    the decisions to make instead (what it applied is kept, with the count; the rest as it was decided)."""
    if result.status is not Status.CHANGED or _growth(result) <= 0:
        return {}
    held: dict[str, list[Decision]] = {}
    wrapping = result.extra.get("wrapped_by_concern", {})
    for delta in result.concern_deltas:
        growth = delta.after.code_lines - delta.before.code_lines + int(wrapping.get(delta.concern, 0))
        if delta.concern == BASES_AND_IMPORTS or growth <= 0:
            continue
        note = (f"not applied: this rewrite would make the node longer (+{growth} code lines); "
                "--allow-longer applies it")
        held[delta.concern] = [
            Decision(d.finding, d.path, Outcome.KEPT, note) if d.outcome is Outcome.APPLIED else d
            for d in result.decisions if d.finding.concern == delta.concern]
    return held


def _unless_longer(result: NodeResult) -> NodeResult:
    """A migration that would leave the node with more code lines is not applied: its changes are
    listed as kept, with the counts, and ``--allow-longer`` applies them."""
    if result.status is not Status.CHANGED:
        return result
    growth = _growth(result)
    if growth <= 0:
        return result
    before = sum(count_lines(c.before).code_lines for c in result.changes if c.before is not None)
    after = sum(count_lines(c.after).code_lines for c in result.changes if c.after is not None and c.before is not None)
    note = (f"not applied: its rewrites would make the node longer (+{growth} code lines; {before} → {after} "
            "with the declared bases); --allow-longer applies it")
    decisions = tuple(
        Decision(d.finding, d.path, Outcome.KEPT, note) if d.outcome is Outcome.APPLIED else d
        for d in result.decisions)
    unchanged = tuple(replace(c, after=c.before) for c in result.changes if c.before is not None)
    return replace(result, status=Status.UNCHANGED, changes=unchanged, decisions=decisions, concern_deltas=(),
                   mixins_applied=(), message=note)


def _wrapped(ctx: FileContext, after: str) -> str:
    """``after`` with the lines the migration made longer than the project's limit wrapped."""
    if after == ctx.text:
        return after
    return wrap_long_lines(after, line_limit(ctx.path.parent), leave=frozenset(ctx.text.splitlines()))


def _run_codemods(state: MigrationState, codemods: Sequence[Codemod],
                  held: dict[str, list[Decision]]) -> tuple[list[ConcernDelta], dict[str, int]]:
    """Run each codemod in turn; attribute the change in lines to its concern, and the code lines that
    wrapping its rewrites to the project's limit would add. A ``held`` concern changes nothing and takes the
    decisions given."""
    deltas = []
    wrapping: dict[str, int] = {}
    current = _texts(state)
    for codemod in codemods:
        state.current_concern = str(codemod.concern) if codemod.concern else None
        if state.current_concern in held:
            state.decisions.extend(held[state.current_concern])
        else:
            codemod.transform(state)
        after = _texts(state)
        label = str(codemod.concern) if codemod.concern else BASES_AND_IMPORTS
        before_count = _concern_lines(state, codemod)
        change = _total(after) - _total(current) if after != current else LineCount(0, 0)
        if change != LineCount(0, 0) or before_count != ZERO:
            deltas.append(ConcernDelta(label, before_count,
                                       LineCount(before_count.lines + change.lines,
                                                 before_count.code_lines + change.code_lines)))
        wrapped = sum(_wrap_growth(state.files[path], current[path] or "", text)
                      for path, text in after.items() if text is not None and text != current[path])
        if wrapped:
            wrapping[label] = wrapped
        current = after
    return deltas, wrapping


def _wrap_growth(ctx: FileContext, before: str, after: str) -> int:
    """Code lines that wrapping the lines a step added (``before`` to ``after``) to the limit adds."""
    limit = line_limit(ctx.path.parent)
    old = set(before.splitlines())
    if not any(len(line) > limit and line not in old for line in after.splitlines()):
        return 0
    wrapped = wrap_long_lines(after, limit, leave=frozenset(old))
    return count_lines(wrapped).code_lines - count_lines(after).code_lines


def _texts(state: MigrationState) -> dict[Path, str | None]:
    return {path: (None if path in state.deleted else state.text_of(path)) for path in state.files}


def _total(texts: dict[Path, str | None]) -> LineCount:
    total = ZERO
    for text in texts.values():
        if text is not None:
            total = total + count_lines(text)
    return total


def _concern_lines(state: MigrationState, codemod: Codemod) -> LineCount:
    """Lines inside this concern's findings, counted once each."""
    if codemod.concern is None:
        return ZERO
    lines = 0
    code = 0
    for path, found in state.findings.items():
        covered: set[int] = set()
        for finding in found:
            if finding.concern == codemod.concern:
                covered.update(range(finding.start_line, finding.end_line + 1))
        if covered:
            code_numbers = code_line_numbers(state.files[path].text)
            lines += len(covered)
            code += len(covered & code_numbers)
    return LineCount(lines, code)


def _apply_imports(state: MigrationState) -> None:
    """The one shared pass that applies every import added or removed by the codemods."""
    from libcst.codemod.visitors import (  # only a migration needs them
        AddImportsVisitor,
        RemoveImportsVisitor,
    )

    module = state.module
    scratch = state.codemod_context.scratch
    if scratch.get(AddImportsVisitor.CONTEXT_KEY):
        existing = {module.code_for_node(statement) for statement in module.body}
        module = _group_with_library_imports(add_imports(state.codemod_context, module), existing)
    if scratch.get(RemoveImportsVisitor.CONTEXT_KEY):
        module = transform_in_place(RemoveImportsVisitor(state.codemod_context), module)
    state.module = module


def _group_with_library_imports(module: cst.Module, existing: set[str]) -> cst.Module:
    """Move added ``omnibase_core`` imports next to the module's own omnibase_core imports."""
    body = list(module.body)
    is_new = [module.code_for_node(s) not in existing for s in body]
    added = [s for s, new in zip(body, is_new) if new and _imports_from(s, "omnibase_core")]
    anchors = [i for i, (s, new) in enumerate(zip(body, is_new)) if not new and _imports_from(s, "omnibase_core")]
    if not added or not anchors:
        return module
    rest = [s for s in body if not any(s is a for a in added)]
    group = [i for i, s in enumerate(rest) if _imports_from(s, "omnibase_core")]
    names = [_module_of(rest[i]) for i in group]
    for statement in sorted(added, key=_module_of, reverse=True):
        statement = statement.with_changes(leading_lines=())
        name = _module_of(statement)
        if names == sorted(names):  # a sorted block (isort/ruff style): keep it sorted
            position = next((i for i, n in zip(group, names) if n > name), group[-1] + 1)
        else:
            position = group[-1] + 1
        if position == group[0] and rest[position].leading_lines:
            statement = statement.with_changes(leading_lines=rest[position].leading_lines)
            rest[position] = rest[position].with_changes(leading_lines=())
        rest.insert(position, statement)
        group = [i for i, s in enumerate(rest) if _imports_from(s, "omnibase_core")]
        names = [_module_of(rest[i]) for i in group]
    return module.with_changes(body=rest)


def _module_of(statement: cst.CSTNode) -> str:
    small = statement.body[0] if isinstance(statement, cst.SimpleStatementLine) else None
    if isinstance(small, cst.ImportFrom) and small.module is not None:
        return cst.helpers.get_full_name_for_node(small.module) or ""
    if isinstance(small, cst.Import):
        return cst.helpers.get_full_name_for_node(small.names[0].name) or ""
    return ""


def _imports_from(statement: cst.CSTNode, package: str) -> bool:
    if not isinstance(statement, cst.SimpleStatementLine):
        return False
    for small in statement.body:
        if isinstance(small, cst.ImportFrom) and small.module is not None and not small.relative:
            name = cst.helpers.get_full_name_for_node(small.module) or ""
            if name == package or name.startswith(package + "."):
                return True
        if isinstance(small, cst.Import):
            for alias in small.names:
                name = cst.helpers.get_full_name_for_node(alias.name) or ""
                if name == package or name.startswith(package + "."):
                    return True
    return False


def _broken_outputs(changes: list[FileChange]) -> list[str]:
    broken = []
    for change in changes:
        if change.after is None or not change.changed:
            continue
        try:
            parse_text(change.after)  # kept parsed: consolidation reads the migrated node modules
            ast.parse(change.after)
        except (cst.ParserSyntaxError, SyntaxError) as exc:
            broken.append(f"{change.display}: {exc}")
    return broken


def _record_undecided(state: MigrationState) -> None:
    """Findings no codemod decided on: their concern was not declared by the contract."""
    decided = {(decision.path, decision.finding) for decision in state.decisions}
    for path, found in state.findings.items():
        for finding in found:
            if (path, finding) not in decided:
                state.decide(finding, path, Outcome.NOT_DECLARED,
                             "the contract does not declare this concern" if finding.action != "keep"
                             else finding.reason)


def _declaration_problems(contract: NodeContract, loaded, catalog: Catalog) -> list[str]:
    """The contract's errors under the rules of ``omnimix validate``; warnings do not stop a migration."""
    return [problem.render() for problem in validate_contract(loaded, catalog) if problem.is_error]


def _mentions_node(text: str) -> bool:
    return "class " in text


def _main_class(classes: list[NodeClass], contract: NodeContract) -> NodeClass | None:
    if contract.main_class:
        return next((node_class for node_class in classes if node_class.name == contract.main_class), None)
    preferred = [c for c in classes if c.path.name == "node.py"]
    return (preferred or classes or [None])[0]


def _no_node_class(contract: str, loaded: LoadedContract, display: str, contexts: dict[Path, FileContext],
                   node_classes: list[NodeClass]) -> str:
    """Why a contract that declares a target state has no class to apply it to, as ``path:line: field: ...``."""
    defined = {statement.name.value: base_names(statement)
               for ctx in contexts.values() for statement in top_level_classes(ctx.module)}
    bases = "an omnibase-core node base (" + ", ".join(sorted(NODE_BASES)) + ")"
    main_class = loaded.contract.main_class
    if main_class:
        where = f"{contract}:{loaded.line('main_class') or 1}: main_class: "
        if main_class in defined:
            return (where + f"{main_class}({', '.join(defined[main_class])}) in {display} does not derive from "
                    f"{bases}, directly or through a class of this node")
        others = f"; its node classes: {', '.join(c.name for c in node_classes)}" if node_classes else ""
        return where + f"no class {main_class} in {display}{others}"
    where = f"{contract}:1: <contract>: the contract declares mixins or advanced_features, but "
    if not defined:
        missing = "" if any(path.name == "node.py" for path in contexts) else " (it has no node.py)"
        return where + f"no class is defined in {display}{missing}"
    found = ", ".join(f"{name}({', '.join(b)})" for name, b in defined.items())
    return where + f"no class in {display} derives from {bases}; classes found: {found}"


def _summary(scans: list[FileScan]) -> str:
    counts: dict[str, int] = {}
    for scan in scans:
        for finding in scan.findings:
            counts[str(finding.concern)] = counts.get(str(finding.concern), 0) + 1
    if not counts:
        return "no hand-rolled concerns"
    return ", ".join(f"{count} {concern}" for concern, count in sorted(counts.items()))
