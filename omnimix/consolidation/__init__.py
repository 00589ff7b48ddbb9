"""Consolidation: concern code copied across nodes moves into one shared project mixin.

Where omnibase-core has no equivalent (service registration, DLQ publishing...), a migration
keeps a node's concern code. When several nodes of a run carry the same methods, differing only
in literals, local names, comments and layout, those methods move into one mixin module in the
project's mixins package; each node keeps its own values as class attributes and takes the
mixin as its first base, so every call resolves to the same code as before. A copy that a mixin
made on an earlier run already covers is moved onto that mixin, even alone.
"""

from __future__ import annotations

import ast
import re
from collections import defaultdict
from dataclasses import dataclass, field, replace
from pathlib import Path

import libcst as cst

from omnimix.analysis.module_cache import parse_text
from omnimix.analysis.wrap import line_limit, wrap_long_lines
from omnimix.concerns import Concern
from omnimix.consolidation.bindings import Binding, binding_of, has_future_annotations
from omnimix.consolidation.copies import (
    Copy,
    NodeSource,
    class_methods,
    copies_in,
    declares,
    node_sources,
)
from omnimix.consolidation.render import (
    ReplaceLiterals,
    mixin_module,
    python_string,
    rewrite_node_module,
)
from omnimix.consolidation.shape import REBUILT, shape_of
from omnimix.discovery import display_path, dotted_module_name
from omnimix.migration_state import Decision, Outcome
from omnimix.results import FileChange, NodeResult, Status

#: Class, module and attribute prefix of the mixin made for each concern.
NAMES: dict[Concern, tuple[str, str, str]] = {
    Concern.SERVICE_REGISTRATION: ("ServiceRegistrationMixin", "service_registration", "REGISTRATION"),
    Concern.DEAD_LETTER_QUEUE: ("DeadLetterQueueMixin", "dead_letter_queue", "DLQ"),
    Concern.HEALTH_CHECK: ("HealthReportMixin", "health_report", "HEALTH"),
    Concern.METRICS: ("MetricsSnapshotMixin", "metrics_snapshot", "METRICS"),
    Concern.CIRCUIT_BREAKER: ("BreakerGuardMixin", "breaker_guard", "BREAKER"),
    Concern.RETRY: ("RetryMixin", "retry", "RETRY"),
    Concern.STRUCTURED_LOGGING: ("OperationLoggingMixin", "operation_logging", "LOGGING"),
    Concern.REDACTION: ("RedactionMixin", "redaction", "REDACTION"),
}
GENERATED_BY = "Consolidated by omnimix from"


@dataclass
class Family:
    """Methods of one concern that the same nodes carry in the same shape."""

    concern: Concern
    methods: list[str]
    copies: dict[int, dict[str, Copy]] = field(default_factory=dict)  # source index -> method -> copy
    existing: "ExistingMixin | None" = None


@dataclass(frozen=True)
class ExistingMixin:
    """A mixin class already in the project's mixins package, with the attributes hosts set."""

    path: Path
    module_name: str
    class_name: str
    attributes: frozenset[str]
    methods: dict[str, cst.FunctionDef]


@dataclass(frozen=True)
class Refusal:
    node: str
    concern: Concern
    methods: tuple[str, ...]
    reason: str


def consolidate(results: list[NodeResult], base: Path) -> list[NodeResult]:
    """``results`` with concern code shared by several nodes moved into project mixins. Nodes of different
    projects (each with its own shared mixins package) are consolidated apart."""
    projects: dict[Path | None, list[NodeSource]] = {}
    for source in node_sources(results):
        projects.setdefault(mixins_package(source.path.parent), []).append(source)
    updated = list(results)
    for mixins_dir, sources in projects.items():
        _consolidate_project(updated, sources, mixins_dir, base)
    return updated


def _consolidate_project(updated: list[NodeResult], sources: list[NodeSource], mixins_dir: Path | None,
                         base: Path) -> None:
    """Consolidate the nodes of one project into its mixins package, in ``updated``."""
    existing = existing_mixins(mixins_dir) if mixins_dir is not None else []
    all_copies = [copy for source in sources for copy in copies_in(source)]
    families, refusals = _families(all_copies, existing, sources)
    taken_names: set[str] = {m.class_name for m in existing}
    current = {source.index: source for source in sources}
    for family in families:
        outcome = _apply(family, current, mixins_dir, base, taken_names)
        if isinstance(outcome, Refusal):
            refusals.append(outcome)
            continue
        for index, result in outcome.items():
            updated[index] = result
            change = next(c for c in result.changes if c.path == current[index].path)
            current[index] = replace(current[index], result=result, text=change.after,
                                     module=parse_text(change.after))
    for refusal in refusals:
        for index, result in enumerate(updated):
            if result.display == refusal.node:
                note = (f"{refusal.concern} code ({', '.join(refusal.methods)}) not consolidated: {refusal.reason}")
                updated[index] = replace(result, warnings=(*result.warnings, note))


def mixins_package(start: Path) -> Path | None:
    """The project's shared mixins package: a ``mixins`` package beside a node's package, searched upwards."""
    directory = start.resolve()
    for candidate in [directory, *directory.parents]:
        mixins = candidate / "mixins"
        if (mixins / "__init__.py").is_file():
            return mixins
        if not (candidate / "__init__.py").is_file():
            break
    return None


def existing_mixins(directory: Path) -> list[ExistingMixin]:
    """Mixin classes in ``directory`` that declare the attributes their hosts set (annotations only)."""
    found = []
    module_prefix = dotted_module_name(directory / "__init__.py") or directory.name
    for path in sorted(directory.glob("*.py")):
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        if GENERATED_BY not in text:
            continue
        try:
            module = cst.parse_module(text)
        except cst.ParserSyntaxError:
            continue
        for statement in module.body:
            if not isinstance(statement, cst.ClassDef) or not isinstance(statement.body, cst.IndentedBlock):
                continue
            attributes = frozenset(
                small.target.value for line in statement.body.body if isinstance(line, cst.SimpleStatementLine)
                for small in line.body if isinstance(small, cst.AnnAssign) and small.value is None
                and isinstance(small.target, cst.Name))
            methods = {s.name.value: s for s in statement.body.body if isinstance(s, cst.FunctionDef)}
            if methods:
                found.append(ExistingMixin(path, f"{module_prefix}.{path.stem}", statement.name.value,
                                           attributes, methods))
    return found


def _families(copies: list[Copy], existing: list[ExistingMixin],
              sources: list[NodeSource]) -> tuple[list[Family], list[Refusal]]:
    """Copies grouped into families: by an existing mixin first, then by shape across two or more nodes."""
    families: list[Family] = []
    refusals: list[Refusal] = []
    claimed: set[tuple[int, str]] = set()
    by_source: dict[int, dict[str, Copy]] = defaultdict(dict)
    for copy in copies:
        by_source[copy.source.index][copy.method.name.value] = copy
    for mixin in existing:
        shapes = {name: shape_of(method, mixin.attributes) for name, method in mixin.methods.items()}
        family = Family(_concern_of(mixin), list(mixin.methods), existing=mixin)
        for index, methods in by_source.items():
            if all(name in methods and methods[name].shape.fingerprint == shapes[name].fingerprint
                   for name in mixin.methods):
                family.copies[index] = {name: methods[name] for name in mixin.methods}
                claimed.update((index, name) for name in mixin.methods)
        if family.copies:
            families.append(family)
    groups: dict[tuple[Concern, str, str], list[Copy]] = defaultdict(list)
    for copy in copies:
        if (copy.source.index, copy.method.name.value) not in claimed:
            groups[(copy.concern, copy.method.name.value, copy.shape.fingerprint)].append(copy)
    members_of: dict[tuple[Concern, str], frozenset[int]] = {}
    by_nodes: dict[tuple[Concern, frozenset[int]], list[str]] = defaultdict(list)
    for (concern, method, _), members in sorted(groups.items(), key=lambda item: item[0][1]):
        nodes = frozenset(m.source.index for m in members)
        if len(nodes) < 2 or len(nodes) != len(members):
            continue
        members_of[(concern, method)] = nodes
        by_nodes[(concern, nodes)].append(method)
    index_of = {s.index: s for s in sources}
    for (concern, nodes), methods in _merged(by_nodes, index_of).items():
        family = Family(concern, _source_order(methods, by_source[min(nodes)]))
        for index in sorted(nodes, key=lambda i: index_of[i].result.display):
            family.copies[index] = {name: by_source[index][name] for name in family.methods
                                    if index in members_of[(concern, name)]}
        undeclared = [index_of[i].result.display for i in nodes if not declares(index_of[i].contract, concern)]
        if undeclared:
            for node in sorted(index_of[i].result.display for i in nodes):
                refusals.append(Refusal(node, concern, tuple(family.methods),
                                        f"{len(nodes)} nodes carry the same code, but the contract of "
                                        f"{', '.join(sorted(undeclared))} does not declare {concern}"))
            continue
        families.append(family)
    return families, refusals


def _merged(by_nodes: dict[tuple[Concern, frozenset[int]], list[str]],
            index_of: dict[int, NodeSource]) -> dict[tuple[Concern, frozenset[int]], list[str]]:
    """One mixin per concern where the node sets nest: a smaller family joins a larger one when every
    node of the larger one that is not in it defines those methods itself (its own copy shadows the
    mixin's, so nothing it calls changes)."""
    merged: dict[tuple[Concern, frozenset[int]], list[str]] = {}
    for (concern, nodes), methods in sorted(by_nodes.items(), key=lambda item: -len(item[0][1])):
        host = next((key for key in merged if key[0] == concern and nodes <= key[1]
                     and all(_defines(index_of[i], methods) for i in key[1] - nodes)), None)
        if host is None:
            merged[(concern, nodes)] = list(methods)
        else:
            merged[host].extend(methods)
    return merged


def _defines(source: NodeSource, methods: list[str]) -> bool:
    names = {m.name.value for m in class_methods(source.module, source.class_name)}
    return set(methods) <= names


def _concern_of(mixin: ExistingMixin) -> Concern:
    for concern, (_, module, _) in NAMES.items():
        if mixin.path.stem.startswith(module):
            return concern
    return Concern.SERVICE_REGISTRATION


def _source_order(methods: list[str], copies: dict[str, Copy]) -> list[str]:
    order = [m.name.value for m in class_methods(next(iter(copies.values())).source.module,
                                                  next(iter(copies.values())).source.class_name)]
    return sorted(methods, key=lambda name: order.index(name) if name in order else len(order))


@dataclass
class _Parameter:
    name: str
    type_name: str
    values: dict[int, str]


def _apply(family: Family, index_of: dict[int, NodeSource], mixins_dir: Path | None, base: Path,
           taken: set[str]) -> dict[int, NodeResult] | Refusal:
    order = list(family.copies)
    first_index = order[0]
    nodes = [index_of[i].result.display for i in order]
    methods = tuple(family.methods)
    refuse = lambda reason: Refusal(nodes[0], family.concern, methods, reason)  # noqa: E731
    if mixins_dir is None:
        return refuse("the project has no shared mixins package (a `mixins` package beside the nodes)")
    for index in order:
        for copy in family.copies[index].values():
            if copy.shape.uses_super:
                return refuse(f"{copy.method.name.value} calls super(), which would resolve differently in a mixin")
            if copy.shape.mangled:
                return refuse(f"{copy.method.name.value} uses a name-mangled attribute (self.__x)")
    bindings = _bindings(family, index_of)
    if isinstance(bindings, str):
        return refuse(bindings)
    parameters, attribute_of = _parameters(family)
    if isinstance(parameters, str):
        return refuse(parameters)
    if family.existing is not None:
        mixin = family.existing
        mixin_name, module_name, mixin_path = mixin.class_name, mixin.module_name, mixin.path
        mixin_text = None
    else:
        class_name, stem, _ = NAMES[family.concern]
        mixin_name, suffix = class_name, 1
        while mixin_name in taken or (mixins_dir / f"{stem}{'' if suffix == 1 else suffix}.py").exists():
            suffix += 1
            mixin_name = f"{class_name[:-5]}{suffix}Mixin"
        taken.add(mixin_name)
        mixin_path = mixins_dir / f"{stem}{'' if suffix == 1 else suffix}.py"
        module_name = f"{dotted_module_name(mixins_dir / '__init__.py') or mixins_dir.name}.{mixin_path.stem}"
        moved = [_template(family, name).method.visit(ReplaceLiterals(attribute_of)) for name in family.methods]
        names = [_short(n) for n in nodes]
        provenance = _filled([*f"{GENERATED_BY} {len(order)} copies".split(" "),
                              *[f"({name}," if i == 0 else f"{name}," for i, name in enumerate(names[:-1])],
                              f"{'(' if len(names) == 1 else ''}{names[-1]});",
                              *"each node sets the class attributes below and keeps this class as its first "
                               "base.".split(" ")], min(line_limit(mixins_dir), 100))
        docstring = f"{family.concern.replace('_', ' ').capitalize()} code shared by the nodes.\n\n{provenance}\n"
        mixin_text = mixin_module(
            class_name=mixin_name, docstring=docstring, methods=moved,
            attributes=[(p.name, p.type_name) for p in parameters], bindings=bindings,
            future_annotations=has_future_annotations(index_of[first_index].module))
        original = frozenset(line for i in order for line in index_of[i].text.splitlines())
        mixin_text = wrap_long_lines(mixin_text, line_limit(mixins_dir), leave=original)
        try:
            ast.parse(mixin_text)
        except SyntaxError as exc:
            return refuse(f"the mixin omnimix would write does not parse ({exc}); nothing moved")
    created = FileChange(mixin_path, display_path(mixin_path, base), None, mixin_text) if mixin_text else None
    updated: dict[int, NodeResult] = {}
    for index in order:
        source = index_of[index]
        attributes = [(p.name, p.values[index]) for p in parameters if index in p.values]
        unused = [_import_target(b) for b in bindings if b.kind == "import"]
        after = rewrite_node_module(
            source.module, module_name=dotted_module_name(source.path), class_name=source.class_name,
            mixin_module_name=module_name, mixin=mixin_name, removed=set(family.copies[index]),
            attributes=attributes, unused_candidates=[u for u in unused if u is not None])
        after = wrap_long_lines(after, line_limit(source.path.parent), leave=frozenset(source.text.splitlines()))
        updated[index] = _result_with(source, after, created, family, mixin_name, mixin_path, base)
    return updated


def _template(family: Family, method: str) -> Copy:
    """The copy of ``method`` the mixin is made from: the first node's that has it."""
    return next(copies[method] for copies in family.copies.values() if method in copies)


def _filled(words: list[str], width: int) -> str:
    """``words`` joined by spaces into lines of at most ``width`` characters where they allow; a word (a node's
    folder name among them) is never cut or changed."""
    lines: list[str] = []
    for word in words:
        if lines and len(lines[-1]) + 1 + len(word) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return "\n".join(lines)


def _short(display: str) -> str:
    parts = [p for p in display.split("/") if not re.fullmatch(r"v\d+(_\d+)*", p)]
    return parts[-1] if parts else display


def _import_target(binding: Binding) -> tuple[str, str | None] | None:
    words = binding.code.split()
    if words[0] == "import":
        return (words[1], None) if len(words) == 2 else None
    if words[0] == "from" and len(words) == 4:
        return (words[1], words[3])
    return None


def _bindings(family: Family, index_of: dict[int, NodeSource]) -> list[Binding] | str:
    """What each free name means; it must mean the same in every copy's module."""
    names = sorted({n for copies in family.copies.values() for c in copies.values() for n in c.shape.free_names})
    found: list[Binding] = []
    for name in names:
        meanings = set()
        for index in family.copies:
            source = index_of[index]
            module_name = dotted_module_name(source.path)
            package = module_name.rpartition(".")[0] if module_name else None
            meaning = binding_of(source.module, name, package)
            if meaning is None:
                return f"it uses `{name}`, which is defined in the node module itself"
            meanings.add(meaning)
        if len(meanings) > 1:
            return f"`{name}` means different things in the nodes' modules"
        found.append(meanings.pop())
    return found


def _parameters(family: Family) -> tuple[list[_Parameter], dict[int, str]] | tuple[str, dict]:
    """Literals that differ between copies become class attributes; the rest stay in the code."""
    prefix = NAMES[family.concern][2]
    existing = family.existing
    parameters: list[_Parameter] = []
    by_values: dict[tuple[str, ...], _Parameter] = {}
    attribute_of: dict[int, str] = {}
    used: set[str] = set()
    for method in family.methods:
        order = [i for i, copies in family.copies.items() if method in copies]
        template = (shape_of(existing.methods[method], existing.attributes) if existing
                    else _template(family, method).shape)
        for position, literal in enumerate(template.literals):
            values = tuple((i, family.copies[i][method].shape.literals[position].code) for i in order)
            as_text = False
            if existing is not None:
                as_text = literal.code.startswith("str(self.")
                if not re.match(r"(?:(?:list|set)\()?self\.", literal.code) and not as_text:
                    if any(v != literal.code for _, v in values):
                        return "a literal the shared mixin fixes differs in this copy", {}
                    continue
                name = re.sub(r"^(?:str|list|set)\(", "", literal.code).removeprefix("self.").removesuffix(")")
                if as_text and not all((_text_value(v) or "").isdigit() for _, v in values):
                    return f"the shared mixin expects a number for {name}", {}
            else:
                if len({v for _, v in values}) == 1:
                    continue
                if literal.in_signature:
                    return f"a literal in the signature of {method} differs between copies", {}
                if values in by_values:
                    attribute_of[id(literal.node)] = _use(literal.node, by_values[values].name)
                    continue
                name = _attribute_name(prefix, literal.hint, used)
                attribute_of[id(literal.node)] = _use(literal.node, name)
            kinds = [family.copies[i][method].shape.literals[position] for i in order]
            parameter = _Parameter(name, "int" if as_text else _type_name(kinds[0].node), {
                i: str(int(_text_value(k.code) or 0)) if as_text else _value_code(k.node, k.code)
                for i, k in zip(order, kinds)})
            if existing is None:
                by_values[values] = parameter
                parameters.append(parameter)
            elif all(p.name != name for p in parameters):
                parameters.append(parameter)
            used.add(name)
    if existing is None:
        parameters = _numbers_as_text(parameters, attribute_of)
    return parameters, attribute_of


def _numbers_as_text(parameters: list[_Parameter], attribute_of: dict[int, str]) -> list[_Parameter]:
    """A text parameter that is always the decimal form of a number parameter (an env-var default of
    a port, say) becomes ``str(self.<number>)``, which takes the text parameter's name."""
    numbers = [p for p in parameters if p.type_name == "int"]
    kept = []
    for parameter in parameters:
        twin = None
        if parameter.type_name == "str":
            texts = {i: _text_value(v) for i, v in parameter.values.items()}
            twin = next((n for n in numbers if all(texts[i] == n.values[i] for i in n.values)), None)
        if twin is None:
            kept.append(parameter)
            continue
        old, twin_old = f"self.{parameter.name}", f"self.{twin.name}"
        twin.name = parameter.name
        for key, code in list(attribute_of.items()):
            if code == old:
                attribute_of[key] = f"str(self.{twin.name})"
            elif code == twin_old:
                attribute_of[key] = f"self.{twin.name}"
        numbers.remove(twin)
    return kept


def _text_value(code: str) -> str | None:
    try:
        value = ast.literal_eval(code)
    except (ValueError, SyntaxError):
        return None
    return value if isinstance(value, str) else None


def _attribute_name(prefix: str, hint: str, used: set[str]) -> str:
    word = re.sub(r"[^0-9A-Za-z]+", "_", hint).strip("_").upper() or "VALUE"
    name = word if word.startswith(prefix) else f"{prefix}_{word}"
    candidate, number = name, 2
    while candidate in used:
        candidate, number = f"{name}_{number}", number + 1
    return candidate


def _use(node: cst.CSTNode, name: str) -> str:
    """How moved code reads the attribute ``name`` that holds the literal ``node``: a list or set literal is
    kept as a tuple and rebuilt at each use, so that every call still gets a container of its own."""
    wrapper = REBUILT.get(type(node))
    return f"{wrapper}(self.{name})" if wrapper else f"self.{name}"


def _type_name(node: cst.CSTNode) -> str:
    if isinstance(node, cst.Integer):
        return "int"
    if isinstance(node, cst.Float):
        return "float"
    if isinstance(node, cst.List | cst.Set):
        kinds = {_type_name(element.value) if not isinstance(element.value, cst.Name | cst.UnaryOperation)
                 else "object" for element in node.elements}
        return f"tuple[{kinds.pop() if len(kinds) == 1 else 'object'}, ...]"
    return "str"


def _value_code(node: cst.CSTNode, code: str) -> str:
    if isinstance(node, cst.FormattedStringText):
        return python_string(code.replace("{{", "{").replace("}}", "}"))
    if isinstance(node, cst.List | cst.Set):
        items = [cst.Module(body=[]).code_for_node(element.value) for element in node.elements]
        return "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"
    return code


def _result_with(source: NodeSource, after: str, created: FileChange | None, family: Family,
                 mixin_name: str, mixin_path: Path, base: Path) -> NodeResult:
    result = source.result
    changes = []
    seen = False
    for change in result.changes:
        if change.path == source.path:
            changes.append(replace(change, after=after))
            seen = True
        else:
            changes.append(change)
    if not seen:
        changes.append(FileChange(source.path, display_path(source.path, base), source.before, after))
    if created is not None and all(c.path != created.path for c in changes):
        changes.append(created)
    moved_spans = _moved_spans(source, family)
    decisions = []
    note = f"moved into {mixin_name} ({display_path(mixin_path, base)}), shared with other nodes"
    for decision in result.decisions:
        if decision.path == source.path and _inside(decision.finding.start_line, decision.finding.end_line, moved_spans):
            decisions.append(Decision(decision.finding, decision.path, Outcome.CONSOLIDATED, note))
        else:
            decisions.append(decision)
    decided = {(d.path, d.finding) for d in decisions}
    scan = next((s for s in result.scans if s.path == source.path), None)
    for finding in scan.findings if scan else ():
        if (source.path, finding) not in decided and _inside(finding.start_line, finding.end_line, moved_spans):
            decisions.append(Decision(finding, source.path, Outcome.CONSOLIDATED, note))
    consolidated = [*result.extra.get("consolidated", []),
                    {"concern": str(family.concern), "mixin": mixin_name, "path": display_path(mixin_path, base),
                     "methods": list(family.methods), "nodes": len(family.copies)}]
    return replace(result, status=Status.CHANGED, changes=tuple(changes), decisions=tuple(decisions),
                   message="", extra={**result.extra, "consolidated": consolidated})


def _moved_spans(source: NodeSource, family: Family) -> list[tuple[int, int]]:
    try:
        tree = ast.parse(source.before)
    except SyntaxError:
        return []
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and node.name == source.class_name:
            return [(f.lineno, f.end_lineno or f.lineno) for f in node.body
                    if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef)) and f.name in family.copies[source.index]]
    return []


def _inside(start: int, end: int, spans: list[tuple[int, int]]) -> bool:
    return any(s <= start and end <= e for s, e in spans)
