"""The streamed restore stage with an in-memory store: chunk order, duplicates, gaps, expiry on
stream time, and a replay from the changelog that re-derives the same bytes."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import datetime, timezone

from streamproc.codec import encode
from streamproc.core.restore import restore
from streamproc.ops.metrics import Metrics
from streamproc.pipeline.dead_letter import DeadLetterLimiter
from streamproc.pipeline.restore import RestoreStage
from streamproc.pipeline.stream_restore import STREAM_TIME, StreamRestoreStage
from streamproc.pipeline.types import Output, Record
from streamproc.settings import KafkaSettings
from streamproc.wire import CloudResponse, RestoredTurn

VALUES = {"real_name_1": "Ada Lovelace", "email_2": "ada@example.org"}
TEXT = "Dear <Real_Name_1>, write to &lt;email_2&gt; or < real name 1 >; <Phone_3> is unknown."
KAFKA = KafkaSettings(restored_topic="restored", dead_letter_topic="dead")


class MemoryStore:
    """Knows one user; ids are their own pseudonyms."""

    async def resolve_many(self, requests: Sequence[tuple[str, set[str]]]) -> list[dict[str, str] | None]:
        return [{k: VALUES[k] for k in keys if k in VALUES} if user == "u1" else None for user, keys in requests]

    async def reveal(self, pairs: Sequence[tuple[str, str]]) -> list[tuple[str, str] | None]:
        return list(pairs)

    async def reveal_and_resolve(
        self, requests: Sequence[tuple[str, str, set[str]]]
    ) -> list[tuple[tuple[str, str], dict[str, str]] | None]:
        values = await self.resolve_many([(user, keys) for user, _, keys in requests])
        return [None if found is None else ((user, session), found) for (user, session, _), found in zip(requests, values)]

    async def service_key(self, name: str) -> bytes:
        return b"k" * 32


def stage() -> StreamRestoreStage:
    store, metrics = MemoryStore(), Metrics()
    whole = RestoreStage(store, KAFKA, metrics, DeadLetterLimiter(1000))  # type: ignore[arg-type]
    return StreamRestoreStage(whole, store, "changelog", expiry_s=60)  # type: ignore[arg-type]


def chunk(response_id: str, seq: int, content: str, final: bool, user: str = "u1") -> CloudResponse:
    return CloudResponse(response_id=response_id, user_id=user, session_id="s1", in_reply_to="t1", content=content,
                         ts=datetime(2026, 1, 1, tzinfo=timezone.utc), chunk_seq=seq, final=final)


def records(responses: list[CloudResponse], start: int = 0, ts0: int = 1_000) -> list[Record]:
    return [Record("responses", 0, start + i, b"k", encode(r), ts0 + start + i) for i, r in enumerate(responses)]


def split_text(text: str, size: int) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)]


def run(s: StreamRestoreStage, batches: list[list[Record]]) -> list[Output]:
    async def go() -> list[Output]:
        out: list[Output] = []
        for batch in batches:
            out.extend(await s.finish(await s.prepare(batch)))
        return out

    return asyncio.run(go())


def restored(outputs: list[Output]) -> list[RestoredTurn]:
    return [RestoredTurn.model_validate_json(o.value) for o in outputs if o.topic == "restored" and o.value]


def test_chunks_restore_to_the_whole_response_in_order_with_unresolved_on_the_final_one() -> None:
    pieces = split_text(TEXT, 5)
    recs = records([chunk("r1", i, p, i == len(pieces) - 1) for i, p in enumerate(pieces)])
    out = restored(run(stage(), [recs[:4], recs[4:9], recs[9:]]))
    assert [o.chunk_seq for o in out] == list(range(len(pieces)))
    assert "".join(o.content for o in out) == restore(TEXT, VALUES).content
    assert [o.final for o in out] == [False] * (len(pieces) - 1) + [True]
    assert out[-1].unresolved == ["<Phone_3>"] and all(o.unresolved == [] for o in out[:-1])


def test_duplicates_are_dropped_and_gaps_dead_lettered() -> None:
    s = stage()
    recs = records([chunk("r1", 0, "Hi <Real_", False), chunk("r1", 0, "Hi <Real_", False), chunk("r1", 2, "x", False),
                    chunk("r1", 1, "Name_1>!", True), chunk("r1", 1, "Name_1>!", True)])
    outputs = run(s, [recs])
    assert [(o.chunk_seq, o.content) for o in restored(outputs)] == [(0, "Hi "), (1, "Ada Lovelace!")]
    assert [o.topic for o in outputs if o.topic == "dead"] == ["dead", "dead"]  # the gap, and a chunk after the end


def test_a_stream_that_never_finishes_expires_on_stream_time_with_its_hold_back_flushed() -> None:
    s = stage()
    first = records([chunk("r1", 0, "Hi <Real_Name_", False)], ts0=1_000)
    later = records([chunk("r2", 0, "other", True)], start=1, ts0=200_000)
    out = restored(run(s, [first, later]))
    assert [(o.response_id, o.chunk_seq, o.final, o.content) for o in out] == [
        ("r1", 0, False, "Hi "), ("r1", 1, True, "<Real_Name_"), ("r2", 0, True, "other")]


def test_whole_responses_pass_as_before_between_chunks() -> None:
    whole = CloudResponse(response_id="w", user_id="u1", session_id="s1", in_reply_to="t", content="<Email_2>",
                          ts=datetime(2026, 1, 1, tzinfo=timezone.utc))
    out = restored(run(stage(), [records([chunk("r1", 0, "a", False), whole, chunk("r1", 1, "b", True)])]))
    assert [(o.response_id, o.chunk_seq, o.content) for o in out] == [("r1", 0, "a"), ("w", None, "ada@example.org"), ("r1", 1, "b")]


def test_a_replay_from_the_changelog_re_derives_identical_bytes() -> None:
    streams = {f"r{n}": split_text(TEXT, 3 + n) for n in range(6)}
    interleaved = [chunk(r, i, ps[i], i == len(ps) - 1) for i in range(40) for r, ps in streams.items() if i < len(ps)]
    recs = records(interleaved)
    clean = [o for o in run(stage(), [recs[i : i + 7] for i in range(0, len(recs), 7)]) if o.topic != "changelog"]

    crashed = stage()
    committed = run(crashed, [recs[:10], recs[10:25]])  # committed; then a crash loses memory
    changelog: dict[bytes, bytes] = {}
    for o in committed:
        if o.topic == "changelog":
            assert o.partition == 0 and o.key is not None
            if o.value is None:
                changelog.pop(o.key, None)
            else:
                changelog[o.key] = o.value
    fresh = stage()
    fresh.state.load(0, changelog)
    rest = run(fresh, [recs[25:31], recs[31:]])
    replayed = [o for o in committed + rest if o.topic != "changelog"]
    assert [(o.key, o.value) for o in replayed] == [(o.key, o.value) for o in clean]
    by_response: dict[str, str] = {}
    for o in restored(replayed):
        by_response[o.response_id] = by_response.get(o.response_id, "") + o.content
    assert by_response == {r: restore(TEXT, VALUES).content for r in streams}
    assert [k for k, _ in fresh.state.items(0)] == [STREAM_TIME]  # every stream ended: only the stream time is left


def test_produce_stream_cuts_a_whole_response_into_ordered_chunks_that_join_back() -> None:
    from streamproc.commands.kafka_tools import stream_chunks

    whole = chunk("r1", 0, TEXT, True).model_copy(update={"chunk_seq": None, "final": None})
    chunks = stream_chunks(whole, 6)
    assert [c.chunk_seq for c in chunks] == list(range(len(chunks))) and [c.final for c in chunks][-2:] == [False, True]
    assert "".join(c.content for c in chunks) == TEXT and all(len(c.content) <= 6 for c in chunks)
    assert stream_chunks(whole.model_copy(update={"content": ""}), 6)[0].final is True
