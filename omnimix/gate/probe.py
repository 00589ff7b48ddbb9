"""Probe run by the verification gate in the *target* interpreter: imports, then composition.

Run as ``python -P probe.py SPEC.json``. It uses the standard library only (plus whatever
the probed code imports), so it works in any environment that has omnibase-core, with or without
omnimix. Each part writes its JSON result to the file the spec names as soon as it is done, so a
node that kills the interpreter during composition still leaves the import results behind.
"""

from __future__ import annotations

import asyncio
import importlib
import inspect
import json
import sys
import time
import traceback
from pathlib import Path

_POSITIONAL = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)


def main(spec_path: str) -> int:
    spec = json.loads(Path(spec_path).read_text(encoding="utf-8"))
    for entry in reversed(spec["sys_path"]):
        sys.path.insert(0, entry)
    copy_root = Path(spec["copy_root"]).resolve()
    started = time.perf_counter()
    if spec.get("imports") is not None:
        _write(spec["imports"]["output"], _timed(started, probe_imports, spec["imports"], copy_root))
    if spec.get("composition") is not None:
        _write(spec["composition"]["output"],
               _timed(time.perf_counter(), probe_composition, spec["composition"], copy_root))
    return 0


def _timed(started: float, part, spec: dict, copy_root: Path) -> dict:
    try:
        result = part(spec, copy_root)
    except BaseException:  # the probe itself failed: say so instead of dying silently
        result = {"problems": [f"the probe failed: {traceback.format_exc(limit=3)}"], "probe_error": True}
    result["seconds"] = time.perf_counter() - started
    return result


def _write(path: str, data: dict) -> None:
    Path(path).write_text(json.dumps(data, default=str), encoding="utf-8")


def _error(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}".strip()
    return text.splitlines()[0] if text else type(exc).__name__


# -- imports ----------------------------------------------------------------------------------
def probe_imports(spec: dict, copy_root: Path) -> dict:
    """Import every changed module, then execute each import statement of the changed files."""
    modules = []
    for module in spec["modules"]:
        entry = {"module": module, "ok": True}
        try:
            loaded = importlib.import_module(module)
        except BaseException as exc:
            entry.update(ok=False, error=_error(exc))
        else:
            origin = getattr(loaded, "__file__", None)
            if origin and not Path(origin).resolve().is_relative_to(copy_root):
                entry.update(ok=False, error=f"imported from {origin}, outside the temporary copy "
                                             "(an installed copy shadows the migrated code)")
        modules.append(entry)
    statements = []
    for item in spec["statements"]:
        try:
            exec(compile(item["code"], item["file"], "exec"), {"__name__": "__omnimix_probe__"})
        except BaseException as exc:
            statements.append({**item, "ok": False, "error": _error(exc)})
        else:
            statements.append({**item, "ok": True})
    return {"modules": modules, "statements": statements}


# -- composition ------------------------------------------------------------------------------
def probe_composition(spec: dict, copy_root: Path) -> dict:
    """Import the node class, check its MRO against the catalog's rules, construct it, call hooks."""
    problems: list[str] = []
    notes: list[str] = []
    result: dict = {"problems": problems, "notes": notes}
    class_name = spec["class"]
    try:
        module = importlib.import_module(spec["module"])
    except TypeError as exc:
        if "method resolution order" in str(exc):
            problems.append(f"the MRO of {class_name} does not build: {_error(exc)}")
        else:
            problems.append(f"importing {spec['module']} failed: {_error(exc)}")
        return result
    except BaseException as exc:
        problems.append(f"importing {spec['module']} failed: {_error(exc)}")
        return result
    cls = getattr(module, class_name, None)
    if not isinstance(cls, type):
        problems.append(f"{spec['module']} has no class {class_name}")
        return result
    mro = list(cls.__mro__)
    result["mro"] = [f"{c.__module__}.{c.__qualname__}" for c in mro]

    catalog = {entry["name"]: entry for entry in spec["catalog"]}
    found = _catalog_classes(mro, catalog)
    result["catalog_in_mro"] = [name for name, _ in found]
    index = {name: mro.index(klass) for name, klass in found}
    bases = [(name, klass) for name, klass in found if catalog[name]["kind"] == "node_base"]
    if not bases:
        problems.append(f"{class_name} does not derive from an omnibase-core node base "
                        f"({', '.join(spec['node_base_names'])})")
        return result
    base_name, base_class = bases[0]
    result["node_base"] = base_name
    inherited = {c for c in base_class.__mro__}
    own_mixins = [(name, klass) for name, klass in found
                  if catalog[name]["kind"] == "mixin" and klass not in inherited]
    present = {name for name, _ in found}
    for name, _ in own_mixins:
        rules = catalog[name]["composition"]
        if "node_base" in rules["incompatible_with"]:
            problems.append(f"{name} cannot be composed with {base_name}: {rules['reason']}")
        elif rules["node_types"] and spec["node_type"] and spec["node_type"] not in rules["node_types"]:
            problems.append(f"{name} is for {', '.join(rules['node_types'])} nodes, not a {spec['node_type']} "
                            f"node ({base_name}): {rules['reason']}")
        for other in rules["incompatible_with"]:
            if other != "node_base" and other in present:
                problems.append(f"{name} cannot be composed with {other}: {rules['reason']}")
        if index[name] < index[base_name]:
            problems.append(f"{name} comes before the node base {base_name} in the MRO of {class_name}; "
                            "the node base must come first")
    for name in spec["expected_mixins"]:
        if name not in present:
            problems.append(f"{name} was applied by the migration but is not in the MRO of {class_name}")

    warnings: list[str] = []
    result["warnings"] = warnings
    for name, klass in found:
        if klass is base_class or (name, klass) in own_mixins:
            for hook in catalog[name]["hooks"]:
                problem = _hook_problem(cls, klass, hook["name"])
                if problem:
                    problems.append(problem)
        if (name, klass) in own_mixins:
            for method in catalog[name]["methods"]:
                problem = _hook_problem(cls, klass, method)
                if problem:
                    warnings.append(f"{problem} (it shadows a method of {name}, not a hook: code using "
                                    f"{name}'s API gets the node's version)")

    instance = _construct(cls, spec, problems, notes)
    result["constructed"] = instance is not None
    if instance is not None:
        called: set[str] = set()
        for name, _ in found:
            for hook in catalog[name]["hooks"]:
                check = spec["runtime_checks"].get(hook["name"])
                if check is None or hook["name"] in called:
                    continue
                called.add(hook["name"])
                problem = _runtime_problem(instance, class_name, hook["name"], check)
                if problem:
                    problems.append(problem)
                else:
                    notes.append(f"{class_name}.{hook['name']}() returns what {name} expects")
    return result


def _catalog_classes(mro: list[type], catalog: dict) -> list[tuple[str, type]]:
    """Catalog entries present in the MRO, matched by identity with the real omnibase-core class."""
    found = []
    for klass in mro:
        entry = catalog.get(klass.__name__)
        if entry is None:
            continue
        try:
            real = getattr(importlib.import_module(entry["module"]), entry["name"])
        except BaseException:
            continue
        if real is klass:
            found.append((entry["name"], klass))
    return found


def _owner(cls: type, name: str) -> type | None:
    return next((klass for klass in cls.__mro__ if name in vars(klass)), None)


def _kind(raw: object) -> str:
    if isinstance(raw, classmethod):
        return "classmethod"
    if isinstance(raw, staticmethod):
        return "staticmethod"
    if isinstance(raw, property):
        return "property"
    return "method"


def _function(raw: object):
    return raw.__func__ if isinstance(raw, (classmethod, staticmethod)) else raw


def _hook_problem(cls: type, mixin: type, hook: str) -> str | None:
    """How the class's override of ``mixin.hook`` is incompatible with it, or None."""
    owner = _owner(cls, hook)
    expected_owner = _owner(mixin, hook)
    if owner is None or expected_owner is None or owner is expected_owner:
        return None
    if cls.__mro__.index(owner) > cls.__mro__.index(mixin):
        return None  # resolved after the mixin: the mixin's own hook wins
    where = f"{owner.__name__}.{hook}"
    raw, expected = vars(owner)[hook], vars(expected_owner)[hook]
    if _kind(raw) != _kind(expected):
        return f"{where} is a {_kind(raw)}, but {mixin.__name__}.{hook} is a {_kind(expected)}"
    if _kind(raw) == "property":
        return None
    function, reference = _function(raw), _function(expected)
    if not callable(function):
        return f"{where} is not callable, but {mixin.__name__}.{hook} is a method"
    if inspect.iscoroutinefunction(function) != inspect.iscoroutinefunction(reference):
        wanted = "async" if inspect.iscoroutinefunction(reference) else "sync"
        return f"{where} must be {wanted} like {mixin.__name__}.{hook}"
    try:
        got, want = inspect.signature(function), inspect.signature(reference)
    except (TypeError, ValueError):
        return None
    skip = 0 if _kind(expected) == "staticmethod" else 1
    mismatch = _signature_mismatch(want, got, skip)
    if mismatch:
        return f"{where}{got} is not compatible with {mixin.__name__}.{hook}{want}: {mismatch}"
    return None


def _signature_mismatch(want: inspect.Signature, got: inspect.Signature, skip: int) -> str | None:
    """Why a call that ``want`` accepts may fail on ``got`` (self/cls excluded), or None."""
    wanted = list(want.parameters.values())[skip:]
    given = list(got.parameters.values())[skip:]
    got_args = any(p.kind is p.VAR_POSITIONAL for p in given)
    got_kwargs = any(p.kind is p.VAR_KEYWORD for p in given)
    got_positional = [p for p in given if p.kind in _POSITIONAL]
    got_names = {p.name: p for p in given if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}
    counterpart: dict[str, inspect.Parameter] = {}  # name in got -> the hook parameter it receives
    for position, param in enumerate(p for p in wanted if p.kind in _POSITIONAL):
        if position < len(got_positional):
            counterpart[got_positional[position].name] = param
        elif not got_args:
            return f"it does not accept the positional parameter {param.name!r}"
    for param in wanted:
        if param.kind is param.KEYWORD_ONLY:
            if param.name in got_names:
                counterpart[param.name] = param
            elif not got_kwargs:
                return f"it does not accept the keyword parameter {param.name!r}"
        elif param.kind is param.VAR_POSITIONAL and not got_args:
            return "it does not accept *args"
        elif param.kind is param.VAR_KEYWORD and not got_kwargs:
            return "it does not accept **kwargs"
    for param in given:
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD) or param.default is not param.empty:
            continue
        hook_param = counterpart.get(param.name)
        if hook_param is None:
            return f"it requires {param.name!r}, which callers of the hook do not pass"
        if hook_param.default is not hook_param.empty:
            return f"it requires {param.name!r}, which is optional in the hook"
    return None


def _construct(cls: type, spec: dict, problems: list[str], notes: list[str]) -> object | None:
    """An instance built with a real ModelONEXContainer when that is all the constructor needs."""
    try:
        signature = inspect.signature(cls)
    except (TypeError, ValueError) as exc:
        notes.append(f"not constructed: the constructor's signature is unknown ({_error(exc)})")
        return None
    params = [p for p in signature.parameters.values() if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
    if not params or params[0].kind not in _POSITIONAL:
        notes.append(f"not constructed: {cls.__name__}{signature} does not take the container first")
        return None
    required = [p.name for p in params[1:] if p.default is p.empty]
    if required:
        notes.append(f"not constructed: {cls.__name__}{signature} also needs {', '.join(required)}")
        return None
    module_name, _, attr = spec["container"].partition(":")
    try:
        container = getattr(importlib.import_module(module_name), attr)()
    except BaseException as exc:
        problems.append(f"cannot build a {attr} to construct {cls.__name__}: {_error(exc)}")
        return None
    try:
        instance = cls(container)
    except BaseException as exc:
        problems.append(f"{cls.__name__}({attr}()) raised {_error(exc)}")
        return None
    notes.append(f"constructed {cls.__name__}({attr}())")
    return instance


def _runtime_problem(instance: object, class_name: str, hook: str, check: str) -> str | None:
    """Call a pure, argument-free hook on the instance and check the shape of what it returns."""
    try:
        value = getattr(instance, hook)()
        if inspect.isawaitable(value):
            value = asyncio.run(_await(value))
    except BaseException as exc:
        return f"{class_name}.{hook}() raised {_error(exc)}"
    call = f"{class_name}.{hook}()"
    if check == "zero_arg_callables":
        if not isinstance(value, (list, tuple)):
            return f"{call} returned {type(value).__name__}, not a list of callables"
        for position, item in enumerate(value):
            if not callable(item):
                return f"{call} item {position} is {type(item).__name__}, not a callable"
            try:
                params = inspect.signature(item).parameters.values()
            except (TypeError, ValueError):
                continue
            needed = [p.name for p in params
                      if p.default is p.empty and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
            if needed:
                return (f"{call} item {position} ({getattr(item, '__qualname__', item)!s}) needs arguments "
                        f"{', '.join(needed)}; health checks are called with none")
    elif check == "list_of_str":
        if not isinstance(value, (list, tuple)) or not all(isinstance(item, str) for item in value):
            return f"{call} returned {value!r:.80}, not a list of str"
    elif check == "dict_of_str":
        if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
            return f"{call} returned {value!r:.80}, not a dict of str to str"
    return None


async def _await(value):
    return await value


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
