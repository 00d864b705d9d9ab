"""Per-kind recall and false positives of the rules extractor on the identifier cases.

    .venv/bin/python tests/heldout/measure_identifiers.py [--cases tests/heldout/identifier_cases_fresh.jsonl]

A positive case counts as masked when one detection's text contains the whole expected value (a
longer span also hides it); a negative case is a false positive when anything at all is
detected in it. The cases are hand-written and synthetic (checksums computed, never real
people's numbers). The default file is the development set the unit tests assert on;
identifier_cases_fresh.jsonl beside this script was written after the detectors were done and
never tuned on (its misses are known gaps: cards grouped with dots, a NINO with the invalid
example prefix QQ). Also prints the per-message detection time over the cases.
"""

from __future__ import annotations

import argparse
import collections
import json
import statistics
import time
from pathlib import Path

from streamproc.extractors.base import TurnText
from streamproc.extractors.rules import RulesExtractor

CASES = Path(__file__).resolve().parents[1] / "unit" / "data" / "identifier_cases.jsonl"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cases", type=Path, default=CASES)
    ap.add_argument("--show", action="store_true", help="print the texts of misses and false positives")
    args = ap.parse_args()
    rules = RulesExtractor()
    rules.detect(TurnText("warmup", "user", "warm up +1 415 555 0100 DE89 3704 0044 0532 0130 00"))
    total: collections.Counter[str] = collections.Counter()
    masked: collections.Counter[str] = collections.Counter()
    times: list[float] = []
    for line in args.cases.read_text(encoding="utf-8").splitlines():
        case = json.loads(line)
        t0 = time.perf_counter()
        found = [d.original_text for d in rules.detect(TurnText("c", "user", case["text"]))]
        times.append((time.perf_counter() - t0) * 1000)
        total[case["kind"]] += 1
        ok = any(case["value"] in f for f in found) if case["kind"] != "negative" else bool(found)
        masked[case["kind"]] += ok
        if args.show and (ok == (case["kind"] == "negative")):
            print(f"  {case['kind']}: {case['text']!r} -> {found}")
    print(f"{'kind':<14}{'cases':>6}{'masked':>8}")
    for kind in sorted(total, key=lambda k: (k == "negative", k)):
        print(f"{kind:<14}{total[kind]:>6}{masked[kind]:>8}   {100 * masked[kind] / total[kind]:5.1f}%")
    positives = sum(v for k, v in total.items() if k != "negative")
    hits = sum(v for k, v in masked.items() if k != "negative")
    print(f"recall {100 * hits / positives:.1f}% of {positives}; false-positive rate "
          f"{100 * masked['negative'] / max(1, total['negative']):.1f}% of {total['negative']} negatives")
    times.sort()
    print(f"ms/message median {statistics.median(times):.3f} p99 {times[int(0.99 * (len(times) - 1))]:.3f}")


if __name__ == "__main__":
    main()
