"""A scan of each fixture corpus matches its answer key by line overlap.

The first corpus was written by omnimix's authors; the second, in another hand, at real size and
duplication. The thresholds hold on both without per-corpus rules.
"""

import pytest
from answer_key import CORPORA, corpus_scans, load_key, score

CONCERNS = ("circuit_breaker", "retry", "health_check", "metrics", "dead_letter_queue",
            "structured_logging", "redaction", "service_registration")
#: Concerns held to the per-concern floor on every corpus.
CORE = ("circuit_breaker", "retry", "health_check", "metrics", "dead_letter_queue", "service_registration")
#: Overall (recall, precision) each corpus keeps; the per-concern floor guards every core concern.
BAR = {"a": (0.95, 0.95), "b": (0.85, 0.9)}
#: Per-concern floor of each corpus (the second corpus holds every core concern at 0.9).
CONCERN_FLOOR = {"a": 0.85, "b": 0.9}


@pytest.mark.parametrize("corpus", sorted(CORPORA))
def test_scan_matches_the_answer_key(corpus, capsys):
    root = CORPORA[corpus]
    overall = score(root)
    parts = {concern: score(root, concern=concern) for concern in CONCERNS}
    with capsys.disabled():
        print(f"\ncorpus {corpus}: recall {overall.recall:.3f} precision {overall.precision:.3f} "
              f"({overall.recalled}/{overall.expected} instances found, {overall.precise}/{overall.found} findings right)")
        for concern, part in parts.items():
            print(f"  {concern:22} recall {part.recall:.2f} precision {part.precision:.2f}")
    recall_bar, precision_bar = BAR[corpus]
    assert overall.recall >= recall_bar, [f"{m.path}:{m.start_line} {m.concern} {m.symbol}" for m in overall.misses]
    assert overall.precision >= precision_bar, [f"{p}:{f.start_line} {f.concern} {f.symbol}"
                                                for p, f in overall.false_positives]
    weak = {c: (round(p.recall, 2), round(p.precision, 2)) for c, p in parts.items()
            if c in CORE and min(p.recall, p.precision) < CONCERN_FLOOR[corpus]}
    assert not weak, weak


@pytest.mark.parametrize("corpus", sorted(CORPORA))
def test_no_lookalike_is_reported(corpus):
    root = CORPORA[corpus]
    lookalikes = [entry for entry in load_key(root) if entry.lookalike]
    assert lookalikes, "the corpus plants look-alikes"
    scans = {scan.display: scan for scan in corpus_scans(root)}
    flagged = []
    for entry in lookalikes:
        scan = scans.get(entry.path)
        for finding in scan.findings if scan else ():
            if str(finding.concern) == entry.concern and finding.start_line <= entry.end_line and entry.start_line <= finding.end_line:
                flagged.append(f"{entry.path}:{entry.start_line} {entry.concern} ({entry.description})")
    assert not flagged, flagged
