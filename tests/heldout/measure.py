"""Span-level scores of the rules extractor on a MemPrivacy-format JSONL file.

    .venv/bin/python tests/heldout/measure.py ../shared/eval/memprivacy_bench_dev.jsonl [--role user]

Match = exact text and exact level, one prediction per gold item, per message. Prints micro
P/R/F1, recall per level, recall on Verification Code/Password/Token, and latency per message.
Not a test: the official metric (partial credit, type similarity) is `streamproc eval`.
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

SECRET_TYPES = {"Verification Code": "VC", "Password": "Password", "Token": "Token",
                "Recovery Code": "VC", "Session Token": "Token"}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("path")
    ap.add_argument("--role", choices=["user", "assistant"])
    ap.add_argument("--min-confidence", type=float, default=0.5)
    ap.add_argument("--dump", type=int, default=0, help="print N misses and N false positives")
    ap.add_argument("--type", default=None, help="restrict the dump to one gold/pred type")
    args = ap.parse_args()
    rules = RulesExtractor(args.min_confidence)
    # Lexicons load and patterns compile on first use; keep that one-off cost out of the timings.
    rules.detect(TurnText("warmup", "user", "warm up 你好 +1 555 0100 $5 paid", "A B"))
    tp = fp = fn = 0
    level_gold: collections.Counter[str] = collections.Counter()
    level_hit: collections.Counter[str] = collections.Counter()
    sec_gold: collections.Counter[str] = collections.Counter()
    sec_hit: collections.Counter[str] = collections.Counter()
    fps: list[tuple[str, str, str, str]] = []
    misses: list[tuple[str, str, str]] = []
    times: list[float] = []
    for line in Path(args.path).read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        name = record.get("metadata", {}).get("user_name")
        for i, turn in enumerate(record["dialogues"]):
            if args.role and turn["role"] != args.role:
                continue
            t0 = time.perf_counter()
            preds = rules.detect(TurnText(str(i), turn["role"], turn["content"], name))
            times.append((time.perf_counter() - t0) * 1000)
            gold = [(g["original_text"], g["privacy_level"], g["privacy_type"]) for g in turn["privacy_info"]]
            unmatched = list(gold)
            for p in preds:
                key = next((g for g in unmatched if g[0] == p.original_text and g[1] == p.privacy_level.value), None)
                if key:
                    unmatched.remove(key)
                    tp += 1
                else:
                    fp += 1
                    fps.append((p.original_text, p.privacy_type + "/" + p.privacy_level.value, p.source, turn["content"]))
            matched = list(gold)
            for g in unmatched:
                matched.remove(g)
                misses.append((g[0], g[2] + "/" + g[1], turn["content"]))
            fn += len(unmatched)
            for g in gold:
                level_gold[g[1]] += 1
                if g in matched:
                    level_hit[g[1]] += 1
                    matched.remove(g)
                    if g[2] in SECRET_TYPES:
                        sec_hit[SECRET_TYPES[g[2]]] += 1
                if g[2] in SECRET_TYPES:
                    sec_gold[SECRET_TYPES[g[2]]] += 1
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    print(f"{args.path} role={args.role or 'both'} messages={len(times)} gold={tp + fn} pred={tp + fp}")
    print(f"  P={100 * p:.1f} R={100 * r:.1f} F1={100 * f:.1f}")
    print("  recall per level: " + ", ".join(
        f"{lv} {100 * level_hit[lv] / level_gold[lv]:.1f}% ({level_gold[lv]})" for lv in sorted(level_gold)))
    pl34 = level_hit["PL3"] + level_hit["PL4"]
    print(f"  PL3+PL4 recall: {100 * pl34 / max(1, level_gold['PL3'] + level_gold['PL4']):.1f}%")
    print("  secrets recall: " + ", ".join(
        f"{k} {100 * sec_hit[k] / sec_gold[k]:.0f}% ({sec_gold[k]})" for k in sorted(sec_gold)))
    q = statistics.quantiles(times, n=100)
    print(f"  latency ms/message: median {statistics.median(times):.3f}, p99 {q[98]:.3f}, max {max(times):.1f}")
    if args.dump:
        sel = (lambda t: args.type in t[1]) if args.type else (lambda t: True)
        print("--- false positives")
        for y in [x for x in fps if sel(x)][: args.dump]:
            i = y[3].find(y[0])
            print("  ", repr(y[0]), y[1], y[2], "|", y[3][max(0, i - 50): i + len(y[0]) + 15].replace("\n", " "))
        print("--- misses")
        for x in [x for x in misses if sel(x)][: args.dump]:
            i = x[2].find(x[0])
            print("  ", repr(x[0]), x[1], "|", x[2][max(0, i - 50): i + len(x[0]) + 15].replace("\n", " ") if i >= 0 else "<not in text>")


if __name__ == "__main__":
    main()
