"""Issue #5 done-means: `streamproc worker` runs the Kafka mask flow end to end on a real vLLM CPU
engine, through the HTTP server (hybrid) and in-process, on the real broker. The tiny models are
random, so these prove the plumbing and the guarantees, not extraction quality; the rules in
hybrid mode are what keeps the planted secrets off the wire."""

from __future__ import annotations

from pathlib import Path

import pytest

from streamproc.bench.workload import Turn, Workload
from streamproc.codec import encode
from streamproc.kafka.topics import ensure_topics
from streamproc.settings import Settings
from streamproc.wire import MaskedTurn
from tests.integration.streams import produce, read_until, unique_settings
from tests.vllm.support import KV_CACHE_BYTES, MAX_MODEL_LEN, SERVED_NAME, GroupWorkerProcess, VllmServer

pytestmark = pytest.mark.vllm


def masked_of(records: list, turns: list[Turn]) -> list[MaskedTurn]:
    masked = [MaskedTurn.model_validate_json(r.value) for r in records]
    assert sorted(m.turn_id for m in masked) == sorted(t.raw.turn_id for t in turns), "every turn exactly once"
    return masked


def planted_leaks(masked: list[MaskedTurn], turns: list[Turn]) -> list[str]:
    wire = "\n".join(m.content for m in masked)
    return [s for t in turns for s in t.secrets if s in wire]


async def start(settings: Settings, log: Path) -> GroupWorkerProcess:
    await ensure_topics(settings.kafka)
    return GroupWorkerProcess(settings, log).start()


async def test_hybrid_worker_masks_a_stream_through_a_real_vllm_server(vllm_server: VllmServer, kafka_bootstrap: str, tmp_path: Path) -> None:
    settings = unique_settings(
        kafka_bootstrap, f"sqlite+aiosqlite:///{tmp_path / 'vault.db'}", tmp_path,
        extractor="hybrid", vllm_url=vllm_server.url, model=SERVED_NAME, max_tokens=256,
    )
    turns = list(Workload(users=6, seed=71).turns(24))
    worker = await start(settings, tmp_path / "worker.log")
    try:
        await produce(settings.kafka, settings.kafka.raw_topic, ((t.raw.user_id.encode(), encode(t.raw)) for t in turns))
        masked = masked_of(await read_until(settings.kafka, settings.kafka.masked_topic, count=len(turns), deadline_s=300), turns)
    finally:
        worker.stop()
    assert all(m.extractor.name == "hybrid(vllm-http+rules)" and not m.degraded for m in masked)
    assert not planted_leaks(masked, turns)


async def test_inprocess_worker_runs_the_mask_flow_on_a_real_engine(tiny_json_model_dir: Path, kafka_bootstrap: str, tmp_path: Path) -> None:
    settings = unique_settings(
        kafka_bootstrap, f"sqlite+aiosqlite:///{tmp_path / 'vault.db'}", tmp_path,
        extractor="vllm-inprocess", model=str(tiny_json_model_dir), max_tokens=256,
        vllm_engine_args={"max_model_len": MAX_MODEL_LEN, "enforce_eager": True, "kv_cache_memory_bytes": KV_CACHE_BYTES},
    )
    turns = list(Workload(users=4, seed=73).turns(12))
    worker = await start(settings, tmp_path / "worker.log")
    try:
        await produce(settings.kafka, settings.kafka.raw_topic, ((t.raw.user_id.encode(), encode(t.raw)) for t in turns))
        masked = masked_of(await read_until(settings.kafka, settings.kafka.masked_topic, count=len(turns), deadline_s=400), turns)
    finally:
        worker.stop()
    assert all(m.extractor.name == "vllm-inprocess" and not m.degraded for m in masked)


async def test_killed_server_sends_the_hybrid_worker_to_degraded_rules_without_leaking(
    vllm_server_to_kill: VllmServer, kafka_bootstrap: str, tmp_path: Path
) -> None:
    settings = unique_settings(
        kafka_bootstrap, f"sqlite+aiosqlite:///{tmp_path / 'vault.db'}", tmp_path,
        extractor="hybrid", vllm_url=vllm_server_to_kill.url, model=SERVED_NAME, max_tokens=256,
        on_failure="fallback", timeout_s=20.0,
    )
    turns = list(Workload(users=5, seed=79).turns(20))  # one generator: turn_ids are unique within it
    before, after = turns[:10], turns[10:]
    worker = await start(settings, tmp_path / "worker.log")
    try:
        await produce(settings.kafka, settings.kafka.raw_topic, ((t.raw.user_id.encode(), encode(t.raw)) for t in before))
        await read_until(settings.kafka, settings.kafka.masked_topic, count=len(before), deadline_s=300, exact=False)
        vllm_server_to_kill.kill9()
        await produce(settings.kafka, settings.kafka.raw_topic, ((t.raw.user_id.encode(), encode(t.raw)) for t in after))
        records = await read_until(settings.kafka, settings.kafka.masked_topic, count=len(before) + len(after), deadline_s=300)
        assert worker.alive, "the worker must keep running on the fallback"
    finally:
        worker.stop()
    masked = masked_of(records, before + after)
    late = [m for m in masked if m.turn_id in {t.raw.turn_id for t in after}]
    assert all(m.degraded and m.extractor.name == "rules" for m in late), [(m.extractor.name, m.degraded) for m in late]
    assert not planted_leaks(masked, before + after)
