"""Targets, the printed summary and the PNG plot of a bench result (a plain dict, as in the JSON).

Targets are for a small machine (2 cores) and are reported, never asserted: a miss is a finding.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from streamproc.bench.common import BenchError

MASK_RATIO_MIN = 0.5
ADDED_P99_MAX_MS = 50.0
STREAM_ADDED_P99_MAX_MS = 10.0  # per chunk, over the pass-through (issue #15)
VAULT_NEW_MIN = 10_000.0
EXTRACTOR_MEDIAN_MAX_MS = 2.0
EXTRACTOR_WORST_MAX_MS = 50.0  # one 32,000-character hostile turn (#10)
COLORS = {"baseline_tx": "tab:blue", "baseline_plain": "tab:cyan", "mask": "tab:orange", "restore": "tab:green", "restore_stream": "tab:olive"}


def targets(result: dict[str, Any]) -> list[dict[str, Any]]:
    s = result["summary"]
    rows = [
        ("mask flow >= 50% of transactional pass-through rate", "ratio", s["mask_to_baseline_ratio"], MASK_RATIO_MIN, ">="),
        (f"added p99 latency <= 50 ms at {result['config']['rate']:g} turns/s", "ms", s["added_latency_ms"]["mask"]["p99"], ADDED_P99_MAX_MS, "<="),
        (f"streamed restore: added p99 <= 10 ms per chunk at {result['config']['rate']:g} chunks/s", "ms", s["added_latency_ms"]["restore_stream"]["p99"], STREAM_ADDED_P99_MAX_MS, "<="),
        ("vault >= 10,000 new mappings/s (Postgres)", "mappings/s", result["vault"]["postgres"]["new_mappings_per_s"], VAULT_NEW_MIN, ">="),
        ("rules extractor median <= 2 ms per message (#7)", "ms", result["extractor"]["median_ms"], EXTRACTOR_MEDIAN_MAX_MS, "<="),
    ]
    if "hostile" in result["extractor"]:
        rows.append(("rules extractor worst hostile turn (32,000 chars) <= 50 ms (#10)", "ms",
                     result["extractor"]["hostile"]["worst_ms"], EXTRACTOR_WORST_MAX_MS, "<="))
    return [
        {"target": name, "unit": unit, "measured": measured, "threshold": threshold,
         "pass": measured >= threshold if op == ">=" else measured <= threshold}
        for name, unit, measured, threshold, op in rows
    ]


def pick(rows: list[dict[str, Any]], name: str, **match: Any) -> dict[str, Any]:
    for row in rows:
        if row["pass"] == name and all(row.get(k) == v for k, v in match.items()):
            return row
    raise BenchError(f"no {name} result for {match}")


def summary(b: int, rate: float, batch_sizes: tuple[int, ...], throughput: list[dict[str, Any]], latency: list[dict[str, Any]]) -> dict[str, Any]:
    tps = {name: pick(throughput, name, batch=b)["turns_per_s"] for name in ("baseline_tx", "baseline_plain", "mask", "restore")}
    at_rate = {name: pick(latency, name, offered_rate=rate)["latency_ms"] for name in ("baseline_tx", "mask", "restore", "restore_stream")}
    base = at_rate["baseline_tx"]
    return {
        "batch": b,
        "turns_per_s": tps,
        "mask_to_baseline_ratio": round(tps["mask"] / tps["baseline_tx"], 3),
        "restore_to_baseline_ratio": round(tps["restore"] / tps["baseline_tx"], 3),
        "mask_to_plain_ratio": round(tps["mask"] / tps["baseline_plain"], 3),
        # CPU per turn of this process (and its children): steadier than turns/s on a shared machine.
        "cpu_ms_per_turn": {name: pick(throughput, name, batch=b).get("cpu_ms_per_turn") for name in ("baseline_tx", "mask", "restore")},
        "mask_to_baseline_ratio_by_batch": {
            str(size): round(pick(throughput, "mask", batch=size)["turns_per_s"] / pick(throughput, "baseline_tx", batch=size)["turns_per_s"], 3)
            for size in batch_sizes
        },
        "latency_ms": {name: {"p50": lat["p50"], "p99": lat["p99"]} for name, lat in at_rate.items()},
        # Above its measured capacity a flow's queue grows for the whole pass: its latency is then
        # queueing time and grows with the pass length, not a steady-state figure.
        "rate_exceeds_capacity": {name: rate > tps[name.removesuffix("_stream")] for name in ("mask", "restore", "restore_stream")},
        "added_latency_ms": {
            name: {"p50": round(at_rate[name]["p50"] - base["p50"], 3), "p99": round(at_rate[name]["p99"] - base["p99"], 3)}
            for name in ("mask", "restore", "restore_stream")
        },
    }


def print_summary(result: dict[str, Any], console: Console) -> None:
    s = result["summary"]
    table = Table(title=f"streamproc bench  {result['started_at']}  ({result['machine']['cpus']} cores)")
    table.add_column("measure")
    table.add_column("value", justify="right")
    for row in result["throughput"]:
        table.add_row(f"throughput {row['pass']} (batch {row['batch']})", f"{row['turns_per_s']:,.0f} turns/s")
    table.add_row("mask / transactional pass-through", f"{s['mask_to_baseline_ratio']:.2f}")
    table.add_row("restore / transactional pass-through", f"{s['restore_to_baseline_ratio']:.2f}")
    cpu = s.get("cpu_ms_per_turn", {})
    if all(cpu.get(k) for k in ("baseline_tx", "mask", "restore")):
        table.add_row("CPU ms per turn: pass-through / mask / restore", f"{cpu['baseline_tx']:.3f} / {cpu['mask']:.3f} / {cpu['restore']:.3f}")
    for name, lat in s["latency_ms"].items():
        table.add_row(f"latency {name} @ {result['config']['rate']:g}/s p50 / p99", f"{lat['p50']:.0f} / {lat['p99']:.0f} ms")
    for name, lat in s["added_latency_ms"].items():
        over = " (load > capacity)" if s["rate_exceeds_capacity"][name] else ""
        table.add_row(f"added latency {name} p50 / p99{over}", f"{lat['p50']:.0f} / {lat['p99']:.0f} ms")
    for backend, v in result["vault"].items():
        table.add_row(f"vault {backend}: new / recall / lookups per s",
                      f"{v['new_mappings_per_s']:,.0f} / {v['recall_per_s']:,.0f} / {v['lookups_per_s']:,.0f}")
    ex = result["extractor"]
    table.add_row("rules extractor median / p99 per message", f"{ex['median_ms']:.3f} / {ex['p99_ms']:.3f} ms")
    if "hostile" in ex:
        h = ex["hostile"]
        table.add_row(f"rules extractor hostile catalogue ({h['cases']} turns ≤ 32,000 chars) median / worst",
                      f"{h['median_case_ms']:.0f} / {h['worst_ms']:.0f} ms ({h['worst_case']})")
    console.print(table)
    checks = Table(title="targets (this machine; reported, not asserted)")
    for col in ("target", "measured", "threshold", "result"):
        checks.add_column(col)
    for t in result["targets"]:
        checks.add_row(t["target"], f"{t['measured']:,.3f} {t['unit']}" if t["measured"] < 10 else f"{t['measured']:,.0f} {t['unit']}", f"{t['threshold']:,g}", "[green]pass" if t["pass"] else "[red]MISS")
    console.print(checks)
    if "sizing" in result:
        plan = result["sizing"]
        console.print(
            f"sizing for {plan['target_turns_per_s']:,.0f} turns/s on this hardware: {plan['worker_processes']} worker "
            f"process(es) (one core each), >= {plan['partitions_at_least']} partitions, vault write load "
            f"{plan['vault_write_load']:.0%} of one Postgres ({'ok' if plan['vault_ok'] else 'too high: faster Postgres'})"
        )


def plot(result: dict[str, Any], path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.8))
    by_pass: dict[str, list[tuple[int, float]]] = {}
    for row in result["throughput"]:
        by_pass.setdefault(row["pass"], []).append((row["batch"], row["turns_per_s"]))
    for name, points in by_pass.items():
        points.sort()
        left.plot([b for b, _ in points], [t for _, t in points], marker="o", label=name, color=COLORS.get(name))
    left.set_xscale("log", base=2)
    left.set_xlabel("batch size (max turns)")
    left.set_ylabel("turns/s")
    left.set_title("throughput vs batch size")
    left.grid(True, alpha=0.3)
    left.legend(fontsize=8)

    by_flow: dict[str, list[tuple[float, float, float]]] = {}
    for row in result["latency"]:
        lat = row["latency_ms"]
        by_flow.setdefault(row["pass"], []).append((row["offered_rate"], lat["p50"], lat["p99"]))
    for name, points in by_flow.items():
        points.sort()
        xs = [p[0] for p in points]
        right.plot(xs, [p[1] for p in points], marker="o", color=COLORS.get(name), label=f"{name} p50")
        right.plot(xs, [p[2] for p in points], marker="^", linestyle="--", color=COLORS.get(name), label=f"{name} p99")
    right.set_yscale("log")
    right.set_xlabel("offered load (turns/s)")
    right.set_ylabel("end-to-end latency (ms)")
    right.set_title("latency vs load")
    right.grid(True, alpha=0.3)
    right.legend(fontsize=8)
    fig.suptitle(f"streamproc bench {result['started_at']} ({result['machine']['cpus']} cores)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
