"""An on-disk cache of scan and migration results, keyed by content, so a re-run with nothing
changed costs hashing.

Keys cover everything a result depends on: the file or node texts, the contract, the options,
the repository's files (by size and modification time), and a digest of omnimix's own code and
catalog, so a new omnimix never reads an old entry. Entries are written to a temporary file and
renamed into place; a missing, truncated, corrupt or foreign entry is a miss. Deleting the cache
during a run, corrupting it, or sharing it between runs gives the same results as no cache.
``OMNIMIX_NO_CACHE=1`` (or ``--no-cache``) turns it off; ``OMNIMIX_CACHE_DIR`` moves it.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import tempfile
from collections.abc import Callable, Iterable
from functools import lru_cache
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")
_PACKAGE_ROOT = Path(__file__).resolve().parents[2]
_FORMAT = b"omnimix-cache-1"


def enabled() -> bool:
    return os.environ.get("OMNIMIX_NO_CACHE", "") in ("", "0")


def directory() -> Path:
    configured = os.environ.get("OMNIMIX_CACHE_DIR")
    if configured:
        return Path(configured)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "omnimix"


@lru_cache(maxsize=1)
def code_digest() -> str:
    """A digest of omnimix's code and catalog: results computed by another omnimix never match."""
    digest = hashlib.sha256()
    for folder in ("omnimix", "codemods", "catalog"):
        for path in sorted((_PACKAGE_ROOT / folder).rglob("*")):
            if path.suffix in (".py", ".yaml") and path.is_file():
                digest.update(path.relative_to(_PACKAGE_ROOT).as_posix().encode())
                digest.update(path.read_bytes())
    return digest.hexdigest()


def key(*parts: str | bytes) -> str:
    digest = hashlib.sha256(code_digest().encode())
    for part in parts:
        data = part.encode("utf-8", "surrogatepass") if isinstance(part, str) else part
        digest.update(len(data).to_bytes(8, "little"))
        digest.update(data)
    return digest.hexdigest()


def files_digest(paths: Iterable[Path]) -> str:
    """A cheap digest of a set of files: their paths, sizes and modification times."""
    digest = hashlib.sha256()
    for path in sorted(paths):
        try:
            stat = path.stat()
        except OSError:
            continue
        digest.update(f"{path}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode("utf-8", "surrogatepass"))
    return digest.hexdigest()


def by_text(kind: str, text: str, compute: Callable[[str], T]) -> T:
    """``compute(text)``, read back when the same omnimix saw the same text before (a re-run's summary
    counts and reads every file of the run again)."""
    if not enabled():
        return compute(text)
    name = key(kind, text)
    found = get(kind, name)
    if found is None:
        found = compute(text)
        put(kind, name, found)
    return found  # type: ignore[return-value]


def _entry(kind: str, name: str) -> Path:
    return directory() / kind / name[:2] / name


def get(kind: str, name: str) -> object | None:
    """The value stored under ``name``, or None for a miss (whatever the reason)."""
    if not enabled():
        return None
    try:
        data = _entry(kind, name).read_bytes()
        header, _, body = data.partition(b"\n")
        if header != _FORMAT + b" " + name.encode():
            return None
        return pickle.loads(body)
    except Exception:  # a missing, truncated or corrupt entry is a miss
        return None


def put(kind: str, name: str, value: object) -> None:
    """Store ``value``; failures (read-only disk, a concurrent delete) are ignored."""
    if not enabled():
        return
    target = _entry(kind, name)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        payload = _FORMAT + b" " + name.encode() + b"\n" + pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
        fd, temp = tempfile.mkstemp(prefix=".entry.", dir=target.parent)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(payload)
            os.replace(temp, target)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise
    except Exception:
        return
