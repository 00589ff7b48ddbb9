"""Redaction, detection: what the codemod finds in one file, and the facts it reads."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import libcst as cst

from omnimix.analysis.context import FileContext, per_module
from omnimix.analysis.logging_facts import (
    Spans,
    StructuredLoggingScan,
    function_body,
    imported_names,
    inner_blocks,
    load_context,
    names_in,
    param_names,
)
from omnimix.analysis.syntax import dotted_name
from omnimix.analysis.tree import index_module, nodes_of

SECRET_WORDS = ("password", "passwd", "pwd", "secret", "token", "api_key", "apikey", "api-key",
                "authorization", "bearer", "credential", "private_key", "cookie", "sk-")
_PLACEHOLDER = re.compile(r"redact|\*\*\*|mask|\[hidden\]", re.IGNORECASE)
_NAME_HINT = re.compile(r"redact|saniti[sz]|mask|scrub|censor|obfuscat|sensitive", re.IGNORECASE)
_URL_CREDENTIALS = re.compile(r"://.*:.*@")
_REGEX_SYNTAX = re.compile(r"\[[^\]]*\]|[()?*+^$|\\]")  # "pass(word)?", "api[_-]?key" read as words
_MASK_RUN = re.compile(r"\*+")  # "*" * 8 + secret[-4:]: a mask made of asterisks

KEEP_REASON = (
    "MixinSensitiveFieldRedaction is not equivalent: it matches key names by substring (it also redacts "
    "'author', 'monkey', 'hashtag'), applies extra fields only at the top level, does not scrub secrets inside "
    "strings (URLs with credentials, bearer tokens, sk- keys) and its redact() returns {} on a node that is "
    "not a Pydantic model, so this redaction is kept"
)
REPLACEMENT = "omnibase_core MixinSensitiveFieldRedaction (not equivalent)"


def has_secret_word(text: str) -> bool:
    lowered = text.lower()
    return any(word in lowered for word in SECRET_WORDS)


def _string_value(node: cst.BaseExpression) -> str | None:
    if isinstance(node, cst.SimpleString):
        try:
            value = node.evaluated_value
        except Exception:  # noqa: BLE001 - odd literal: not a secret pattern
            return None
        return value if isinstance(value, str) else None
    if isinstance(node, cst.ConcatenatedString):
        left, right = _string_value(node.left), _string_value(node.right)
        return left + right if left is not None and right is not None else None
    return None


def _strings_in(node: cst.CSTNode) -> list[str]:
    """String literals in ``node``; the docstring of a definition is prose, not a pattern or a key."""
    docstring = _docstring(node)
    found = []
    for literal in nodes_of(node, cst.SimpleString):
        if literal is docstring:
            continue
        value = _string_value(literal)
        if value is not None:
            found.append(value)
    for part in nodes_of(node, cst.FormattedStringText):
        found.append(part.value)
    return found


def _docstring(node: cst.CSTNode) -> cst.SimpleString | None:
    if not isinstance(node, (cst.FunctionDef, cst.ClassDef)) or not isinstance(node.body, cst.IndentedBlock):
        return None
    first = node.body.body[0] if node.body.body else None
    if isinstance(first, cst.SimpleStatementLine) and len(first.body) == 1 and isinstance(first.body[0], cst.Expr) \
            and isinstance(first.body[0].value, cst.SimpleString):
        return first.body[0].value
    return None


@dataclass
class RedactionFacts:
    """Module-level redaction definitions of one file."""

    functions: set[str] = field(default_factory=set)  # module-level functions (local or imported)
    methods: set[int] = field(default_factory=set)  # id() of redaction methods defined here
    classes: set[int] = field(default_factory=set)  # id() of redaction classes defined here
    secret_regexes: set[str] = field(default_factory=set)
    sensitive_sets: set[str] = field(default_factory=set)
    placeholders: set[str] = field(default_factory=set)
    constants: dict[str, int] = field(default_factory=dict)  # module constant -> index in module body


def redaction_facts(ctx: FileContext, depth: int = 0) -> RedactionFacts:
    index_module(ctx.module)
    facts = RedactionFacts()
    body = ctx.module.body
    for index, statement in enumerate(body):
        if not isinstance(statement, cst.SimpleStatementLine):
            continue
        for small in statement.body:
            target, value = _constant(small)
            if target is None or value is None:
                continue
            facts.constants[target] = index
            text = _string_value(value)
            if text is not None and _PLACEHOLDER.search(text):
                facts.placeholders.add(target)
            if _is_compiled_regex(value) or _is_regex_collection(value):
                pattern = " ".join(_strings_in(value))
                if has_secret_word(pattern) or has_secret_word(_REGEX_SYNTAX.sub("", pattern)) \
                        or _URL_CREDENTIALS.search(pattern):
                    facts.secret_regexes.add(target)
            elif _is_string_collection(value) and any(has_secret_word(s) for s in _strings_in(value)):
                facts.sensitive_sets.add(target)
    for name, item in imported_names(ctx).items():
        if not item.project_local:
            continue
        other = load_context(item.path) if depth < 2 else None
        if other is not None:
            if item.name in _imported_facts(other, depth + 1).functions:
                facts.functions.add(name)
        elif _NAME_HINT.search(item.name) and item.name[:1].islower():
            facts.functions.add(name)
    functions = {s.name.value: s for s in body if isinstance(s, cst.FunctionDef)}
    classes = [s for s in body if isinstance(s, cst.ClassDef)]
    methods = [(cls, m) for cls in classes for m in _methods(cls)]
    for _ in range(3):  # a sanitiser calling another sanitiser is one too
        for name, function in functions.items():
            if name not in facts.functions and _is_redaction_function(function, facts, set()):
                facts.functions.add(name)
        for cls, method in methods:
            own = {m.name.value for m in _methods(cls) if id(m) in facts.methods}
            if id(method) not in facts.methods and _is_redaction_function(method, facts, own):
                facts.methods.add(id(method))
    for cls in classes:
        if _NAME_HINT.search(cls.name.value) and any(id(m) in facts.methods for m in _methods(cls)):
            facts.classes.add(id(cls))
    return facts


# ``redaction_facts`` of an imported project module, once per parsed module.
_imported_facts = per_module(redaction_facts)


def _methods(cls: cst.ClassDef) -> list[cst.FunctionDef]:
    body = cls.body.body if isinstance(cls.body, cst.IndentedBlock) else []
    return [s for s in body if isinstance(s, cst.FunctionDef)]


def _constant(small: cst.BaseSmallStatement) -> tuple[str | None, cst.BaseExpression | None]:
    if isinstance(small, cst.Assign) and len(small.targets) == 1 and isinstance(small.targets[0].target, cst.Name):
        return small.targets[0].target.value, small.value
    if isinstance(small, cst.AnnAssign) and isinstance(small.target, cst.Name) and small.value is not None:
        return small.target.value, small.value
    return None, None


def _is_compiled_regex(value: cst.BaseExpression) -> bool:
    return isinstance(value, cst.Call) and dotted_name(value.func) in ("re.compile", "compile", "regex.compile")


def _is_regex_collection(value: cst.BaseExpression) -> bool:
    """A tuple, list or set of compiled regexes (the secret-key patterns matched one after another)."""
    if isinstance(value, cst.Call) and dotted_name(value.func) in ("frozenset", "set", "tuple", "list") and value.args:
        value = value.args[0].value
    if not isinstance(value, (cst.Set, cst.Tuple, cst.List)) or not value.elements:
        return False
    return all(_is_compiled_regex(element.value) for element in value.elements)


def _is_string_collection(value: cst.BaseExpression) -> bool:
    if isinstance(value, cst.Call) and dotted_name(value.func) in ("frozenset", "set", "tuple", "list") and value.args:
        value = value.args[0].value
    if not isinstance(value, (cst.Set, cst.Tuple, cst.List)):
        return False
    return bool(value.elements) and all(_string_value(element.value) is not None for element in value.elements)


def _is_redaction_function(function: cst.FunctionDef, facts: RedactionFacts, own_methods: set[str]) -> bool:
    """Structure of a sanitiser: it masks values with a placeholder, applies secret regexes, checks keys
    against sensitive names, calls another sanitiser, or shortens a secret parameter to a hint."""
    names = names_in(function)
    strings = _strings_in(function)
    hinted = bool(_NAME_HINT.search(function.name.value))
    uses_regex = bool(names & facts.secret_regexes) or any(
        dotted_name(call.func) == "re.sub" and any(has_secret_word(s) for s in _strings_in(call)) for call in
        nodes_of(function, cst.Call))
    placeholder = bool(names & facts.placeholders) or any(_PLACEHOLDER.search(s) or _MASK_RUN.fullmatch(s)
                                                          for s in strings)
    sensitive_keys = bool(names & facts.sensitive_sets) or any(has_secret_word(s) for s in strings)
    calls_other = any(
        (isinstance(call.func, cst.Name) and call.func.value in facts.functions)
        or (isinstance(call.func, cst.Attribute) and call.func.attr.value in own_methods)
        for call in nodes_of(function, cst.Call))
    if hinted and (uses_regex or placeholder or sensitive_keys or calls_other):
        return True
    if placeholder and (uses_regex or sensitive_keys):
        return True
    return _masks_secret_parameter(function)


def _masks_secret_parameter(function: cst.FunctionDef) -> bool:
    secrets = {name for name in param_names(function) if has_secret_word(name)}
    if not secrets:
        return False
    for subscript in nodes_of(function, cst.Subscript):
        if isinstance(subscript.value, cst.Name) and subscript.value.value in secrets \
                and any(isinstance(element.slice, cst.Slice) for element in subscript.slice):
            return True
    return False


class RedactionScan:
    """Redaction findings of one module."""

    def __init__(self, ctx: FileContext) -> None:
        self.ctx = ctx
        self.facts = redaction_facts(ctx)
        self.logging = StructuredLoggingScan(ctx)
        self.spans = Spans(ctx)
        self._dedicated: list[cst.CSTNode] = []
        self._scan()

    def _scan(self) -> None:
        body = self.ctx.module.body
        for statement in body:
            if isinstance(statement, cst.ClassDef):
                if id(statement) in self.facts.classes:
                    self._dedicate(statement, "redaction class")
                    continue
                for method in _methods(statement):
                    if id(method) in self.facts.methods:
                        self._dedicate(method, "redaction method")
                    elif not self._emit_path(statement, method):
                        self._scan_block(function_body(method))
            elif isinstance(statement, cst.FunctionDef):
                if statement.name.value in self.facts.functions:
                    self._dedicate(statement, "redaction function")
                elif id(statement) not in self.logging.helper_functions:
                    self._scan_block(function_body(statement))
        self._scan_support_functions(body)
        self._scan_constants(body)
        self._scan_block([s for s in body if isinstance(s, cst.SimpleStatementLine)
                          and not self._is_constant_statement(s)])

    def _dedicate(self, node: cst.ClassDef | cst.FunctionDef, kind: str) -> None:
        self._dedicated.append(node)
        self.spans.whole(node, kind)

    def _emit_path(self, cls: cst.ClassDef, method: cst.FunctionDef) -> bool:
        """Sanitising inside a logger wrapper's emit path (or a ``_log`` helper) is that wrapper's own
        behaviour, reported as structured logging; sanitising one field before logging is a call site."""
        if id(method) in self.logging.helper_functions:
            return True
        return id(cls) in self.logging.wrapper_classes and self.logging.emits_directly(method)

    def _scan_support_functions(self, body: Sequence[cst.BaseStatement]) -> None:
        """Module functions called only from redaction code (a key normaliser): its helpers."""
        if not self._dedicated:
            return
        candidates = {s.name.value: s for s in body if isinstance(s, cst.FunctionDef)
                      and s.name.value not in self.facts.functions and id(s) not in self.logging.helper_functions}
        if not candidates:
            return
        uses: dict[str, list[cst.Name]] = {}
        for name in nodes_of(self.ctx.module, cst.Name):
            if name.value in candidates and name is not candidates[name.value].name:
                uses.setdefault(name.value, []).append(name)
        inside = {id(node) for root in self._dedicated for node in nodes_of(root, cst.Name)}
        changed = True
        while changed:
            changed = False
            for name, seen in list(uses.items()):
                if name in candidates and all(id(n) in inside for n in seen):
                    helper = candidates.pop(name)
                    self._dedicate(helper, "helper of the redaction code")
                    inside |= {id(node) for node in nodes_of(helper, cst.Name)}
                    changed = True

    def _is_constant_statement(self, statement: cst.SimpleStatementLine) -> bool:
        return all(_constant(small)[0] is not None for small in statement.body)

    def _scan_constants(self, body: Sequence[cst.BaseStatement]) -> None:
        """Module constants used only by redaction code: key sets, regexes, placeholders, limits."""
        if not self._dedicated:
            return
        dedicated = {id(node) for node in self._dedicated}
        uses: dict[str, list[bool]] = {}

        def note(node: cst.CSTNode, inside: bool) -> None:
            for name in names_in(node):
                uses.setdefault(name, []).append(inside)

        for statement in body:
            if id(statement) in dedicated:
                note(statement, True)
            elif isinstance(statement, cst.ClassDef):
                members = statement.body.body if isinstance(statement.body, cst.IndentedBlock) else []
                for member in members:
                    note(member, id(member) in dedicated)
                for part in (*statement.bases, *statement.decorators):
                    note(part, False)
            elif isinstance(statement, cst.SimpleStatementLine) and self._is_constant_statement(statement):
                for small in statement.body:
                    value = _constant(small)[1]
                    if value is not None:
                        note(value, False)
            else:
                note(statement, False)
        for name, index in self.facts.constants.items():
            seen = uses.get(name)
            if seen and all(seen):
                self.spans.statement(body[index], "module constant used only by redaction code", body, index)

    def _scan_block(self, block: Sequence[cst.BaseStatement]) -> None:
        for index, statement in enumerate(block):
            if isinstance(statement, cst.SimpleStatementLine):
                if self._calls_redaction(statement):
                    self.spans.statement(statement, "call of a redaction helper", block, index)
                continue
            if isinstance(statement, (cst.FunctionDef, cst.ClassDef)):
                continue
            test = statement.test if isinstance(statement, (cst.If, cst.While)) else None
            if test is not None and self._calls_redaction(test):
                start = self.ctx.positions[statement].start.line
                self.spans.lines(start, self.ctx.positions[test].end.line, "call of a redaction helper")
            for inner in inner_blocks(statement):
                self._scan_block(inner)

    def _calls_redaction(self, node: cst.CSTNode) -> bool:
        return any(isinstance(call.func, cst.Name) and call.func.value in self.facts.functions
                   for call in nodes_of(node, cst.Call))


_KEY_PATTERNS_MODULE = (
    "import re\n\nfrom omnibase_core.nodes import NodeEffect\n\n"
    "SENSITIVE_KEYS = (re.compile(r\"pass(word)?\"), re.compile(r\"api[_-]?key\"))\n\n\n"
    "def _normalise(key):\n"
    "    return str(key).replace(\"-\", \"_\").lower()\n\n\n"
    "def is_sensitive_key(key):\n"
    "    return any(p.search(_normalise(key)) for p in SENSITIVE_KEYS)\n\n\n"
    "class NodeConfigEffect(NodeEffect):\n"
    "    async def show(self, config):\n"
    "        return {k: \"***\" if is_sensitive_key(k) else v for k, v in config.items()}\n"
)
