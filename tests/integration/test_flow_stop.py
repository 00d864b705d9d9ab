"""Stopping (what SIGTERM does) while a batch is stuck in an extractor that holds its GIL: the
worker returns within seconds, the stuck child process is killed, nothing of the batch is
committed, and the next worker replays it."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Sequence
from pathlib import Path

import pytest

from streamproc.app import Worker, open_vault
from streamproc.bench.workload import Workload
from streamproc.codec import encode
from streamproc.core.spans import Detection
from streamproc.extractors.base import ExtractorBase, TurnText
from streamproc.extractors.rules import RulesExtractor
from streamproc.extractors.rules.pool import RulesPool
from streamproc.kafka.topics import ensure_topics
from streamproc.ops.metrics import Metrics
from streamproc.settings import Settings
from streamproc.wire import MaskedTurn
from tests.unit.test_extract_isolation import build_hanging

from .streams import produce, read_until, unique_settings, wait_for

pytestmark = pytest.mark.integration


class SpinningRules(ExtractorBase):
    """Rules in a child process that spins forever on every turn (as a backtracking regex would)."""

    name, version = "rules", "spinning"

    def __init__(self) -> None:
        self.pool = RulesPool(1, 0.5, deadline_s=3600, build=build_hanging)
        self.entered = False

    async def extract(self, batch: Sequence[TurnText]) -> list[list[Detection]]:
        self.entered = True
        return await self.pool.detect([TurnText(t.turn_id, t.role, "HANG") for t in batch])

    async def aclose(self) -> None:
        self.pool.close()


async def test_stop_returns_within_seconds_mid_batch_and_the_batch_is_replayed(kafka_bootstrap: str, tmp_path: Path) -> None:
    settings: Settings = unique_settings(kafka_bootstrap, f"sqlite+aiosqlite:///{tmp_path / 'v.db'}", tmp_path)
    await ensure_topics(settings.kafka)
    turns = list(Workload(users=5, seed=53).turns(20))
    await produce(settings.kafka, settings.kafka.raw_topic, ((t.raw.user_id.encode(), encode(t.raw)) for t in turns))
    spinning = SpinningRules()
    stop = asyncio.Event()
    async with open_vault(settings) as vault:
        task = asyncio.create_task(Worker(settings, vault, spinning, Metrics()).run(stop))

        async def busy() -> bool:
            child = spinning.pool._children[0]
            return child.busy

        await wait_for(busy, deadline_s=120, what="a batch inside the spinning child")
        pid = spinning.pool._children[0].process.pid  # type: ignore[union-attr]
        started = time.monotonic()
        stop.set()
        await asyncio.wait_for(task, 60)
        stopped_in = time.monotonic() - started
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)  # the stuck child is gone
    await spinning.aclose()
    assert stopped_in < settings.batching.drain_s + 10, stopped_in
    assert await read_until(settings.kafka, settings.kafka.masked_topic, count=0, deadline_s=3) == []

    metrics = Metrics()  # the next worker, with working rules, replays everything exactly once
    stop = asyncio.Event()
    async with open_vault(settings) as vault:
        rules = RulesExtractor(processes=1)
        task = asyncio.create_task(Worker(settings, vault, rules, metrics).run(stop))
        try:
            records = await read_until(settings.kafka, settings.kafka.masked_topic, count=len(turns), deadline_s=120)
        finally:
            stop.set()
            await asyncio.wait_for(task, 60)
            await rules.aclose()
    assert sorted(MaskedTurn.model_validate_json(r.value).turn_id for r in records) == sorted(t.raw.turn_id for t in turns)
    print(f"\nstop mid-batch returned in {stopped_in:.1f}s")
