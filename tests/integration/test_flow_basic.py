"""The mask and restore flows on the real broker, with the worker in-process."""

from __future__ import annotations

import asyncio
import json
from collections import defaultdict
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from streamproc.app import run_worker
from streamproc.bench.workload import Workload
from streamproc.codec import encode
from streamproc.settings import Settings
from streamproc.wire import CloudResponse, MaskedTurn, RestoredTurn

from .streams import ROOT, cloud_text, produce, read_until, unique_settings, wait_for

pytestmark = pytest.mark.integration


@pytest.fixture
async def worker(kafka_bootstrap: str, pg_url_for_test: str, tmp_path: Path) -> AsyncIterator[Settings]:
    settings = unique_settings(kafka_bootstrap, pg_url_for_test, tmp_path)
    stop = asyncio.Event()
    task = asyncio.create_task(run_worker(settings, stop))

    async def ready() -> bool:
        if task.done():
            task.result()  # surface a crash at start-up
        try:
            async with httpx.AsyncClient() as client:
                return (await client.get(f"http://127.0.0.1:{settings.web.port}/health/ready")).status_code == 200
        except httpx.TransportError:
            return False

    await wait_for(ready, deadline_s=60, what="worker readiness")
    yield settings
    stop.set()
    await asyncio.wait_for(task, 60)


async def test_thousand_turns_from_many_users_come_out_once_each_in_order_and_masked(worker: Settings) -> None:
    turns = list(Workload(users=60, seed=11).turns(1000))
    await produce(worker.kafka, worker.kafka.raw_topic, ((t.raw.user_id.encode(), encode(t.raw)) for t in turns))

    records = await read_until(worker.kafka, worker.kafka.masked_topic, count=1000, deadline_s=120)
    masked = [MaskedTurn.model_validate_json(r.value) for r in records]
    assert sorted(m.turn_id for m in masked) == sorted(t.raw.turn_id for t in turns)
    originals = {t.raw.turn_id: t for t in turns}
    for record, turn in zip(records, masked, strict=True):
        assert record.key == turn.user_id.encode()  # keyed by the pseudonym, like the value

    # One stable pseudonym per user (so per-user order survives), never the real id.
    pseudonym_of: dict[str, set[str]] = defaultdict(set)
    for m in masked:
        pseudonym_of[originals[m.turn_id].raw.user_id].add(m.user_id)
    assert all(len(p) == 1 for p in pseudonym_of.values())
    assert len({next(iter(p)) for p in pseudonym_of.values()}) == len(pseudonym_of)
    expected_order: dict[str, list[str]] = defaultdict(list)
    for t in turns:
        expected_order[t.raw.user_id].append(t.raw.turn_id)
    by_partition_order: dict[str, list[str]] = defaultdict(list)
    for record in sorted(records, key=lambda r: (r.partition, r.offset)):
        turn = MaskedTurn.model_validate_json(record.value)
        by_partition_order[originals[turn.turn_id].raw.user_id].append(turn.turn_id)
    assert by_partition_order == expected_order

    secrets = {s for t in turns for s in t.secrets}
    wire = cloud_text(records)
    leaked = [s for s in secrets if s in wire]
    assert not leaked, f"{len(leaked)} planted values reached the masked topic"

    # The cloud echoes every masked turn back, under the pseudonyms it saw; restoration must give
    # back the originals and the real ids (PL4 values stay placeholders under the default
    # policy: they were never stored).
    responses = [
        CloudResponse(response_id=f"r-{m.turn_id}", user_id=m.user_id, session_id=m.session_id,
                      in_reply_to=m.turn_id, content=m.content, ts=m.ts)
        for m in masked
    ]
    await produce(worker.kafka, worker.kafka.response_topic, ((r.user_id.encode(), encode(r)) for r in responses))
    restored_records = await read_until(worker.kafka, worker.kafka.restored_topic, count=1000, deadline_s=120)
    restored = [RestoredTurn.model_validate_json(r.value) for r in restored_records]
    assert len({r.response_id for r in restored}) == 1000
    pl4 = {e.placeholder for m in masked for e in m.entities if e.privacy_level.value == "PL4"}
    for record, r in zip(restored_records, restored, strict=True):
        raw = originals[r.in_reply_to].raw
        assert (r.user_id, r.session_id, record.key) == (raw.user_id, raw.session_id, raw.user_id.encode())
        original = raw.content
        if not any(p in r.content for p in pl4):
            assert r.content == original
        assert set(r.unresolved) <= pl4


async def test_malformed_records_go_to_dead_letter_with_reasons_and_good_ones_flow(worker: Settings) -> None:
    turns = list(Workload(users=10, seed=5).turns(180))
    bad: list[tuple[bytes | None, bytes]] = [
        (b"u", b"{not json"),
        (b"u", b"\xff\xfe invalid utf-8"),
        (b"u", json.dumps({"turn_id": "x"}).encode()),
        (b"u", json.dumps({**json.loads(encode(turns[0].raw)), "role": "system"}).encode()),
        (b"u", b"x" * (worker.kafka.max_record_bytes + 1)),
    ] * 4
    mixed: list[tuple[bytes | None, bytes]] = [(t.raw.user_id.encode(), encode(t.raw)) for t in turns]
    for i, item in enumerate(bad):
        mixed.insert(i * 9, item)
    await produce(worker.kafka, worker.kafka.raw_topic, mixed)

    masked = await read_until(worker.kafka, worker.kafka.masked_topic, count=len(turns), deadline_s=90)
    assert sorted(MaskedTurn.model_validate_json(r.value).turn_id for r in masked) == sorted(t.raw.turn_id for t in turns)
    letters = [json.loads(r.value) for r in await read_until(worker.kafka, worker.kafka.dead_letter_topic, count=len(bad), deadline_s=60)]
    assert len(letters) == len(bad)
    assert {l["error_class"] for l in letters} == {"InvalidJson", "InvalidUtf8", "SchemaError", "OversizedRecord"}
    assert all(l["reason"] and l["source_topic"] == worker.kafka.raw_topic for l in letters)


async def test_response_for_an_unknown_user_is_dead_lettered(worker: Settings) -> None:
    response = CloudResponse(response_id="r1", user_id="nobody-ever", session_id="s", in_reply_to="t", content="Hi <Real_Name_1>", ts="2026-11-23T10:00:00Z")
    await produce(worker.kafka, worker.kafka.response_topic, [(b"nobody-ever", encode(response))])
    letters = await read_until(worker.kafka, worker.kafka.dead_letter_topic, count=1, deadline_s=60)
    assert json.loads(letters[0].value)["error_class"] == "UnknownUser"


async def test_metrics_and_health_are_served(worker: Settings) -> None:
    async with httpx.AsyncClient() as client:
        health = await client.get(f"http://127.0.0.1:{worker.web.port}/health")
        metrics = await client.get(f"http://127.0.0.1:{worker.web.port}/metrics")
    assert health.status_code == 200 and health.json()["checks"]["vault"] is True
    for name in ("streamproc_records_in_total", "streamproc_batch_size", "streamproc_extraction_seconds", "streamproc_consumer_lag", "streamproc_dead_letters_total"):
        assert name in metrics.text


@pytest.fixture(params=["sqlite", "postgres"])
def pg_url_for_test(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The vault behind the worker: SQLite (embedded default) and a fresh real Postgres database."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'vault.db'}"
    url: str = request.getfixturevalue("fresh_pg_url")
    return url


async def test_masked_topic_is_plain_kafka_json_for_an_independent_client(worker: Settings) -> None:
    """Kafka's own console consumer (a Java client from the broker's jars) reads the output."""
    turns = list(Workload(users=3, seed=3).turns(5))
    await produce(worker.kafka, worker.kafka.raw_topic, ((t.raw.user_id.encode(), encode(t.raw)) for t in turns))
    await read_until(worker.kafka, worker.kafka.masked_topic, count=5, deadline_s=60, exact=False)
    proc = await asyncio.create_subprocess_exec(
        str(ROOT / "infra" / "kafka.sh"), "console-consumer", "--topic", worker.kafka.masked_topic,
        "--from-beginning", "--max-messages", "5", "--isolation-level", "read_committed",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 120)
    assert proc.returncode == 0, err.decode()[-2000:]
    lines = [line for line in out.decode().splitlines() if line.strip()]
    assert sorted(MaskedTurn.model_validate_json(line).turn_id for line in lines) == sorted(t.raw.turn_id for t in turns)
