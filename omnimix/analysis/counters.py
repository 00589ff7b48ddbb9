"""Moving scalar counters onto MixinMetrics, shared by the metrics codemod and the DLQ codemod: the rewrite of
``self.x += 1`` into ``increment_counter``, and the one accessor per class through which counters are read."""

from __future__ import annotations

import libcst as cst

from omnimix.analysis.syntax import self_attr
from omnimix.analysis.tree import nodes_of

MIXIN = "MixinMetrics"
MIXIN_MODULE = "omnibase_core.mixins.mixin_metrics"
MIXIN_CALLS = frozenset({"increment_counter", "record_metric", "record_histogram"})


def call_name(call: cst.Call) -> str:
    func = call.func
    if isinstance(func, cst.Attribute):
        return func.attr.value
    if isinstance(func, cst.Name):
        return func.value
    return ""


def reads_the_mixin(node: cst.CSTNode) -> bool:
    """Whether ``node`` calls ``MixinMetrics.get_metrics`` (the mixin's counters, read explicitly)."""
    return any(isinstance(call.func, cst.Attribute) and call.func.attr.value == "get_metrics"
               and isinstance(call.func.value, cst.Name) and call.func.value.value == MIXIN
               for call in nodes_of(node, cst.Call))


def int_literal(node: cst.BaseExpression | None) -> int | None:
    if isinstance(node, cst.Integer):
        try:
            return int(node.evaluated_value)
        except ValueError:
            return None
    return None


def unpacked_targets(small: cst.BaseSmallStatement) -> list[cst.BaseExpression]:
    kind = type(small)  # LibCST's node classes are final: a type test, not an isinstance through ABCMeta
    if kind is cst.Assign:
        targets: list[cst.BaseExpression] = []
        for target in small.targets:  # type: ignore[attr-defined]
            if type(target.target) in _UNPACKED:
                targets.extend(element.value for element in target.target.elements)
            else:
                targets.append(target.target)
        return targets
    if kind is cst.AnnAssign or kind is cst.AugAssign:
        return [small.target]  # type: ignore[attr-defined]
    return []


_UNPACKED = (cst.Tuple, cst.List)


def counter_name(attr: str) -> str:
    return attr.lstrip("_") or "counter"


ACCESSOR_NAMES = ("_count", "_counter", "_counter_value")


def existing_accessor(cls: cst.ClassDef) -> str | None:
    """The name of the counter read accessor ``cls`` already has (one omnimix added), if any."""
    for statement in cls.body.body:
        if isinstance(statement, cst.FunctionDef) and statement.name.value in ACCESSOR_NAMES \
                and reads_the_mixin(statement.body):
            return statement.name.value
    return None


def with_accessor(cls: cst.ClassDef, accessor: str, before: str | None) -> cst.ClassDef:
    """``cls`` with the counter read accessor, placed before the first method that reads a counter."""
    method = cst.parse_statement(
        f"def {accessor}(self, name: str) -> float:\n"
        f"    return {MIXIN}.get_metrics(self).get(name, {{}}).get(\"value\", 0)\n")
    body = list(cls.body.body)
    index = next((i for i, s in enumerate(body) if isinstance(s, cst.FunctionDef) and s.name.value == before),
                 len(body))
    blank = cst.EmptyLine(indent=False)
    if index < len(body) and body[index].leading_lines and all(
            line.comment is None for line in body[index].leading_lines):
        anchor = body[index]
        method = method.with_changes(leading_lines=anchor.leading_lines)
        body[index] = anchor.with_changes(leading_lines=[blank])
    else:
        method = method.with_changes(leading_lines=[blank])
    body.insert(index, method)
    return cls.with_changes(body=cls.body.with_changes(body=body))


def unique_names(attrs: list[str], module: cst.Module) -> dict[str, str]:
    """Counter names: the attribute without leading underscores, never one the module already uses."""
    taken: set[str] = set()
    for call in nodes_of(module, cst.Call):
        if self_attr(call.func) in MIXIN_CALLS | {"get_metrics"} or call_name(call) in MIXIN_CALLS:
            if call.args and isinstance(call.args[0].value, cst.SimpleString):
                taken.add(str(call.args[0].value.evaluated_value))
    names: dict[str, str] = {}
    for attr in sorted(attrs):
        base = counter_name(attr)
        name, index = base, 2
        while name in taken:
            name, index = f"{base}_{index}", index + 1
        taken.add(name)
        names[attr] = name
    return names


class CounterMigration(cst.CSTTransformer):
    """``self._x += n`` -> ``self.increment_counter("x", n)``; reads -> MixinMetrics.get_metrics(self)."""

    def __init__(self, class_name: str, names: dict[str, str], locks: set[str],
                 drop: set[str] | None = None, accessor: str | None = None) -> None:
        self.class_name = class_name
        self.names = names
        self.locks = locks
        self.drop = drop or set()
        self.accessor = accessor
        self.classes: list[str] = []
        self.quotes: list[str] = []
        self.generated: set[int] = set()
        self.flattened: set[str] = set()
        self.reads = 0
        self.reading_method: str | None = None
        self._method: list[str] = []

    def _active(self) -> bool:
        return self.classes == [self.class_name]

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self.classes.append(node.name.value)

    def leave_ClassDef(self, original_node: cst.ClassDef, updated_node: cst.ClassDef) -> cst.ClassDef:
        active = self._active()
        self.classes.pop()
        if not active or self.accessor is None or not self.reads or existing_accessor(updated_node) == self.accessor:
            return updated_node
        return with_accessor(updated_node, self.accessor, self.reading_method)

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._method.append(node.name.value)

    def leave_FunctionDef(self, original_node: cst.FunctionDef,
                          updated_node: cst.FunctionDef) -> cst.FunctionDef:
        self._method.pop()
        return updated_node

    def visit_FormattedString(self, node: cst.FormattedString) -> None:
        self.quotes.append(node.start)

    def leave_FormattedString(self, original_node: cst.FormattedString,
                              updated_node: cst.FormattedString) -> cst.FormattedString:
        self.quotes.pop()
        return updated_node

    def _migrated(self, target: cst.BaseExpression) -> str | None:
        attr = self_attr(target)
        return attr if self._active() and attr in self.names else None

    def visit_AugAssign(self, node: cst.AugAssign) -> bool:
        return self._migrated(node.target) is None

    def leave_AugAssign(self, original_node: cst.AugAssign,
                        updated_node: cst.AugAssign) -> cst.BaseSmallStatement:
        attr = self._migrated(original_node.target)
        if attr is None:
            return updated_node
        amount = int_literal(original_node.value)
        args = [cst.Arg(cst.SimpleString(self._quoted(self.names[attr])))]
        if amount != 1:
            args[0] = args[0].with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))
            args.append(cst.Arg(original_node.value))
        call = cst.Call(func=cst.Attribute(cst.Name("self"), cst.Name("increment_counter")), args=args)
        expression = cst.Expr(call, semicolon=original_node.semicolon)
        self.generated.add(id(expression))
        return expression

    def visit_Assign(self, node: cst.Assign) -> bool:
        return not any(self._migrated(t.target) for t in node.targets)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> bool:
        return self._migrated(node.target) is None

    def leave_Attribute(self, original_node: cst.Attribute,
                        updated_node: cst.Attribute) -> cst.BaseExpression:
        attr = self._migrated(original_node)
        if attr is None:
            return updated_node
        self.reads += 1
        if self.reading_method is None and len(self.classes) == 1 and self._method:
            self.reading_method = self._method[0]
        name = self._quoted(self.names[attr])
        if self.accessor is not None:
            expression = f"self.{self.accessor}({name})"
        else:
            expression = f"{MIXIN}.get_metrics(self).get({name}, {{}}).get({self._quoted('value')}, 0)"
        return cst.parse_expression(expression).with_changes(lpar=updated_node.lpar, rpar=updated_node.rpar)

    def _quoted(self, text: str) -> str:
        quote = "'" if self.quotes and '"' in self.quotes[-1] else '"'
        return f"{quote}{text}{quote}"

    def _removed(self, statement: cst.BaseStatement) -> bool:
        if not self._active() or not isinstance(statement, cst.SimpleStatementLine) or len(statement.body) != 1:
            return False
        small = statement.body[0]
        targets = unpacked_targets(small) if isinstance(small, (cst.Assign, cst.AnnAssign)) else []
        return len(targets) == 1 and (self_attr(targets[0]) in self.names or self_attr(targets[0]) in self.drop)

    def leave_IndentedBlock(self, original_node: cst.IndentedBlock,
                            updated_node: cst.IndentedBlock) -> cst.IndentedBlock:
        body: list[cst.BaseStatement] = []
        carried: list[cst.EmptyLine] = []
        for statement in updated_node.body:
            if self._removed(statement):
                carried.extend(statement.leading_lines)
                continue
            if carried:
                statement = statement.with_changes(leading_lines=[*carried, *statement.leading_lines])
                carried = []
            body.append(statement)
        if not body:
            body = [cst.SimpleStatementLine([cst.Pass()], leading_lines=carried)]
        return updated_node.with_changes(body=body)

    def leave_With(self, original_node: cst.With,
                   updated_node: cst.With) -> cst.BaseStatement | cst.FlattenSentinel[cst.BaseStatement]:
        if not self._active() or len(updated_node.items) != 1:
            return updated_node
        lock = self_attr(updated_node.items[0].item)
        if lock not in self.locks or updated_node.items[0].asname is not None:
            return updated_node
        body = updated_node.body
        statements: list[cst.BaseStatement]
        if isinstance(body, cst.SimpleStatementSuite):
            statements = [cst.SimpleStatementLine(body=body.body)]
        else:
            statements = list(body.body)
        if not statements or not all(
            isinstance(s, cst.SimpleStatementLine) and all(id(small) in self.generated for small in s.body)
            for s in statements
        ):
            return updated_node
        self.flattened.add(lock)
        first = statements[0]
        statements[0] = first.with_changes(leading_lines=[*updated_node.leading_lines, *first.leading_lines])
        return cst.FlattenSentinel(statements)
