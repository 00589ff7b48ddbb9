"""A scan of the twelve fixture nodes matches the answer key by line overlap."""

from answer_key import score

CONCERNS = ("circuit_breaker", "retry", "health_check", "metrics", "dead_letter_queue",
            "structured_logging", "redaction", "service_registration")


def test_scan_matches_the_answer_key(capsys):
    overall = score()
    with capsys.disabled():
        print(f"\nscan vs EXPECTED: recall {overall.recall:.3f} precision {overall.precision:.3f} "
              f"({overall.recalled}/{overall.expected} instances found, {overall.precise}/{overall.found} findings right)")
        for concern in CONCERNS:
            part = score(concern=concern)
            print(f"  {concern:22} recall {part.recall:.2f} precision {part.precision:.2f}")
    assert overall.recall >= 0.9, [f"{m.path}:{m.start_line} {m.concern} {m.symbol}" for m in overall.misses]
    assert overall.precision >= 0.9, [f"{p}:{f.start_line} {f.concern} {f.symbol}" for p, f in overall.false_positives]


def test_no_lookalike_is_reported():
    from answer_key import corpus_scans, load_key

    lookalikes = [entry for entry in load_key() if entry.lookalike]
    assert lookalikes, "the corpus plants look-alikes"
    scans = {scan.display: scan for scan in corpus_scans()}
    flagged = []
    for entry in lookalikes:
        scan = scans.get(entry.path)
        for finding in scan.findings if scan else ():
            if str(finding.concern) == entry.concern and finding.start_line <= entry.end_line and entry.start_line <= finding.end_line:
                flagged.append(f"{entry.path}:{entry.start_line} {entry.concern} ({entry.description})")
    assert not flagged, flagged
