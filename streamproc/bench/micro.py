"""Micro-benchmarks: the rules extractor per message, and the vault's batched allocation and
lookups (Postgres, and SQLite for reference). Counts and timings only; no value is printed."""

from __future__ import annotations

import gc
import os
import re
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rich.progress import Progress

from streamproc.bench.common import percentile, summarize_ms
from streamproc.bench.hostile import hostile_cases
from streamproc.bench.workload import Turn
from streamproc.core.masking import PlaceholderRequest
from streamproc.core.placeholders import canonical_key
from streamproc.core.policy import DEFAULT_POLICY, Action
from streamproc.core.taxonomy import PrivacyLevel
from streamproc.extractors.base import TurnText
from streamproc.extractors.rules import RulesExtractor
from streamproc.vault.migrate import migrate
from streamproc.vault.store import Vault

CJK = re.compile(r"[\u4e00-\u9fff]")
WARMUP_TURNS = 50
TYPES = (("Email", PrivacyLevel.PL2), ("Phone Number", PrivacyLevel.PL2), ("ID Number", PrivacyLevel.PL3),
         ("Financial Account", PrivacyLevel.PL3))


def extractor_bench(turns: Sequence[Turn], min_confidence: float, progress: Progress, *, smoke: bool = False) -> dict[str, Any]:
    """Rules extractor, one message at a time (as `detect` sees it), on the generated workload,
    then on the hostile catalogue (`--smoke`: every 12th case, once)."""
    rules = RulesExtractor(min_confidence=min_confidence)
    texts = [TurnText.of(t.raw) for t in turns]
    for text in texts[:WARMUP_TURNS]:
        rules.detect(text)
    task = progress.add_task("extractor (rules)", total=len(texts))
    times: dict[str, list[float]] = {"all": [], "zh": [], "en": []}
    spans = 0
    for i, text in enumerate(texts):
        started = time.perf_counter_ns()
        spans += len(rules.detect(text))
        ms = (time.perf_counter_ns() - started) / 1e6
        times["all"].append(ms)
        times["zh" if CJK.search(text.content) else "en"].append(ms)
        if i % 200 == 0:
            progress.update(task, completed=i)
    progress.update(task, completed=len(texts))
    total_s = sum(times["all"]) / 1000
    planted = sum(len(t.secrets) for t in turns)
    return {
        "extractor": f"{rules.name}/{rules.version}",
        "messages": len(texts),
        "ms_per_message": summarize_ms(times["all"]),
        "median_ms": round(percentile(times["all"], 50), 4),
        "p99_ms": round(percentile(times["all"], 99), 4),
        "by_language": {lang: summarize_ms(v) for lang, v in times.items() if lang != "all" and v},
        "messages_per_s_one_core": round(len(texts) / total_s, 1) if total_s else 0.0,
        "spans_found": spans,
        "values_planted": planted,
        "hostile": hostile_bench(rules, progress, repeats=1, every=12) if smoke else hostile_bench(rules, progress),
    }


def hostile_bench(rules: RulesExtractor, progress: Progress, repeats: int = 2, every: int = 1) -> dict[str, Any]:
    """The worst case: every turn of the hostile catalogue (streamproc/bench/hostile.py), each up to
    32,000 characters, `repeats` times after one warm-up pass, each after a full garbage
    collection. Per case the slowest run (wall) and its CPU time; case names describe shapes,
    never values."""
    cases = hostile_cases()[::every]
    turns = [TurnText("hostile", "user", case.content, case.real_name) for case in cases]
    # One unmeasured pass first: costs a worker pays once per process, not per turn (phonenumbers
    # compiling a region's mobile patterns on its first mobile number, jieba loading its model on
    # its first ambiguous Chinese name), would otherwise land on whichever case meets them first.
    for turn in turns:
        rules.detect(turn)
    task = progress.add_task("extractor (hostile catalogue)", total=len(cases))
    rows = []
    for case, turn in zip(cases, turns, strict=True):
        wall, cpu = [], []
        for _ in range(repeats):
            # A full collection owed by the bench's own heap (tens of thousands of workload turns)
            # would otherwise land in whichever case happens to be running: 134 ms once, against
            # 30-40 ms for that case in a fresh process. Collections the turn itself causes count.
            gc.collect()
            started, started_cpu = time.perf_counter_ns(), time.thread_time_ns()
            rules.detect(turn)
            wall.append((time.perf_counter_ns() - started) / 1e6)
            cpu.append((time.thread_time_ns() - started_cpu) / 1e6)
        rows.append({"case": case.name, "chars": len(case.content), "max_ms": round(max(wall), 3),
                     "cpu_ms": round(max(cpu), 3)})
        progress.advance(task)
    worst = max(rows, key=lambda r: r["max_ms"])
    return {
        "cases": len(rows),
        "repeats": repeats,
        "worst_ms": worst["max_ms"],
        "worst_case": worst["case"],
        "worst_chars": worst["chars"],
        "worst_cpu_ms": max(r["cpu_ms"] for r in rows),
        "median_case_ms": round(percentile([r["max_ms"] for r in rows], 50), 3),
        "per_case": rows,
    }


def _requests(n_values: int, users: int) -> list[tuple[str, list[PlaceholderRequest]]]:
    """n distinct synthetic values spread over `users`, four per request list (one turn's worth)."""
    per_user: dict[str, list[PlaceholderRequest]] = {}
    for i in range(n_values):
        ptype, level = TYPES[i % len(TYPES)]
        user = f"bench-user-{i % users:05d}"
        per_user.setdefault(user, []).append(PlaceholderRequest(f"v{i:08d}-{os.urandom(4).hex()}", ptype, level, Action.MASK))
    items = []
    for user, reqs in per_user.items():
        items.extend((user, reqs[j : j + 4]) for j in range(0, len(reqs), 4))
    return items


async def vault_bench(url: str, *, values: int, users: int, batch_turns: int, resolves: int, progress: Progress, label: str) -> dict[str, Any]:
    """New mappings/s through `assign` in batches of `batch_turns` turns (4 values each), the
    same values again (recall), then `resolve` one turn's placeholders per call, as restore does."""
    await migrate(url)
    items = _requests(values, users)
    key = os.urandom(32)
    task = progress.add_task(f"vault {label}", total=2 * len(items) + resolves)
    async with Vault.open(url, key) as vault:
        batches = [items[i : i + batch_turns] for i in range(0, len(items), batch_turns)]
        placeholders: list[dict[str, str]] = []
        started = time.perf_counter()
        for batch in batches:
            placeholders.extend(await vault.assign([(u, reqs, DEFAULT_POLICY) for u, reqs in batch]))
            progress.advance(task, len(batch))
        new_s = time.perf_counter() - started
        started = time.perf_counter()
        for batch in batches:
            again = await vault.assign([(u, reqs, DEFAULT_POLICY) for u, reqs in batch])
            progress.advance(task, len(batch))
        recall_s = time.perf_counter() - started
        if again != placeholders[-len(again):]:
            raise RuntimeError("vault bench: recall returned different placeholders")
        lookups = [(items[i % len(items)][0], {canonical_key(p) for p in placeholders[i % len(items)].values()}) for i in range(resolves)]
        found = 0
        started = time.perf_counter()
        for user, keys in lookups:
            found += len(await vault.resolve(user, keys))
            progress.advance(task)
        resolve_s = time.perf_counter() - started
    keys_asked = sum(len(k) for _, k in lookups)
    if found != keys_asked:
        raise RuntimeError(f"vault bench: resolved {found} of {keys_asked} placeholders")
    return {
        "backend": label,
        "values": values,
        "users": len({u for u, _ in items}),
        "batch_turns": batch_turns,
        "values_per_batch": batch_turns * 4,
        "new_mappings_per_s": round(values / new_s, 1),
        "recall_per_s": round(values / recall_s, 1),
        "resolve_calls_per_s": round(resolves / resolve_s, 1),
        "lookups_per_s": round(keys_asked / resolve_s, 1),
    }


async def vault_benches(pg_url: str, scratch: Any, *, values: int, users: int, batch_turns: int, resolves: int, progress: Progress) -> dict[str, Any]:
    """Postgres on a scratch database, then SQLite in a temporary file."""
    async with scratch(pg_url) as url:
        postgres = await vault_bench(url, values=values, users=users, batch_turns=batch_turns, resolves=resolves, progress=progress, label="postgres")
    with tempfile.TemporaryDirectory(prefix="streamproc-bench-") as tmp:
        sqlite_url = f"sqlite+aiosqlite:///{Path(tmp) / 'vault.db'}"
        sqlite = await vault_bench(sqlite_url, values=values, users=users, batch_turns=batch_turns, resolves=resolves, progress=progress, label="sqlite")
    return {"postgres": postgres, "sqlite": sqlite}
