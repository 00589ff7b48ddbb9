"""The benchmark script runs end to end on a tiny corpus and writes every figure (timings not judged)."""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_benchmark_runs_and_reports_every_measure(tmp_path):
    out = tmp_path / "bench.json"
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "run.py"), "--quick", "--json", str(out)],
                          capture_output=True, text=True, timeout=900, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads(out.read_text(encoding="utf-8"))
    assert set(report["figures"]) == {"scan_nodes", "scan_mixed", "migrate_j1", "migrate_j2", "migrate_warm"}
    assert all(f["seconds"] > 0 and f["ratio"] > 0 for f in report["figures"].values())
    assert report["parse_floor_seconds"]["nodes"] > 0
    assert report["corpus"]["node_files"] > 0 and report["corpus"]["plain_lines"] > 0
    assert report["peak_memory"]["mixed_corpus_mib"] > 0
    [gate] = report["gate"].values()
    assert gate["gate"] > 0 and gate["tests"] > 0
    assert abs(gate["beyond_tests"] - (gate["gate"] - gate["tests"])) <= 0.011  # each figure rounded apart
    assert "x floor" in done.stdout
