"""The generalisation protocol of issue #12: one develop set, three validation sets, one table.

    .venv/bin/python tests/heldout/fourway.py [--preset default|strict] [--dump develop 20]

develop = the English MemPrivacy-Bench dev user (the only data the rules were tuned against);
validation = the Chinese dev user, PersonaMem-v2 dev, and tests/heldout/heldout_v2.jsonl (written
before tuning). Scores are `streamproc eval`'s (micro span F1 with partial credit); leak is the
share of gold values still in clear after masking; ms is the median per message of `detect`.
Not a test: the dev files live outside the repository and are read only when present.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from streamproc.core.taxonomy import PrivacyLevel
from streamproc.eval.dataset import load_messages
from streamproc.eval.runner import score
from streamproc.extractors.rules import RulesExtractor

EVAL = Path(__file__).resolve().parents[2] / ".." / "shared" / "eval"
HERE = Path(__file__).resolve().parent
DEV = EVAL / "memprivacy_bench_dev.jsonl"
SETS = {
    "develop (dev EN user)": (DEV, ["58f6678d"]),
    "validate: dev ZH user": (DEV, ["89d11df6"]),
    "validate: PersonaMem-v2": (EVAL / "personamem_v2_dev.jsonl", None),
    "validate: own held-out v2": (HERE / "heldout_v2.jsonl", None),
}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--preset", default="default")
    ap.add_argument("--dump", nargs=2, metavar=("SET_PREFIX", "N"), default=None,
                    help="print N misses and false positives of one set (develop only, by protocol)")
    args = ap.parse_args()
    extractor = RulesExtractor.from_preset(args.preset) if hasattr(RulesExtractor, "from_preset") \
        else RulesExtractor()
    print("| set | F1 | P | R | leak | leak PL4 | median ms |\n|---|---|---|---|---|---|---|")
    for name, (path, users) in SETS.items():
        messages = load_messages(path, users=users)
        preds, times = [], []
        for m in messages:
            t = time.perf_counter()
            preds.append(extractor.detect(m.turn_text()))
            times.append((time.perf_counter() - t) * 1000)
        metrics, leak = score(messages, preds)
        o = metrics.overall
        print(f"| {name} | {o.f1 * 100:.1f} | {o.precision * 100:.1f} | {o.recall * 100:.1f} | "
              f"{leak.rate * 100:.1f}% | {leak.rate_for(PrivacyLevel.PL4) * 100:.1f}% | "
              f"{statistics.median(times):.3f} |")
        if args.dump and name.startswith(args.dump[0]):
            _dump(messages, preds, int(args.dump[1]))


def _dump(messages, preds, n: int) -> None:  # type: ignore[no-untyped-def]
    misses, fps = [], []
    for m, p in zip(messages, preds, strict=True):
        got = {d.original_text for d in p}
        want = {g.original_text for g in m.gold}
        misses += [(g.privacy_type, g.original_text, m.content[:160]) for g in m.gold if g.original_text not in got]
        fps += [(d.privacy_type, d.original_text, d.source) for d in p if d.original_text not in want]
    for row in misses[:n]:
        print("MISS", row)
    for row in fps[:n]:
        print("FP  ", row)


if __name__ == "__main__":
    main()
