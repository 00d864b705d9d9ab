"""Streamed restoration on the real broker and Postgres, with worker subprocesses: chunk boundaries
inside every placeholder form, kill -9 in the middle of hundreds of open streams, and two workers
through a rebalance. The reference is the same stage run in-process, without Kafka or crashes."""

from __future__ import annotations

import random
from collections import Counter
from pathlib import Path

import pytest

from streamproc.app import build_restore_stage, open_vault
from streamproc.bench.workload import Workload
from streamproc.codec import encode
from streamproc.core import placeholders
from streamproc.extractors.base import TurnText
from streamproc.extractors.rules import RulesExtractor
from streamproc.kafka.changelog import ensure_changelog
from streamproc.kafka.topics import ensure_topics
from streamproc.masker import mask_turns
from streamproc.ops.metrics import Metrics
from streamproc.pipeline.dead_letter import DeadLetterLimiter
from streamproc.pipeline.types import Record
from streamproc.settings import Settings
from streamproc.wire import CloudResponse, ExtractorInfo, MaskedTurn, RestoredTurn

from .streams import WorkerProcess, produce, read_until, unique_settings, wait_committed

pytestmark = [pytest.mark.integration, pytest.mark.slow]

CHUNKS = 5


def rewrite(text: str, style: int) -> str:
    """What cloud models do to placeholders they echo: case, inner spaces, HTML escapes."""
    out, cursor = [], 0
    for found in placeholders.scan(text):
        out.append(text[cursor : found.start])
        inner = found.text[1:-1]
        out.append([found.text, f"&lt;{inner.lower()}&gt;", f"< {inner.replace('_', ' ')} >", f"&LT; {inner.upper()}&gt;"][style % 4])
        cursor = found.end
    return "".join(out) + text[cursor:]


def chunked(response: CloudResponse, rng: random.Random) -> list[CloudResponse]:
    """CHUNKS pieces, cut inside placeholders first (in the middle of each form), then anywhere."""
    text = response.content
    inside = [f.start + max(1, (f.end - f.start) // 2) for f in placeholders.scan(text)]
    cuts = sorted(set(inside[: CHUNKS - 1]) | {rng.randint(0, len(text)) for _ in range(CHUNKS - 1 - min(len(inside), CHUNKS - 1))})
    bounds = [0, *cuts, len(text)]
    while len(bounds) < CHUNKS + 1:
        bounds.insert(1, 0)  # an empty chunk is a chunk too
    return [
        response.model_copy(update={"content": text[a:b], "chunk_seq": i, "final": i == CHUNKS - 1})
        for i, (a, b) in enumerate(zip(bounds, bounds[1:]))
    ]


async def masked_streams(settings: Settings, n: int, seed: int) -> tuple[list[CloudResponse], list[list[CloudResponse]]]:
    """Mask n turns into the test's vault, echo each back as a whole response and as chunks."""
    raw = [t.raw for t in Workload(users=max(1, n // 5), seed=seed).turns(n)]
    rules, rng = RulesExtractor(), random.Random(seed)
    async with open_vault(settings) as vault:
        detections = await rules.extract([TurnText.of(t) for t in raw])
        masked: list[MaskedTurn] = await mask_turns(vault, raw, detections, ExtractorInfo(name="rules", version="x"), degraded=False)
    wholes = [
        CloudResponse(response_id=f"r{i}", user_id=m.user_id, session_id=m.session_id, in_reply_to=m.turn_id,
                      content=rewrite(m.content, i), ts=m.ts)
        for i, m in enumerate(masked)
    ]
    return wholes, [chunked(w, rng) for w in wholes]


def interleaved(streams: list[list[CloudResponse]], seqs: range) -> list[tuple[bytes, bytes]]:
    """Chunk k of every stream before chunk k+1 of any: every stream is open at once."""
    return [(s[k].user_id.encode(), encode(s[k])) for k in seqs for s in streams]


async def reference(settings: Settings, records: list) -> dict[tuple[str, int], bytes]:
    """The same input, restored by the same stage in-process: no Kafka, no crash."""
    ordered = sorted(records, key=lambda r: (r.partition, r.offset))
    async with open_vault(settings) as vault:
        stage = build_restore_stage(settings, vault, Metrics(), DeadLetterLimiter(10_000))
        outs = await stage.finish([Record(r.topic, r.partition, r.offset, r.key, r.value, r.timestamp) for r in ordered])
    return {key_of(o.value): o.value for o in outs if o.topic == settings.kafka.restored_topic}


def key_of(value: bytes) -> tuple[str, int]:
    turn = RestoredTurn.model_validate_json(value)
    return turn.response_id, turn.chunk_seq if turn.chunk_seq is not None else -1


async def wait_restored(settings: Settings, at_least: int, deadline_s: float) -> None:
    await wait_committed(settings.kafka, settings.kafka.restored_topic, at_least, deadline_s)


def check_exactly_once(outputs: list, expected: dict[tuple[str, int], bytes]) -> None:
    counts = Counter(key_of(r.value) for r in outputs)
    assert not [k for k, c in counts.items() if c > 1], "a restored chunk was published twice"
    assert set(counts) == set(expected), "restored chunks are missing"
    differing = [key_of(r.value) for r in outputs if r.value != expected[key_of(r.value)]]
    assert not differing, f"{len(differing)} restored chunks differ from a clean run"


@pytest.fixture
async def settings(kafka_bootstrap: str, fresh_pg_url: str, tmp_path: Path) -> Settings:
    s = unique_settings(kafka_bootstrap, fresh_pg_url, tmp_path)
    await ensure_topics(s.kafka)
    await ensure_changelog(s.kafka, s.kafka.stream_changelog, s.kafka.response_topic)
    return s


async def test_chunks_cut_inside_every_placeholder_form_restore_like_the_whole_response(settings: Settings, tmp_path: Path) -> None:
    wholes, streams = await masked_streams(settings, 40, seed=3)
    worker = WorkerProcess(settings, tmp_path / "worker.log").start()
    try:
        await produce(settings.kafka, settings.kafka.response_topic, interleaved(streams, range(CHUNKS)))
        await produce(settings.kafka, settings.kafka.response_topic, ((w.user_id.encode(), encode(w)) for w in wholes))
        records = await read_until(settings.kafka, settings.kafka.restored_topic, count=len(wholes) * (CHUNKS + 1), deadline_s=120)
    finally:
        assert worker.terminate() == 0
    turns = [RestoredTurn.model_validate_json(r.value) for r in records]
    whole = {t.response_id: t for t in turns if t.chunk_seq is None}
    parts: dict[str, list[RestoredTurn]] = {}
    for t in sorted((t for t in turns if t.chunk_seq is not None), key=lambda t: t.chunk_seq or 0):
        parts.setdefault(t.response_id, []).append(t)
    assert sum(1 for w in wholes if any(placeholders.scan(w.content))) >= 20  # the cuts did land inside placeholders
    for response_id, chunks in parts.items():
        assert [c.chunk_seq for c in chunks] == list(range(CHUNKS)) and chunks[-1].final
        assert "".join(c.content for c in chunks) == whole[response_id].content
        assert chunks[-1].unresolved == whole[response_id].unresolved
    assert set(parts) == set(whole) == {w.response_id for w in wholes}


async def test_kill9_amid_a_thousand_open_streams_restores_every_chunk_once_as_a_clean_run(settings: Settings, tmp_path: Path) -> None:
    _, streams = await masked_streams(settings, 1_000, seed=7)
    await produce(settings.kafka, settings.kafka.response_topic, interleaved(streams, range(CHUNKS)))
    total = len(streams) * CHUNKS
    worker = WorkerProcess(settings, tmp_path / "worker.log").start()
    for at in (1_200, 3_000):  # mid-stream: all 1,000 streams are open at both points
        await wait_restored(settings, at, deadline_s=120)
        worker.kill9()
        worker = WorkerProcess(settings, tmp_path / "worker.log").start()
    outputs = await read_until(settings.kafka, settings.kafka.restored_topic, count=total, deadline_s=180)
    assert worker.terminate() == 0
    inputs = await read_until(settings.kafka, settings.kafka.response_topic, count=total, deadline_s=60, exact=False)
    check_exactly_once(outputs, await reference(settings, inputs))


async def test_two_workers_carry_open_streams_through_a_rebalance(settings: Settings, tmp_path: Path) -> None:
    _, streams = await masked_streams(settings, 200, seed=11)
    total = len(streams) * CHUNKS
    first = WorkerProcess(settings, tmp_path / "w1.log").start()
    await produce(settings.kafka, settings.kafka.response_topic, interleaved(streams, range(2)))
    await wait_restored(settings, 200, deadline_s=120)
    second_settings = settings.model_copy(update={"web": settings.web.model_copy(update={"port": settings.web.port + 1})})
    second = WorkerProcess(second_settings, tmp_path / "w2.log").start()  # joins: the streams' state moves
    await produce(settings.kafka, settings.kafka.response_topic, interleaved(streams, range(2, 4)))
    await wait_restored(settings, 700, deadline_s=120)
    assert first.terminate() == 0  # leaves: everything moves to the second, open streams included
    await produce(settings.kafka, settings.kafka.response_topic, interleaved(streams, range(4, CHUNKS)))
    outputs = await read_until(settings.kafka, settings.kafka.restored_topic, count=total, deadline_s=180)
    assert second.terminate() == 0
    inputs = await read_until(settings.kafka, settings.kafka.response_topic, count=total, deadline_s=60, exact=False)
    check_exactly_once(outputs, await reference(settings, inputs))
