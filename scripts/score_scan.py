"""Score `omnimix scan` of the fixture corpus against its answer key (precision and recall by line overlap)."""

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from answer_key import CORPORA, score  # noqa: E402

CONCERNS = ("circuit_breaker", "retry", "health_check", "metrics", "dead_letter_queue",
            "structured_logging", "redaction", "service_registration")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--concern", choices=CONCERNS)
    parser.add_argument("-v", "--verbose", action="store_true", help="list misses and false positives")
    parser.add_argument("--corpus", choices=sorted(CORPORA), default="a", help="a: the first corpus, b: the second")
    args = parser.parse_args()
    root = CORPORA[args.corpus]
    concerns = [args.concern] if args.concern else [*CONCERNS, None]
    for concern in concerns:
        result = score(root, concern=concern)
        label = concern or "ALL"
        print(f"{label:22} expected {result.expected:3}  found {result.found:3}  "
              f"recall {result.recall:.2f}  precision {result.precision:.2f}")
        if args.verbose or args.concern:
            for miss in result.misses:
                print(f"   MISS {miss.path}:{miss.start_line}-{miss.end_line} {miss.concern} {miss.symbol}: {miss.description}")
            for path, f in result.false_positives:
                print(f"   FP   {path}:{f.start_line}-{f.end_line} {f.concern} {f.symbol} [{f.detector}]")


if __name__ == "__main__":
    main()
