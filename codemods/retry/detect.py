"""Retry loops, detection: what the codemod finds in one file, and the facts it reads."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import libcst as cst

from omnimix.analysis.context import FileContext
from omnimix.analysis.module_cache import parse_file, read_text
from omnimix.analysis.syntax import (
    annotation_names,
    assign_targets,
    body_statements,
    child_blocks,
    dotted_name,
    function_symbols,
    is_logging_statement,
    module_constants_used_only_in,
    resolve_symbol,
    self_attr,
    span_of,
    walk_body,
)
from omnimix.analysis.tree import nodes_of, walk

#: ModelRetryConfig is not in the catalog; this path was checked against omnibase-core 0.47.57.
RETRY_CONFIG_MODULE = "omnibase_core.models.core.model_retry_config"
RETRY_CONFIG = "ModelRetryConfig"
_SETUP_METHODS = {"__init__", "__post_init__", "initialize", "setup", "_setup"}
_JITTER_WORDS = ("random", "rng", "uniform", "jitter")


# =============================================================================================
# Shapes of retry code
# =============================================================================================
def is_sleep(call: cst.CSTNode) -> bool:
    """``asyncio.sleep(x)``, ``time.sleep(x)``, ``self._clock.sleep(x)``, ``sleep(x)``."""
    if not isinstance(call, cst.Call):
        return False
    name = dotted_name(call.func) or ""
    return name == "sleep" or name.endswith(".sleep")


def _loop_parts(loop: cst.For | cst.While) -> Iterator[cst.CSTNode]:
    """Nodes that belong to ``loop`` itself: its body without nested loops and definitions."""
    stack: list[cst.CSTNode] = [loop.body]
    while stack:
        node = stack.pop()
        yield node
        for child in node.children:
            if isinstance(child, (cst.For, cst.While, cst.FunctionDef, cst.ClassDef, cst.Lambda)):
                continue
            stack.append(child)


def _inside_handler(loop: cst.For | cst.While) -> set[int]:
    """Ids of the nodes of ``loop`` that sit inside an ``except`` clause."""
    ids: set[int] = set()
    for node in _loop_parts(loop):
        if isinstance(node, cst.ExceptHandler):
            ids |= {id(n) for n in walk(node)}
    return ids


@dataclass
class RetryLoop:
    """A loop that retries: where it is, how its delays and attempts are computed."""

    loop: cst.For | cst.While
    function: cst.FunctionDef
    start: int
    end: int
    sleeps: list[cst.Call]
    wrapper: bool = False  # the loop calls a callable it was given (a retry wrapper or decorator)


@dataclass
class FileRetries:
    """Retry code of one file."""

    spans: list[tuple[int, int, str]] = field(default_factory=list)  # (start, end, what)
    loops: list[RetryLoop] = field(default_factory=list)
    helpers: dict[str, cst.FunctionDef] = field(default_factory=dict)
    dedicated: dict[str, cst.FunctionDef] = field(default_factory=dict)  # short name -> function
    wrappers: set[str] = field(default_factory=set)
    schedulers: set[str] = field(default_factory=set)  # functions that only run re-scheduled work when due
    errors: set[str] = field(default_factory=set)  # exception classes carrying retry advice to a retry loop


def _sleeping_helpers(ctx: FileContext) -> dict[str, cst.FunctionDef]:
    """Functions that sleep for an exponential delay computed from an argument (re-scheduling handlers)."""
    helpers = {}
    for _, func in function_symbols(ctx):
        nodes = list(walk_body(func))
        if not any(is_sleep(n) for n in nodes) or any(isinstance(n, (cst.For, cst.While)) for n in nodes):
            continue
        params = {p.name.value for p in [*func.params.params, *func.params.kwonly_params]}
        assigned: dict[str, cst.BaseExpression] = {}
        for node in nodes:
            if isinstance(node, cst.Assign) and len(node.targets) == 1 and isinstance(node.targets[0].target, cst.Name):
                assigned[node.targets[0].target.value] = node.value
        for node in nodes:
            if is_sleep(node) and node.args:  # type: ignore[union-attr]
                delay = _expand(node.args[0].value, assigned)  # type: ignore[union-attr]
                if _exponential_in(delay, params):
                    helpers[func.name.value] = func
    return helpers


def _expand(expr: cst.BaseExpression, assigned: dict[str, cst.BaseExpression], depth: int = 3) -> cst.BaseExpression:
    if isinstance(expr, cst.Name) and expr.value in assigned and depth:
        return _expand(assigned[expr.value], assigned, depth - 1)
    return expr


def _exponential_in(expr: cst.CSTNode, names: set[str]) -> bool:
    for node in walk(expr):
        if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.Power):
            if {n.value for n in walk(node) if isinstance(n, cst.Name)} & names:
                return True
    return False


def _calls_helper(node: cst.CSTNode, helpers: dict[str, cst.FunctionDef]) -> bool:
    if not isinstance(node, cst.Call):
        return False
    name = self_attr(node.func) or (node.func.value if isinstance(node.func, cst.Name) else None)
    return name in helpers


def _retry_loops(ctx: FileContext, helpers: dict[str, cst.FunctionDef]) -> tuple[list[RetryLoop], list[tuple[int, int]]]:
    """Retry loops of a file, and the back-off of loops that sleep after an error and go on.

    A retry loop leaves once its operation succeeded; a loop whose only way out is a cycle count
    (a periodic job) is not one. A loop that never leaves on success (a consumer loop) backs off
    in an ``except`` clause, or in a branch that logs and sleeps."""
    loops, backoffs = [], []
    for _, func in function_symbols(ctx):
        for node in walk_body(func):
            if not isinstance(node, (cst.For, cst.While)):
                continue
            parts = list(_loop_parts(node))
            sleeps = [n for n in parts if is_sleep(n) or _calls_helper(n, helpers)]
            if not sleeps:
                continue
            if _leaves_on_success(node):
                start, end = ctx.span(node)
                loops.append(RetryLoop(node, func, start, end, sleeps))
                continue
            found = []
            for part in parts:
                if isinstance(part, cst.Try) and any(any(is_sleep(n) for n in walk(h)) for h in part.handlers):
                    found.append((part, ctx.span(part)))
                elif isinstance(part, cst.If):
                    found.extend((branch, span) for branch, span in _backoff_branches(ctx, part))
            backoffs.extend(span for _, span in found)
            if found:
                backoffs.extend(_counters_before(ctx, func, node, [n for n, _ in found]))
    return loops, backoffs


def _leaves_on_success(loop: cst.For | cst.While) -> bool:
    """Whether the loop has a ``return``/``break`` outside its error handlers that is not a cycle-count exit."""
    counters = {n.value for n in walk(loop.target) if isinstance(n, cst.Name)} if isinstance(loop, cst.For) else set()
    parts = list(_loop_parts(loop))
    counters |= {n.target.value for n in parts if isinstance(n, cst.AugAssign) and isinstance(n.target, cst.Name)}

    def by_count(test: cst.BaseExpression) -> bool:  # the test can only hold because of a cycle count
        if isinstance(test, cst.BooleanOperation):
            left, right = by_count(test.left), by_count(test.right)
            return (left and right) if isinstance(test.operator, cst.Or) else (left or right)
        if isinstance(test, cst.UnaryOperation):
            return by_count(test.expression)
        return bool({n.value for n in walk(test) if isinstance(n, cst.Name)} & counters)

    counted = {id(n) for node in parts if isinstance(node, cst.If) and by_count(node.test) for n in walk(node.body)}
    handled = _inside_handler(loop)
    return any(isinstance(n, (cst.Return, cst.Break)) and id(n) not in handled and id(n) not in counted for n in parts)


def _backoff_branches(ctx: FileContext, stmt: cst.If) -> list[tuple[cst.CSTNode, tuple[int, int]]]:
    """Branches of an ``if`` in a consumer loop that log and sleep: from the branch's test to its body's end."""
    found = []
    branch: cst.If | cst.Else | None = stmt
    while branch is not None:
        body = branch.body
        statements = list(body.body) if isinstance(body, cst.IndentedBlock) else []
        if any(is_logging_statement(s) for s in statements) and any(is_sleep(n) for s in statements for n in walk(s)):
            found.append((branch, (ctx.positions[branch].start.line, ctx.positions[body].end.line)))
        branch = branch.orelse if isinstance(branch, cst.If) else None
    return found


def _counters_before(ctx: FileContext, func: cst.FunctionDef, loop: cst.For | cst.While,
                     backoffs: list[cst.CSTNode]) -> list[tuple[int, int]]:
    """The statements right before a consumer loop that set up what its back-off delay is computed from."""
    names = {n.value for node in _delay_nodes(backoffs) for n in walk(node) if isinstance(n, cst.Name)}
    block = _block_of(body_statements(func), loop) or [loop]
    index = next(i for i, s in enumerate(block) if s is loop)
    spans = []
    while index > 0:
        bound = _assigned_names(block[index - 1])
        if not bound or not bound & names:
            break
        index -= 1
        spans.append(ctx.span(block[index]))
    return spans


def _control_names(loop: cst.For | cst.While) -> set[str]:
    """Names that steer a retry loop: its header, what it reassigns, its sleeps and exit tests."""
    names: set[str] = set()
    header = [loop.test] if isinstance(loop, cst.While) else [loop.iter, loop.target]
    for node in header:
        names |= {n.value for n in walk(node) if isinstance(n, cst.Name)}
    for node in _loop_parts(loop):
        if isinstance(node, (cst.Assign, cst.AugAssign, cst.AnnAssign)):
            targets = [t.target for t in node.targets] if isinstance(node, cst.Assign) else [node.target]
            names |= {n.value for t in targets for n in walk(t) if isinstance(n, cst.Name) and self_attr(t) is None}
        elif is_sleep(node):
            names |= {n.value for n in walk(node) if isinstance(n, cst.Name)}
        elif isinstance(node, cst.If) and any(isinstance(n, (cst.Break, cst.Return, cst.Raise)) for n in walk(node.body)):
            names |= {n.value for n in walk(node.test) if isinstance(n, cst.Name)}
    return names - {"self"}


def _assigned_names(stmt: cst.CSTNode) -> set[str] | None:
    """Names a simple assignment statement binds, or None when it is not only assignments."""
    if not isinstance(stmt, cst.SimpleStatementLine):
        return None
    names: set[str] = set()
    for small in stmt.body:
        if isinstance(small, cst.Assign):
            names |= {n.value for t in small.targets if isinstance(t.target, (cst.Name, cst.Tuple, cst.List))
                      for n in walk(t.target) if isinstance(n, cst.Name)}
        elif isinstance(small, (cst.AnnAssign, cst.AugAssign)) and isinstance(small.target, cst.Name):
            names.add(small.target.value)
        else:
            return None
    return names


def _block_of(stmts: list[cst.BaseStatement], target: cst.CSTNode) -> list[cst.BaseStatement] | None:
    if any(s is target for s in stmts):
        return stmts
    for stmt in stmts:
        for block in child_blocks(stmt):
            found = _block_of(block, target)
            if found is not None:
                return found
    return None


def _loop_span(ctx: FileContext, loop: RetryLoop) -> tuple[int, int]:
    """The loop with the set-up statements that feed it and the give-up statements after it."""
    block = _block_of(body_statements(loop.function), loop.loop) or [loop.loop]
    index = next(i for i, s in enumerate(block) if s is loop.loop)
    control = _control_names(loop.loop)
    first = index
    while first > 0:
        names = _assigned_names(block[first - 1])
        if not names or not names & control:
            break
        first -= 1
    last = index
    for position in range(index + 1, len(block)):
        stmt = block[position]
        if isinstance(stmt, cst.SimpleStatementLine) and any(isinstance(s, cst.Raise) for s in stmt.body):
            last = position
            break
        if not is_logging_statement(stmt):
            break
    return ctx.span(block[first])[0], ctx.span(block[last])[1]


def _params(func: cst.FunctionDef) -> set[str]:
    return {p.name.value for p in [*func.params.posonly_params, *func.params.params, *func.params.kwonly_params]}


def _dedicated_chain(ctx: FileContext, func: cst.FunctionDef) -> cst.FunctionDef:
    """The outermost function that only wraps ``func`` (decorator factories): validation, def, return."""
    current = func
    while True:
        symbol = ctx.symbols.of(current)
        parent = ctx.symbols.named(symbol.parent) if symbol and symbol.parent else None
        if parent is None or parent.is_class or not isinstance(parent.node, cst.FunctionDef):
            return current
        ok = True
        for stmt in body_statements(parent.node):
            if stmt is current:
                continue
            if isinstance(stmt, cst.If) and any(isinstance(n, cst.Raise) for n in walk(stmt.body)) and stmt.orelse is None:
                continue
            if isinstance(stmt, cst.SimpleStatementLine) and len(stmt.body) == 1 and isinstance(stmt.body[0], cst.Return) \
                    and isinstance(stmt.body[0].value, cst.Name) and stmt.body[0].value.value == current.name.value:
                continue
            ok = False
        if not ok:
            return current
        current = parent.node


def _enclosing_params(ctx: FileContext, func: cst.FunctionDef) -> set[str]:
    """Parameters of ``func`` and of the functions it is nested in."""
    params: set[str] = set()
    symbol = ctx.symbols.of(func)
    while symbol is not None:
        if isinstance(symbol.node, cst.FunctionDef):
            params |= _params(symbol.node)
        symbol = ctx.symbols.named(symbol.parent) if symbol.parent else None
    return params - {"self", "cls"}


def _calls_callable_argument(ctx: FileContext, loop: RetryLoop) -> bool:
    """Whether the loop calls a callable handed to its function (or to an enclosing function), or
    hands a parameter typed as a callable on to the call it retries (``breaker.execute(fn, *args)``)."""
    params = _enclosing_params(ctx, loop.function)
    callables = {p.name.value for p in [*loop.function.params.params, *loop.function.params.kwonly_params]
                 if p.annotation is not None and annotation_names(p.annotation) & _CALLABLE_TYPES}
    return any(isinstance(n, cst.Call) and (
        (isinstance(n.func, cst.Name) and n.func.value in params)
        or any(isinstance(a.value, cst.Name) and a.value.value in callables for a in n.args))
        for n in _loop_parts(loop.loop))


_CALLABLE_TYPES = {"Callable", "Awaitable", "Coroutine"}


def _bound_before(ctx: FileContext, loop: RetryLoop) -> list[tuple[int, int]]:
    """Assignments earlier in the loop's block of the names its header iterates up to (the attempt budget)."""
    header = [loop.loop.test] if isinstance(loop.loop, cst.While) else [loop.loop.iter]
    names = {n.value for node in header for n in walk(node) if isinstance(n, cst.Name)}
    names -= {n.value for n in walk(loop.loop.target) if isinstance(n, cst.Name)} if isinstance(loop.loop, cst.For) \
        else set()
    block = _block_of(body_statements(loop.function), loop.loop) or []
    spans = []
    for stmt in block:
        if stmt is loop.loop:
            break
        bound = _assigned_names(stmt)
        if bound and bound & names:
            spans.append(ctx.span(stmt))
    return spans


def analyze_retries(ctx: FileContext) -> FileRetries:
    result = FileRetries()
    result.helpers = _sleeping_helpers(ctx)
    loops, backoffs = _retry_loops(ctx, result.helpers)
    result.loops = loops
    for start, end in backoffs:
        result.spans.append((start, end, "backoff"))
    for name, func in result.helpers.items():
        start, end = span_of(ctx, func)
        result.spans.append((start, end, "helper"))
        result.dedicated[name] = func
    for loop in loops:
        start, end = _loop_span(ctx, loop)
        loop.start, loop.end = start, end
        loop.wrapper = _calls_callable_argument(ctx, loop)
        result.spans.extend((s, e, "budget") for s, e in _bound_before(ctx, loop) if s < start)
        statements = body_statements(loop.function)
        if statements and ctx.span(statements[0])[0] >= start and ctx.span(statements[-1])[1] <= end:
            outer = _dedicated_chain(ctx, loop.function)
            start, end = span_of(ctx, outer)
            result.dedicated[outer.name.value] = outer
            if loop.wrapper:
                result.wrappers.add(outer.name.value)
        result.spans.append((start, end, "loop"))
    _reschedules(ctx, result)
    _retry_errors(ctx, result)
    _wrapper_uses(ctx, result)
    _delay_sources(ctx, result)
    _settings(ctx, result)
    covered = {line for start, end, _ in result.spans for line in range(start, end + 1)}
    for start, end, _ in module_constants_used_only_in(ctx, covered, _operation_data(ctx)):
        if not any(s <= start and end <= e for s, e, _ in result.spans):
            result.spans.append((start, end, "constant"))
    return result


# -- work re-scheduled after an exponential delay -----------------------------------------------
def _is_exponential(expr: cst.CSTNode) -> bool:
    """``2 ** n`` (possibly scaled or capped) with a non-literal exponent: a back-off from a retry count."""
    return any(isinstance(n, cst.BinaryOperation) and isinstance(n.operator, cst.Power) and _number(n.left) is not None
               and _number(n.right) is None for n in walk(expr))


def _statement_blocks(stmts: list[cst.BaseStatement], owner: cst.If | None = None,
                      parent: list[cst.BaseStatement] | None = None
                      ) -> Iterator[tuple[list[cst.BaseStatement], cst.If | None, list[cst.BaseStatement] | None]]:
    """Every statement list of a body: (block, the ``if`` whose first branch it is, the block holding that ``if``)."""
    yield stmts, owner, parent
    for stmt in stmts:
        if isinstance(stmt, (cst.FunctionDef, cst.ClassDef)):
            continue
        if isinstance(stmt, cst.If) and isinstance(stmt.body, cst.IndentedBlock):
            yield from _statement_blocks(list(stmt.body.body), stmt, stmts)
            rest = [b for b in child_blocks(stmt)[1:]]
        else:
            rest = child_blocks(stmt)
        for block in rest:
            yield from _statement_blocks(block, None, stmts)


def _due_targets(stmts: list[cst.BaseStatement], delay: str | None) -> list[cst.BaseAssignTargetExpression]:
    """Targets storing ``<clock reading> + delay`` (a due time) in ``stmts``; [] when the delay is only
    compared with one (a due check) and None-like falsy otherwise is signalled by the caller."""
    targets = []
    for stmt in stmts:
        for node in walk(stmt):
            if not isinstance(node, (cst.Assign, cst.AnnAssign)) or node.value is None:
                continue
            value = node.value
            if not (isinstance(value, cst.BinaryOperation) and isinstance(value.operator, cst.Add)):
                continue
            sides = (value.left, value.right)
            delayed = any((delay is not None and any(isinstance(n, cst.Name) and n.value == delay for n in walk(side)))
                          or (delay is None and _is_exponential(side)) for side in sides)
            clocked = any(isinstance(n, cst.Call) for side in sides for n in walk(side))
            if delayed and clocked:
                targets += [t for t in assign_targets(node) if not isinstance(t, cst.Name)]
    return targets


def _due_checked(stmts: list[cst.BaseStatement], delay: str) -> bool:
    """Whether ``delay`` is added to a time and compared (``now < last + timedelta(seconds=delay)``)."""
    return any(isinstance(n, cst.Comparison) and any(isinstance(x, cst.Name) and x.value == delay for x in walk(n))
               for stmt in stmts for n in walk(stmt))


def _reschedules(ctx: FileContext, result: FileRetries) -> None:
    """Failure handling that re-schedules work ``2 ** retry_count`` seconds out, the schedule it keeps,
    and the code that runs the due work."""
    loop_lines = {line for loop in result.loops for line in range(loop.start, loop.end + 1)}
    self_schedules: set[str] = set()  # self attributes holding due times
    due_attrs: set[str] = set()  # attributes of work items holding their due time
    for _, func in function_symbols(ctx):
        if func.name.value in result.helpers:
            continue
        for block, owner, parent in _statement_blocks(body_statements(func)):
            for index, stmt in enumerate(block):
                if ctx.span(stmt)[0] in loop_lines or not isinstance(stmt, cst.SimpleStatementLine):
                    continue
                small = stmt.body[0] if len(stmt.body) == 1 else None
                if not isinstance(small, (cst.Assign, cst.AnnAssign)) or small.value is None \
                        or not _is_exponential(small.value):
                    continue
                names = [t.value for t in assign_targets(small) if isinstance(t, cst.Name)]
                delay = names[0] if names else None
                after = block[index:]
                stores = _due_targets(after, delay)
                if not stores and not (delay and _due_checked(after[1:], delay)):
                    continue
                for target in stores:
                    holder = target.value if isinstance(target, cst.Subscript) else target
                    if self_attr(holder):
                        self_schedules.add(self_attr(holder) or "")
                    elif isinstance(holder, cst.Attribute):
                        due_attrs.add(holder.attr.value)
                if owner is not None:
                    result.spans.append((ctx.positions[owner].start.line, ctx.positions[owner.body].end.line,
                                         "reschedule"))
                    result.spans.extend((*ctx.span(s), "reschedule") for s in _deciding(owner, parent or []))
                else:
                    last = max((i for i, s in enumerate(block) if i >= index and delay is not None and any(
                        isinstance(n, cst.Name) and n.value == delay for n in walk(s))), default=index)
                    result.spans.append((ctx.span(stmt)[0], ctx.span(block[last])[1], "reschedule"))
    if self_schedules or due_attrs:
        _schedule_uses(ctx, result, self_schedules, due_attrs)


def _deciding(branch: cst.If, block: list[cst.BaseStatement]) -> list[cst.BaseStatement]:
    """Assignments earlier in ``block`` of the names the re-scheduling branch tests (``will_retry = ...``)."""
    names = {n.value for n in walk(branch.test) if isinstance(n, cst.Name)}
    found = []
    for stmt in block:
        if stmt is branch:
            break
        bound = _assigned_names(stmt)
        if bound and bound & names:
            found.append(stmt)
    return found


def _schedule_uses(ctx: FileContext, result: FileRetries, self_schedules: set[str], due_attrs: set[str]) -> None:
    """Statements reading or changing the schedule, functions running due work, and loops polling them."""

    counted = {id(a.value) for n in walk(ctx.module, into_defs=True) if isinstance(n, cst.Call)
               and dotted_name(n.func) == "len" for a in n.args}  # a count of pending work is a metric

    def touches(node: cst.CSTNode) -> bool:
        return any(self_attr(n) in self_schedules and id(n) not in counted for n in walk(node))

    def checks_due(node: cst.CSTNode) -> bool:
        return any(isinstance(n, cst.Comparison) and any(
            (isinstance(x, cst.Attribute) and x.attr.value in due_attrs) for x in walk(n)) for n in walk(node)) \
            or (touches(node) and any(isinstance(n, cst.Comparison) for n in walk(node)))

    runners: set[str] = set()
    for _, func in function_symbols(ctx):
        for block, _, _ in _statement_blocks(body_statements(func)):
            for stmt in block:
                header = stmt.test if isinstance(stmt, (cst.If, cst.While)) else \
                    stmt.iter if isinstance(stmt, cst.For) else None
                if isinstance(stmt, cst.SimpleStatementLine) and (touches(stmt) or checks_due(stmt)):
                    result.spans.append((*ctx.span(stmt), "schedule"))
                    if checks_due(stmt):
                        runners.add(func.name.value)
                elif isinstance(stmt, cst.If) and touches(stmt.test) and isinstance(stmt.body, cst.IndentedBlock) \
                        and all(is_logging_statement(s) for s in stmt.body.body) and stmt.orelse is None:
                    result.spans.append((*ctx.span(stmt), "schedule"))
                elif header is not None and (touches(header) or checks_due(header)):
                    result.spans.append((ctx.span(stmt)[0], ctx.positions[header].end.line, "schedule"))
                    if checks_due(header):
                        runners.add(func.name.value)
    if not runners:
        return
    for _, func in function_symbols(ctx):  # background loops that run the due work and sleep
        for node in walk_body(func):
            if not isinstance(node, (cst.For, cst.While)):
                continue
            parts = list(_loop_parts(node))
            if any(is_sleep(n) for n in parts) and any(
                    isinstance(n, cst.Call) and self_attr(n.func) in runners for n in parts):
                start, end = ctx.span(node)
                statements = body_statements(func)
                result.spans.append((start, end, "scheduler"))
                if statements and ctx.span(statements[0])[0] >= start and ctx.span(statements[-1])[1] <= end:
                    result.schedulers.add(func.name.value)
                    result.dedicated[func.name.value] = func


# -- errors that carry retry advice, and helpers computing delays ------------------------------
def _retry_errors(ctx: FileContext, result: FileRetries) -> None:
    """Exception classes of the module whose attributes the retry loops read from what they catch
    (a Retry-After carried by a "retryable" error), and the statements raising them."""
    advice: set[str] = set()
    for loop in result.loops:
        for node in _loop_parts(loop.loop):
            if not isinstance(node, cst.ExceptHandler) or node.name is None or not isinstance(node.name.name, cst.Name):
                continue
            caught = node.name.name.value
            for n in walk(node.body):
                if isinstance(n, cst.Attribute) and isinstance(n.value, cst.Name) and n.value.value == caught:
                    advice.add(n.attr.value)
                elif isinstance(n, cst.Call) and dotted_name(n.func) == "getattr" and len(n.args) >= 2 \
                        and isinstance(n.args[0].value, cst.Name) and n.args[0].value.value == caught \
                        and isinstance(n.args[1].value, cst.SimpleString):
                    advice.add(n.args[1].value.evaluated_value)  # type: ignore[arg-type]
    if not advice:
        return
    errors: dict[str, cst.ClassDef] = {}
    for stmt in ctx.module.body:
        if isinstance(stmt, cst.ClassDef) and stmt.bases:
            init = next((s for s in (stmt.body.body if isinstance(stmt.body, cst.IndentedBlock) else [])
                         if isinstance(s, cst.FunctionDef) and s.name.value == "__init__"), None)
            if init is not None and {self_attr(t) for n in walk_body(init) for t in assign_targets(n)} & advice:
                errors[stmt.name.value] = stmt
    for name, cls in errors.items():
        result.spans.append((*span_of(ctx, cls), "error"))
        result.errors.add(name)
    for _, func in function_symbols(ctx):
        for block, _, _ in _statement_blocks(body_statements(func)):
            for stmt in block:
                raises = [n for n in walk(stmt) if isinstance(n, cst.Raise) and n.exc is not None
                          and isinstance(n.exc, cst.Call) and dotted_name(n.exc.func) in errors]
                if not raises:
                    continue
                if isinstance(stmt, cst.If) and isinstance(stmt.body, cst.IndentedBlock) and stmt.orelse is None \
                        and all(isinstance(s, cst.SimpleStatementLine) and isinstance(s.body[0], cst.Raise)
                                for s in stmt.body.body):
                    result.spans.append((*ctx.span(stmt), "error"))
                elif isinstance(stmt, cst.SimpleStatementLine):
                    result.spans.append((*ctx.span(stmt), "error"))


def _delay_sources(ctx: FileContext, result: FileRetries) -> None:
    """Functions of the file that compute a retry delay (a Retry-After parser) and are called only by retry code."""
    calls: list[cst.Call] = [n for loop in result.loops for node in _delay_nodes([loop.loop]) for n in walk(node)
                             if isinstance(n, cst.Call)]
    for _, func in function_symbols(ctx):
        for node in walk_body(func):
            if isinstance(node, cst.Raise) and isinstance(node.exc, cst.Call) and dotted_name(node.exc.func) in result.errors:
                calls += [n for arg in node.exc.args for n in walk(arg) if isinstance(n, cst.Call)]
    names = {self_attr(c.func) or (c.func.value if isinstance(c.func, cst.Name) else None) for c in calls} - {None}
    if not names:
        return
    defined = {s.name: s for s in ctx.symbols.symbols if isinstance(s.node, cst.FunctionDef)}
    covered = {line for start, end, _ in result.spans for line in range(start, end + 1)}
    sites: dict[str, list[int]] = {}
    for n in walk(ctx.module, into_defs=True):
        if isinstance(n, cst.Call):
            called = self_attr(n.func) or dotted_name(n.func)
            if called in names:
                sites.setdefault(called, []).append(ctx.positions[n].start.line)
    for name in names:
        symbol = defined.get(name) or next((s for s in defined.values() if s.short_name == name and s.parent
                                            and (ctx.symbols.named(s.parent) or s).is_class), None)
        if symbol is not None and sites.get(name) and all(line in covered for line in sites[name]):
            result.spans.append((symbol.start_line, symbol.end_line, "helper"))


def _operation_data(ctx: FileContext) -> frozenset[int]:
    """Nodes that are the retried operation's data, not retry settings.

    The arguments of awaited calls other than sleeps (what is sent on each attempt) and the error
    types a handler catches (the operation's error vocabulary, often shared with other code).
    """
    ids: set[int] = set()
    for node in nodes_of(ctx.module, (cst.Await, cst.ExceptHandler, cst.Raise)):
        if isinstance(node, cst.Await) and isinstance(node.expression, cst.Call) and not is_sleep(node.expression):
            ids |= {id(arg) for arg in node.expression.args}
        elif isinstance(node, cst.ExceptHandler) and node.type is not None:
            ids.add(id(node.type))
        elif isinstance(node, cst.Raise) and node.exc is not None:  # what the give-up error says
            ids.add(id(node.exc))
    return frozenset(ids)


@lru_cache(maxsize=256)
def _wrappers_of_file(path: str, mtime_ns: int) -> frozenset[str]:
    text = read_text(Path(path))
    if text is None or "sleep" not in text:  # a retry wrapper sleeps
        return frozenset()
    module = parse_file(Path(path))
    if module is None:
        return frozenset()
    return frozenset(analyze_retries(FileContext(Path(path), path, text, _module=module)).wrappers)


def _imported_wrappers(ctx: FileContext) -> set[str]:
    """Local names of retry wrappers and decorators imported from other project modules."""
    applied = {dotted_name(n.func) for n in nodes_of(ctx.module, cst.Call)}
    applied |= {dotted_name(d.decorator) for n in nodes_of(ctx.module, cst.FunctionDef) for d in n.decorators}
    names = set()
    for node in walk(ctx.module):
        if type(node) is not cst.ImportFrom or isinstance(node.names, cst.ImportStar):
            continue
        for alias in node.names:
            local = dotted_name(alias.asname.name) if alias.asname else dotted_name(alias.name)
            if local not in applied:
                continue
            resolved = resolve_symbol(ctx.path, ctx.module, local or "")
            if resolved is None or resolved[0] == ctx.path:
                continue
            try:
                wrappers = _wrappers_of_file(str(resolved[0]), resolved[0].stat().st_mtime_ns)
            except OSError:
                continue
            if resolved[1] in wrappers:
                names.add(local or "")
    return names


def _wrapper_uses(ctx: FileContext, result: FileRetries) -> None:
    """Decorators applying a retry wrapper, and statements calling one."""
    wrappers = result.wrappers | result.schedulers | _imported_wrappers(ctx)
    if not wrappers:
        return

    def applies(node: cst.CSTNode) -> bool:
        call = node.func if isinstance(node, cst.Call) else node  # type: ignore[attr-defined]
        name = self_attr(call) or dotted_name(call)
        return name in wrappers

    for _, func in function_symbols(ctx):
        for decorator in func.decorators:
            expr = decorator.decorator
            if applies(expr.func if isinstance(expr, cst.Call) else expr):  # type: ignore[arg-type]
                pos = ctx.positions[decorator]
                result.spans.append((pos.start.line, pos.end.line, "applied"))
        if func.name.value in result.dedicated:
            continue
        for start, end in _calling_statements(ctx, body_statements(func), applies):
            result.spans.append((start, end, "applied"))


def _calling_statements(ctx: FileContext, stmts: list[cst.BaseStatement], applies) -> list[tuple[int, int]]:  # type: ignore[no-untyped-def]
    found: list[tuple[int, int]] = []
    for stmt in stmts:
        if isinstance(stmt, cst.SimpleStatementLine):
            if any(isinstance(n, cst.Call) and applies(n) for n in walk(stmt)):
                found.append(ctx.span(stmt))
            continue
        if isinstance(stmt, (cst.FunctionDef, cst.ClassDef)):
            continue
        inner = [s for block in child_blocks(stmt) for s in _calling_statements(ctx, block, applies)]
        if isinstance(stmt, cst.If) and stmt.orelse is None and isinstance(stmt.body, cst.IndentedBlock) and inner \
                and len(inner) == len(stmt.body.body):
            found.append(ctx.span(stmt))
        else:
            found.extend(inner)
    return found


def _settings(ctx: FileContext, result: FileRetries) -> None:
    """Attributes set up in a constructor and read only by retry code, with their validation and the
    configuration fallback block (``try: read config ... except: defaults``) that only sets them."""
    covered = {line for start, end, _ in result.spans for line in range(start, end + 1)}
    if not covered:
        return
    operation = {id(n) for node in nodes_of(ctx.module, cst.Await)
                 if isinstance(node.expression, cst.Call) and not is_sleep(node.expression)
                 for n in walk(node.expression, into_defs=True)}
    for cls in ctx.symbols.classes():
        methods = [s for s in ctx.symbols.methods_of(cls.name)]
        reads: dict[str, list[int]] = {}
        changed_later: set[str] = set()  # state the node changes as it runs is not a setting
        for method in methods:
            targets = {id(t) for n in nodes_of(method.node, (cst.Assign, cst.AugAssign, cst.AnnAssign))
                       for t in ([x.target for x in n.targets] if isinstance(n, cst.Assign) else [n.target])}
            if method.short_name not in _SETUP_METHODS:
                changed_later |= {self_attr(t) or "" for n in walk(method.node, into_defs=True)
                                  for t in assign_targets(n) if self_attr(t)}
            for node in walk(method.node, into_defs=True):
                attr = self_attr(node)
                if attr and id(node) not in targets and node in ctx.positions:
                    # what an attempt calls (the client, the operation) is not a retry setting
                    line = 0 if id(node) in operation else ctx.positions[node].start.line
                    reads.setdefault(attr, []).append(line)

        def is_setting(stmt: cst.CSTNode) -> bool:
            attr = _assigned_attr(stmt)
            return attr is not None and attr not in changed_later and bool(reads.get(attr)) \
                and all(line in covered for line in reads[attr])

        for method in methods:
            if method.short_name not in _SETUP_METHODS:
                continue
            for block, _, _ in _statement_blocks(body_statements(method.node)):  # type: ignore[arg-type]
                for index, stmt in enumerate(block):
                    if isinstance(stmt, cst.Try) and _only_settings(stmt, is_setting):
                        result.spans.append((*ctx.span(stmt), "setting"))
                        continue
                    if not is_setting(stmt):
                        continue
                    start, end = ctx.span(stmt)
                    value_names = {n.value for n in walk(stmt) if isinstance(n, cst.Name)}
                    back = index
                    while back > 0 and isinstance(block[back - 1], cst.If) and block[back - 1].orelse is None \
                            and any(isinstance(n, cst.Raise) for n in walk(block[back - 1].body)) \
                            and {n.value for n in walk(block[back - 1].test) if isinstance(n, cst.Name)} & value_names:
                        back -= 1
                    result.spans.append((ctx.span(block[back])[0], end, "setting"))


def _only_settings(stmt: cst.Try, is_setting) -> bool:  # type: ignore[no-untyped-def]
    """A configuration fallback block whose every statement sets a retry setting or logs."""
    simple = [n for n in walk(stmt) if isinstance(n, cst.SimpleStatementLine)]
    settings = [n for n in simple if is_setting(n)]
    return bool(settings) and all(is_setting(n) or is_logging_statement(n) for n in simple) \
        and all(isinstance(n, (cst.SimpleStatementLine, cst.IndentedBlock, cst.ExceptHandler, cst.Try, cst.Finally,
                               cst.Else)) or not isinstance(n, cst.BaseCompoundStatement) for n in walk(stmt))


def _assigned_attr(stmt: cst.CSTNode) -> str | None:
    if not isinstance(stmt, cst.SimpleStatementLine) or len(stmt.body) != 1:
        return None
    small = stmt.body[0]
    if isinstance(small, cst.Assign) and len(small.targets) == 1:
        return self_attr(small.targets[0].target)
    if isinstance(small, cst.AnnAssign) and small.value is not None:
        return self_attr(small.target)
    return None


def _number(expr: cst.CSTNode | None) -> float | None:
    if isinstance(expr, cst.Integer):
        return float(int(expr.value))
    if isinstance(expr, cst.Float):
        return float(expr.value)
    return None


def _delay_nodes(nodes: list[cst.CSTNode]) -> list[cst.CSTNode]:
    """The sleep arguments of ``nodes`` and the assignments computing the names they use."""
    everything = [n for node in nodes for n in walk(node)]
    delays: list[cst.CSTNode] = [a.value for n in everything if is_sleep(n) for a in n.args]  # type: ignore[attr-defined]
    names = {n.value for d in delays for n in walk(d) if isinstance(n, cst.Name)}
    chosen: set[int] = set()
    changed = True
    while changed:
        changed = False
        for node in everything:
            if id(node) in chosen or not isinstance(node, (cst.Assign, cst.AugAssign)):
                continue
            targets = [t.target for t in node.targets] if isinstance(node, cst.Assign) else [node.target]
            if any(isinstance(t, cst.Name) and t.value in names for t in targets):
                chosen.add(id(node))
                delays.append(node)
                names |= {n.value for n in walk(node.value) if isinstance(n, cst.Name)}
                changed = True
    return delays
