"""Shared plumbing for the bench: fresh topics per pass, scratch Postgres databases, pre-filling,
reading back (id, timestamp) pairs, percentiles, and the progress display.

Nothing here prints or logs a record's content: only counts, ids and timings leave this module.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import secrets
import socket
import statistics
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from aiokafka import ConsumerRecord, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from pydantic import SecretStr
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from streamproc.bench.workload import Turn
from streamproc.codec import encode
from streamproc.kafka.clients import admin, consumer, plain_producer
from streamproc.kafka.topics import flow_topics
from streamproc.settings import KafkaSettings, Settings, VaultSettings
from streamproc.wire import CloudResponse, MaskedTurn

LOG_APPEND = {"message.timestamp.type": "LogAppendTime"}
KV = tuple[bytes | None, bytes]


class BenchError(RuntimeError):
    """A pass could not complete (stalled, crashed, lost records)."""


class StallClock:
    """Fails a wait when a progress measure has not grown for `stall_s` seconds.

    Waits in the bench and the tests use it instead of a wall-clock deadline: a busy machine
    makes progress slowly, a wedged one not at all, and only the second is a failure."""

    def __init__(self, stall_s: float, error: type[Exception] = BenchError) -> None:
        self.stall_s = stall_s
        self.error = error
        self.best = -1.0
        self.since = time.monotonic()

    def check(self, progress: float, what: str) -> None:
        now = time.monotonic()
        if progress > self.best:
            self.best, self.since = progress, now
        elif now - self.since > self.stall_s:
            raise self.error(f"no progress for {self.stall_s:g}s: {what}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def bench_vault(base: Settings, url: str) -> VaultSettings:
    """The vault of a pass: `url` with a throwaway master key (each scratch database is new)."""
    key = SecretStr(base64.b64encode(os.urandom(32)).decode())
    return base.vault.model_copy(update={"url": url, "master_key": key})


def pass_settings(base: Settings, vault: VaultSettings, state_dir: Path, *, max_turns: int) -> Settings:
    """A copy of `base` with unique topics, group and transactional ids, the given vault and
    batch size and a free web port: one pass never sees another pass's records."""
    tag = secrets.token_hex(4)
    kafka = base.kafka.model_copy(update={
        "group_id": f"sp-bench-{tag}",
        "raw_topic": f"bench-raw-{tag}",
        "masked_topic": f"bench-masked-{tag}",
        "response_topic": f"bench-response-{tag}",
        "restored_topic": f"bench-restored-{tag}",
        "dead_letter_topic": f"bench-dead-{tag}",
        "transactional_id_prefix": f"sp-bench-{tag}",
    })
    return base.model_copy(update={
        "state_dir": state_dir,
        "kafka": kafka,
        "vault": vault,
        "batching": base.batching.model_copy(update={"max_turns": max_turns}),
        "web": base.web.model_copy(update={"host": "127.0.0.1", "port": free_port()}),
    })


class TopicRegistry:
    """Creates a pass's topics (outputs stamped with LogAppendTime) and deletes them all at the end."""

    def __init__(self, kafka: KafkaSettings) -> None:
        self.conn = kafka
        self.created: list[str] = []

    async def create(self, kafka: KafkaSettings, *extra: str) -> None:
        inputs = {kafka.raw_topic, kafka.response_topic, *extra}
        topics = [
            NewTopic(t, kafka.partitions, kafka.replication_factor, topic_configs=None if t in inputs else LOG_APPEND)
            for t in [*flow_topics(kafka), *extra]
        ]
        client = admin(self.conn)
        await client.start()
        try:
            await client.create_topics(topics)
            self.created.extend(t.name for t in topics)
            await _leaders_elected(client, [t.name for t in topics])
        finally:
            await client.close()

    async def delete_all(self) -> None:
        if not self.created:
            return
        client = admin(self.conn)
        await client.start()
        try:
            await client.delete_topics(self.created)
        finally:
            await client.close()
        self.created = []


async def _leaders_elected(admin: AIOKafkaAdminClient, names: list[str], deadline_s: float = 30.0) -> None:
    """Wait until every partition of the new topics has a leader, so the first produce does not
    bounce off NotLeaderForPartition."""
    for _ in range(int(deadline_s / 0.1)):
        described = await admin.describe_topics(names)
        if all(t["error_code"] == 0 and t["partitions"] and all(p["leader"] >= 0 for p in t["partitions"]) for t in described):
            return
        await asyncio.sleep(0.1)


async def prefill(kafka: KafkaSettings, topic: str, records: Iterable[KV]) -> int:
    producer = plain_producer(kafka, linger_ms=20)
    await producer.start()
    try:
        futures = [await producer.send(topic, value, key=key) for key, value in records]
        for fut in futures:
            await fut
        return len(futures)
    finally:
        await producer.stop()


async def read_values(kafka: KafkaSettings, topic: str, partitions: int, count: int, *, idle_s: float = 15.0) -> list[bytes]:
    """The values of every committed record of `topic`, until `count` arrived or it stays idle."""
    return [r.value for r in await _read(kafka, topic, partitions, count, idle_s) if r.value is not None]


async def _read(kafka: KafkaSettings, topic: str, partitions: int, count: int, idle_s: float) -> list[ConsumerRecord[bytes, bytes]]:
    reader = consumer(kafka, isolation_level="read_committed", enable_auto_commit=False)
    await reader.start()
    try:
        parts = [TopicPartition(topic, p) for p in range(partitions)]
        reader.assign(parts)
        await reader.seek_to_beginning(*parts)
        out: list[ConsumerRecord[bytes, bytes]] = []
        idle = 0.0
        while len(out) < count and idle < idle_s:
            batch = await reader.getmany(timeout_ms=500, max_records=5000)
            idle = idle + 0.5 if not batch else 0.0
            for records in batch.values():
                out.extend(records)
        return out
    finally:
        await reader.stop()


@dataclass(frozen=True, slots=True)
class Stamped:
    """One record as the latency maths needs it: its id, broker timestamp and timestamp type."""

    record_id: str
    ts_ms: int
    log_append: bool


async def read_stamped(kafka: KafkaSettings, topic: str, partitions: int, id_field: str, count: int, *, idle_s: float = 15.0) -> list[Stamped]:
    """(id, timestamp) of every committed record of `topic`, until `count` arrived or it stays idle."""
    records = await _read(kafka, topic, partitions, count, idle_s)
    fields = id_field.split("+")  # "response_id+chunk_seq": a streamed chunk's id
    return [
        Stamped(":".join(str(d.get(f)) for f in fields), r.timestamp, r.timestamp_type == 1)
        for r in records
        for d in [json.loads(r.value or b"{}")]
    ]


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of a non-empty sequence."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), int(-(-q * len(ordered) // 100))))
    return float(ordered[rank - 1])


def summarize_ms(values: Sequence[float]) -> dict[str, float]:
    if not values:
        return {"count": 0, "p50": 0.0, "p99": 0.0, "mean": 0.0, "max": 0.0}
    return {
        "count": len(values),
        "p50": round(percentile(values, 50), 3),
        "p99": round(percentile(values, 99), 3),
        "mean": round(statistics.fmean(values), 3),
        "max": round(max(values), 3),
    }


def responses_for(masked_values: list[bytes]) -> list[tuple[str, KV]]:
    """The cloud echoes each masked turn back: one CloudResponse per MaskedTurn, placeholders kept;
    (response_id, record) pairs."""
    out = []
    for value in masked_values:
        m = MaskedTurn.model_validate_json(value)
        prefix = "warm-r-" if m.turn_id.startswith("warm-") else "r-"
        response = CloudResponse(response_id=f"{prefix}{m.turn_id}", user_id=m.user_id, session_id=m.session_id,
                                 in_reply_to=m.turn_id, content=m.content, ts=m.ts)
        out.append((response.response_id, (m.user_id.encode(), encode(response))))
    return out


def stream_chunks_for(responses: list[tuple[str, KV]], chars: int, concurrent: int = 100) -> list[tuple[str, KV]]:
    """The same responses as a token-streaming agent sends them: chunks of `chars` characters,
    `concurrent` streams open at a time (their chunks interleaved); ("response_id:seq", record)."""
    from streamproc.commands.kafka_tools import stream_chunks

    streams = [stream_chunks(CloudResponse.model_validate_json(kv[1]), chars) for _, kv in responses]
    out = []
    for first in range(0, len(streams), concurrent):
        group = streams[first : first + concurrent]
        for seq in range(max(map(len, group))):
            out.extend((f"{c.response_id}:{c.chunk_seq}", (c.user_id.encode(), encode(c))) for s in group if seq < len(s) for c in [s[seq]])
    return out


def count_leaks(turns: list[Turn], masked_values: list[bytes]) -> int:
    """How many planted values appear in their own masked turn (must be 0). Counted, never shown."""
    by_id = {t.raw.turn_id: t.secrets for t in turns}
    leaked = 0
    for value in masked_values:
        m = MaskedTurn.model_validate_json(value)
        leaked += sum(1 for s in by_id.get(m.turn_id, ()) if s in m.content)
    return leaked


# ---------------------------------------------------------------------------- progress


def progress_bar(console: Console) -> Progress:
    return Progress(
        TextColumn("{task.description:<28}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        console=console, transient=False,
    )
