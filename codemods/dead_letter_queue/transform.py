"""Dead-letter queues, the LibCST rewrite of the files with applied findings."""

from __future__ import annotations

import re

import libcst as cst

from codemods.dead_letter_queue.detect import _methods, dlq_named
from omnimix.analysis.counters import (
    MIXIN,
    MIXIN_MODULE,
    CounterMigration,
    existing_accessor,
    unique_names,
)
from omnimix.analysis.logging_facts import (
    assigned_value,
    function_body,
)
from omnimix.analysis.syntax import assign_targets, self_attr
from omnimix.analysis.tree import index_module, nodes_of
from omnimix.concerns import Concern
from omnimix.migration_state import MigrationState, Outcome

# -- DLQ counters that MixinMetrics can keep --------------------------------------------------
_MIXIN_MEMBERS = frozenset({"increment_counter", "record_metric", "record_histogram", "get_metrics_backend",
                            "set_metrics_backend", "reset_metrics", "push_metrics", "_metrics_data",
                            "_metrics_enabled", "_metrics_backend"})


def _migrate_counters(state: MigrationState) -> dict[str, str]:
    """Move the node's DLQ counters that are provably plain counters to MixinMetrics.

    A counter moves only when the node module dead-letters by hand, MixinMetrics is declared and will be
    added, the counter is set once to 0 in ``__init__``/``initialize``, only ever grows by ``+= <int>``, and
    is read only by a metrics accessor (a method named for metrics, not for health) of the node class;
    nothing else names it.
    """
    if not state.findings_of(str(Concern.DEAD_LETTER_QUEUE), state.node_path) or not state.declared(MIXIN) \
            or not _metrics_mixin_will_be_added(state):
        return {}
    index_module(state.module)
    cls = next((s for s in state.module.body if isinstance(s, cst.ClassDef) and s.name.value == state.node_class),
               None)
    if cls is None:
        return {}
    others = [state.text_of(p) for p in state.files if p != state.node_path and p not in state.deleted]
    movable = sorted(attr for attr in _dlq_attrs(cls) if _is_plain_counter(cls, attr, state.module, others))
    if not movable:
        return {}
    names = unique_names(movable, state.module)
    # Reads go through the class's counter accessor when the metrics migration gave it one.
    state.rewrite(CounterMigration(state.node_class, names, set(), accessor=existing_accessor(cls)))
    state.add_import(MIXIN_MODULE, MIXIN)
    return names


def _metrics_mixin_will_be_added(state: MigrationState) -> bool:
    """ApplyDeclaredMixins adds MixinMetrics when the node has no metrics findings or one was applied."""
    if not state.findings_of(str(Concern.METRICS)):
        return True
    return any(d.outcome is Outcome.APPLIED and d.finding.concern == Concern.METRICS for d in state.decisions)


def _dlq_attrs(cls: cst.ClassDef) -> set[str]:
    return {a for attribute in nodes_of(cls, cst.Attribute) if dlq_named(a := self_attr(attribute) or "")}


def _is_plain_counter(cls: cst.ClassDef, attr: str, module: cst.Module, others: list[str]) -> bool:
    methods = _methods(cls)
    assigned = {a for m in methods for assign in nodes_of(m, cst.Assign) for t in assign.targets
                if (a := self_attr(t.target))}
    if _MIXIN_MEMBERS & ({m.name.value for m in methods} | assigned):
        return False
    if any(attr in text for text in _strings(module)):
        return False
    if any(node.attr.value == attr and self_attr(node) is None for node in nodes_of(module, cst.Attribute)):
        return False
    if any(re.search(rf"\.{re.escape(attr)}\b", text) for text in others):
        return False
    inits = 0
    for method in methods:
        name = method.name.value
        writes: set[int] = set()
        for small in nodes_of(method, cst.AugAssign):
            if self_attr(small.target) == attr:
                if not (isinstance(small.operator, cst.AddAssign) and isinstance(small.value, cst.Integer)):
                    return False
                writes.add(id(small.target))
        for small in [*nodes_of(method, cst.Assign), *nodes_of(method, cst.AnnAssign)]:
            targets = [t.target for t in small.targets] if isinstance(small, cst.Assign) else [small.target]
            hit = [t for t in targets if self_attr(t) == attr or _roots_at(t, attr)]
            if not hit:
                continue
            top = [s for s in function_body(method) if isinstance(s, cst.SimpleStatementLine)]
            if name not in ("__init__", "initialize") or len(targets) != 1 or self_attr(targets[0]) != attr \
                    or not isinstance(small.value, cst.Integer) or small.value.value != "0" \
                    or not any(len(line.body) == 1 and line.body[0] is small for line in top):
                return False
            inits += 1
            writes.add(id(targets[0]))
        reads = [node for node in nodes_of(method, cst.Attribute) if self_attr(node) == attr and id(node) not in writes]
        if reads and ("metric" not in name.lower() or "health" in name.lower()):
            return False
        if any(_roots_at(node, attr) for node in [*nodes_of(method, cst.Attribute), *nodes_of(method, cst.Subscript)]):
            return False
    return inits == 1


def _strings(root: cst.CSTNode) -> list[str]:
    found = []
    for literal in nodes_of(root, cst.SimpleString):
        try:
            value = literal.evaluated_value
        except Exception:  # noqa: BLE001 - an odd literal names nothing
            continue
        if isinstance(value, str):
            found.append(value)
    return found


def _roots_at(node: cst.BaseExpression, attr: str) -> bool:
    """``self.attr[...]`` or ``self.attr.x``: the counter used as a container or an object."""
    return isinstance(node, (cst.Subscript, cst.Attribute)) and self_attr(node.value) == attr


def _warn_on_suffix_mismatch(state: MigrationState) -> None:
    feature = state.contract.feature("dead_letter_queue")
    suffix = getattr(feature, "topic_suffix", None)
    if not suffix:
        return
    for path, ctx in state.files.items():
        for statement in ctx.module.body:
            if not isinstance(statement, cst.SimpleStatementLine):
                continue
            for small in statement.body:
                targets, value = assign_targets(small), assigned_value(small)
                if len(targets) == 1 and isinstance(targets[0], cst.Name) and dlq_named(targets[0].value) \
                        and isinstance(value, cst.SimpleString):
                    literal = next(iter(_strings(value)), None)
                    if literal is not None and literal.startswith(".") and literal != suffix:
                        state.warnings.append(
                            f"{ctx.display_path}:{ctx.span(statement)[0]}: {targets[0].value} is {literal!r} but the "
                            f"contract's dead_letter_queue.topic_suffix is {suffix!r}; the code was not changed")
