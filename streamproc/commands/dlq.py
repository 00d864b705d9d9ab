"""`streamproc dlq inspect` and `streamproc dlq replay`: the local operator's view of dead letters.

Both open the vault to get the dead-letter key, so they run in the edge zone, where the vault
is. `inspect` prints the original records (LOCAL ONLY, like `extract`: its output holds private
values; never pipe it into a shared log). `replay` re-produces chosen records to their source
topic (`raw-dialogue` or `cloud-response`) with their original Kafka key, after a fix, and
prints only counts and coordinates.

A letter is chosen by its source coordinates (`--offsets P:O,...` on `--source-topic`) and/or
its `--error-class`. Replay skips what it cannot re-submit faithfully: truncated letters, letters
from other topics, and records that would only be dead-lettered again for their schema (unless
`--drop-unknown-fields` fixes them: the usual producer bug, a field the schema does not know).
A record that is replayed twice is processed twice: replay only what you mean to.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import sys
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any, TextIO

from aiokafka.errors import UnknownTopicOrPartitionError
from pydantic import BaseModel

from streamproc.codec import decode
from streamproc.core.errors import InvalidRecord
from streamproc.kafka.clients import plain_producer, reader
from streamproc.pipeline.dead_letter import Opened, SealedLetterError, Sealer, open_sealer
from streamproc.settings import Settings
from streamproc.wire import CloudResponse, DeadLetter, RawTurn

INSPECT_HELP = "print dead letters with their original records (LOCAL ONLY: prints private values)"
REPLAY_HELP = "re-submit chosen dead letters to their source topic with their original key"


def add_dlq_arguments(dlq: argparse.ArgumentParser) -> None:
    dlq_sub = dlq.add_subparsers(dest="dlq_command", required=True, metavar="{inspect,replay}")
    for name, text in (("inspect", INSPECT_HELP), ("replay", REPLAY_HELP)):
        p = dlq_sub.add_parser(name, help=text, description=text)
        p.add_argument("--topic", help="dead-letter topic (default: the configured one)")
        p.add_argument("--offsets", help="source coordinates P:O[,P:O...] (partition:offset)")
        p.add_argument("--source-topic", help="only letters from this source topic")
        p.add_argument("--error-class", help="only letters with this error class")
        p.add_argument("--idle", type=float, default=3.0, help="stop reading after this many seconds without records")
    inspect = dlq_sub.choices["inspect"]
    inspect.add_argument("--max", type=int, dest="max_records", help="print at most this many letters")
    replay = dlq_sub.choices["replay"]
    replay.add_argument("--all", action="store_true", help="replay every letter that matches (no --offsets needed)")
    replay.add_argument("--drop-unknown-fields", action="store_true", help="remove top-level fields the schema does not know")


@dataclass(frozen=True, slots=True)
class Found:
    dlq_partition: int
    dlq_offset: int
    letter: DeadLetter | None  # None: not a sealed dead letter (an old or foreign record)


@dataclass(frozen=True, slots=True)
class Selector:
    offsets: frozenset[tuple[int, int]] | None
    source_topic: str | None
    error_class: str | None

    def __call__(self, letter: DeadLetter) -> bool:
        if self.source_topic is not None and letter.source_topic != self.source_topic:
            return False
        if self.error_class is not None and letter.error_class != self.error_class:
            return False
        return self.offsets is None or (letter.partition, letter.offset) in self.offsets


def parse_offsets(text: str | None) -> frozenset[tuple[int, int]] | None:
    if not text:
        return None
    out = set()
    for item in text.split(","):
        partition, sep, offset = item.strip().partition(":")
        if not sep or not partition.isdigit() or not offset.isdigit():
            from streamproc.cli import UsageError

            raise UsageError(f"--offsets: expected PARTITION:OFFSET, got {item.strip()!r}")
        out.add((int(partition), int(offset)))
    return frozenset(out)


async def read_letters(settings: Settings, topic: str, idle_s: float) -> list[Found]:
    """Every committed record of the dead-letter topic, read up to its end at start."""
    consumer = reader(settings.kafka, topic)  # no group: every partition, from the beginning
    found: list[Found] = []
    try:
        await consumer.start()
    except UnknownTopicOrPartitionError:
        await consumer.stop()
        from streamproc.cli import UsageError

        raise UsageError(f"no topic {topic!r} on {settings.kafka.bootstrap_servers}") from None
    try:
        tps = sorted(consumer.assignment())
        if not tps:
            return found
        await consumer.seek_to_beginning(*tps)
        end = await consumer.end_offsets(tps)
        last_progress = time.monotonic()
        while any([await consumer.position(tp) < end[tp] for tp in tps]):
            batch = await consumer.getmany(*tps, timeout_ms=500)
            if batch:
                last_progress = time.monotonic()
            elif time.monotonic() - last_progress > idle_s:
                break  # positions can stop short of a trailing transaction marker
            for records in batch.values():
                for rec in records:
                    try:
                        letter: DeadLetter | None = decode(rec.value, DeadLetter, max_bytes=1 << 24)
                    except InvalidRecord:
                        letter = None
                    found.append(Found(rec.partition, rec.offset, letter))
    finally:
        await consumer.stop()
    return found


def _text_or_b64(name: str, raw: bytes | None) -> dict[str, Any]:
    if raw is None:
        return {name: None}
    try:
        return {name: raw.decode("utf-8")}
    except UnicodeDecodeError:
        return {f"{name}_b64": base64.b64encode(raw).decode("ascii")}


def _describe(found: Found, sealer: Sealer) -> dict[str, Any]:
    head: dict[str, Any] = {"dlq_partition": found.dlq_partition, "dlq_offset": found.dlq_offset}
    if found.letter is None:
        return {**head, "error": "not a sealed dead letter (older format?); not shown"}
    letter = found.letter
    out = {**head, **letter.model_dump(mode="json", exclude={"sealed"})}
    try:
        opened = sealer.open(letter)
    except SealedLetterError as err:
        return {**out, "error": str(err)}
    return {**out, **_text_or_b64("key", opened.key), **_text_or_b64("value", opened.value)}


async def inspect(settings: Settings, args: argparse.Namespace, out: TextIO) -> int:
    from streamproc.app import open_vault

    selector = Selector(parse_offsets(args.offsets), args.source_topic, args.error_class)
    async with open_vault(settings) as vault:
        sealer = await open_sealer(vault, settings.kafka)
    shown = 0
    for found in await read_letters(settings, args.topic or settings.kafka.dead_letter_topic, args.idle):
        if found.letter is not None and not selector(found.letter):
            continue
        if args.max_records is not None and shown >= args.max_records:
            break
        out.write(json.dumps(_describe(found, sealer), ensure_ascii=False) + "\n")
        shown += 1
    out.flush()
    print(f"{shown} dead letter(s) shown", file=sys.stderr)
    return 0


def _fix(raw: bytes | None, model: type[BaseModel]) -> bytes | None:
    """Drop top-level fields the model does not know (never looking at their values)."""
    try:
        payload = json.loads(raw or b"")
    except (json.JSONDecodeError, UnicodeDecodeError):
        return raw
    if not isinstance(payload, dict):
        return raw
    kept = {k: v for k, v in payload.items() if k in model.model_fields}
    return json.dumps(kept, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _plan(letter: DeadLetter, opened: Opened, settings: Settings, drop_unknown: bool) -> bytes | None | str:
    """The value to re-submit, or a reason (an error class word) to skip the letter."""
    models: dict[str, type[BaseModel]] = {settings.kafka.raw_topic: RawTurn, settings.kafka.response_topic: CloudResponse}
    model = models.get(letter.source_topic)
    if model is None:
        return "NotAFlowTopic"
    if letter.truncated:
        return "Truncated"
    value = _fix(opened.value, model) if drop_unknown else opened.value
    try:
        decode(value, model, max_bytes=settings.kafka.max_record_bytes)
    except InvalidRecord as err:
        return err.error_class
    return value


async def replay(settings: Settings, args: argparse.Namespace) -> int:
    from streamproc.app import open_vault

    offsets = parse_offsets(args.offsets)
    if offsets is None and not args.all:
        from streamproc.cli import UsageError

        raise UsageError("dlq replay: choose letters with --offsets, or pass --all (with filters)")
    selector = Selector(offsets, args.source_topic, args.error_class)
    async with open_vault(settings) as vault:
        sealer = await open_sealer(vault, settings.kafka)
    chosen = [f.letter for f in await read_letters(settings, args.topic or settings.kafka.dead_letter_topic, args.idle) if f.letter is not None and selector(f.letter)]
    chosen.sort(key=lambda l: (l.source_topic, l.partition, l.offset))  # original order per partition
    skipped: Counter[str] = Counter()
    sends: list[tuple[str, bytes | None, bytes]] = []
    for letter in chosen:
        try:
            opened = sealer.open(letter)
        except SealedLetterError:
            skipped["Unopenable"] += 1
            continue
        planned = _plan(letter, opened, settings, args.drop_unknown_fields)
        if isinstance(planned, str) or planned is None:
            skipped[planned or "Tombstone"] += 1
            print(f"skip {letter.source_topic}:{letter.partition}:{letter.offset}: {planned or 'Tombstone'}", file=sys.stderr)
            continue
        sends.append((letter.source_topic, opened.key, planned))
    producer = plain_producer(settings.kafka)
    await producer.start()
    try:
        futures = [await producer.send(topic, value, key=key) for topic, key, value in sends]
        await asyncio.gather(*futures)
    finally:
        await producer.stop()
    summary = ", ".join(f"{n} {cls}" for cls, n in sorted(skipped.items()))
    print(f"replayed {len(sends)} of {len(chosen)} chosen letter(s)" + (f"; skipped: {summary}" if summary else ""), file=sys.stderr)
    return 0 if not skipped else 1


async def run(settings: Settings, args: argparse.Namespace) -> int:
    if args.dlq_command == "inspect":
        return await inspect(settings, args, sys.stdout)
    return await replay(settings, args)
