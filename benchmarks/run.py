"""omnimix's cost against LibCST's parse floor, on a generated corpus of real size.

Usage: python benchmarks/run.py [--quick] [--json FILE] [--keep DIR]

The corpus is built in a temporary folder: both fixture corpora, each replicated under renamed
packages, plus plain Python with nothing to migrate (the installed omnibase_core's source) up to
the target size. Every figure is a whole-process wall time of the real command line (``omnimix
--no-cache ...`` unless the cache is what is measured), printed as a ratio to the parse floor:
``libcst.parse_module`` plus ``.code`` of every file, in one process.

Measured in one run: the parse floor (node files, and the mixed corpus), ``scan`` of the node
files and of the mixed corpus, a dry-run batch ``migrate`` of every node with -j 1 (from an empty
cache) and -j 2, a warm re-run with the cache and nothing changed, the time the verification gate
adds to a node's own tests (nodes of the first fixture corpus, which have tests), and peak memory
(RSS) of ``scan`` on the mixed corpus and on its largest file alone. ``--quick`` uses one replica of
one corpus, a few plain files and one gated node: it checks that the script works, not the timings.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPORA = (ROOT / "fixtures" / "omninode_bridge", ROOT / "fixtures" / "omninode_bridge_b")
PACKAGE = "omninode_bridge"
QUICK_NODES = ("llm_effect", "store_effect")
GATE_NODES = ("llm_effect", "database_adapter_effect")
TARGETS = {
    "scan_nodes": ("scan of the node corpora", 1.5),
    "scan_mixed": ("scan of the mixed corpus", 0.5),
    "migrate_j1": ("dry-run batch migrate, -j 1 (cold cache)", 2.5),
}


def replicate(corpus: Path, target: Path, suffix: str) -> Path:
    """A copy of ``corpus`` whose package is renamed ``omninode_bridge_<suffix>`` everywhere."""
    name = f"{PACKAGE}_{suffix}"
    shutil.copytree(corpus / "src" / PACKAGE, target / "src" / name,
                    ignore=shutil.ignore_patterns("__pycache__", "testing"))
    pattern = re.compile(rf"\b{PACKAGE}\b")
    for path in (target / "src" / name).rglob("*"):
        if path.suffix in (".py", ".yaml") and path.is_file():
            path.write_text(pattern.sub(name, path.read_text(encoding="utf-8")), encoding="utf-8")
    return target / "src" / name


def plain_python(target: Path, lines_wanted: int) -> int:
    """Copy omnibase_core's own modules (nothing to migrate) until ``lines_wanted`` lines."""
    import omnibase_core

    source = Path(omnibase_core.__file__).parent
    copied = 0
    for path in sorted(source.rglob("*.py")):
        if copied >= lines_wanted:
            break
        text = path.read_text(encoding="utf-8")
        destination = target / "plain" / path.relative_to(source.parent)
        destination.parent.mkdir(parents=True, exist_ok=True)
        destination.write_text(text, encoding="utf-8")
        copied += text.count("\n")
    return copied


def python_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*.py") if "__pycache__" not in p.parts)


def parse_floor(files: list[Path]) -> float:
    """Seconds for LibCST to parse and print every file, in a fresh process."""
    code = ("import sys, time, libcst\n"
            "texts = [open(p, encoding='utf-8').read() for p in sys.argv[1:]]\n"
            "start = time.perf_counter()\n"
            "for t in texts: libcst.parse_module(t).code\n"
            "print(time.perf_counter() - start)\n")
    done = subprocess.run([sys.executable, "-c", code, *map(str, files)], capture_output=True, text=True, check=True)
    return float(done.stdout.strip())


def timed(args: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, int]:
    """Wall seconds and peak RSS (MiB) of one omnimix command (its exit code is not judged)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "omnimix", *args], cwd=cwd, env=env,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return seconds, max(peak, before) // 1024


def peak_rss(args: list[str], cwd: Path, env: dict[str, str]) -> int:
    """Peak RSS (MiB) of one command, measured by a wrapper so earlier children do not count."""
    code = ("import resource, subprocess, sys\n"
            "subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)\n"
            "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024)\n")
    done = subprocess.run([sys.executable, "-c", code, sys.executable, "-m", "omnimix", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, check=True)
    return int(done.stdout.strip())


def gate_overhead(folder: Path, env: dict[str, str], nodes: tuple[str, ...]) -> dict[str, dict[str, float]]:
    """Seconds the gate adds to a node's own test runs (``migrate NODE --verify`` on a copy of the first
    fixture corpus, whose nodes have tests and import): the gate's wall time minus the longer of the
    before and after test runs, which it runs at the same time."""
    shutil.copytree(CORPORA[0], folder, ignore=shutil.ignore_patterns("__pycache__", ".pytest_cache"))
    figures = {}
    for node in nodes:
        report = folder / f"{node}.json"
        subprocess.run([sys.executable, "-m", "omnimix", "migrate", f"src/{PACKAGE}/nodes/{node}", "--verify",
                        "--report-json", str(report)], cwd=folder, env=env, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, check=False)
        gates = json.loads(report.read_text(encoding="utf-8"))["nodes"][0]["quality_gates"]
        behaviour = next(stage for stage in gates["stages"] if stage["name"] == "behaviour")
        tests = max(behaviour["details"].get("before_seconds", 0.0), behaviour["details"].get("after_seconds", 0.0))
        figures[node] = {"gate": gates["seconds"], "tests": round(tests, 2),
                         "beyond_tests": round(gates["seconds"] - tests, 2)}
    return figures


def build(folder: Path, quick: bool) -> dict[str, object]:
    nodes_roots = []
    corpora = CORPORA[:1] if quick else CORPORA
    replicas = 1 if quick else 2
    for corpus in corpora:
        for replica in range(replicas):
            root = replicate(corpus, folder / f"{corpus.name}_{replica}", f"{corpus.name[-1]}{replica}")
            if quick:  # two small nodes are enough to run every measurement
                for node in (root / "nodes").iterdir():
                    if node.is_dir() and node.name not in QUICK_NODES and node.name != "mixins":
                        shutil.rmtree(node)
            nodes_roots.append(root)
    node_files = [p for root in nodes_roots for p in python_files(root)]
    node_lines = sum(p.read_text(encoding="utf-8").count("\n") for p in node_files)
    plain = plain_python(folder, 2_000 if quick else max(0, 100_000 - node_lines))
    return {"nodes_roots": nodes_roots, "node_files": node_files, "node_lines": node_lines, "plain_lines": plain}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="a tiny corpus: checks the script, not the timings")
    parser.add_argument("--json", type=Path, default=ROOT / "benchmarks" / "results.json")
    parser.add_argument("--keep", type=Path, help="build the corpus here and keep it")
    args = parser.parse_args(argv)
    folder = args.keep or Path(tempfile.mkdtemp(prefix="omnimix-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    try:
        corpus = build(folder, args.quick)
        env = {**os.environ, "OMNIMIX_NO_CACHE": "1", "COLUMNS": "120"}
        all_files = python_files(folder)
        total_lines = sum(p.read_text(encoding="utf-8").count("\n") for p in all_files)
        largest = max(all_files, key=lambda p: p.stat().st_size)
        nodes = [str(p) for p in corpus["nodes_roots"]]
        floor_nodes = parse_floor(corpus["node_files"])
        floor_mixed = parse_floor(all_files)
        figures: dict[str, dict[str, float]] = {}

        def record(key: str, seconds: float, floor: float) -> None:
            figures[key] = {"seconds": round(seconds, 2), "ratio": round(seconds / floor, 2) if floor else 0.0}

        record("scan_nodes", timed(["scan", *nodes, "--format", "json"], folder, env)[0], floor_nodes)
        record("scan_mixed", timed(["scan", str(folder), "--format", "json"], folder, env)[0], floor_mixed)
        # The -j 1 run starts from an empty cache (it pays for writing it), and the warm re-run reads it back.
        cache_env = {**env, "OMNIMIX_CACHE_DIR": str(folder / ".cache")}
        cache_env.pop("OMNIMIX_NO_CACHE")
        cold = j1 = timed(["migrate", *nodes], folder, cache_env)[0]
        record("migrate_j1", j1, floor_nodes)
        j2 = timed(["migrate", *nodes, "--jobs", "2"], folder, env)[0]
        record("migrate_j2", j2, floor_nodes)
        warm = timed(["migrate", *nodes], folder, cache_env)[0]
        record("migrate_warm", warm, floor_nodes)
        gate = gate_overhead(folder / "gate", env, GATE_NODES[:1] if args.quick else GATE_NODES)
        memory = {"mixed_corpus_mib": peak_rss(["scan", str(folder), "--format", "json"], folder, env),
                  "largest_file_mib": peak_rss(["scan", str(largest), "--format", "json"], folder, env)}
        report = {
            "corpus": {"files": len(all_files), "lines": total_lines, "node_files": len(corpus["node_files"]),
                       "node_lines": corpus["node_lines"], "plain_lines": corpus["plain_lines"],
                       "largest_file": {"path": str(largest.relative_to(folder)),
                                        "lines": largest.read_text(encoding="utf-8").count("\n")}},
            "parse_floor_seconds": {"nodes": round(floor_nodes, 2), "mixed": round(floor_mixed, 2)},
            "figures": figures,
            "speedup_j2": round(j1 / j2, 2) if j2 else 0.0,
            "warm_over_cold": round(warm / cold, 3) if cold else 0.0,
            "peak_memory": memory,
            "gate": gate,
            "quick": args.quick,
        }
        print_report(report)
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
        print(f"\nwritten to {args.json}")
    finally:
        if args.keep is None:
            shutil.rmtree(folder, ignore_errors=True)
    return 0


def print_report(report: dict) -> None:
    corpus = report["corpus"]
    floor = report["parse_floor_seconds"]
    print(f"corpus: {corpus['files']} files, {corpus['lines']:,} lines ({corpus['node_lines']:,} in node packages, "
          f"{corpus['plain_lines']:,} plain); largest file {corpus['largest_file']['lines']:,} lines")
    print(f"parse floor: node files {floor['nodes']:.2f} s, mixed corpus {floor['mixed']:.2f} s")
    print(f"{'measure':42} {'seconds':>9} {'x floor':>8} {'target':>8}")
    labels = {**{k: v[0] for k, v in TARGETS.items()}, "migrate_j2": "dry-run batch migrate, -j 2",
              "migrate_warm": "migrate, warm re-run"}
    for key, figure in report["figures"].items():
        target = TARGETS.get(key, (None, None))[1]
        print(f"{labels[key]:42} {figure['seconds']:9.2f} {figure['ratio']:8.2f} "
              f"{(f'<= {target}' if target else ''):>8}")
    print(f"{'-j 2 speed-up over -j 1':42} {report['speedup_j2']:>18.2f} {'>= 1.7':>8}")
    print(f"{'warm re-run / cold run':42} {report['warm_over_cold']:>18.3f} {'<= 0.1':>8}")
    for node, figure in report["gate"].items():
        print(f"{'gate of ' + node + ', beyond its tests':42} {figure['beyond_tests']:9.2f} {'':>8} {'<= 5 s':>8}"
              f"   (gate {figure['gate']:.2f} s, tests {figure['tests']:.2f} s)")
    memory = report["peak_memory"]
    print(f"peak RSS: scan of the mixed corpus {memory['mixed_corpus_mib']} MiB, "
          f"of its largest file alone {memory['largest_file_mib']} MiB")


if __name__ == "__main__":
    sys.exit(main())
