"""The bench's profiling and growth passes, run by streamproc.bench.runner (see stages.py and
growth.py for what each measures)."""

from __future__ import annotations

import tempfile
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from streamproc.bench import growth, stages
from streamproc.bench.common import KV, TopicRegistry, bench_vault, pass_settings, prefill, progress_bar
from streamproc.bench.passes import running_worker, throughput_pass
from streamproc.bench.workload import Workload
from streamproc.codec import encode
from streamproc.settings import Settings
from streamproc.bench.scratch import scratch_database

PREFILL_CHUNK = 20_000  # records produced at a time in a soak, so the bench's own memory stays flat


async def stage_profile(flow: str, s: Settings, inputs: list[KV], unprofiled: dict[str, float], artefacts: Path,
                        registry: TopicRegistry, progress: Progress) -> dict[str, Any]:
    """One pass of `flow` ("mask" or "restore") under cProfile (CPU clock), fed `inputs` on the
    flow's input topic of `s` (fresh topics; for restore, `s.vault` must hold the mappings);
    per-stage ms per turn scaled to the unprofiled pass of the same flow (`unprofiled`: its
    throughput row)."""
    await registry.create(s.kafka)
    await prefill(s.kafka, s.kafka.raw_topic if flow == "mask" else s.kafka.response_topic, inputs)
    prof = stages.profiler()
    try:
        row = await throughput_pass(running_worker(s, flow), len(inputs), progress, f"{flow} profiled b={s.batching.max_turns}",
                                    prof.enable, prof.disable)
    finally:
        prof.disable()
    out = stages.stage_breakdown(prof, len(inputs), unprofiled, "extraction" if flow == "mask" else "other")
    out["profiled_pass"] = row
    suffix = "-profile.pstats" if flow == "mask" else f"-profile-{flow}.pstats"
    out["cprofile"] = str(stages.write_profile(prof, artefacts.with_name(artefacts.name + suffix)))
    return out


async def mask_stage_profile(base: Settings, pg_url: str, config: Any, registry: TopicRegistry, records: list[KV],
                             unprofiled: dict[str, float], artefacts: Path, progress: Progress) -> dict[str, Any]:
    """The mask flow's stage profile on a fresh vault (`config.profile_turns` turns)."""
    with tempfile.TemporaryDirectory(prefix="streamproc-bench-") as tmp:
        async with scratch_database(pg_url) as db:
            s = pass_settings(base, bench_vault(base, db), Path(tmp), max_turns=config.default_batch)
            return await stage_profile("mask", s, records[: config.profile_turns], unprofiled, artefacts, registry, progress)


async def growth_passes(base: Settings, pg_url: str, config: Any, registry: TopicRegistry, records: list[KV],
                        progress: Progress) -> dict[str, Any]:
    out: dict[str, Any] = {}
    b = config.default_batch
    with tempfile.TemporaryDirectory(prefix="streamproc-bench-") as tmp:
        state = Path(tmp)
        if config.prefill_mappings:
            rows: dict[str, Any] = {}
            for label, mappings in (("empty", 0), ("prefilled", config.prefill_mappings)):
                async with scratch_database(pg_url) as db:
                    s = pass_settings(base, bench_vault(base, db), state, max_turns=b)
                    if mappings:
                        task = progress.add_task(f"vault prefill {mappings:,}", total=1)
                        rows["prefill"] = await growth.prefill_vault(s, mappings, growth.user_ids(records))
                        progress.update(task, completed=1)
                    await registry.create(s.kafka)
                    await prefill(s.kafka, s.kafka.raw_topic, records)
                    rows[label] = await throughput_pass(running_worker(s, "mask"), len(records), progress, f"mask vault {label} b={b}")
            rows["prefilled_to_empty_ratio"] = round(rows["prefilled"]["turns_per_s"] / rows["empty"]["turns_per_s"], 3)
            out["prefilled_vault"] = rows
        if config.processes_pass:
            rows = {}
            for processes in (1, 2):
                async with scratch_database(pg_url) as db:
                    s = pass_settings(base, bench_vault(base, db), state, max_turns=b)
                    await registry.create(s.kafka)
                    await prefill(s.kafka, s.kafka.raw_topic, records)
                    task = progress.add_task(f"worker --processes {processes}", total=1)
                    rows[str(processes)] = await growth.subprocess_pass(s, processes, len(records))
                    progress.update(task, completed=1)
            rows["two_to_one_ratio"] = round(rows["2"]["turns_per_s"] / rows["1"]["turns_per_s"], 3)
            out["processes"] = rows
        if config.loop_pass:
            rows = {}
            for loop in ("asyncio", "uvloop"):
                async with scratch_database(pg_url) as db:
                    s = pass_settings(base, bench_vault(base, db), state, max_turns=b)
                    await registry.create(s.kafka)
                    await prefill(s.kafka, s.kafka.raw_topic, records)
                    task = progress.add_task(f"worker loop {loop}", total=1)
                    rows[loop] = await growth.subprocess_pass(s, 1, len(records), {"STREAMPROC_EVENT_LOOP": loop})
                    progress.update(task, completed=1)
            rows["uvloop_to_asyncio_ratio"] = round(rows["uvloop"]["turns_per_s"] / rows["asyncio"]["turns_per_s"], 3)
            out["event_loop"] = rows
    return out


async def soak_only(base: Settings, pg_url: str, config: Any, console: Console, started: str) -> dict[str, Any]:
    """`--soak N`: N turns through one in-process mask worker, RSS sampled along the way."""
    registry = TopicRegistry(base.kafka)
    workload = Workload(users=config.users, seed=config.seed)
    try:
        with tempfile.TemporaryDirectory(prefix="streamproc-soak-") as tmp, progress_bar(console) as progress:
            async with scratch_database(pg_url) as db:
                s = pass_settings(base, bench_vault(base, db), Path(tmp), max_turns=config.default_batch)
                await registry.create(s.kafka)
                task = progress.add_task(f"produce {config.soak:,}", total=config.soak)
                left = config.soak
                while left:
                    chunk = [(t.raw.user_id.encode(), encode(t.raw)) for t in workload.turns(min(left, PREFILL_CHUNK))]
                    await prefill(s.kafka, s.kafka.raw_topic, chunk)
                    left -= len(chunk)
                    progress.update(task, advance=len(chunk))
                del chunk
                task = progress.add_task(f"soak {config.soak:,}", total=1)
                async with running_worker(s, "mask") as probe:
                    result = await growth.soak(probe, config.soak)
                progress.update(task, completed=1)
    finally:
        await registry.delete_all()
    return {"schema": "streamproc-soak/1", "started_at": started,
            "finished_at": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "batch": config.default_batch, "users": config.users, **result}


def print_soak(result: dict[str, Any], console: Console) -> None:
    table = Table(title=f"streamproc bench --soak {result['turns']:,}  {result['started_at']}")
    table.add_column("measure")
    table.add_column("value", justify="right")
    table.add_row("turns/s", f"{result['turns_per_s']:,.0f}")
    table.add_row("RSS first / after warm-up / last / max", f"{result['rss_mb_first']} / {result['rss_mb_after_warmup']} / {result['rss_mb_last']} / {result['rss_mb_max']} MB")
    table.add_row("growth (least squares after warm-up)", f"{result['growth_mb_per_million_turns']:,.1f} MB per 1,000,000 turns")
    console.print(table)


def print_profile(result: dict[str, Any], console: Console) -> None:
    prof = result.get("profile")
    if not prof:
        return
    restore = result.get("profile_restore") or {}
    flows = "mask flow" + (" | restore flow" if restore else "")
    table = Table(title=f"{flows} CPU ms per turn by stage (event-loop thread: cProfile shares scaled to the unprofiled pass; extraction includes its own thread)")
    table.add_column("stage")
    for label in (["mask"] + (["restore"] if restore else [])):
        table.add_column(f"{label} CPU ms/turn", justify="right")
        table.add_column("share", justify="right")
    for stage, ms in prof["cpu_ms_per_turn_by_stage"].items():
        cells = [f"{ms:.3f}", f"{prof['share_by_stage'][stage]:.0%}"]
        if restore:
            cells += [f"{restore['cpu_ms_per_turn_by_stage'].get(stage, 0.0):.3f}", f"{restore['share_by_stage'].get(stage, 0.0):.0%}"]
        table.add_row(stage, *cells)
    table.add_row("total", f"{prof['cpu_ms_per_turn']:.3f}", "", *([f"{restore['cpu_ms_per_turn']:.3f}", ""] if restore else []))
    console.print(table)
    flame = prof.get("flame_graph", {})
    cprofiles = prof["cprofile"] + (f", {restore['cprofile']}" if restore else "")
    console.print(f"flame graph: {flame.get('path') or flame.get('error')}; cProfile: {cprofiles}")
    g = result.get("growth", {})
    if "prefilled_vault" in g:
        pv = g["prefilled_vault"]
        console.print(f"prefilled vault ({pv['prefill']['mappings']:,} mappings): mask {pv['prefilled']['turns_per_s']:,.0f} vs "
                      f"empty {pv['empty']['turns_per_s']:,.0f} turns/s, ratio {pv['prefilled_to_empty_ratio']:.2f}")
    if "processes" in g:
        p = g["processes"]
        console.print(f"worker --processes 1 / 2: {p['1']['turns_per_s']:,.0f} / {p['2']['turns_per_s']:,.0f} turns/s, ratio {p['two_to_one_ratio']:.2f}")
    if "event_loop" in g:
        e = g["event_loop"]
        console.print(f"worker loop asyncio / uvloop: {e['asyncio']['turns_per_s']:,.0f} / {e['uvloop']['turns_per_s']:,.0f} turns/s, ratio {e['uvloop_to_asyncio_ratio']:.2f}")
