"""Hand-kept metrics, planning: what the migration decides for each finding, and why."""

from __future__ import annotations

import re
from collections.abc import Iterable

import libcst as cst

from codemods.metrics.detect import _INIT_METHODS, _Attr, _ClassMetrics
from omnimix.analysis.counters import (
    MIXIN,
    int_literal,
    self_attr,
)
from omnimix.analysis.tree import nodes_of

# --------------------------------------------------------------------------------------------
# Which counters can move to MixinMetrics without changing a single observable number
# --------------------------------------------------------------------------------------------
_WHY_KEPT = {
    "map": "counts per operation or error type: MixinMetrics keys counters by name only (tags are not part "
           "of the key), so the breakdown could not be read back",
    "dict": "counters held as entries of a metrics dict that is copied or read as a whole; MixinMetrics "
            "stores {name: {'value': n}} entries, so every read would change shape",
    "samples": "latency/timestamp samples for averages, percentiles or a throughput window: record_histogram "
               "keeps only the last value in memory",
    "gauge": "derived value (peak, last duration, float total, cache time): record_metric could hold it, but "
             "the reads need the same value back, which is not proven",
    "model": "metrics model with record_* methods and computed rates or per-operation min/max/avg: no "
             "MixinMetrics equivalent",
    "lock": "lock guarding hand-kept metrics that stay",
    "cache": "cached metrics snapshot: MixinMetrics has no snapshot cache",
    "accessor": "public metrics snapshot (its shape and any computed rates, averages or percentiles stay); "
                "MixinMetrics.get_metrics returns raw {name: {'value': n}} entries",
    "helper": "percentile or summary computation over kept samples: MixinMetrics has no percentiles",
    "builder": "builds or summarises a kept metrics type (zeroed counters, computed averages and rates): no "
               "MixinMetrics equivalent",
    "timer": "timer or outcome flag feeding kept latency statistics",
    "constant": "settings of hand-kept metrics (window length, buffer size, cache TTL) that stay with them",
    "class": "metrics model or metrics type (counters with computed rates, averages or percentiles): no "
             "MixinMetrics equivalent",
}


def _counter_plan(info: _ClassMetrics, module: cst.Module, is_node: bool,
                  other_texts: Iterable[str] = ()) -> dict[str, str | None]:
    """Every counter of the class: ``None`` when it can become ``increment_counter``, else why not."""
    plan: dict[str, str | None] = {}
    strings = {s.evaluated_value for s in nodes_of(module, cst.SimpleString) if isinstance(s.evaluated_value, str)}
    foreign = {n.attr.value for n in nodes_of(module, cst.Attribute) if self_attr(n) is None}
    clashes = sorted(name for name in ("increment_counter", "record_metric", "record_histogram", "_metrics_data",
                                       "_metrics_enabled", "_metrics_backend") if name in info.functions
                     or name in info.attrs)
    others = list(other_texts)
    for attr, kind in info.kinds.items():
        if kind != "counter":
            continue
        record = info.attrs[attr]
        plan[attr] = _why_not_migrated(info, record, is_node, clashes, attr in strings or attr in foreign
                                       or any(re.search(rf"\.{re.escape(attr)}\b", text) for text in others))
    return plan


def _why_not_migrated(info: _ClassMetrics, record: _Attr, is_node: bool, clashes: list[str],
                      used_elsewhere: bool) -> str | None:
    if not is_node:
        return f"{record.name} belongs to {info.name}, not to the node class that would get {MIXIN}"
    if clashes:
        return f"{info.name} defines {', '.join(clashes)}, which {MIXIN} also defines"
    if used_elsewhere:
        return f"{record.name} is also reached by name or from another object; the move is not provable"
    if not record.name.startswith("_"):
        return f"{record.name} is public: code outside the class may read it, so it stays"
    if int_literal(record.first_value) != 0 or len(record.init_statements) != 1 or len(record.assigns) != 1:
        resets = sorted({m for m, _v in record.assigns if m not in _INIT_METHODS})
        if resets:
            return (f"{record.name} is reset in {', '.join(resets)}; {MIXIN} has no per-counter reset, so the "
                    "counter stays")
        if isinstance(record.first_value, cst.Float):
            return f"{record.name} is a float total; increment_counter adds whole numbers"
        return f"{record.name} is not initialised once to 0 in __init__/initialize"
    method, line = record.init_statements[0]
    top = info.functions[method].statements
    if line not in top or len(line.body) != 1:
        return f"{record.name} is initialised conditionally or on a shared line"
    if _writes_anywhere(info.node, record.name) != 1 + len(record.augs):
        return f"{record.name} is also changed in a nested function or by an unusual target"
    if record.item_augs or record.item_assigns or record.field_augs or record.mutations:
        return f"{record.name} is changed in place, not only by += <int>"
    for _method, aug in record.augs:
        if not isinstance(aug.operator, cst.AddAssign) or int_literal(aug.value) is None:
            code = cst.Module([]).code_for_node(aug)
            return f"{record.name} changes by a computed amount ({code}); increment_counter would need the value " \
                   "to be an int, which is not proven"
    return None


_KEPT_MARK = "kept: "


def _writes_anywhere(node: cst.ClassDef, attr: str) -> int:
    """How many places in the whole class (nested functions included) write ``self.attr``."""
    targets: list[cst.BaseExpression] = []
    for item in nodes_of(node, (cst.Assign, cst.AnnAssign, cst.AugAssign, cst.Del, cst.For, cst.WithItem,
                             cst.CompFor)):
        if isinstance(item, cst.Assign):
            targets.extend(t.target for t in item.targets)
        elif isinstance(item, (cst.AnnAssign, cst.AugAssign, cst.For, cst.CompFor)):
            targets.append(item.target)
        elif isinstance(item, cst.Del):
            targets.append(item.target)
        elif item.asname is not None:
            targets.append(item.asname.name)
    count = 0
    for target in targets:
        for candidate in nodes_of(target, cst.Attribute):
            if self_attr(candidate) == attr:
                count += 1
    return count


def _reasons(kinds: Iterable[str]) -> str:
    return "; ".join(dict.fromkeys(_WHY_KEPT[kind] for kind in kinds if kind in _WHY_KEPT))
