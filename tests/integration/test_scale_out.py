"""Scale-out on the real broker and Postgres: three workers, restarted one at a time while turns
and cloud answers flow. The mask and restore groups are assigned independently, so answers are
routinely restored by another worker than the one that masked their turn; with one shared vault
that must not matter."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer

from streamproc.bench.workload import Turn, Workload
from streamproc.codec import encode
from streamproc.kafka.topics import ensure_topics
from streamproc.settings import Settings
from streamproc.wire import MaskedTurn, RestoredTurn

from .streams import WorkerProcess, produce, read_until, unique_settings

pytestmark = [pytest.mark.integration, pytest.mark.slow]
WORKERS = 3


def answer(masked: MaskedTurn) -> tuple[bytes, bytes]:
    """What a cloud agent sends back: the masked text, quoted, under the ids it was given."""
    response = {"response_id": f"r-{masked.turn_id}", "user_id": masked.user_id, "session_id": masked.session_id,
                "in_reply_to": masked.turn_id, "content": f"Re: {masked.content}", "ts": masked.ts.isoformat()}
    return masked.user_id.encode(), json.dumps(response).encode()


class Cloud:
    """Reads masked-dialogue as it is committed and answers every turn once."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.masked: dict[str, MaskedTurn] = {}
        self.order: dict[str, list[str]] = defaultdict(list)
        self.consumer = AIOKafkaConsumer(settings.kafka.masked_topic, bootstrap_servers=settings.kafka.bootstrap_servers,
                                         auto_offset_reset="earliest", isolation_level="read_committed")

    async def answer_until(self, count: int) -> None:
        """Answer what arrives until `count` masked turns were seen (waits on progress only)."""
        while len(self.masked) < count:
            batch = await self.consumer.getmany(timeout_ms=1000)
            answers = []
            for records in batch.values():
                for record in records:
                    masked = MaskedTurn.model_validate_json(record.value)
                    assert masked.turn_id not in self.masked, f"{masked.turn_id} published twice"
                    self.masked[masked.turn_id] = masked
                    self.order[masked.user_id].append(masked.turn_id)
                    answers.append(answer(masked))
            if answers:
                await produce(self.settings.kafka, self.settings.kafka.response_topic, answers)


def worker(settings: Settings, n: int, tmp_path: Path) -> WorkerProcess:
    web = settings.web.model_copy(update={"port": settings.web.port + n})
    return WorkerProcess(settings.model_copy(update={"web": web}), tmp_path / f"w{n}.log").start()


async def test_rolling_restarts_of_three_workers_keep_exactly_once_order_and_restoration(
    kafka_bootstrap: str, fresh_pg_url: str, tmp_path: Path
) -> None:
    settings = unique_settings(kafka_bootstrap, fresh_pg_url, tmp_path)
    await ensure_topics(settings.kafka)
    turns: list[Turn] = list(Workload(users=80, seed=41).turns(3_000))
    raw = {t.raw.turn_id: t for t in turns}
    workers = [worker(settings, n, tmp_path) for n in range(WORKERS)]
    cloud = Cloud(settings)
    await cloud.consumer.start()
    try:
        chunk = len(turns) // (WORKERS + 1)
        for n in range(WORKERS + 1):
            part = turns[n * chunk:(n + 1) * chunk] if n < WORKERS else turns[n * chunk:]
            await produce(settings.kafka, settings.kafka.raw_topic, ((t.raw.user_id.encode(), encode(t.raw)) for t in part))
            await cloud.answer_until(min(len(turns), (n + 1) * chunk - chunk // 2))
            if n < WORKERS:  # a rolling restart: one worker leaves gracefully, a new one joins
                assert workers[n].terminate() == 0
                workers[n] = worker(settings, n, tmp_path)
        await cloud.answer_until(len(turns))
        restored_records = await read_until(settings.kafka, settings.kafka.restored_topic, count=len(turns), deadline_s=900)
    finally:
        await cloud.consumer.stop()
        codes = [w.terminate() for w in workers]
    assert codes == [0] * WORKERS

    # Exactly once and in per-user order on the masked side.
    assert set(cloud.masked) == set(raw)
    produced_order: dict[str, list[str]] = defaultdict(list)
    for t in turns:
        produced_order[t.raw.user_id].append(t.raw.turn_id)
    masked_order = {raw[ids[0]].raw.user_id: ids for ids in cloud.order.values()}
    assert masked_order == produced_order

    # Every answer restored once, to its own user, with every masked (not redacted) value back.
    restored = [RestoredTurn.model_validate_json(r.value) for r in restored_records]
    assert sorted(r.in_reply_to for r in restored) == sorted(raw)
    for r in restored:
        turn, masked = raw[r.in_reply_to], cloud.masked[r.in_reply_to]
        redacted = {e.placeholder for e in masked.entities if e.privacy_level.value == "PL4"}
        assert r.user_id == turn.raw.user_id
        assert set(r.unresolved) <= redacted, f"{r.in_reply_to}: a masked value did not come back"
        if not redacted:
            assert r.content == f"Re: {turn.raw.content}"
