"""Benchmark: scan and migrate cost against LibCST's own parse time, and peak memory.

Usage: .venv/bin/python scripts/benchmark.py [--repeat N] [PATH]
"""

import argparse
import resource
import statistics
import sys
import time
from pathlib import Path

import libcst as cst

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from omnimix.discovery import node_dirs, python_files  # noqa: E402
from omnimix.engine import migrate_node, scan_paths  # noqa: E402


def best_of(repeat: int, work) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return min(times), statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("path", nargs="?", default=str(ROOT / "fixtures/omninode_bridge/src"))
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    files = python_files([Path(args.path)])
    texts = [f.read_text(encoding="utf-8") for f in files]
    lines = sum(t.count("\n") for t in texts)
    parse_best, parse_median = best_of(args.repeat, lambda: [cst.parse_module(t) for t in texts])
    scan_best, scan_median = best_of(args.repeat, lambda: scan_paths(files, ROOT))
    nodes = [n for n in node_dirs(Path(args.path)) if n.contract]
    migrate_best, migrate_median = best_of(
        max(1, args.repeat // 2),
        lambda: [migrate_node(n, ROOT, repository_files=tuple(files)) for n in nodes])
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"corpus: {len(files)} files, {lines} lines, {len(nodes)} nodes with a contract")
    print(f"libcst parse only : best {parse_best*1000:8.1f} ms   median {parse_median*1000:8.1f} ms")
    print(f"omnimix scan      : best {scan_best*1000:8.1f} ms   median {scan_median*1000:8.1f} ms   "
          f"= {scan_best/parse_best:.2f}x parse")
    print(f"omnimix migrate   : best {migrate_best*1000:8.1f} ms   median {migrate_median*1000:8.1f} ms   "
          f"(all nodes, dry-run)")
    print(f"scan throughput   : {lines/scan_best:,.0f} lines/s")
    print(f"peak RSS          : {peak_mb:.0f} MiB")


if __name__ == "__main__":
    main()
