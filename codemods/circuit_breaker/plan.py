"""Circuit breakers, planning: what the migration decides for each finding, and why."""

from __future__ import annotations

import ast
import math
from dataclasses import dataclass, field

import libcst as cst

from codemods.circuit_breaker.detect import (
    FACTORY,
    FIELDS,
    Breaker,
    ClassSpec,
    FileAnalysis,
    _core_members,
    _differences,
    _names,
)
from omnimix.analysis.syntax import (
    annotation_names,
    dotted_name,
)
from omnimix.analysis.tree import walk
from omnimix.migration_state import MigrationState


# =============================================================================================
# Transform: one plan per breaker
# =============================================================================================
@dataclass
class Plan:
    """What replacing one breaker takes, or why it cannot be replaced."""

    breaker: Breaker
    kwargs: list[tuple[str, int | float]] = field(default_factory=list)
    blocked: str | None = None
    notes: list[str] = field(default_factory=list)
    excluded: cst.BaseExpression | None = None
    counted: cst.BaseExpression | None = None
    name_literal: str | None = None


def _literal(expr: cst.BaseExpression | None) -> int | float | str | None:
    if expr is None:
        return None
    try:
        value = ast.literal_eval(cst.Module([]).code_for_node(expr))
    except (ValueError, SyntaxError):
        return None
    return value if isinstance(value, (int, float, str)) and not isinstance(value, bool) else None


def _source(expr: cst.CSTNode) -> str:
    return cst.Module([]).code_for_node(expr)


def _call_arguments(breaker: Breaker) -> dict[str, cst.BaseExpression | None]:
    """Class parameter -> expression, from the construction call and the defaults it relies on."""
    spec = breaker.spec
    assert spec is not None
    call = breaker.calls[-1]
    values: dict[str, cst.BaseExpression | None] = dict(spec.params)
    if breaker.kind == FACTORY and breaker.factory is not None:
        passed = _bind(call, breaker.factory.params)
        for factory_param, class_param in breaker.factory.forward.items():
            values[class_param] = passed.get(factory_param)
        return values
    values.update(_bind(call, spec.params))
    return values


def _bind(call: cst.Call, params: list[tuple[str, cst.BaseExpression | None]]) -> dict[str, cst.BaseExpression | None]:
    bound: dict[str, cst.BaseExpression | None] = dict(params)
    order = [name for name, _ in params]
    for index, arg in enumerate(call.args):
        if arg.keyword is not None:
            bound[arg.keyword.value] = arg.value
        elif arg.star == "" and index < len(order):
            bound[order[index]] = arg.value
    return bound


def _plan(breaker: Breaker, state: MigrationState, module_names: set[str]) -> Plan:
    plan = Plan(breaker)
    spec = breaker.spec
    if breaker.kind == FIELDS:
        plan.blocked = "a breaker kept in plain node fields: omnimix does not rewrite those, replace it by hand"
        return plan
    if spec is None or not breaker.calls:
        plan.blocked = "could not find where this breaker is built"
        return plan
    feature = state.contract.feature("circuit_breaker")
    explicit = feature.model_fields_set if feature is not None else set()
    values = _call_arguments(breaker)
    by_role: dict[str, cst.BaseExpression | None] = {}
    for param, expr in values.items():
        role = spec.role(param)
        if role and role not in by_role:
            by_role[role] = expr
    from_config = False

    def pick(roles: tuple[str, ...], contract_key: str, scale: float = 1.0) -> float | None:
        nonlocal from_config
        if feature is not None and contract_key in explicit and getattr(feature, contract_key) is not None:
            setting = getattr(feature, contract_key)
            if isinstance(setting, str):  # a ${ENV} placeholder: its value is known only at deployment
                plan.blocked = plan.blocked or (
                    f"the contract's advanced_features.circuit_breaker.{contract_key} is {setting!r}, a deployment "
                    "placeholder; omnimix writes settings as literals only, so the breaker is kept")
                return None
            value = setting * scale
            if any(by_role.get(role) is not None and _literal(by_role[role]) is None for role in roles):
                from_config = True
            return float(value)
        for role in roles:
            expr = by_role.get(role)
            value = _literal(expr)
            if isinstance(value, (int, float)):
                return float(value) / (1000.0 if role.endswith("_ms") else 1.0)
            if expr is not None:
                plan.blocked = plan.blocked or (
                    f"{_source(expr)} is not a literal and the contract's advanced_features.circuit_breaker does "
                    f"not set {contract_key}")
                return None
        return None

    failure = pick(("failure",), "failure_threshold")
    timeout = pick(("timeout", "timeout_ms"), "recovery_timeout_ms", 0.001)
    success = pick(("success",), "success_threshold")
    half_open = pick(("half_open",), "half_open_max_calls")
    if plan.blocked:
        return plan
    if failure is None or timeout is None:
        missing = "failure_threshold" if failure is None else "recovery_timeout_ms"
        plan.blocked = (f"could not tell which setting of {spec.name} is its "
                        f"{'failure threshold' if failure is None else 'recovery timeout'}; set {missing} in the "
                        "contract's advanced_features.circuit_breaker")
        return plan
    failure_n, timeout_s = int(failure), max(int(math.ceil(timeout)), 10)
    if not 1 <= failure_n <= 100 or timeout_s > 3600:
        plan.blocked = f"failure threshold {failure_n} or timeout {timeout:g}s is outside ModelCircuitBreaker's range"
        return plan
    plan.kwargs = [("failure_threshold", failure_n), ("minimum_request_threshold", failure_n),
                   ("failure_rate_threshold", 1.0), ("timeout_seconds", timeout_s)]
    plan.notes = _differences(spec, timeout)
    for value, key, low, high, default in ((success, "success_threshold", 1, 20, 3),
                                           (half_open, "half_open_max_requests", 1, 10, 3)):
        if value is None:
            plan.notes.append(f"the original has no {key.replace('_', ' ')} setting: ModelCircuitBreaker uses "
                              f"{key}={default}")
            continue
        if not low <= int(value) <= high:
            plan.blocked = f"{key} {value:g} is outside ModelCircuitBreaker's {low}..{high}"
            return plan
        plan.kwargs.append((key, int(value)))
    if from_config:
        plan.notes.append("its thresholds came from configuration: the contract's values are now literals, so a "
                          "configuration override no longer applies")
    for role in ("excluded", "counted"):
        param = spec.excluded_param if role == "excluded" else spec.counted_param
        expr = values.get(param) if param else None
        if expr is None or (role == "counted" and dotted_name(expr) in {"Exception", "BaseException"}) \
                or (isinstance(expr, (cst.Tuple, cst.List)) and not expr.elements):  # nothing is excluded
            continue
        if not _module_level_expression(expr, module_names):
            plan.blocked = (f"the breaker's {role} exceptions ({_source(expr)}) are not module-level names the "
                            "guarded-call helper could use")
            return plan
        setattr(plan, role, expr)
        if role == "excluded" and spec.excluded_as_success:
            plan.notes.append(f"exceptions in {_source(expr)} count as successes in the original (they reset its "
                              "failure count); through ModelCircuitBreaker they are re-raised without being recorded")
    name = _literal(by_role.get("name"))
    plan.name_literal = name if isinstance(name, str) else None
    return plan


_BUILTIN_ERRORS = {"Exception", "BaseException", "ConnectionError", "TimeoutError", "OSError", "ValueError",
                   "RuntimeError", "LookupError"}


def _module_level_expression(expr: cst.BaseExpression, module_names: set[str]) -> bool:
    roots = {(dotted_name(n) or "").split(".")[0] for n in walk(expr) if isinstance(n, (cst.Name, cst.Attribute))}
    roots.discard("")
    return bool(roots) and roots <= (module_names | _BUILTIN_ERRORS)


def _map_member(member: str, spec: ClassSpec) -> str | None:
    """How ``breaker.<member>`` reads on ModelCircuitBreaker ("<...>" marks a rewrite, None: no mapping)."""
    if member in spec.guard_methods:
        return "<call>"
    if member in spec.state_attrs:
        return "state"
    if member in {"state", "is_open", "failure_count", "failure_threshold", "success_threshold", "reset",
                  "record_success", "record_failure"}:
        return member
    if member in spec.dict_methods:
        return "<dict>"
    if member in spec.state_methods:
        return "<state>"
    if member in spec.remaining_time_methods:
        return "<remaining>"
    attr_param = {attr: param for param, attr in spec.param_attr.items()}
    role = spec.role(attr_param[member]) if member in attr_param else None
    return {"timeout": "<timeout>", "timeout_ms": None, "name": "<name>", "failure": "failure_threshold",
            "success": "success_threshold", "half_open": "half_open_max_requests"}.get(role or "")


def _reader_notes(module: cst.Module, key: str, spec: ClassSpec) -> list[str]:
    """How the node's reads of the breaker's state and metrics change on ModelCircuitBreaker."""
    used = {node.attr.value for node in walk(module, into_defs=True)
            if isinstance(node, cst.Attribute) and dotted_name(node.value) == key}
    notes = []
    for method in sorted(used & spec.state_methods):
        notes.append(f"{method}() reads ModelCircuitBreaker.state (the same closed/open/half_open values; like "
                     f"{method}() it does not move an expired open circuit to half-open, only should_allow_request() "
                     "and get_current_state() do, on the wall clock)")
    if "state" in used and spec.state_moves_on_read:
        notes.append("its state property moved an expired open circuit to half-open on the injected clock; "
                     "get_current_state() does so on the wall clock")
    known = _core_members()
    for method in sorted(used & spec.dict_methods):
        lost = [k for k in spec.dict_keys.get(method, []) if k not in known]
        detail = f"; its keys {', '.join(lost)} have no counterpart (a reader gets its .get() default or a KeyError)" if lost else ""
        notes.append(f"{method}() becomes model_dump(mode=\"json\") of ModelCircuitBreaker{detail}")
    if used & {"failure_count"} or any(spec.dict_keys.get(m) and "failure_count" in spec.dict_keys[m]
                                       for m in used & spec.dict_methods):
        notes.append("failure_count is the failures within window_size_seconds, not the consecutive failures")
    return notes


def _error_attr_role(attr: str) -> str | None:
    lowered = attr.lower()
    if "state" in lowered:
        return "state"
    if any(word in lowered for word in ("retry", "after", "until", "remaining", "wait")):
        return "remaining"
    if "name" in lowered:
        return "name"
    return None


def _member_problems(module: cst.Module, key: str, spec: ClassSpec) -> list[str]:
    problems = {node.attr.value for node in walk(module, into_defs=True)
                if isinstance(node, cst.Attribute) and dotted_name(node.value) == key
                and _map_member(node.attr.value, spec) is None}
    return sorted(problems)


def _error_attribute_reads(module: cst.Module, error: str) -> set[str]:
    """Attributes read from an open error where it is caught (``except E as e``) or received (``e: E``)."""
    reads: set[str] = set()
    for node in walk(module, into_defs=True):
        scopes: list[tuple[str, cst.CSTNode]] = []
        if isinstance(node, cst.ExceptHandler) and node.type is not None and error in _names(node.type) \
                and node.name is not None and isinstance(node.name.name, cst.Name):
            scopes.append((node.name.name.value, node.body))
        elif isinstance(node, cst.FunctionDef):
            for param in [*node.params.params, *node.params.kwonly_params]:
                if param.annotation is not None and error in annotation_names(param.annotation):
                    scopes.append((param.name.value, node.body))
        for variable, body in scopes:
            reads |= {n.attr.value for n in walk(body, into_defs=True) if isinstance(n, cst.Attribute)
                      and isinstance(n.value, cst.Name) and n.value.value == variable}
    return reads


def _defines(stmt: cst.CSTNode, names: set[str]) -> bool:
    return isinstance(stmt, (cst.ClassDef, cst.FunctionDef)) and stmt.name.value in names


def _check_errors(module: cst.Module, analysis: FileAnalysis, plans: dict[str, Plan]) -> None:
    """Open-error handlers become ModelOnexError handlers only if every breaker raising the error goes."""
    own = set(analysis.own.classes) | analysis.own.enums | analysis.own.errors | set(analysis.own.factories)
    for local in analysis.symbols.errors:
        keys = [k for k, b in analysis.breakers.items() if b.spec and local in analysis.symbols.errors_of(b.spec)]
        live = [k for k in keys if k in plans and not plans[k].blocked]
        if not live:
            continue
        blocked = [k for k in keys if k not in live]
        reason = None
        if blocked:
            reason = f"another breaker raising {local} cannot be replaced"
        elif any(isinstance(n, cst.Raise) and n.exc is not None and local in _names(n.exc)
                 for stmt in module.body if not _defines(stmt, own) for n in walk(stmt, into_defs=True)):
            reason = f"the node raises {local} itself"
        reads = _error_attribute_reads(module, local)
        unknown = sorted(a for a in reads if _error_attr_role(a) is None)
        if unknown and reason is None:
            reason = f"handlers read {', '.join(unknown)} of {local}, which has no ModelCircuitBreaker counterpart"
        for key in live:
            if reason:
                plans[key].blocked = reason
                continue
            plans[key].notes.append(f"handlers of {local} now catch ModelOnexError, also any other ModelOnexError "
                                    "raised in the same try block")
            if {a for a in reads if _error_attr_role(a) == "remaining"}:
                plans[key].notes.append("the retry-after reported on rejection is the full timeout_seconds "
                                        "(ModelCircuitBreaker does not expose the time left)")


def _check_helper(plans: dict[str, Plan]) -> None:
    """One guarded-call helper serves every breaker of the node: their exception rules must agree."""
    ready = [p for p in plans.values() if not p.blocked]
    shapes = {(_source(p.excluded) if p.excluded is not None else None,
               _source(p.counted) if p.counted is not None else None,
               bool(p.breaker.spec and p.breaker.spec.accepts_sync_callables),
               _guard_is_async(p)) for p in ready}
    if len(shapes) > 1:
        for plan in ready:
            plan.blocked = "the node's breakers count different exceptions as failures; replace them by hand"


def _guard_is_async(plan: Plan) -> bool:
    spec = plan.breaker.spec
    return spec is None or bool(spec.guard_methods & spec.async_methods)
