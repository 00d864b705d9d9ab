"""Does the cost stay flat as the work grows? Three bench passes beside the main ones:

  soak        `--soak N`: N turns through one in-process worker; resident memory (this process
              and its children) sampled as outputs commit; the slope is reported as MB per
              1,000,000 turns (goal: growth <= 50 MB over 1,000,000 turns).
  prefilled   mask throughput with a vault already holding `--prefill-mappings` mappings (ten per
              user, the bench's own users among them) against an empty vault, run back to back
              (goal: within 10%). The prefill goes through the vault's own `assign`, in big batches.
  processes   `streamproc worker --processes 1` then `--processes 2` as subprocesses, measured by
              the group's committed input offsets; reported as the 2/1 ratio.
  event loop  the same subprocess worker (one process) with asyncio's loop, then uvloop's.
Counts and timings only; no record content is ever printed.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from aiokafka import TopicPartition

from streamproc.bench.common import KV, BenchError, StallClock
from streamproc.bench.passes import Probe
from streamproc.core.masking import PlaceholderRequest
from streamproc.core.policy import Action, Policy
from streamproc.core.taxonomy import PrivacyLevel
from streamproc.kafka.clients import admin
from streamproc.settings import Settings

SOAK_SAMPLES = 40
PREFILL_USERS_PER_CALL = 500  # 5,000 mappings per vault transaction
WARM_FRACTION = 0.1  # of a soak, before the memory baseline is taken


def rss_mb() -> float:
    """Resident memory of this process and its children, in MB."""
    import psutil

    me = psutil.Process()
    total = me.memory_info().rss
    for child in me.children(recursive=True):
        try:
            total += child.memory_info().rss
        except psutil.Error:
            pass
    return total / 1e6


async def soak(probe: Probe, n: int) -> dict[str, Any]:
    """Sample RSS as the committed count crosses each of SOAK_SAMPLES steps; the least-squares
    slope after the warm-up is the growth rate."""
    samples: list[tuple[float, float, float]] = []  # (committed, rss MB, seconds)
    step = max(1, n // SOAK_SAMPLES)
    started = time.perf_counter()
    stall, target = StallClock(90), 0.0
    while True:
        done = probe.committed()
        now = time.perf_counter()
        if done >= target:
            samples.append((done, rss_mb(), now - started))
            target = done + step
        if done >= n:
            break
        stall.check(done, f"soak at {int(done)} of {n} turns")
        probe.check()
        await asyncio.sleep(0.05)
    after = [s for s in samples if s[0] >= n * WARM_FRACTION] or samples
    slope = _slope([s[0] for s in after], [s[1] for s in after])
    seconds = samples[-1][2]
    return {
        "turns": n,
        "seconds": round(seconds, 1),
        "turns_per_s": round(n / seconds, 1) if seconds else 0.0,
        "rss_mb_first": round(samples[0][1], 1),
        "rss_mb_after_warmup": round(after[0][1], 1),
        "rss_mb_last": round(samples[-1][1], 1),
        "rss_mb_max": round(max(s[1] for s in samples), 1),
        "growth_mb_per_million_turns": round(slope * 1_000_000, 1),
        "samples": [{"committed": int(c), "rss_mb": round(m, 1), "s": round(t, 1)} for c, m, t in samples],
    }


def _slope(xs: list[float], ys: list[float]) -> float:
    if len(xs) < 2:
        return 0.0
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    den = sum((x - mx) ** 2 for x in xs)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / den if den else 0.0


async def prefill_vault(settings: Settings, mappings: int, bench_users: list[str]) -> dict[str, Any]:
    """`mappings` synthetic values, ten per user, through `Vault.assign` (the worker's own code
    path: keyed hashes, encryption, counters). The bench's users come first, so the users the
    measured pass touches already own many rows."""
    from streamproc.app import open_vault

    users = max(1, mappings // 10)
    ids = list(bench_users[:users]) + [f"prefill-{i:06d}" for i in range(max(0, users - len(bench_users)))]
    policy = Policy()
    started = time.perf_counter()
    done = 0
    async with open_vault(settings) as vault:
        # Two transactions at a time: the users of each are disjoint, so they never wait on each other.
        calls = [ids[i:i + PREFILL_USERS_PER_CALL] for i in range(0, len(ids), PREFILL_USERS_PER_CALL)]
        for pair in (calls[i:i + 2] for i in range(0, len(calls), 2)):
            results = await asyncio.gather(*(vault.assign([(u, _requests(u), policy) for u in group]) for group in pair))
            done += sum(len(m) for r in results for m in r)
    seconds = time.perf_counter() - started
    return {"mappings": done, "users": len(ids), "seconds": round(seconds, 1), "mappings_per_s": round(done / seconds, 1)}


def _requests(user: str) -> list[PlaceholderRequest]:
    # Synthetic and unlike any workload value; PL3 contact-like, so they are masked and stored.
    return [PlaceholderRequest(f"prefill.{user}.{k}@example.invalid", "Email", PrivacyLevel.PL3, Action.MASK) for k in range(10)]


# ---------------------------------------------------------------------------- worker subprocesses


def worker_env(s: Settings) -> dict[str, str]:
    """The pass's settings as STREAMPROC_* variables on top of the bench's own environment."""
    k, v = s.kafka, s.vault
    env = dict(os.environ)
    env.update({
        "STREAMPROC_KAFKA__GROUP_ID": k.group_id,
        "STREAMPROC_KAFKA__RAW_TOPIC": k.raw_topic,
        "STREAMPROC_KAFKA__MASKED_TOPIC": k.masked_topic,
        "STREAMPROC_KAFKA__RESPONSE_TOPIC": k.response_topic,
        "STREAMPROC_KAFKA__RESTORED_TOPIC": k.restored_topic,
        "STREAMPROC_KAFKA__DEAD_LETTER_TOPIC": k.dead_letter_topic,
        "STREAMPROC_KAFKA__TRANSACTIONAL_ID_PREFIX": k.transactional_id_prefix,
        "STREAMPROC_KAFKA__BOOTSTRAP_SERVERS": k.bootstrap_servers,
        "STREAMPROC_VAULT__URL": str(v.url),
        "STREAMPROC_BATCHING__MAX_TURNS": str(s.batching.max_turns),
        "STREAMPROC_WEB__PORT": "0",
        "STREAMPROC_STATE_DIR": str(s.state_dir),
        "STREAMPROC_LOG_LEVEL": "WARNING",
    })
    if v.master_key is not None:
        env["STREAMPROC_VAULT__MASTER_KEY"] = v.master_key.get_secret_value()
    return env


def committed_offsets(s: Settings) -> Callable[[], Any]:
    """An async callable: the sum of the mask flow's committed input offsets (its group is
    `<group_id>.<raw_topic>`, as in streamproc.kafka.flow)."""
    group = f"{s.kafka.group_id}.{s.kafka.raw_topic}"

    async def read() -> int:
        client = admin(s.kafka)
        await client.start()
        try:
            offsets = await client.list_consumer_group_offsets(group)
        finally:
            await client.close()
        return sum(max(0, meta.offset) for tp, meta in offsets.items() if isinstance(tp, TopicPartition) and tp.topic == s.kafka.raw_topic)

    return read


async def subprocess_pass(s: Settings, processes: int, n: int, extra_env: dict[str, str] | None = None) -> dict[str, Any]:
    """`streamproc worker --processes N` on a pre-filled raw topic; the rate from 10% to 100% of
    the committed offsets (start-up and the first rebalance are left out)."""
    log = (s.state_dir / f"worker-{s.kafka.group_id}.log").open("wb")  # the worker's own one-line errors, no values
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "streamproc.cli", "worker", "--processes", str(processes),
        env={**worker_env(s), **(extra_env or {})}, stdout=asyncio.subprocess.DEVNULL, stderr=log,
    )
    read = committed_offsets(s)
    t10: float | None = None
    stall = StallClock(120)
    try:
        while True:
            if proc.returncode is not None:
                tail = Path(log.name).read_text(errors="replace").strip().splitlines()[-1:]
                raise BenchError(f"worker --processes {processes} exited {proc.returncode}: {tail}")
            done = await read()
            now = time.perf_counter()
            if t10 is None and done >= n * 0.1:
                t10, d10 = now, done
            if done >= n:
                break
            stall.check(done, f"worker --processes {processes} at {done} of {n} turns")
            await asyncio.sleep(0.2)
    finally:
        if proc.returncode is None:
            proc.terminate()
            try:
                await asyncio.wait_for(proc.wait(), 60)
            except TimeoutError:
                proc.kill()
        log.close()
    assert t10 is not None
    seconds = now - t10
    return {"processes": processes, "turns": n, "measured_turns": n - d10, "seconds": round(seconds, 2),
            "turns_per_s": round((n - d10) / seconds, 1) if seconds else 0.0}


def user_ids(records: list[KV]) -> list[str]:
    seen: dict[str, None] = {}
    for key, _ in records:
        if key is not None:
            seen.setdefault(key.decode(), None)
    return list(seen)

