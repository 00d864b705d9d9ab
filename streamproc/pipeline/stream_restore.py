"""Streamed restore stage: response chunks -> restored chunks, with a bounded hold-back per stream.

Whole responses (no chunk fields) and undecodable records go to the whole-response RestoreStage
unchanged. A chunk (`chunk_seq`, `final`) is cut by core.holdback.split: what can no longer become
part of a placeholder is restored and emitted now as the restored chunk with the same chunk_seq;
the rest is held. One restored chunk per input chunk, in order; the final one carries the whole
stream's `unresolved` (earlier ones carry none).

Order and duplicates, per (user_id, response_id), which Kafka keeps in order (one key, one
partition): a chunk_seq below the next expected one is a duplicate and is dropped (counted); one
above it (a gap) is dead-lettered as ChunkOutOfOrder and the stream keeps waiting for the expected
one; a chunk of a stream that already ended (or was never opened) likewise.

State (the hold-back, the next chunk_seq, the unresolved so far) is keyed state
(pipeline.state): it commits in the transaction of the outputs and offsets, so a replay after a
crash or a partition move starts from exactly the committed state and re-derives the same bytes.

Expiry runs on stream time, not the wall clock, so a replay expires the same streams at the same
record: a partition's stream time is the largest timestamp of a chunk seen on it (kept in the
state too); a stream whose last chunk is older than `stream_expiry_s` is closed when a later record of
its partition is processed: its hold-back is flushed as a final chunk and counted.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from streamproc.codec import decode_each, encode
from streamproc.core.errors import InvalidRecord
from streamproc.core.holdback import split
from streamproc.masker import restore_responses
from streamproc.vault.port import PlaceholderStore
from streamproc.pipeline.restore import RestoreStage
from streamproc.pipeline.state import KeyedState
from streamproc.pipeline.types import Output, Record
from streamproc.wire import CloudResponse, RestoredTurn

STREAM_TIME = b"\x00stream-time"  # the partition's stream time; not a valid JSON stream key


class ChunkOutOfOrder(InvalidRecord):
    def __init__(self, reason: str) -> None:
        super().__init__(reason, "ChunkOutOfOrder")


@dataclass(frozen=True, slots=True)
class Stream:
    """One open streamed response: what the next restored chunk needs."""

    user_id: str
    session_id: str
    response_id: str
    in_reply_to: str
    ts: str  # ISO time of the latest chunk (an expiry chunk carries it)
    held: str
    next_seq: int
    unresolved: tuple[str, ...]
    last_ms: int

    def dump(self) -> bytes:
        return json.dumps([getattr(self, f) for f in self.__slots__], separators=(",", ":")).encode()  # type: ignore[attr-defined]

    @classmethod
    def load(cls, raw: bytes) -> Stream:
        values = json.loads(raw)
        values[7] = tuple(values[7])
        return cls(*values)


@dataclass(frozen=True, slots=True)
class Piece:
    """Text ready to restore and emit as one restored chunk, in the output slot of record `index`."""

    index: int
    stream: Stream
    seq: int
    final: bool
    ready: str
    expired: bool


class StreamRestoreStage:
    flow = "restore"

    def __init__(self, whole: RestoreStage, store: PlaceholderStore, changelog_topic: str, expiry_s: float) -> None:
        self.whole = whole
        self.store = store
        self.kafka = whole.kafka
        self.metrics = whole.metrics
        self.expiry_ms = int(expiry_s * 1000)
        self._state = KeyedState(changelog_topic)
        # Per partition, a lower bound of its streams' last_ms, so that most records skip the scan
        # for expired streams. Rebuilt whenever the state is (re)loaded.
        self._oldest: dict[int, int] = {}
        self._streams: dict[tuple[int, bytes], Stream] = {}  # decoded open streams, written through
        self._version = -1

    @property
    def state(self) -> KeyedState:
        return self._state

    async def prepare(self, records: Sequence[Record]) -> Sequence[Record]:
        return records

    async def finish(self, records: Sequence[Record]) -> list[Output]:
        slots: list[list[Output]] = [[] for _ in records]
        # Decoded once here; the whole-response stage gets the same results (an InvalidRecord is
        # dead-lettered there, with its reason).
        decoded = decode_each((r.value for r in records), CloudResponse, max_bytes=self.kafka.max_record_bytes)
        chunks = {i: item for i, item in enumerate(decoded) if isinstance(item, CloudResponse) and item.streamed}
        pieces: list[Piece] = []
        rejected: dict[int, InvalidRecord] = {}
        for i, record in enumerate(records):
            if i in chunks:  # whole responses neither move stream time nor touch the changelog
                pieces.extend(self._expire(i, record))
                pieces.extend(self._advance(i, record, chunks[i], rejected))
        whole_idx = [i for i in range(len(records)) if i not in chunks]
        if whole_idx:
            whole_out = await self.whole.finish_decoded([records[i] for i in whole_idx], [decoded[i] for i in whole_idx])
            for i, out in zip(whole_idx, whole_out, strict=True):
                slots[i].append(out)
        await self._emit(records, pieces, slots)
        for i, err in rejected.items():  # after any expiry chunk the same record closed
            slots[i].append(await self.whole.dead_letters(records[i], err))
        self.metrics.streams_open.labels(self.flow).set(self._state.count(exclude=STREAM_TIME))
        return [out for slot in slots for out in slot] + self._state.changes()

    # ------------------------------------------------------------------ per record, in order

    def _advance(self, i: int, record: Record, chunk: CloudResponse, rejected: dict[int, InvalidRecord]) -> list[Piece]:
        assert chunk.chunk_seq is not None
        key = json.dumps([chunk.user_id, chunk.response_id]).encode()
        stream = self._get(record.partition, key)
        expected = stream.next_seq if stream is not None else 0
        if chunk.chunk_seq < expected:
            self.metrics.stream_chunks_dropped.labels(self.flow).inc()
            return []
        if chunk.chunk_seq > expected:
            rejected[i] = ChunkOutOfOrder(f"chunk_seq {chunk.chunk_seq}, expected {expected}")
            return []
        cut = split(stream.held if stream is not None else "", chunk.content, final=bool(chunk.final))
        unresolved = stream.unresolved if stream is not None else ()
        new = Stream(chunk.user_id, chunk.session_id, chunk.response_id, chunk.in_reply_to, chunk.ts.isoformat(),
                     cut.held, expected + 1, unresolved, record.timestamp_ms)
        self._put(record.partition, key, None if chunk.final else new)
        if record.partition in self._oldest:
            self._oldest[record.partition] = min(self._oldest[record.partition], record.timestamp_ms)
        return [Piece(i, new, chunk.chunk_seq, bool(chunk.final), cut.ready, expired=False)]

    def _expire(self, i: int, record: Record) -> list[Piece]:
        """Advance the partition's stream time; close the streams it left behind, by key order."""
        p = record.partition
        raw = self._state.get(p, STREAM_TIME)
        now = int(raw) if raw is not None else -1
        if record.timestamp_ms <= now:
            return []
        self._state.put(p, STREAM_TIME, str(record.timestamp_ms).encode())
        self._check_version()
        if p in self._oldest and self._oldest[p] + self.expiry_ms >= record.timestamp_ms:
            return []
        due, oldest = [], record.timestamp_ms
        for key, _ in sorted(self._state.items(p)):
            stream = self._get(p, key) if key != STREAM_TIME else None
            if stream is None:
                continue
            if stream.last_ms + self.expiry_ms < record.timestamp_ms:
                due.append(Piece(i, stream, stream.next_seq, True, stream.held, expired=True))
                self._put(p, key, None)
            else:
                oldest = min(oldest, stream.last_ms)
        self._oldest[p] = oldest
        return due

    # ------------------------------------------------------------------ restore and emit

    async def _emit(self, records: Sequence[Record], pieces: list[Piece], slots: list[list[Output]]) -> None:
        asked = [
            CloudResponse(response_id=s.response_id, user_id=s.user_id, session_id=s.session_id,
                          in_reply_to=s.in_reply_to, content=piece.ready, ts=datetime.fromisoformat(s.ts))
            for piece in pieces
            for s in [piece.stream]
        ]
        results = await restore_responses(self.store, asked) if asked else []
        merged: dict[tuple[int, str, str], list[str]] = {}
        for piece, result in zip(pieces, results, strict=True):
            record = records[piece.index]
            if piece.expired:
                self.metrics.streams_expired.labels(self.flow).inc()
            if not isinstance(result, RestoredTurn):  # UnknownUser
                if not piece.expired:
                    slots[piece.index].append(await self.whole.dead_letters(record, result))
                continue
            key = (record.partition, piece.stream.user_id, piece.stream.response_id)
            seen = merged.setdefault(key, list(piece.stream.unresolved))
            seen.extend(u for u in result.unresolved if u not in seen)
            out = result.model_copy(update={"chunk_seq": piece.seq, "final": piece.final, "unresolved": list(seen) if piece.final else []})
            slots[piece.index].append(Output(record.partition, self.kafka.restored_topic, out.user_id.encode(), encode(out)))
        for (p, user_id, response_id), unresolved in merged.items():
            key = json.dumps([user_id, response_id]).encode()
            stream = self._get(p, key)
            if stream is not None and len(unresolved) != len(stream.unresolved):  # still open: remember
                self._put(p, key, replace(stream, unresolved=tuple(unresolved)))

    # ------------------------------------------------------------------ decoded state

    def _check_version(self) -> None:
        """The state was (re)loaded or dropped: what was derived from it is stale."""
        if self._version != self._state.version:
            self._oldest.clear()
            self._streams.clear()
            self._version = self._state.version

    def _get(self, partition: int, key: bytes) -> Stream | None:
        self._check_version()
        stream = self._streams.get((partition, key))
        if stream is None:
            raw = self._state.get(partition, key)
            if raw is None:
                return None
            stream = self._streams[(partition, key)] = Stream.load(raw)
        return stream

    def _put(self, partition: int, key: bytes, stream: Stream | None) -> None:
        """Write through: the cache and the keyed state never disagree."""
        if stream is None:
            self._streams.pop((partition, key), None)
        else:
            self._streams[(partition, key)] = stream
        self._state.put(partition, key, stream.dump() if stream is not None else None)
