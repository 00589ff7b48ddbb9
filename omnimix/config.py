"""``[tool.omnimix]`` in the nearest pyproject.toml that has one: defaults that command-line flags override.

Keys may be written kebab-case (``line-length``, as ruff and black do) or snake_case (``line_length``).
An unknown key is an error naming the key, the file and the closest valid key.
"""

from __future__ import annotations

import difflib
import tomllib
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from omnimix.concerns import Concern


class ConfigError(Exception):
    """``[tool.omnimix]`` cannot be read or does not validate; the message names the file and the key."""


class OmnimixConfig(BaseModel):
    """The settings of ``[tool.omnimix]``; relative paths are relative to the pyproject.toml's directory."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    nodes_root: Path | None = Field(None, description="where the nodes live: the default PATH of scan and "
                                                      "migrate, and the root node names are shown relative to")
    exclude: list[str] = Field(default_factory=list, description="globs on short node names (and, for scan, "
                                                                 "on file paths) to leave out")
    line_length: int | None = Field(None, gt=0, description="line length of rewritten code (wins over "
                                                            "[tool.ruff] and [tool.black])")
    jobs: int | None = Field(None, ge=0, description="worker processes; 0 = one per CPU")
    report_json: Path | None = None
    report_md: Path | None = None
    report_html: Path | None = None
    unsafe_concerns: list[Concern] | None = Field(None, description="the concerns whose unsafe changes "
                                                                    "--unsafe applies (default: all)")
    source: Path | None = Field(None, exclude=True, description="the pyproject.toml read (set by omnimix)")

    def path(self, value: Path | None) -> Path | None:
        """``value`` resolved against the directory of the pyproject.toml it came from."""
        if value is None or self.source is None or value.is_absolute():
            return value
        return self.source.parent / value


#: Keys users may write (without ``source``, which omnimix sets).
KEYS = tuple(name for name in OmnimixConfig.model_fields if name != "source")


def find_pyproject(start: Path) -> Path | None:
    """The nearest pyproject.toml at or above ``start`` that has a ``[tool.omnimix]`` table."""
    start = start.resolve()
    for directory in [start if start.is_dir() else start.parent, *start.parents]:
        candidate = directory / "pyproject.toml"
        if candidate.is_file() and "omnimix" in _tool_tables(candidate):
            return candidate
    return None


def _tool_tables(pyproject: Path) -> dict[str, object]:
    try:
        tool = tomllib.loads(pyproject.read_text(encoding="utf-8")).get("tool", {})
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return {}
    return tool if isinstance(tool, dict) else {}


def load_config(start: Path) -> OmnimixConfig:
    """The ``[tool.omnimix]`` settings that apply at ``start`` (all defaults when no pyproject.toml has them)."""
    pyproject = find_pyproject(start)
    if pyproject is None:
        return OmnimixConfig()
    return read_config(pyproject)


def read_config(pyproject: Path) -> OmnimixConfig:
    """``[tool.omnimix]`` of ``pyproject``; raises ``ConfigError`` naming the file and the bad key."""
    try:
        data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{pyproject}: cannot read: {exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{pyproject}: not valid TOML: {exc}") from exc
    table = data.get("tool", {}).get("omnimix", {})
    if not isinstance(table, dict):
        raise ConfigError(f"{pyproject}: [tool.omnimix] must be a table")
    written = {key.replace("-", "_"): key for key in table}
    for key, original in written.items():
        if key not in KEYS:
            raise ConfigError(f"{pyproject}: [tool.omnimix] has an unknown key {original!r}"
                              + _did_you_mean(original))
    values = {key.replace("-", "_"): value for key, value in table.items()}
    try:
        return OmnimixConfig(**values, source=pyproject)
    except ValidationError as exc:
        problem = exc.errors()[0]
        loc = [str(part) for part in problem["loc"]] or ["?"]
        name = ".".join([written.get(loc[0], loc[0]), *loc[1:]])
        raise ConfigError(f"{pyproject}: [tool.omnimix] {name}: {problem['msg']} "
                          f"(got {problem.get('input')!r})") from None


def _did_you_mean(key: str) -> str:
    kebab = "-" in key
    names = [name.replace("_", "-") if kebab else name for name in KEYS]
    close = difflib.get_close_matches(key, names, n=1, cutoff=0.5)
    if not close:
        close = difflib.get_close_matches(key.replace("-", "_"), list(KEYS), n=1, cutoff=0.3)
    valid = ", ".join(names)
    return (f"; did you mean {close[0]!r}?" if close else "") + f" (valid keys: {valid})"
