"""`streamproc bench`: one run, one broker, one workload, every figure side by side.

    streamproc bench --out bench-results [--turns 20000] [--rate 1000] [--smoke]

Passes, each on fresh topics (and, where a vault is involved, a fresh Postgres database):
  throughput  transactional pass-through (the baseline) and the mask flow at each batch size;
              a non-transactional pass-through for reference; the restore flow fed with
              CloudResponses built from the mask pass's output.
  latency     pass-through, mask and restore at a paced offered load (`--rate`, and fractions
              of it for the plot); "added" latency is flow percentile minus baseline percentile.
  micro       the rules extractor per message; the vault's new mappings/s and lookups/s.
  profile     CPU ms per turn by stage of the mask flow and of the restore flow (stages.py).
Writes `bench-<timestamp>.json` and `bench-<timestamp>.png` into `--out` and prints a summary with
the targets. Progress goes to stderr. No original value is ever printed: counts and timings only.
`--engine vllm` runs the GPU extraction bench instead (streamproc.bench.engine).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import platform
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from rich.console import Console
from sqlalchemy.engine import make_url

from streamproc.bench.scratch import scratch_database

from streamproc.bench import extras, micro, report, stages
from streamproc.bench.capacity import sizing
from streamproc.bench.common import (
    KV, BenchError, TopicRegistry, bench_vault, count_leaks, pass_settings, prefill, progress_bar, read_values, responses_for,
    stream_chunks_for,
)
from streamproc.bench.passes import LatencySpec, latency_pass, running_passthrough, running_worker, throughput_pass
from streamproc.bench.workload import Turn, Workload
from streamproc.codec import encode
from streamproc.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
LATENCY_SECONDS = 10.0  # length of a paced pass at full size
WARMUP_RECORDS = 8
FLAME_SECONDS = 6.0  # py-spy samples the start of the mask pass at batch default
STREAM_CHUNK_CHARS = 16  # about four tokens per chunk


@dataclass(frozen=True)
class BenchConfig:
    turns: int
    users: int
    seed: int
    rate: float
    smoke: bool
    batch_sizes: tuple[int, ...]
    default_batch: int
    loads: tuple[float, ...]  # fractions of `rate` for the latency passes
    latency_seconds: float
    extractor_messages: int
    vault_values: int
    vault_resolves: int
    target_rate: float = 1_000.0
    soak: int = 0  # > 0: only the soak pass, this many turns
    prefill_mappings: int = 0  # > 0: the prefilled-vault pair
    processes_pass: bool = False  # worker --processes 1 vs 2 as subprocesses
    loop_pass: bool = False  # worker with asyncio's loop vs uvloop's, as subprocesses
    profile_turns: int = 3_000

    @classmethod
    def from_args(cls, settings: Settings, args: argparse.Namespace) -> BenchConfig:
        default = settings.batching.max_turns
        extra = {"soak": args.soak, "prefill_mappings": args.prefill_mappings, "processes_pass": args.processes_pass, "loop_pass": args.loop_pass}
        if args.smoke:
            return cls(min(args.turns, 300), min(args.users, 50), args.seed, args.rate, True, (default,), default,
                       (1.0,), 0.3, 300, 1_000, 200, args.target_rate, **extra, profile_turns=300)
        return cls(args.turns, args.users, args.seed, args.rate, False, tuple(sorted({16, default, 256})), default,
                   (0.25, 0.5, 1.0), LATENCY_SECONDS, min(args.turns, 10_000), 20_000, 5_000, args.target_rate,
                   **extra, profile_turns=min(args.turns, 3_000))

    def latency_turns(self, load: float) -> int:
        return max(50, min(self.turns, int(self.rate * load * self.latency_seconds)))


def postgres_url(settings: Settings) -> str | None:
    """The vault URL from settings when it is Postgres, else `infra/postgres.sh url` (dev checkout)."""
    if settings.vault.url and settings.vault.url.startswith("postgresql"):
        return settings.vault.url
    script = ROOT / "infra" / "postgres.sh"
    if not script.exists():
        return None
    try:
        out = subprocess.run([str(script), "url"], capture_output=True, text=True, timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    lines = out.stdout.strip().splitlines()
    return lines[-1].strip() if out.returncode == 0 and lines else None


def run_bench_from_args(settings: Settings, args: argparse.Namespace) -> int:
    if args.engine == "vllm":
        from streamproc.bench.engine import run_engine_bench

        return run_engine_bench(settings, args)
    console = Console(stderr=True)
    pg_url = postgres_url(settings)
    if pg_url is None:
        console.print("bench: no Postgres. Set STREAMPROC_VAULT__URL=postgresql+asyncpg://... or run infra/postgres.sh start")
        return 2
    config = BenchConfig.from_args(settings, args)
    out_dir = Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    # One "worker started" per pass, and the producer's retries while a new topic's leader is
    # being announced, are noise here; -v keeps them.
    quiet = {name: logging.getLogger(name) for name in ("streamproc", "aiokafka")}
    levels = {name: logger.level for name, logger in quiet.items()}
    if not getattr(args, "verbose", False):  # the CLI sets it only when -v is given
        quiet["streamproc"].setLevel(logging.WARNING)
        quiet["aiokafka"].setLevel(logging.ERROR)
    started = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    stamp = started.replace("-", "").replace(":", "")
    try:
        if config.soak:
            soak_result = asyncio.run(extras.soak_only(settings, pg_url, config, console, started))
            path = out_dir / f"soak-{stamp}.json"
            path.write_text(json.dumps(soak_result, indent=2) + "\n")
            extras.print_soak(soak_result, Console())
            print(path)
            return 0
        result = asyncio.run(_bench(settings, pg_url, config, console, out_dir / f"bench-{stamp}", started))
    except BenchError as err:
        console.print(f"bench failed: {err}")
        return 1
    finally:
        for name, logger in quiet.items():
            logger.setLevel(levels[name])
    json_path = out_dir / f"bench-{stamp}.json"
    png_path = report.plot(result, out_dir / f"bench-{stamp}.png")
    json_path.write_text(json.dumps(result, indent=2) + "\n")
    report.print_summary(result, Console())
    extras.print_profile(result, Console())
    print(json_path)
    print(png_path)
    return 0


def _records(turns: list[Turn]) -> list[KV]:
    return [(t.raw.user_id.encode(), encode(t.raw)) for t in turns]


def _warmup(config: BenchConfig) -> list[KV]:
    warm = Workload(users=config.users, seed=config.seed + 1).turns(WARMUP_RECORDS)
    return _records([Turn(t.raw.model_copy(update={"turn_id": f"warm-{i}"}), t.secrets) for i, t in enumerate(warm)])


async def _bench(base: Settings, pg_url: str, config: BenchConfig, console: Console, artefacts: Path, started: str) -> dict[str, Any]:
    turns = list(Workload(users=config.users, seed=config.seed).turns(config.turns))
    records = _records(turns)
    conn, parts = base.kafka, base.kafka.partitions
    registry = TopicRegistry(base.kafka)
    throughput: list[dict[str, Any]] = []
    latency: list[dict[str, Any]] = []
    checks: dict[str, int] = {}
    restore_profile: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="streamproc-bench-") as tmp, progress_bar(console) as progress:
        state = Path(tmp)

        def settings(vault: Any, batch: int) -> Settings:
            return pass_settings(base, vault, state, max_turns=batch)

        extractor = micro.extractor_bench(turns[: config.extractor_messages], base.extraction.rules_min_confidence, progress,
                                          smoke=config.smoke)
        vault = await micro.vault_benches(pg_url, scratch_database, values=config.vault_values, users=config.users,
                                          batch_turns=config.default_batch, resolves=config.vault_resolves, progress=progress)
        try:
            # ---- throughput: baselines
            for batch in config.batch_sizes:
                s = settings(base.vault, batch)
                await registry.create(s.kafka)
                await prefill(conn, s.kafka.raw_topic, records)
                row = await throughput_pass(running_passthrough(s.kafka, batch=batch, transactional=True), len(records), progress, f"pass-through tx b={batch}")
                throughput.append({"pass": "baseline_tx", "batch": batch, **row})
            s = settings(base.vault, config.default_batch)
            await registry.create(s.kafka)
            await prefill(conn, s.kafka.raw_topic, records)
            row = await throughput_pass(running_passthrough(s.kafka, batch=config.default_batch, transactional=False), len(records), progress, f"pass-through plain b={config.default_batch}")
            throughput.append({"pass": "baseline_plain", "batch": config.default_batch, **row})

            # ---- throughput: the flows
            for batch in config.batch_sizes:
                async with scratch_database(pg_url) as db:
                    s = settings(bench_vault(base, db), batch)
                    await registry.create(s.kafka)
                    await prefill(conn, s.kafka.raw_topic, records)
                    if batch != config.default_batch:
                        row = await throughput_pass(running_worker(s, "mask"), len(records), progress, f"mask flow b={batch}")
                        throughput.append({"pass": "mask", "batch": batch, **row})
                        continue
                    async with stages.flame_graph(artefacts.with_name(artefacts.name + "-flame.svg"), FLAME_SECONDS) as flame:
                        row = await throughput_pass(running_worker(s, "mask"), len(records), progress, f"mask flow b={batch}")
                    throughput.append({"pass": "mask", "batch": batch, **row})
                    masked = await read_values(conn, s.kafka.masked_topic, parts, len(records))
                    checks["mask_outputs"] = len(masked)
                    checks["planted_values_leaked"] = count_leaks(turns, masked)
                    r = settings(s.vault, batch)
                    await registry.create(r.kafka)
                    await prefill(conn, r.kafka.response_topic, [kv for _, kv in responses_for(masked)])
                    row = await throughput_pass(running_worker(r, "restore"), len(masked), progress, f"restore flow b={batch}")
                    throughput.append({"pass": "restore", "batch": batch, **row})
                    # The restore profile needs this vault's mappings, so it runs here.
                    restore_profile = await extras.stage_profile(
                        "restore", settings(s.vault, batch), [kv for _, kv in responses_for(masked[: config.profile_turns])], row,
                        artefacts, registry, progress)

            # ---- where the time goes, and whether it stays flat
            unprofiled = report.pick(throughput, "mask", batch=config.default_batch)
            profile = await extras.mask_stage_profile(base, pg_url, config, registry, records, unprofiled, artefacts, progress)
            profile["flame_graph"] = flame
            growth = await extras.growth_passes(base, pg_url, config, registry, records, progress)

            # ---- latency at paced loads
            warm = _warmup(config)
            for load in config.loads:
                rate, n = config.rate * load, config.latency_turns(load)
                s = settings(base.vault, config.default_batch)
                staging = s.kafka.raw_topic.replace("raw", "staging")
                await registry.create(s.kafka, staging)
                await prefill(conn, staging, records[:n])
                spec = LatencySpec(conn, parts, staging, s.kafka.raw_topic, s.kafka.masked_topic, "turn_id", warm, n, rate)
                row = await latency_pass(running_passthrough(s.kafka, batch=config.default_batch, transactional=True), spec, progress, f"latency pass-through {rate:g}/s")
                latency.append({"pass": "baseline_tx", **row})
                async with scratch_database(pg_url) as db:
                    s = settings(bench_vault(base, db), config.default_batch)
                    staging = s.kafka.raw_topic.replace("raw", "staging")
                    await registry.create(s.kafka, staging)
                    await prefill(conn, staging, records[:n])
                    spec = LatencySpec(conn, parts, staging, s.kafka.raw_topic, s.kafka.masked_topic, "turn_id", warm, n, rate)
                    row = await latency_pass(running_worker(s, "mask"), spec, progress, f"latency mask {rate:g}/s")
                    latency.append({"pass": "mask", **row})
                    if load != 1.0:
                        continue
                    responses = responses_for(await read_values(conn, s.kafka.masked_topic, parts, n + len(warm)))
                    r = settings(s.vault, config.default_batch)
                    staging = r.kafka.raw_topic.replace("raw", "staging")
                    await registry.create(r.kafka, staging)
                    paced = [kv for rid, kv in responses if not rid.startswith("warm-")]
                    warm_r = [kv for rid, kv in responses if rid.startswith("warm-")]
                    await prefill(conn, staging, paced)
                    spec = LatencySpec(conn, parts, staging, r.kafka.response_topic, r.kafka.restored_topic, "response_id", warm_r, len(paced), rate)
                    row = await latency_pass(running_worker(r, "restore"), spec, progress, f"latency restore {rate:g}/s")
                    latency.append({"pass": "restore", **row})
                    latency.append({"pass": "restore_stream", **await _stream_latency(registry, settings(s.vault, config.default_batch), responses, n, rate, progress)})
        finally:
            await registry.delete_all()

    result: dict[str, Any] = {
        "schema": "streamproc-bench/1",
        "started_at": started,
        "finished_at": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "machine": _machine(conn.bootstrap_servers, pg_url),
        "config": asdict(config),
        "throughput": throughput,
        "latency": latency,
        "vault": vault,
        "extractor": extractor,
        "checks": checks,
        "profile": profile,
        "profile_restore": restore_profile,
        "growth": growth,
    }
    result["summary"] = report.summary(config.default_batch, config.rate, config.batch_sizes, throughput, latency)
    result["targets"] = report.targets(result)
    result["sizing"] = _sizing(config, result)
    return result


async def _stream_latency(registry: TopicRegistry, r: Settings, responses: list[tuple[str, KV]], n: int, rate: float, progress: Any) -> dict[str, Any]:
    """The restore flow fed with the same responses streamed in STREAM_CHUNK_CHARS-character chunks,
    n chunks paced at `rate` chunks/s; latency per chunk."""
    chunks = stream_chunks_for(responses, STREAM_CHUNK_CHARS)
    warm = [kv for cid, kv in chunks if cid.startswith("warm-")]
    paced = [kv for cid, kv in chunks if not cid.startswith("warm-")][:n]
    staging = r.kafka.raw_topic.replace("raw", "staging")
    await registry.create(r.kafka, staging)
    await prefill(r.kafka, staging, paced)
    spec = LatencySpec(r.kafka, r.kafka.partitions, staging, r.kafka.response_topic, r.kafka.restored_topic,
                       "response_id+chunk_seq", warm, len(paced), rate)
    try:
        return await latency_pass(running_worker(r, "restore"), spec, progress, f"latency streamed restore {rate:g} chunks/s")
    finally:
        registry.created.append(r.kafka.stream_changelog)  # the worker created it


def _sizing(config: BenchConfig, result: dict[str, Any]) -> dict[str, Any]:
    """The capacity model (bench/capacity.py) fed with this run's own rates."""
    sample = list(Workload(users=config.users, seed=config.seed).turns(1_000))
    tps = result["summary"]["turns_per_s"]
    return sizing(
        config.target_rate,
        mask_per_process=tps["mask"],
        restore_per_process=tps["restore"],
        vault_new_per_s=result["vault"]["postgres"]["new_mappings_per_s"],
        new_mappings_per_turn=sum(len(t.secrets) for t in sample) / len(sample),  # an upper bound: repeats are recalls
    )


def _machine(bootstrap: str, pg_url: str) -> dict[str, Any]:
    import aiokafka

    pg = make_url(pg_url)
    return {
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
        "python": sys.version.split()[0],
        "aiokafka": aiokafka.__version__,
        "kafka_bootstrap": bootstrap,
        "postgres": f"{pg.host}:{pg.port}",  # no credentials in the result
    }
