"""`streamproc worker --processes 2` on the real broker: two consumers in one group, every turn
exactly once, and a clean stop on SIGTERM."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from aiokafka.admin import AIOKafkaAdminClient

from streamproc.bench.workload import Workload
from streamproc.codec import encode
from streamproc.kafka.topics import ensure_topics
from streamproc.wire import MaskedTurn

from .streams import WorkerProcess, produce, read_until, unique_settings, wait_for


async def test_two_processes_share_the_group_and_mask_every_turn_once(kafka_bootstrap: str, fresh_pg_url: str, tmp_path: Path) -> None:
    settings = unique_settings(kafka_bootstrap, fresh_pg_url, tmp_path)
    await ensure_topics(settings.kafka)
    turns = list(Workload(users=50, seed=43).turns(1_000))
    worker = WorkerProcess(settings, tmp_path / "worker.log", extra_args=["--processes", "2"]).start()
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    await admin.start()
    try:
        async def two_members() -> bool:
            [response] = await admin.describe_consumer_groups([f"{settings.kafka.group_id}.{settings.kafka.raw_topic}"])
            _error, _group, state, _kind, _protocol, members, *_ = response.groups[0]
            return bool(state == "Stable" and len(members) == 2)

        await wait_for(two_members, deadline_s=300, what="two consumers in the mask group")
    finally:
        await admin.close()
    await produce(settings.kafka, settings.kafka.raw_topic, ((t.raw.user_id.encode(), encode(t.raw)) for t in turns))
    records = await read_until(settings.kafka, settings.kafka.masked_topic, count=len(turns), deadline_s=600)
    counts = Counter(MaskedTurn.model_validate_json(r.value).turn_id for r in records)
    assert set(counts) == {t.raw.turn_id for t in turns} and set(counts.values()) == {1}
    assert worker.terminate() == 0
