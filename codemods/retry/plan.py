"""Retry loops, planning: what the migration decides for each finding, and why."""

from __future__ import annotations

from dataclasses import dataclass

import libcst as cst

from codemods.retry.detect import (
    _JITTER_WORDS,
    _delay_nodes,
    _loop_parts,
    _number,
    is_sleep,
)
from omnimix.analysis.syntax import (
    dotted_name,
)
from omnimix.analysis.tree import walk


# =============================================================================================
# Comparing a loop with omnibase-core
# =============================================================================================
@dataclass(frozen=True)
class Doubling:
    """A delay that is exactly ``base * 2 ** (n - 1)`` for the 1-based attempt ``n`` (never capped)."""

    attempts: int
    base: float
    one_based: cst.BaseExpression  # expression of the 1-based attempt number
    delay: cst.BaseExpression  # the expression to replace


def _range_attempts(loop: cst.For) -> tuple[str, int, bool] | None:
    """(variable, attempts, zero_based) for ``for v in range(N)`` / ``range(1, N + 1)`` with a literal N."""
    if not isinstance(loop.target, cst.Name) or not isinstance(loop.iter, cst.Call) \
            or dotted_name(loop.iter.func) != "range":
        return None
    args = [a.value for a in loop.iter.args]
    if len(args) == 1 and _number(args[0]) is not None:
        return loop.target.value, int(_number(args[0]) or 0), True
    if len(args) == 2 and _number(args[0]) == 1:
        stop = args[1]
        if isinstance(stop, cst.BinaryOperation) and isinstance(stop.operator, cst.Add) and _number(stop.right) == 1 \
                and _number(stop.left) is not None:
            return loop.target.value, int(_number(stop.left) or 0), False
    return None


def _exponent_of(expr: cst.BaseExpression, var: str) -> int | None:
    """0 for ``var``, -1 for ``var - 1`` (parentheses allowed), else None."""
    if isinstance(expr, cst.Name) and expr.value == var:
        return 0
    if isinstance(expr, cst.BinaryOperation) and isinstance(expr.operator, cst.Subtract) \
            and isinstance(expr.left, cst.Name) and expr.left.value == var and _number(expr.right) == 1:
        return -1
    return None


def _doubling(expr: cst.BaseExpression, var: str) -> tuple[float, int] | None:
    """(base, exponent offset) for ``B * 2 ** e``, ``2 ** e * B`` or ``2 ** e``."""
    def power(node: cst.BaseExpression) -> int | None:
        if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.Power) and _number(node.left) == 2:
            return _exponent_of(node.right, var)
        return None

    if power(expr) is not None:
        return 1.0, power(expr)  # type: ignore[return-value]
    if isinstance(expr, cst.BinaryOperation) and isinstance(expr.operator, cst.Multiply):
        for factor, other in ((expr.left, expr.right), (expr.right, expr.left)):
            if _number(factor) is not None and power(other) is not None:
                return _number(factor), power(other)  # type: ignore[return-value]
    return None


def identical_doubling(loop: cst.For | cst.While) -> Doubling | None:
    """The delay of ``loop`` when it is provably ``ModelRetryConfig.calculate_delay(n, include_jitter=False)``."""
    if not isinstance(loop, cst.For):
        return None
    header = _range_attempts(loop)
    if header is None:
        return None
    var, attempts, zero_based = header
    sleeps = [n for n in _loop_parts(loop) if is_sleep(n)]
    if len(sleeps) != 1 or not sleeps[0].args or not 1 <= attempts <= 10:  # type: ignore[attr-defined]
        return None
    delay = sleeps[0].args[0].value  # type: ignore[attr-defined]
    if isinstance(delay, cst.Name):
        sources = [n for n in _loop_parts(loop) if isinstance(n, cst.Assign) and any(
            isinstance(t.target, cst.Name) and t.target.value == delay.value for t in n.targets)]
        if len(sources) != 1 or any(isinstance(n, cst.AugAssign) and isinstance(n.target, cst.Name)
                                    and n.target.value == delay.value for n in _loop_parts(loop)):
            return None
        delay = sources[0].value
    expr, cap = delay, None
    if isinstance(expr, cst.Call) and dotted_name(expr.func) == "min" and len(expr.args) == 2:
        first, second = expr.args[0].value, expr.args[1].value
        expr, cap = (first, _number(second)) if _number(second) is not None else (second, _number(first))
        if cap is None:
            return None
    shape = _doubling(expr, var)
    if shape is None:
        return None
    base, offset = shape
    if (zero_based and offset != 0) or (not zero_based and offset != -1) or not 0.1 <= base <= 60.0:
        return None
    largest = base * 2 ** (attempts - 1)
    if cap is not None and cap < largest:
        return None
    one_based = cst.BinaryOperation(left=cst.Name(var), operator=cst.Add(
        whitespace_before=cst.SimpleWhitespace(" "), whitespace_after=cst.SimpleWhitespace(" ")),
        right=cst.Integer("1")) if zero_based else cst.Name(var)
    return Doubling(attempts, base, one_based, delay)


_POLICY_ERRORS = {"ConnectionError", "TimeoutError", "HTTPError"}


def _module_tuples(module: cst.Module) -> dict[str, list[str]]:
    """Module-level names bound to tuples of names (error classifications), with their elements."""
    tuples: dict[str, list[str]] = {}
    for node in walk(module):
        if isinstance(node, (cst.Assign, cst.AnnAssign)) and isinstance(node.value, cst.Tuple):
            targets = [t.target for t in node.targets] if isinstance(node, cst.Assign) else [node.target]
            for target in targets:
                if isinstance(target, cst.Name):
                    tuples.setdefault(target.value, []).extend(
                        dotted_name(e.value) or "<expression>" for e in node.value.elements)
    return tuples


def _differences(nodes: list[cst.CSTNode], tuples: dict[str, list[str]], params: set[str]) -> list[str]:
    """What makes the retry code in ``nodes`` behave differently from ModelRetryPolicy."""
    notes: list[str] = []
    everything = [n for node in nodes for n in walk(node)]
    caught: set[str] = set()
    retried_on_errors = False
    for node in everything:
        if not isinstance(node, cst.Try) or not any(
                isinstance(n, cst.Await) and not is_sleep(n.expression) for n in walk(node.body)):
            continue
        for handler in node.handlers:
            retried_on_errors = True
            types = handler.type.elements if isinstance(handler.type, cst.Tuple) else [handler.type] if handler.type else []
            for item in types:
                name = dotted_name(item.value if isinstance(item, cst.Element) else item) or "<expression>"  # type: ignore[arg-type]
                caught.update(tuples.get(name, [name]))
    if caught & {"Exception", "BaseException"}:
        notes.append("it retries any Exception")
    elif caught & params:
        notes.append("it retries the exception types it is given, matched by class (ModelRetryPolicy matches "
                     "class names)")
    elif caught - _POLICY_ERRORS:
        notes.append("it retries " + ", ".join(sorted(caught - _POLICY_ERRORS)) + ", which ModelRetryPolicy's "
                     "default class-name list does not")
    if not retried_on_errors and any(isinstance(n, (cst.For, cst.While)) for n in nodes):
        notes.append("it retries on a returned value, not on an error")
    if any(isinstance(n, cst.Comparison) and (dotted_name(n.left) or "").rsplit(".", 1)[-1] in {"status", "status_code"}
           for n in everything):
        notes.append("it decides on HTTP status codes (ModelRetryPolicy's default list is 429/500/502/503/504)")
    if any(isinstance(n, cst.SimpleString) and "retry-after" in n.value.lower() for n in everything):
        notes.append("it honours a Retry-After header")
    delay = [n for node in _delay_nodes(nodes) for n in walk(node)]
    if any(isinstance(n, cst.Call) and dotted_name(n.func) == "min" for n in delay):
        notes.append("its delay is capped (ModelRetryPolicy.create_exponential_backoff ignores max_delay)")
    if any(isinstance(n, cst.Call) and any(w in (dotted_name(n.func) or "").lower() for w in _JITTER_WORDS)
           for n in delay):
        notes.append("it adds jitter from its own random source")
    factors = [n.value for n in delay if isinstance(n, cst.AugAssign) and isinstance(n.operator, cst.MultiplyAssign)]
    for node in _delay_nodes(nodes):  # delay = delay * m (possibly capped): the growth factor
        if not isinstance(node, cst.Assign):
            continue
        targets = {t.target.value for t in node.targets if isinstance(t.target, cst.Name)}
        for n in walk(node.value):
            if isinstance(n, cst.BinaryOperation) and isinstance(n.operator, cst.Multiply):
                for side, other in ((n.left, n.right), (n.right, n.left)):
                    if isinstance(side, cst.Name) and side.value in targets:
                        factors.append(other)
    powers = [n for n in delay if isinstance(n, cst.BinaryOperation) and isinstance(n.operator, cst.Power)]
    if any(_number(f) != 2.0 for f in factors) or any(_number(p.left) != 2.0 for p in powers):
        notes.append("its backoff multiplier is its own setting (ModelRetryPolicy always doubles)")
    if any(isinstance(n, cst.Subscript) for n in delay):
        notes.append("its delays come from a fixed table")
    return notes


_KEEP_BASE = ("ModelRetryPolicy.calculate_next_delay() always adds jitter (time-hash based, about 10%) and "
              "matches retryable errors by class name (default ConnectionError, TimeoutError, HTTPError)")
