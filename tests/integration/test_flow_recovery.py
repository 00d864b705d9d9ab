"""Guarantees under failure, on the real broker and real Postgres, with worker subprocesses:
kill -9 mid-stream, broker restart, Postgres restart, two workers sharing a group."""

from __future__ import annotations

import random
import subprocess
from collections import Counter
from pathlib import Path

import pytest


from streamproc.bench.workload import Turn, Workload
from streamproc.codec import encode
from streamproc.extractors.base import TurnText
from streamproc.extractors.rules import RulesExtractor
from streamproc.kafka.topics import ensure_topics
from streamproc.masker import mask_turns
from streamproc.settings import Settings
from streamproc.vault.crypto import load_or_create_master_key
from streamproc.vault.migrate import migrate
from streamproc.vault.store import Vault
from streamproc.wire import ExtractorInfo, MaskedTurn

from .streams import ROOT, WorkerProcess, produce, read_until, unique_settings, wait_committed

pytestmark = [pytest.mark.integration, pytest.mark.slow]


async def wait_progress(settings: Settings, at_least: int, deadline_s: float) -> int:
    return await wait_committed(settings.kafka, settings.kafka.masked_topic, at_least, deadline_s)


async def clean_run(settings: Settings, turns: list[Turn], tmp_path: Path) -> dict[str, str]:
    """Mask the same stream once, without Kafka or crashes, in a fresh vault: the reference output."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'clean.db'}"
    await migrate(url)
    rules = RulesExtractor()
    out: dict[str, str] = {}
    async with Vault.open(url, load_or_create_master_key(None, tmp_path / "clean-key")) as vault:
        for i in range(0, len(turns), 256):
            chunk = [t.raw for t in turns[i : i + 256]]
            detections = await rules.extract([TurnText.of(t) for t in chunk])
            for m in await mask_turns(vault, chunk, detections, ExtractorInfo(name="rules", version="x"), degraded=False):
                out[m.turn_id] = m.content
    return out


def check_exactly_once(records: list, turns: list[Turn], reference: dict[str, str]) -> None:
    masked = [MaskedTurn.model_validate_json(r.value) for r in records]
    counts = Counter(m.turn_id for m in masked)
    duplicates = [t for t, c in counts.items() if c > 1]
    assert not duplicates, f"{len(duplicates)} turns were published more than once"
    assert set(counts) == {t.raw.turn_id for t in turns}, "turns are missing"
    wire = "\n".join(m.content for m in masked)
    assert not [s for t in turns for s in t.secrets if s in wire], "a planted value leaked"
    differing = [m.turn_id for m in masked if m.content != reference[m.turn_id]]
    assert not differing, f"{len(differing)} turns differ from a clean run (placeholders must be stable)"
    # Pseudonyms survive crashes and replays too: one per user and session, never the real id.
    raw = {t.raw.turn_id: t.raw for t in turns}
    ids: dict[tuple[str, str], set[tuple[str, str]]] = {}
    for m in masked:
        ids.setdefault((raw[m.turn_id].user_id, raw[m.turn_id].session_id), set()).add((m.user_id, m.session_id))
    assert all(len(p) == 1 for p in ids.values()), "a user's pseudonym changed across crashes"
    assert not {u for u, _ in ids} & {m.user_id for m in masked}, "a real user_id reached masked-dialogue"


@pytest.fixture
async def pg_settings(kafka_bootstrap: str, fresh_pg_url: str, tmp_path: Path) -> Settings:
    settings = unique_settings(kafka_bootstrap, fresh_pg_url, tmp_path)
    await ensure_topics(settings.kafka)  # as an operator would before producers start
    return settings


async def test_kill9_five_times_during_twenty_thousand_turns_gives_exactly_once(pg_settings: Settings, tmp_path: Path) -> None:
    turns = list(Workload(users=400, seed=23).turns(20_000))
    reference = await clean_run(pg_settings, turns, tmp_path)
    await produce(pg_settings.kafka, pg_settings.kafka.raw_topic, ((t.raw.user_id.encode(), encode(t.raw)) for t in turns))
    rng = random.Random(5)
    worker = WorkerProcess(pg_settings, tmp_path / "worker.log").start()
    progress = 0
    for _ in range(5):
        # kill at a random point of progress: somewhere in the next 1..3,000 committed turns
        progress = await wait_progress(pg_settings, progress + rng.randint(1, 3_000), deadline_s=180)
        worker.kill9()
        worker = WorkerProcess(pg_settings, tmp_path / "worker.log").start()
    records = await read_until(pg_settings.kafka, pg_settings.kafka.masked_topic, count=len(turns), deadline_s=600)
    assert worker.terminate() == 0
    check_exactly_once(records, turns, reference)


async def test_two_workers_in_one_group_share_partitions_through_a_rebalance(pg_settings: Settings, tmp_path: Path) -> None:
    turns = list(Workload(users=200, seed=29).turns(6_000))
    reference = await clean_run(pg_settings, turns, tmp_path)
    first = WorkerProcess(pg_settings, tmp_path / "w1.log").start()
    await produce(pg_settings.kafka, pg_settings.kafka.raw_topic, ((t.raw.user_id.encode(), encode(t.raw)) for t in turns[:3000]))
    await wait_progress(pg_settings, 500, deadline_s=120)
    second_settings = pg_settings.model_copy(update={"web": pg_settings.web.model_copy(update={"port": pg_settings.web.port + 1})})
    second = WorkerProcess(second_settings, tmp_path / "w2.log").start()  # joins: rebalance mid-stream
    await produce(pg_settings.kafka, pg_settings.kafka.raw_topic, ((t.raw.user_id.encode(), encode(t.raw)) for t in turns[3000:]))
    await wait_progress(pg_settings, 4_500, deadline_s=180)
    assert first.terminate() == 0  # leaves: a second rebalance hands everything to the other
    records = await read_until(pg_settings.kafka, pg_settings.kafka.masked_topic, count=len(turns), deadline_s=300)
    assert second.terminate() == 0
    check_exactly_once(records, turns, reference)


async def test_worker_recovers_by_itself_from_broker_and_postgres_restarts(pg_settings: Settings, tmp_path: Path) -> None:
    turns = list(Workload(users=150, seed=31).turns(6_000))
    reference = await clean_run(pg_settings, turns, tmp_path)
    worker = WorkerProcess(pg_settings, tmp_path / "worker.log").start()
    await produce(pg_settings.kafka, pg_settings.kafka.raw_topic, ((t.raw.user_id.encode(), encode(t.raw)) for t in turns[:3000]))
    await wait_progress(pg_settings, 800, deadline_s=120)
    subprocess.run([str(ROOT / "infra/kafka.sh"), "restart"], check=True, timeout=300)
    await produce(pg_settings.kafka, pg_settings.kafka.raw_topic, ((t.raw.user_id.encode(), encode(t.raw)) for t in turns[3000:4500]))
    await wait_progress(pg_settings, 3_500, deadline_s=240)
    subprocess.run([str(ROOT / "infra/postgres.sh"), "restart"], check=True, timeout=300)
    await produce(pg_settings.kafka, pg_settings.kafka.raw_topic, ((t.raw.user_id.encode(), encode(t.raw)) for t in turns[4500:]))
    records = await read_until(pg_settings.kafka, pg_settings.kafka.masked_topic, count=len(turns), deadline_s=300)
    assert worker.alive, "the worker must recover by itself, not exit"
    assert worker.terminate() == 0
    check_exactly_once(records, turns, reference)
