"""What a module knows about logging: its loggers, logger wrappers and factories, redaction helpers and
correlation ids (``StructuredLoggingScan``), and the statement helpers the logging, redaction, registration
and DLQ codemods read code with."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import libcst as cst

from omnimix.analysis.context import FileContext, per_module
from omnimix.analysis.module_cache import on_forget
from omnimix.analysis.syntax import assign_targets, dotted_name, self_attr
from omnimix.analysis.tree import index_module, nodes_of
from omnimix.discovery import dotted_module_name

LEVEL_METHODS = frozenset({"debug", "info", "warning", "warn", "error", "exception", "critical", "fatal", "log"})


BIND_METHODS = frozenset({"bind", "new", "child", "getChild", "with_context", "bind_context", "opt"})


STDLIB_LOGGING_BASES = frozenset({"LoggerAdapter", "Logger", "Formatter", "Filter"})


_CORRELATION_NAME = re.compile(r"correlation|trace_?id|request_?id|log_?context", re.IGNORECASE)


_OPERATION_LOG_NAME = re.compile(r"log_?\w*_(start|started|begin|complete|completed|end|finish|success|done|"
                                 r"error|failure|failed)$", re.IGNORECASE)


_CORRELATION_METHOD = re.compile(r"correlation|trace_?id|request_?id", re.IGNORECASE)


_REDACTION_NAME = re.compile(r"redact|saniti[sz]|mask|scrub|censor|obfuscat|sensitive|secret", re.IGNORECASE)


_LOGGER_FACTORY_NAME = re.compile(r"^get_\w*log(ger)?$|^make_\w*logger$|^create_\w*logger$", re.IGNORECASE)


def names_in(root: cst.CSTNode) -> set[str]:
    return {name.value for name in nodes_of(root, cst.Name)}


def inner_blocks(statement: cst.CSTNode) -> list[Sequence[cst.BaseStatement]]:
    """The statement lists nested directly in a compound statement (bodies, else, handlers, finally)."""
    blocks: list[Sequence[cst.BaseStatement]] = []

    def add(suite: cst.BaseSuite | None) -> None:
        if isinstance(suite, cst.IndentedBlock):
            blocks.append(suite.body)

    if isinstance(statement, (cst.If, cst.For, cst.While, cst.With, cst.FunctionDef, cst.ClassDef)):
        add(statement.body)
    if isinstance(statement, (cst.For, cst.While)) and statement.orelse is not None:
        add(statement.orelse.body)
    if isinstance(statement, cst.If) and statement.orelse is not None:
        orelse = statement.orelse
        if isinstance(orelse, cst.If):
            blocks.append([orelse])
        else:
            add(orelse.body)
    if isinstance(statement, (cst.Try, cst.TryStar)):
        add(statement.body)
        for handler in statement.handlers:
            add(handler.body)
        if statement.orelse is not None:
            add(statement.orelse.body)
        if statement.finalbody is not None:
            add(statement.finalbody.body)
    if isinstance(statement, cst.Match):
        for case in statement.cases:
            add(case.body)
    return blocks


def function_body(function: cst.FunctionDef) -> Sequence[cst.BaseStatement]:
    body = function.body
    return body.body if isinstance(body, cst.IndentedBlock) else []


def param_names(function: cst.FunctionDef) -> list[str]:
    params = function.params
    ordered = [*params.posonly_params, *params.params]
    names = [p.name.value for p in ordered]
    names += [p.name.value for p in params.kwonly_params]
    if isinstance(params.star_arg, cst.Param):
        names.append(params.star_arg.name.value)
    if params.star_kwarg is not None:
        names.append(params.star_kwarg.name.value)
    return names


def assigned_value(statement: cst.BaseSmallStatement) -> cst.BaseExpression | None:
    if isinstance(statement, (cst.Assign, cst.AugAssign)):
        return statement.value
    if isinstance(statement, cst.AnnAssign):
        return statement.value
    return None


class Spans:
    """Line spans of findings in one file: whole definitions, statements (adjacent siblings of the same
    block merge into one) and sub-statement parts. Anything inside a whole definition is dropped."""

    def __init__(self, ctx: FileContext) -> None:
        self.ctx = ctx
        self._whole: list[tuple[int, int, str]] = []
        self._statements: list[tuple[int, int, str, int, int]] = []  # block id, index, kind, start, end
        self._parts: list[tuple[int, int, str]] = []

    def whole(self, node: cst.ClassDef | cst.FunctionDef, kind: str) -> None:
        symbol = self.ctx.symbols.of(node)
        if symbol is not None:
            self._whole.append((symbol.start_line, symbol.end_line, kind))

    def statement(self, node: cst.CSTNode, kind: str, block: Sequence[cst.BaseStatement] | None = None,
                  index: int = -1) -> None:
        start, end = self.ctx.span(node)
        self._statements.append((id(block) if block is not None else id(node), index, kind, start, end))

    def lines(self, start: int, end: int, kind: str) -> None:
        self._parts.append((start, end, kind))

    def result(self) -> list[tuple[int, int, str]]:
        found: list[tuple[int, int, str]] = list(self._whole)
        ordered = sorted(self._statements, key=lambda item: (item[0], item[1], item[3]))
        current: list | None = None
        for block, index, kind, start, end in ordered:
            if current is not None and current[0] == block and index >= 0 and current[1] + 1 == index \
                    and current[4] + 1 == start:
                current[1], current[4] = index, max(current[4], end)
                continue
            if current is not None:
                found.append((current[3], current[4], current[2]))
            current = [block, index, kind, start, end]
        if current is not None:
            found.append((current[3], current[4], current[2]))
        found.extend(self._parts)
        whole = [(s, e) for s, e, _ in self._whole]
        kinds: dict[tuple[int, int], str] = {}
        for start, end, kind in found:
            kinds.setdefault((start, end), kind)
        spans = [(s, e) for s, e in kinds if (s, e) in whole or not within((s, e), whole)]
        return [(s, e, kinds[(s, e)]) for s, e in merge_spans(spans)]


def merge_spans(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Sort spans and drop those contained in another span."""
    kept: list[tuple[int, int]] = []
    for start, end in sorted(set(spans), key=lambda span: (span[0], -span[1])):
        if any(s <= start and end <= e for s, e in kept):
            continue
        kept.append((start, end))
    return kept


def within(line_span: tuple[int, int], spans: list[tuple[int, int]]) -> bool:
    return any(start <= line_span[0] and line_span[1] <= end and (start, end) != line_span
               for start, end in spans)


def with_header_span(ctx: FileContext, statement: cst.With) -> tuple[int, int]:
    start = ctx.positions[statement].start.line
    return start, ctx.positions[statement.items[-1]].end.line


@dataclass(frozen=True)
class ImportedName:
    """A name bound by ``from X import Y``: where it comes from."""

    module: str  # absolute when resolvable, else as written
    name: str
    project_local: bool
    path: Path | None


def imported_names(ctx: FileContext) -> dict[str, ImportedName]:
    """Names bound by top-level ``from ... import ...`` statements (try/except imports included)."""
    own = dotted_module_name(ctx.path) if ctx.path.is_file() else None
    top = own.split(".")[0] if own else None
    bound: dict[str, ImportedName] = {}
    for node in nodes_of(ctx.module, cst.ImportFrom):
        if isinstance(node.names, cst.ImportStar):
            continue
        level = len(node.relative)
        module = dotted_name(node.module) if node.module is not None else ""
        path = _resolve_module(ctx.path, module or "", level)
        absolute = module or ""
        if level and own:
            package = own.split(".")[: -level] if own else []
            absolute = ".".join([*package, *([module] if module else [])])
        local = bool(level) or (top is not None and absolute.split(".")[0] == top)
        for alias in node.names:
            name = dotted_name(alias.name)
            if not name:
                continue
            asname = alias.asname.name.value if alias.asname and isinstance(alias.asname.name, cst.Name) else name
            bound[asname] = ImportedName(absolute, name, local, path)
    return bound


def _resolve_module(origin: Path, module: str, level: int) -> Path | None:
    parts = [part for part in module.split(".") if part]
    if not parts:
        return None
    try:
        if level:
            base = origin.resolve().parent
            for _ in range(level - 1):
                base = base.parent
            roots = [base]
        else:
            roots = list(origin.resolve().parents)[:12]
        for root in roots:
            candidate = root.joinpath(*parts)
            if candidate.with_suffix(".py").is_file():
                return candidate.with_suffix(".py")
            if (candidate / "__init__.py").is_file():
                return candidate / "__init__.py"
    except OSError:
        return None
    return None


_CONTEXTS: dict[tuple[Path, int], FileContext | None] = {}  # least recently used first


@on_forget
def _forget(module: cst.Module) -> None:
    for key in [key for key, context in _CONTEXTS.items() if context and context.__dict__.get("module") is module]:
        del _CONTEXTS[key]


def _load_context(path: Path, stamp: int) -> FileContext | None:
    key = (path, stamp)
    if key in _CONTEXTS:
        context = _CONTEXTS.pop(key)
    else:
        try:
            text = path.read_text(encoding="utf-8")
            context = FileContext(path, path.name, text)
            context.module  # noqa: B018 - parse now so a broken file is rejected here
        except (OSError, UnicodeDecodeError, cst.ParserSyntaxError):
            context = None
        if len(_CONTEXTS) >= 16:
            del _CONTEXTS[next(iter(_CONTEXTS))]
    _CONTEXTS[key] = context
    return context


def load_context(path: Path | None) -> FileContext | None:
    """A parsed context of another project file, or None when it cannot be read or parsed."""
    if path is None:
        return None
    try:
        stamp = path.stat().st_mtime_ns
    except OSError:
        return None
    return _load_context(path, stamp)


@dataclass
class LoggingFacts:
    """Module-level structured-logging definitions: wrapper classes, factories, correlation context."""

    wrapper_classes: set[str] = field(default_factory=set)
    factories: set[str] = field(default_factory=set)
    correlation_vars: set[str] = field(default_factory=set)
    correlation_functions: set[str] = field(default_factory=set)
    local_classes: dict[str, cst.ClassDef] = field(default_factory=dict)
    local_functions: dict[str, cst.FunctionDef] = field(default_factory=dict)
    stdlib_loggers: set[str] = field(default_factory=set)  # module names bound to logging.getLogger(...)
    logging_aliases: set[str] = field(default_factory=set)  # names the logging module is bound to


def logging_facts(ctx: FileContext, depth: int = 0) -> LoggingFacts:
    index_module(ctx.module)
    facts = LoggingFacts()
    imports = imported_names(ctx)
    logging_names = _logging_names(ctx.module, imports)
    facts.logging_aliases = logging_names
    for statement in ctx.module.body:
        if isinstance(statement, cst.ClassDef):
            facts.local_classes[statement.name.value] = statement
        elif isinstance(statement, cst.FunctionDef):
            facts.local_functions[statement.name.value] = statement
        elif isinstance(statement, cst.SimpleStatementLine):
            for small in statement.body:
                value = assigned_value(small)
                for target in assign_targets(small):
                    if isinstance(target, cst.Name) and value is not None:
                        if _is_get_logger(value, logging_names, imports):
                            facts.stdlib_loggers.add(target.value)
                        if _is_context_var(value, imports) and _CORRELATION_NAME.search(target.value):
                            facts.correlation_vars.add(target.value)
    for name, node in facts.local_classes.items():
        if _is_wrapper_class(node, logging_names, imports, facts.stdlib_loggers):
            facts.wrapper_classes.add(name)
    for name, item in imports.items():
        if not item.project_local:
            continue
        other = load_context(item.path) if depth < 2 else None
        if other is not None:
            theirs = _imported_facts(other, depth + 1)
            if item.name in theirs.wrapper_classes:
                facts.wrapper_classes.add(name)
            if item.name in theirs.factories:
                facts.factories.add(name)
            if item.name in theirs.correlation_functions:
                facts.correlation_functions.add(name)
        elif re.search(r"Log(ger|Adapter)$", item.name):
            facts.wrapper_classes.add(name)
        elif _LOGGER_FACTORY_NAME.match(item.name):
            facts.factories.add(name)
        elif _CORRELATION_NAME.search(item.name) and item.name[:1].islower():
            facts.correlation_functions.add(name)
    for name, function in facts.local_functions.items():
        if _returns_wrapper(function, facts.wrapper_classes):
            facts.factories.add(name)
        if facts.correlation_vars & _context_var_uses(function):
            facts.correlation_functions.add(name)
    return facts


# ``logging_facts`` of an imported project module, once per parsed module.
_imported_facts = per_module(logging_facts)


def _logging_names(module: cst.Module, imports: dict[str, ImportedName]) -> set[str]:
    names = set()
    for node in nodes_of(module, cst.Import):
        for alias in node.names:
            if dotted_name(alias.name) == "logging":
                names.add(alias.asname.name.value if alias.asname and isinstance(alias.asname.name, cst.Name)
                          else "logging")
    return names


def _is_get_logger(value: cst.BaseExpression | None, logging_names: set[str], imports: dict[str, ImportedName]) -> bool:
    if not isinstance(value, cst.Call):
        return False
    name = dotted_name(value.func) or ""
    head, _, tail = name.rpartition(".")
    if tail != "getLogger":
        return False
    if head:
        return head in logging_names
    item = imports.get("getLogger")
    return item is not None and item.module == "logging"


def _is_context_var(value: cst.BaseExpression, imports: dict[str, ImportedName]) -> bool:
    if not isinstance(value, cst.Call):
        return False
    name = dotted_name(value.func) or ""
    if name == "contextvars.ContextVar":
        return True
    item = imports.get(name)
    return name == "ContextVar" and item is not None and item.module == "contextvars"


def _context_var_uses(function: cst.FunctionDef) -> set[str]:
    used = set()
    for call in nodes_of(function, cst.Call):
        if isinstance(call.func, cst.Attribute) and call.func.attr.value in ("get", "set", "reset"):
            base = dotted_name(call.func.value)
            if base:
                used.add(base)
    return used


def _base_is_logging(base: cst.BaseExpression, logging_names: set[str], imports: dict[str, ImportedName]) -> str | None:
    name = dotted_name(base) or ""
    head, _, tail = name.rpartition(".")
    if tail not in STDLIB_LOGGING_BASES:
        return None
    if head:
        return tail if head in logging_names else None
    item = imports.get(tail)
    return tail if item is not None and item.module == "logging" else None


def _is_wrapper_class(node: cst.ClassDef, logging_names: set[str], imports: dict[str, ImportedName],
                      module_loggers: set[str]) -> bool:
    """A class that wraps stdlib logging: a LoggerAdapter/Logger subclass, a JSON formatter, a correlation
    filter, or a class made mostly of level / ``log_*`` methods that hand records to a stdlib logger."""
    body = node.body.body if isinstance(node.body, cst.IndentedBlock) else []
    methods = [s for s in body if isinstance(s, cst.FunctionDef)]
    for arg in node.bases:
        kind = _base_is_logging(arg.value, logging_names, imports)
        if kind in ("LoggerAdapter", "Logger"):
            return True
        if kind == "Formatter" and any(dotted_name(c.func) in ("json.dumps", "dumps")
                                       for c in nodes_of(node, cst.Call)):
            return True
        if kind == "Filter" and any(_CORRELATION_NAME.search(n) for n in names_in(node) | _attr_names(node)):
            return True
    logger_attrs: set[str] = set()
    for statement in body:  # class-level ``_log = logging.getLogger(...)``
        if isinstance(statement, cst.SimpleStatementLine):
            for small in statement.body:
                if _is_get_logger(assigned_value(small), logging_names, imports):
                    logger_attrs.update(t.value for t in assign_targets(small) if isinstance(t, cst.Name))
    for method in methods:
        annotated = {
            p.name.value for p in [*method.params.params, *method.params.kwonly_params]
            if p.annotation is not None and (dotted_name(p.annotation.annotation) or "").split(".")[-1] == "Logger"
        }
        for assign in nodes_of(method, cst.Assign):
            value = assign.value
            if _is_get_logger(value, logging_names, imports) or (
                    isinstance(value, cst.Name) and value.value in annotated):
                logger_attrs.update(a for t in assign.targets if (a := self_attr(t.target)))
    own = [m for m in methods if not m.name.value.startswith("__")]
    level_like = [m for m in own if m.name.value in LEVEL_METHODS or m.name.value.startswith("log_")]
    if len(level_like) < 2 or len(level_like) * 2 < len(own):
        return False
    if logger_attrs:
        return True
    emitting = [m for m in level_like if any(
        isinstance(c.func, cst.Attribute) and c.func.attr.value in LEVEL_METHODS
        and (dotted_name(c.func.value) or "") in module_loggers | logging_names for c in nodes_of(m, cst.Call))]
    return len(emitting) >= 2


def _attr_names(node: cst.CSTNode) -> set[str]:
    return {attribute.attr.value for attribute in nodes_of(node, cst.Attribute)}


def _returns_wrapper(function: cst.FunctionDef, wrappers: set[str]) -> bool:
    """A factory: it returns a new wrapper, directly or through a local (a per-name cache included)."""
    built: set[str] = set()
    for assign in nodes_of(function, cst.Assign):
        value = assign.value
        if isinstance(value, cst.Call) and (dotted_name(value.func) or "") in wrappers:
            built.update(t.target.value for t in assign.targets if isinstance(t.target, cst.Name))
    for statement in nodes_of(function, cst.Return):
        value = statement.value
        if isinstance(value, cst.Call) and (dotted_name(value.func) or "") in wrappers:
            return True
        if isinstance(value, cst.Name) and value.value in built:
            return True
    return False


def _correlation_setters(function: cst.FunctionDef, variables: set[str]) -> bool:
    """True when ``function`` sets or resets one of the correlation-id context ``variables``."""
    for call in nodes_of(function, cst.Call):
        if isinstance(call.func, cst.Attribute) and call.func.attr.value in ("set", "reset") \
                and dotted_name(call.func.value) in variables:
            return True
    return False


def _is_log_context_builder(function: cst.FunctionDef) -> bool:
    """A ``_log_context(...)``-style method: returns the dict of fields every log line carries,
    with the correlation id among them."""
    if "log" not in function.name.value.lower() or not nodes_of(function, cst.Return):
        return False
    keys = [element.key for element in nodes_of(function, cst.DictElement)]
    keys += [element.slice.value for element in nodes_of(function, cst.SubscriptElement)
             if isinstance(element.slice, cst.Index)]
    return any(isinstance(key, cst.SimpleString) and _CORRELATION_NAME.search(key.value) for key in keys)


def _is_redaction_definition(statement: cst.CSTNode) -> bool:
    """Sanitisers and their regexes belong to the redaction report, even inside a logging module."""
    if isinstance(statement, (cst.FunctionDef, cst.ClassDef)):
        return bool(_REDACTION_NAME.search(statement.name.value))
    if isinstance(statement, cst.SimpleStatementLine):
        return any(isinstance(value := assigned_value(small), cst.Call)
                   and (dotted_name(value.func) or "").split(".")[-1] == "compile" for small in statement.body)
    return False


class StructuredLoggingScan:
    """Structured logging in one module: dedicated definitions, wrapper instances and their call sites."""

    def __init__(self, ctx: FileContext) -> None:
        self.ctx = ctx
        index_module(ctx.module)
        self.facts = logging_facts(ctx)
        self.spans = Spans(ctx)
        self.helper_functions: set[int] = set()  # id() of _log-style helper FunctionDefs
        self.wrapper_classes: set[int] = set()  # id() of wrapper ClassDefs defined here
        self.module_wrappers: set[str] = set()
        self.class_attrs: dict[int, set[str]] = {}  # id(ClassDef) -> attributes holding a wrapper
        self._seeds: set[int] = set()  # module body indexes of the definitions reported whole
        self._setters = {name for name in self.facts.correlation_functions
                         if name in self.facts.local_functions
                         and _correlation_setters(self.facts.local_functions[name], self.facts.correlation_vars)}
        self._reported_methods: set[str] = set()  # methods of the class being scanned whose calls are reported
        self._scan()

    # definitions ---------------------------------------------------------------------------
    def _scan(self) -> None:
        facts = self.facts
        body = self.ctx.module.body
        for statement in body:
            if isinstance(statement, cst.SimpleStatementLine):
                for small in statement.body:
                    if self._constructs_wrapper(assigned_value(small), set(), set()):
                        self.module_wrappers.update(
                            t.value for t in assign_targets(small) if isinstance(t, cst.Name))
        for index, statement in enumerate(body):
            if isinstance(statement, cst.ClassDef):
                if statement.name.value in facts.wrapper_classes:
                    self.spans.whole(statement, "logger wrapper class")
                    self.wrapper_classes.add(id(statement))
                    self._seeds.add(index)
                else:
                    self._scan_class(statement)
            elif isinstance(statement, cst.FunctionDef):
                name = statement.name.value
                if name in facts.factories:
                    self.spans.whole(statement, "factory of the logger wrapper")
                    self._seeds.add(index)
                elif name in facts.correlation_functions:
                    self.spans.whole(statement, "correlation-id context helper")
                    self._seeds.add(index)
                elif self._is_helper(statement, set()):
                    self.spans.whole(statement, "structured logging helper")
                    self.helper_functions.add(id(statement))
                    self._seeds.add(index)
                else:
                    self._scan_function(statement, set(), {})
            elif isinstance(statement, cst.SimpleStatementLine):
                for small in statement.body:
                    targets = assign_targets(small)
                    if assigned_value(small) is None:
                        continue
                    if any(isinstance(t, cst.Name) and t.value in facts.correlation_vars for t in targets):
                        self.spans.statement(statement, "correlation-id context variable", body, index)
                        self._seeds.add(index)
                    elif self._constructs_wrapper(assigned_value(small), set(), set()):
                        self.spans.statement(statement, "logger wrapper instance", body, index)
        self._scan_support(body)

    def _scan_support(self, body: Sequence[cst.BaseStatement]) -> None:
        """Module definitions used only by the logging definitions reported whole (latency bands, the
        handle an operation() context yields, a wrapper cache): the wrapper's own support."""
        if not self._seeds:
            return
        defined: dict[str, int] = {}
        for index, statement in enumerate(body):
            if index in self._seeds or _is_redaction_definition(statement):
                continue
            if isinstance(statement, (cst.FunctionDef, cst.ClassDef)):
                defined[statement.name.value] = index
            elif isinstance(statement, cst.SimpleStatementLine) and len(statement.body) == 1:
                small = statement.body[0]
                targets = assign_targets(small)
                value = assigned_value(small)
                if len(targets) == 1 and isinstance(targets[0], cst.Name) and value is not None \
                        and targets[0].value not in self.facts.stdlib_loggers \
                        and not self._constructs_wrapper(value, set(), set()):
                    defined[targets[0].value] = index
        users: dict[str, set[int]] = {}
        for index, statement in enumerate(body):
            for name in names_in(statement):
                if name in defined and defined[name] != index:
                    users.setdefault(name, set()).add(index)
        support = set(self._seeds)
        changed = True
        while changed:
            changed = False
            for name, index in defined.items():
                if index not in support and users.get(name) and users[name] <= support:
                    support.add(index)
                    changed = True
        for index in sorted(support - self._seeds):
            statement = body[index]
            if isinstance(statement, (cst.FunctionDef, cst.ClassDef)):
                self.spans.whole(statement, "support of the logger wrapper")
            else:
                self.spans.statement(statement, "support of the logger wrapper", body, index)

    def _scan_class(self, node: cst.ClassDef) -> None:
        methods = [s for s in (node.body.body if isinstance(node.body, cst.IndentedBlock) else [])
                   if isinstance(s, cst.FunctionDef)]
        attrs: set[str] = set()
        for _ in range(2):  # attributes may be bound from other wrapper attributes
            for method in methods:
                for assign in nodes_of(method, cst.Assign):
                    if self._constructs_wrapper(assign.value, attrs, set()):
                        attrs.update(a for t in assign.targets if (a := self_attr(t.target)))
        self.class_attrs[id(node)] = attrs
        params = self._wrapper_params(methods, attrs)
        variables = self.facts.correlation_vars
        helpers = {m.name.value for m in methods if self._is_helper(m, attrs)}
        called = {name for m in methods for a in nodes_of(m, cst.Attribute)
                  if (name := self_attr(a)) is not None and name != m.name.value}
        # A method the others call to set the context is a helper; a handler that sets it itself is
        # reported by statement.
        setters = {m.name.value for m in methods if m.name.value not in helpers and m.name.value in called
                   and _correlation_setters(m, variables)}
        correlation = set(setters)
        if setters:  # the class keeps the correlation-id context: its accessors and extractors are part of it
            correlation |= {m.name.value for m in methods
                            if m.name.value not in helpers and _CORRELATION_METHOD.search(m.name.value)}
        self._reported_methods = setters | {name for name in helpers if _OPERATION_LOG_NAME.search(name)}
        for method in methods:
            name = method.name.value
            if name in correlation:
                self.spans.whole(method, "correlation-id context helper")
            elif name in helpers:
                self.spans.whole(method, "structured logging helper")
                self.helper_functions.add(id(method))
            elif _is_log_context_builder(method):
                self.spans.whole(method, "structured log context builder")
            else:
                self._scan_function(method, attrs, params)
        self._reported_methods = set()

    def _wrapper_params(self, methods: list[cst.FunctionDef], attrs: set[str]) -> dict[str, set[str]]:
        """Parameters of methods that receive a wrapper instance from another method of the class."""
        by_name = {m.name.value: m for m in methods}
        received: dict[str, set[str]] = {}
        for _ in range(3):
            for method in methods:
                local = self._locals(method, attrs, received.get(method.name.value, set()))
                for call in nodes_of(method, cst.Call):
                    target = by_name.get(self_attr(call.func) or "")
                    if target is None:
                        continue
                    names = param_names(target)[1:]
                    for index, arg in enumerate(call.args):
                        if not self._is_wrapper_expr(arg.value, attrs, local):
                            continue
                        if arg.keyword is not None:
                            received.setdefault(target.name.value, set()).add(arg.keyword.value)
                        elif arg.star == "" and index < len(names):
                            received.setdefault(target.name.value, set()).add(names[index])
        return received

    def _locals(self, function: cst.FunctionDef, attrs: set[str], params: set[str]) -> set[str]:
        local = set(params)
        for _ in range(2):
            for assign in nodes_of(function, cst.Assign):
                if self._constructs_wrapper(assign.value, attrs, local):
                    local.update(t.target.value for t in assign.targets if isinstance(t.target, cst.Name))
        return local

    def _is_helper(self, function: cst.FunctionDef, attrs: set[str]) -> bool:
        """A ``_log(level, message, **context)``-style helper that forwards keyword context to a logger."""
        star = function.params.star_kwarg
        if star is None or function.name.value.startswith("__"):
            return False
        tainted = {star.name.value}
        loggers: set[str] = set()
        for assign in nodes_of(function, cst.Assign):
            targets = [t.target.value for t in assign.targets if isinstance(t.target, cst.Name)]
            if names_in(assign.value) & tainted:
                tainted.update(targets)
            value = assign.value
            if isinstance(value, cst.Call) and dotted_name(value.func) == "getattr" and value.args \
                    and self._is_logger_expr(value.args[0].value, attrs):
                loggers.update(targets)
            elif self._is_level_method(value, attrs):  # ``log = lg.warning if slow else lg.info``
                loggers.update(targets)
        for call in nodes_of(function, cst.Call):
            if not any(names_in(arg.value) & tainted for arg in call.args):
                continue
            func = call.func
            if isinstance(func, cst.Name) and func.value in loggers:
                return True
            if isinstance(func, cst.Attribute) and func.attr.value in LEVEL_METHODS \
                    and self._is_logger_expr(func.value, attrs):
                return True
        return False

    def _is_level_method(self, node: cst.BaseExpression, attrs: set[str]) -> bool:
        """``logger.info`` (a level method of a logger), or a conditional choosing between such."""
        if isinstance(node, cst.IfExp):
            return self._is_level_method(node.body, attrs) and self._is_level_method(node.orelse, attrs)
        return isinstance(node, cst.Attribute) and node.attr.value in LEVEL_METHODS \
            and self._is_logger_expr(node.value, attrs)

    def _is_logger_expr(self, node: cst.BaseExpression, attrs: set[str]) -> bool:
        """A wrapper instance or a stdlib logger."""
        if self._is_wrapper_expr(node, attrs, set()):
            return True
        name = dotted_name(node) or ""
        return name in self.facts.stdlib_loggers or name in self.facts.logging_aliases

    # expressions ----------------------------------------------------------------------------
    def _constructs_wrapper(self, value: cst.BaseExpression | None, attrs: set[str], local: set[str]) -> bool:
        if not isinstance(value, cst.Call):
            return False
        name = dotted_name(value.func) or ""
        if name in self.facts.wrapper_classes or name in self.facts.factories:
            return True
        return isinstance(value.func, cst.Attribute) and value.func.attr.value in BIND_METHODS \
            and self._is_wrapper_expr(value.func.value, attrs, local)

    def _is_wrapper_expr(self, node: cst.BaseExpression, attrs: set[str], local: set[str]) -> bool:
        attr = self_attr(node)
        if attr is not None:
            return attr in attrs
        if isinstance(node, cst.Name):
            return node.value in local or node.value in self.module_wrappers
        return self._constructs_wrapper(node, attrs, local)

    def uses_wrapper(self, node: cst.CSTNode, attrs: set[str], local: set[str]) -> bool:
        for call in nodes_of(node, cst.Call):
            func = call.func
            if isinstance(func, cst.Attribute) and self._is_wrapper_expr(func.value, attrs, local):
                return True
            if self._constructs_wrapper(call, attrs, local):
                return True
        return False

    # statements -----------------------------------------------------------------------------
    def _scan_function(self, function: cst.FunctionDef, attrs: set[str], params: dict[str, set[str]]) -> None:
        local = self._locals(function, attrs, params.get(function.name.value, set()))
        self._scan_block(function_body(function), attrs, local)

    def _scan_block(self, block: Sequence[cst.BaseStatement], attrs: set[str], local: set[str]) -> None:
        for index, statement in enumerate(block):
            if isinstance(statement, cst.SimpleStatementLine):
                builds = any(self._constructs_wrapper(assigned_value(small), attrs, local)
                             for small in statement.body)
                if builds:
                    self.spans.statement(statement, "logger wrapper instance", block, index)
                elif self._calls_instance_wrapper(statement, attrs, local):
                    self.spans.statement(statement, "call through the logger wrapper", block, index)
                elif self._binds_correlation(statement):
                    self.spans.statement(statement, "binds the correlation-id context", block, index)
                elif self._calls_operation_log(statement):
                    self.spans.statement(statement, "operation log through the node's helper", block, index)
                continue
            if isinstance(statement, cst.With) and any(self._is_correlation_call(item.item)
                                                       for item in statement.items):
                start, end = with_header_span(self.ctx, statement)
                self.spans.lines(start, end, "binds the correlation-id context")
            if isinstance(statement, (cst.FunctionDef, cst.ClassDef)):
                continue
            for inner in inner_blocks(statement):
                self._scan_block(inner, attrs, local)

    def _calls_instance_wrapper(self, node: cst.CSTNode, attrs: set[str], local: set[str]) -> bool:
        """A call through a wrapper. A module-level wrapper instance used through plain level methods
        (``logger.info(...)``) stands in for the module's ``logging.getLogger``: its instance is reported,
        those everyday log lines are not; calls of the wrapper's own API (``log.log_start``) are."""
        for call in nodes_of(node, cst.Call):
            func = call.func
            if not isinstance(func, cst.Attribute):
                continue
            receiver = func.value
            if isinstance(receiver, cst.Name) and receiver.value in self.module_wrappers \
                    and receiver.value not in local and func.attr.value in LEVEL_METHODS:
                continue
            if self._is_wrapper_expr(receiver, attrs, local):
                return True
        return any(self._constructs_wrapper(call, attrs, local) for call in nodes_of(node, cst.Call))

    def _binds_correlation(self, node: cst.CSTNode) -> bool:
        """A call that sets or resets the correlation-id context (a module helper or a method)."""
        for call in nodes_of(node, cst.Call):
            func = call.func
            if isinstance(func, cst.Name) and func.value in self._setters:
                return True
            if isinstance(func, cst.Attribute) and func.attr.value in ("set", "reset") \
                    and dotted_name(func.value) in self.facts.correlation_vars:
                return True
            method = self_attr(func)
            if method in self._reported_methods and not _OPERATION_LOG_NAME.search(method):
                return True
        return False

    def _calls_operation_log(self, node: cst.CSTNode) -> bool:
        return any((method := self_attr(call.func)) in self._reported_methods and _OPERATION_LOG_NAME.search(method)
                   for call in nodes_of(node, cst.Call))

    def _is_correlation_call(self, node: cst.BaseExpression) -> bool:
        return isinstance(node, cst.Call) and (dotted_name(node.func) or "") in self.facts.correlation_functions

    def emits_directly(self, function: cst.FunctionDef) -> bool:
        """True for a wrapper method that hands the record to the wrapped logger (``self._logger.log``)."""
        for call in nodes_of(function, cst.Call):
            func = call.func
            if isinstance(func, cst.Attribute) and func.attr.value in LEVEL_METHODS and self_attr(func.value):
                return True
        return False
