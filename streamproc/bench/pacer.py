"""The paced producer of the latency passes, run as its own process so that producing does not
share an event loop (or a GIL) with the consumer being measured.

    python -m streamproc.bench.pacer BOOTSTRAP STAGING_TOPIC PARTITIONS TARGET_TOPIC COUNT RATE

Reads COUNT records from STAGING_TOPIC (PARTITIONS partitions) into memory, then sends them to TARGET_TOPIC (same keys,
same values) at RATE records/s, each stamped with its send time (CreateTime). Prints one JSON
line: {"sent": n, "seconds": s, "rate": achieved}. Never prints a record's content.
TLS and SASL settings come from the STREAMPROC_KAFKA__* environment it inherits from the bench.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time

from aiokafka import TopicPartition

from streamproc.kafka.clients import consumer as kafka_consumer
from streamproc.kafka.clients import plain_producer
from streamproc.settings import KafkaSettings, Settings


async def _load(kafka: KafkaSettings, topic: str, partitions: int, count: int) -> list[tuple[bytes | None, bytes]]:
    consumer = kafka_consumer(kafka, enable_auto_commit=False)
    await consumer.start()
    try:
        parts = [TopicPartition(topic, p) for p in range(partitions)]
        consumer.assign(parts)
        await consumer.seek_to_beginning(*parts)
        records = []
        deadline = time.monotonic() + 60
        while len(records) < count and time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=500, max_records=5000)
            records.extend(r for recs in batch.values() for r in recs)
        if len(records) < count:
            raise SystemExit(f"pacer: only {len(records)} of {count} staged records")
        records.sort(key=lambda r: r.timestamp)  # production order across partitions
        return [(r.key, r.value) for r in records[:count] if r.value is not None]
    finally:
        await consumer.stop()


async def pace(kafka: KafkaSettings, staging: str, partitions: int, target: str, count: int, rate: float) -> dict[str, float]:
    records = await _load(kafka, staging, partitions, count)
    producer = plain_producer(kafka, linger_ms=0)
    await producer.start()
    try:
        futures = []
        start = time.monotonic()
        sent = 0
        while sent < len(records):
            due = min(len(records), int((time.monotonic() - start) * rate) + 1)
            while sent < due:
                key, value = records[sent]
                futures.append(await producer.send(target, value, key=key, timestamp_ms=int(time.time() * 1000)))
                sent += 1
            await asyncio.sleep(max(0.0, start + sent / rate - time.monotonic()))
        await asyncio.gather(*futures)
        seconds = time.monotonic() - start
    finally:
        await producer.stop()
    return {"sent": sent, "seconds": round(seconds, 3), "rate": sent / seconds if seconds > 0 else 0.0}


def main(argv: list[str]) -> int:
    bootstrap, staging, partitions, target, count, rate = argv
    kafka = Settings().kafka.model_copy(update={"bootstrap_servers": bootstrap})
    print(json.dumps(asyncio.run(pace(kafka, staging, int(partitions), target, int(count), float(rate)))), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
