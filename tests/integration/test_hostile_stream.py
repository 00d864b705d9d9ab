"""The hostile catalogue through the worker on the real broker and Postgres, benign turns
interleaved: every hostile record is masked or dead-lettered, every benign turn is masked exactly
once with its secrets gone, and the worker neither exits nor restarts a flow. SIGTERM then stops
it within seconds."""

from __future__ import annotations

import json
import time
import urllib.request
from collections import Counter
from pathlib import Path

import pytest

from streamproc.kafka.clients import plain_producer
from streamproc.kafka.topics import ensure_topics
from streamproc.settings import Settings
from streamproc.wire import MaskedTurn
from tests.hostile.catalogue import BenignTurn, HostileRecord, benign_turns, content_cases, record_cases

from .streams import WorkerProcess, read_outcomes, unique_settings

pytestmark = pytest.mark.integration
Item = tuple[bytes | None, bytes | None, HostileRecord | BenignTurn]


def _interleaved(settings: Settings) -> list[Item]:
    hostile = record_cases(settings.kafka.max_record_bytes) + content_cases()
    hostile.append(HostileRecord("tombstone", None, "dead-letter"))
    benign = benign_turns(max(200, len(hostile)), "stream")
    items: list[Item] = []
    for i, b in enumerate(benign):
        items.append((f"benign-{i % 7}".encode(), b.value, b))
        if i < len(hostile):
            items.append((f"hostile-{i % 5}".encode(), hostile[i].value, hostile[i]))
    return items


async def _produce(settings: Settings, items: list[Item]) -> dict[tuple[int, int], HostileRecord | BenignTurn]:
    producer = plain_producer(settings.kafka, max_request_size=4 * 1024 * 1024, linger_ms=20)
    await producer.start()
    try:
        futures = [(await producer.send(settings.kafka.raw_topic, value, key=key), what) for key, value, what in items]
        return {((m := await f).partition, m.offset): what for f, what in futures}
    finally:
        await producer.stop()


def _restarts(port: int) -> float:
    body = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10).read().decode()
    return sum(float(line.rsplit(" ", 1)[1]) for line in body.splitlines() if line.startswith("streamproc_flow_restarts_total{"))


async def test_hostile_records_are_masked_or_dead_lettered_and_benign_turns_are_masked_once(
    kafka_bootstrap: str, fresh_pg_url: str, tmp_path: Path
) -> None:
    settings = unique_settings(kafka_bootstrap, fresh_pg_url, tmp_path)
    await ensure_topics(settings.kafka)
    worker = WorkerProcess(settings, tmp_path / "worker.log").start()
    try:
        items = _interleaved(settings)
        started = time.monotonic()
        origin = await _produce(settings, items)
        kafka = settings.kafka
        seen = await read_outcomes(kafka, [kafka.masked_topic, kafka.dead_letter_topic], count=len(items), stall_s=180)
        elapsed = time.monotonic() - started
        assert worker.alive, (tmp_path / "worker.log").read_text()[-3000:]
        assert _restarts(settings.web.port) == 0
        outcome: Counter[tuple[int, int]] = Counter()
        masked_by_id: dict[str, list[MaskedTurn]] = {}
        for record in seen[kafka.masked_topic]:
            turn = MaskedTurn.model_validate_json(record.value)
            masked_by_id.setdefault(turn.turn_id, []).append(turn)
        classes: Counter[str] = Counter()
        lettered: set[tuple[int, int]] = set()
        for record in seen[kafka.dead_letter_topic]:
            letter = json.loads(record.value)
            lettered.add((letter["partition"], letter["offset"]))
            outcome[(letter["partition"], letter["offset"])] += 1
            classes[letter["error_class"]] += 1
            assert "example.com" not in letter["reason"] and "4821" not in letter["reason"]
        for (partition, offset), what in origin.items():
            if isinstance(what, BenignTurn):
                [turn] = masked_by_id.get(what.turn_id, [None])  # exactly once
                assert turn is not None and (partition, offset) not in lettered, what.turn_id
                assert not turn.degraded and all(s not in turn.content for s in what.secrets), what.turn_id
                continue
            masked = len(masked_by_id.get(what.turn_id or "", []))
            dead = outcome[(partition, offset)]
            assert masked + dead == 1, f"{what.name}: masked {masked}, dead-lettered {dead}"
            if what.outcome == "masked":
                assert masked == 1, what.name
            elif what.outcome == "dead-letter":
                assert dead == 1, what.name
        assert len(seen[kafka.masked_topic]) + len(seen[kafka.dead_letter_topic]) == len(items)
        hostile = sum(1 for *_, w in items if isinstance(w, HostileRecord))
        print(f"\nstream hostile suite: {len(items)} records ({hostile} hostile), {len(seen[kafka.masked_topic])} masked, "
              f"{len(seen[kafka.dead_letter_topic])} dead letters {dict(classes)}, all out in {elapsed:.1f}s")
    finally:
        stopping = time.monotonic()
        code = worker.terminate(timeout=60)
        print(f"SIGTERM to exit: {time.monotonic() - stopping:.1f}s, exit code {code}")
    assert code == 0
