"""`streamproc produce` and `streamproc tail`: plain Kafka + JSON, for demos and operators."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import TextIO

from rich.progress import Progress

from streamproc.codec import encode
from streamproc.commands.lines import LineTally, open_input, read_batches
from streamproc.core.errors import InvalidRecord
from streamproc.kafka.clients import plain_producer, reader
from streamproc.kafka.probe import check_connection
from streamproc.kafka.topics import ensure_topics
from streamproc.settings import Settings
from streamproc.wire import CloudResponse, RawTurn

MODELS = {"raw": RawTurn, "response": CloudResponse}


def stream_chunks(response: CloudResponse, chars: int) -> list[CloudResponse]:
    """A whole response as the chunks a token-streaming agent would send: `chars` characters each
    (so placeholders are cut too), chunk_seq from 0, the last one final."""
    if response.streamed:
        return [response]
    text = response.content
    pieces = [text[i : i + chars] for i in range(0, len(text), chars)] or [""]
    return [
        response.model_copy(update={"content": piece, "chunk_seq": seq, "final": seq == len(pieces) - 1})
        for seq, piece in enumerate(pieces)
    ]


async def produce(settings: Settings, path: Path | None, topic: str | None, kind: str, stream_chars: int | None = None) -> int:
    """Validate each JSONL line as a RawTurn (or CloudResponse) and produce it keyed by user_id.
    Rejected lines are reported on stderr and make the exit code 1; the others are still sent.
    With `stream_chars`, each response goes out as chunks of that many characters."""
    model = MODELS[kind]
    target = topic or (settings.kafka.raw_topic if kind == "raw" else settings.kafka.response_topic)
    await check_connection(settings.kafka)
    await ensure_topics(settings.kafka, [target])  # only the target: a gateway may describe no other
    tally = LineTally(str(path or "<stdin>"))
    producer = plain_producer(settings.kafka)
    await producer.start()
    sent = 0
    try:
        with open_input(path) as stream, Progress(transient=True, disable=not sys.stderr.isatty()) as progress:
            task = progress.add_task(f"producing to {target}", total=None)
            async for batch in read_batches(stream, model, tally, max_bytes=settings.kafka.max_record_bytes):  # type: ignore[type-var]
                pending = []
                for line in batch:
                    if isinstance(line.item, InvalidRecord):
                        tally.reject(line.number, line.item)
                        continue
                    items = stream_chunks(line.item, stream_chars) if stream_chars and isinstance(line.item, CloudResponse) else [line.item]
                    for item in items:
                        pending.append(await producer.send(target, encode(item), key=item.user_id.encode()))
                await asyncio.gather(*pending)
                sent += len(pending)
                progress.advance(task, len(pending))
    finally:
        await producer.stop()
    print(f"produced {sent} record(s) to {target}", file=sys.stderr)
    return tally.exit_code()


async def tail(settings: Settings, topic: str, out: TextIO, max_records: int | None, idle_s: float, group: str | None = None) -> int:
    """Print committed records of `topic`, one JSON object per line; stop after `max_records` or
    when nothing new arrived for `idle_s` seconds. Without `group` it reads from the beginning;
    with one it continues where that group stopped (so a repeated demo shows only new records)."""
    await check_connection(settings.kafka)
    consumer = reader(settings.kafka, topic, group_id=group)
    await consumer.start()
    seen = 0
    try:
        while max_records is None or seen < max_records:
            batch = await consumer.getmany(timeout_ms=int(idle_s * 1000))
            if not batch:
                break
            for records in batch.values():
                for record in records:
                    value = (record.value or b"").decode("utf-8", "replace")
                    try:
                        out.write(json.dumps(json.loads(value), ensure_ascii=False) + "\n")
                    except json.JSONDecodeError:
                        out.write(json.dumps({"undecodable": True, "offset": record.offset}) + "\n")
                    seen += 1
            out.flush()
    finally:
        await consumer.stop()
    return 0
