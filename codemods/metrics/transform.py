"""Hand-kept metrics, the LibCST rewrite of the files with applied findings."""

from __future__ import annotations

import libcst as cst

from codemods.metrics.detect import (
    _INIT_METHODS,
    _LOCK_FACTORIES,
    _REPLACEMENT,
    _body_statements,
    _ClassMetrics,
    _FileMetrics,
    _header,
    _imported_models,
    _refs,
    _small,
    _Span,
    _walk,
)
from codemods.metrics.plan import _KEPT_MARK, _WHY_KEPT, _counter_plan, _reasons
from omnimix.analysis.context import FileContext
from omnimix.analysis.counters import (
    ACCESSOR_NAMES,
    MIXIN,
    MIXIN_MODULE,
    CounterMigration,
    call_name,
    self_attr,
    unique_names,
    unpacked_targets,
)
from omnimix.analysis.tree import nodes_of
from omnimix.concerns import Action, Safety
from omnimix.migration_state import MigrationState


def _migrate_counters(state: MigrationState) -> tuple[dict[str, str], set[str]]:
    """Rewrite the node class's provable counters; return them (attribute -> counter name) and dropped locks."""
    ctx = FileContext(state.node_path, str(state.node_path), state.module.code, _module=state.module)
    facts = _FileMetrics(ctx, _imported_models(ctx))
    info = facts.classes.get(state.node_class)
    if info is None:
        return {}, set()
    others = [state.text_of(p) for p in state.files if p != state.node_path and p not in state.deleted]
    plan = _counter_plan(info, state.module, True, others)
    movable = [attr for attr, why in plan.items() if why is None]
    if not movable:
        return {}, set()
    names = unique_names(movable, state.module)
    locks = {name for name, record in info.attrs.items()
             if isinstance(record.first_value, cst.Call) and call_name(record.first_value) in _LOCK_FACTORIES
             and len(record.assigns) == 1 and record.init_statements}
    probe = CounterMigration(state.node_class, names, locks)
    state.module.visit(probe)
    accessor = _accessor_name(state.module) if probe.reads >= 2 else None
    migration = CounterMigration(state.node_class, names, locks, accessor=accessor)
    state.rewrite(migration)
    unused = {lock for lock in migration.flattened if not _still_used(state.module, state.node_class, lock)}
    if unused:
        state.rewrite(CounterMigration(state.node_class, {}, set(), drop=unused))
    state.add_import(MIXIN_MODULE, MIXIN)
    return names, unused


def _accessor_name(module: cst.Module) -> str | None:
    """Name of the one read accessor a class gets when it reads migrated counters in several places: the
    first of ``ACCESSOR_NAMES`` the module does not already use (none: reads stay inline)."""
    used = {name.value for name in nodes_of(module, cst.Name)}
    return next((name for name in ACCESSOR_NAMES if name not in used), None)


def _still_used(module: cst.Module, class_name: str, attr: str) -> bool:
    """True when ``self.attr`` appears in the class other than in its own assignment."""
    for statement in module.body:
        if isinstance(statement, cst.ClassDef) and statement.name.value == class_name:
            info = _ClassMetrics(statement, set())
            record = info.attrs.get(attr)
            return record is not None and (bool(record.methods - _INIT_METHODS) or _init_reads(info, attr))
    return True


def _assigns_attr(line: cst.SimpleStatementLine, attr: str) -> bool:
    return len(line.body) == 1 and any(self_attr(t) == attr for t in unpacked_targets(line.body[0]))


def _init_reads(info: _ClassMetrics, attr: str) -> bool:
    for name in _INIT_METHODS:
        function = info.functions.get(name)
        if function is None:
            continue
        for statement in _walk(function.statements):
            parts = [statement] if _small(statement) else list(_header(statement))
            for part in parts:
                if attr in _refs(part).attrs and not (isinstance(part, cst.SimpleStatementLine)
                                                      and _assigns_attr(part, attr)):
                    return True
    return False


def _removable_locks(info: _ClassMetrics, movable: set[str]) -> set[str]:
    """Metric locks whose every ``with`` block only increments counters that move to MixinMetrics."""
    removable = set()
    for lock, kind in info.kinds.items():
        if kind != "lock" or not movable:
            continue
        blocks = []
        other_use = False
        for function in info.functions.values():
            for statement in _walk(function.statements):
                if isinstance(statement, cst.With) and any(self_attr(i.item) == lock for i in statement.items):
                    blocks.append(statement)
                elif function.name not in _INIT_METHODS and (
                        lock in _refs(*_header(statement)).attrs or any(lock in _refs(s).attrs
                                                                         for s in _small(statement))):
                    other_use = True
        if other_use or not blocks:
            continue
        if all(len(b.items) == 1 and all(
                isinstance(inner, cst.SimpleStatementLine) and all(
                    isinstance(small, cst.AugAssign) and self_attr(small.target) in movable
                    for small in inner.body)
                for inner in _body_statements(b.body)) for b in blocks):
            removable.add(lock)
    return removable


def _replacement(action: Action) -> str:
    if action is Action.KEEP:
        return "none (kept)"
    return f"{_REPLACEMENT}.increment_counter"


def _judge(span: _Span, plan: dict[str, str | None]) -> tuple[Action, Safety, str]:
    """Action, safety and reason of a finding, from the metric state it holds."""
    if span.what == "class":
        return Action.KEEP, Safety.SAFE, _WHY_KEPT["class"]
    if span.what in ("constant", "builder"):
        return Action.KEEP, Safety.SAFE, _WHY_KEPT[span.what]
    if span.what == "helper" or span.method_kind == "helper":
        return Action.KEEP, Safety.SAFE, _WHY_KEPT["helper"]
    info = span.info
    kinds = [info.kinds[a] for a in sorted(span.attrs)] if info else []
    movable = sorted(a for a in span.attrs if a in plan and plan[a] is None and info.kinds[a] == "counter")
    blocked = [plan[a] for a in sorted(span.attrs) if plan.get(a)]
    rest = [k for a, k in zip(sorted(span.attrs), kinds) if k != "counter" and not (k == "lock" and a in plan)]
    kept = "; ".join([*dict.fromkeys(b for b in blocked if b), *([_reasons(rest)] if rest else [])])
    if span.method_kind == "accessor":
        if movable:
            return (Action.SIMPLIFY, Safety.SAFE,
                    f"reads of {', '.join(movable)} come from {MIXIN}.get_metrics; {_KEPT_MARK}"
                    + _WHY_KEPT["accessor"])
        return Action.KEEP, Safety.SAFE, _WHY_KEPT["accessor"] + (f"; {kept}" if kept else "")
    moved = f"scalar counter(s) {', '.join(movable)}: increment_counter keeps the same totals"
    if movable and not kept:
        return Action.REPLACE, Safety.SAFE, moved
    if movable:
        return Action.SIMPLIFY, Safety.SAFE, f"{moved}; {_KEPT_MARK}{kept}"
    if not kinds:
        return Action.KEEP, Safety.SAFE, _WHY_KEPT["timer"]
    if set(kinds) <= {"gauge"}:
        return Action.SIMPLIFY, Safety.UNSAFE, kept
    return Action.KEEP, Safety.SAFE, kept
