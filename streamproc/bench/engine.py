"""`streamproc bench --engine vllm`: the GPU extraction bench for the vLLM extractor.

In one run, on the generated workload: one request at a time (the baseline), then 1, 2, 4, ... 256
requests in flight (a closed loop: each of c workers sends its next turn when the previous one
answers; the engine batches whatever is in flight). For each level: turns/s, per-request p50/p99
latency, and the speed-up over the baseline. Writes `bench-vllm-<timestamp>.json` into `--out`.

The extractor is the project's own (`streamproc.app.build_model`): in-process AsyncLLM with
`--model DIR`, or the HTTP client when STREAMPROC_EXTRACTION__VLLM_URL is set. vLLM is imported
only through it; when it cannot be, this prints why and exits 2. Only counts and timings are
printed, never a turn or a span.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
import os
import platform
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from rich.console import Console

from streamproc.bench.common import progress_bar, summarize_ms
from streamproc.bench.workload import Workload
from streamproc.core.errors import ExtractionError
from streamproc.extractors.base import Extractor, TurnText
from streamproc.settings import Settings

LEVELS = tuple(2**i for i in range(9))  # 1 .. 256
SMOKE_LEVELS = (1, 2, 4)


def _engine_settings(settings: Settings, args: argparse.Namespace) -> Settings:
    ex = settings.extraction
    kind = "vllm-http" if ex.vllm_url else "vllm-inprocess"
    update: dict[str, Any] = {"extractor": kind, "max_concurrency": max(LEVELS), "on_failure": "retry"}
    if args.model:
        update["model"] = args.model
    return settings.model_copy(update={"extraction": ex.model_copy(update=update)})


def _gpu() -> str | None:
    try:
        import torch

        return str(torch.cuda.get_device_name(0)) if torch.cuda.is_available() else None
    except ImportError:
        return None


def run_engine_bench(settings: Settings, args: argparse.Namespace) -> int:
    console = Console(stderr=True)

    def say(message: str) -> None:
        console.print(message, markup=False, highlight=False)

    settings = _engine_settings(settings, args)
    ex = settings.extraction
    if ex.extractor == "vllm-inprocess":
        if not ex.model:
            say("bench --engine vllm: give --model DIR (or set STREAMPROC_EXTRACTION__VLLM_URL)")
            return 2
        if importlib.util.find_spec("vllm") is None:
            say("bench --engine vllm: vLLM is not installed in this environment (pip install '.[gpu]' on a GPU machine)")
            return 2
    try:
        from streamproc.app import build_model

        extractor = build_model(settings)
    except (ImportError, ExtractionError) as err:
        say(f"bench --engine vllm: cannot build the vLLM extractor: {type(err).__name__}: {err}")
        return 2
    try:
        result = asyncio.run(_bench(extractor, args, console))
    except ExtractionError as err:
        say(f"bench --engine vllm: the extractor failed: {err}")
        return 2 if not err.retriable else 1
    result["machine"] = {"cpus": os.cpu_count(), "gpu": _gpu(), "platform": platform.platform(), "python": sys.version.split()[0]}
    result["config"] = {"extractor": ex.extractor, "model": ex.model, "vllm_url_set": bool(ex.vllm_url), "seed": args.seed,
                        "users": args.users, "smoke": args.smoke, "max_tokens": ex.max_tokens}
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"bench-vllm-{result['started_at'].replace('-', '').replace(':', '')}.json"
    path.write_text(json.dumps(result, indent=2) + "\n")
    for row in result["levels"]:
        console.print(f"concurrency {row['concurrency']:>3}: {row['turns_per_s']:8.1f} turns/s  p50 {row['latency_ms']['p50']:8.1f} ms"
                      f"  p99 {row['latency_ms']['p99']:8.1f} ms  x{row['speedup']:.1f}")
    print(path)
    return 0


async def _closed_loop(extractor: Extractor, turns: list[TurnText], concurrency: int) -> tuple[float, list[float], int]:
    """`concurrency` workers, each sending its next single-turn request when the last answered.
    Returns (seconds, per-request latencies in ms, spans found)."""
    latencies: list[float] = []
    spans = 0
    queue = iter(turns)

    async def worker() -> None:
        nonlocal spans
        for turn in queue:
            started = time.perf_counter()
            found = await extractor.extract([turn])
            latencies.append((time.perf_counter() - started) * 1000)
            spans += len(found[0])

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return time.perf_counter() - started, latencies, spans


async def _bench(extractor: Extractor, args: argparse.Namespace, console: Console) -> dict[str, Any]:
    started_at = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    levels = SMOKE_LEVELS if args.smoke else LEVELS
    per_level = (lambda c: max(8, 2 * c)) if args.smoke else (lambda c: max(64, 4 * c))
    pool = [t.raw for t in Workload(users=args.users, seed=args.seed).turns(max(per_level(c) for c in levels))]
    rows: list[dict[str, Any]] = []
    try:
        t0 = time.perf_counter()
        start = getattr(extractor, "start", None)
        if start is not None:
            await start()  # engine start-up (weights, graphs) is reported, not timed with the levels
        await extractor.extract([TurnText("warm-0", pool[0].role, pool[0].content, pool[0].real_name)])
        startup_s = time.perf_counter() - t0
        with progress_bar(console) as progress:
            baseline_n = 8 if args.smoke else 64
            for label, concurrency, n in [("one at a time", 1, baseline_n), *((f"concurrency {c}", c, per_level(c)) for c in levels)]:
                task = progress.add_task(label, total=1)
                turns = [TurnText(f"{t.turn_id}-c{concurrency}-{len(rows)}", t.role, t.content, t.real_name) for t in pool[:n]]
                seconds, latencies, spans = await _closed_loop(extractor, turns, concurrency)
                rows.append({"concurrency": concurrency, "baseline": label == "one at a time", "turns": n, "seconds": round(seconds, 3),
                             "turns_per_s": round(n / seconds, 2), "latency_ms": summarize_ms(latencies), "spans_found": spans})
                progress.update(task, completed=1)
    finally:
        await extractor.aclose()
    base_rate = rows[0]["turns_per_s"]
    for row in rows:
        row["speedup"] = round(row["turns_per_s"] / base_rate, 2)
    return {"schema": "streamproc-bench-vllm/1", "started_at": started_at, "extractor": f"{extractor.name}/{extractor.version}",
            "startup_s": round(startup_s, 1), "baseline": rows[0], "levels": rows[1:]}
