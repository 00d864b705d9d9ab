"""Compacted changelog topics that back stage state (streamproc.pipeline.state).

Written only inside the flow's per-partition transactions; read here, on partition assignment,
from the beginning to the end offset under read_committed (the last stable offset: aborted and
still-open transactions are invisible, and the new owner has already fenced the previous one).
"""

from __future__ import annotations

import logging
import time

from aiokafka import TopicPartition
from aiokafka.admin import NewTopic
from aiokafka.errors import (
    ClusterAuthorizationFailedError,
    KafkaError,
    TopicAlreadyExistsError,
    TopicAuthorizationFailedError,
    for_code,
)

from streamproc.core.errors import StartupError, StreamprocError
from streamproc.kafka.clients import admin, consumer
from streamproc.settings import KafkaSettings

log = logging.getLogger(__name__)

class ChangelogMismatch(StreamprocError):
    """Not retriable: an operator must fix the topics."""


COMPACTED = {"cleanup.policy": "compact", "min.compaction.lag.ms": "0", "segment.ms": "600000"}


async def ensure_changelog(kafka: KafkaSettings, topic: str, input_topic: str) -> None:
    """Create the compacted changelog with as many partitions as its input topic, if missing.
    State of input partition p lives in changelog partition p, so a changelog with fewer
    partitions than its input cannot hold it: that is a configuration error, raised."""
    client = admin(kafka)
    await client.start()
    try:
        # Only topics that exist are described: a metadata request may auto-create the others.
        existing = [t for t in (input_topic, topic) if t in set(await client.list_topics())]
        counts = {t["topic"]: len(t["partitions"]) for t in await client.describe_topics(existing) if not t["error_code"]} if existing else {}
        wanted = counts.get(input_topic, kafka.partitions)
        if topic in counts:
            if counts[topic] < wanted:
                raise ChangelogMismatch(f"changelog {topic} has {counts[topic]} partitions, its input {input_topic} {wanted}")
            return
        response = await client.create_topics(
            [NewTopic(topic, num_partitions=wanted, replication_factor=kafka.replication_factor, topic_configs=COMPACTED)]
        )
        # The admin client returns per-topic error codes instead of raising them.
        for _, code, *_ in response.topic_errors:
            error = for_code(code) if code else None
            if error in (TopicAuthorizationFailedError, ClusterAuthorizationFailedError):
                raise StartupError(
                    f"Kafka topic {topic} (streamed-restore state) does not exist and "
                    f"{kafka.sasl_username or 'this client'} may not create it: grant the worker Create, Read, "
                    "Write and Describe on its state prefix (infra/kafka-acls.sh --state-prefix) or create it compacted"
                )
            if error is not None and error is not TopicAlreadyExistsError:  # else: another worker was first
                raise error(f"creating changelog topic {topic}")
        log.info("created changelog topic %s", topic)
    finally:
        await client.close()


async def read_changelog(
    kafka: KafkaSettings, topic: str, partitions: list[int], deadline_s: float = 60.0
) -> dict[int, dict[bytes, bytes]]:
    """The latest committed value per key of each partition; tombstones delete. A changelog that
    cannot be read to its end within the deadline raises a (retriable) KafkaError."""
    state: dict[int, dict[bytes, bytes]] = {p: {} for p in partitions}
    if not partitions:
        return state
    reader = consumer(
        kafka,
        enable_auto_commit=False,
        isolation_level="read_committed",
        max_partition_fetch_bytes=max(1_048_576, 2 * kafka.max_record_bytes),
    )
    await reader.start()
    try:
        tps = [TopicPartition(topic, p) for p in partitions]
        reader.assign(tps)
        await reader.seek_to_beginning(*tps)
        ends = await reader.end_offsets(tps)
        deadline = time.monotonic() + deadline_s
        pending = {tp for tp in tps if ends[tp] > 0}
        while pending:
            if time.monotonic() > deadline:
                raise KafkaError(f"changelog {topic} not read to its end within {deadline_s:.0f}s")
            fetched = await reader.getmany(*pending, timeout_ms=200)
            for tp, records in fetched.items():
                for record in records:
                    if record.value is None:
                        state[tp.partition].pop(record.key or b"", None)
                    else:
                        state[tp.partition][record.key or b""] = record.value
            for tp in list(pending):
                if await reader.position(tp) >= ends[tp]:
                    pending.discard(tp)
        return state
    finally:
        await reader.stop()
