"""No plaintext side channels, on the real broker with both vault backends: dead letters are
sealed and bounded and only the local `dlq` commands open them; masked-dialogue names users and
sessions by pseudonyms only, and the restore flow maps them back."""

from __future__ import annotations

import asyncio
import json
import sys
from datetime import datetime, timezone

import pytest
from aiokafka import ConsumerRecord

from streamproc.codec import encode
from streamproc.settings import Settings
from streamproc.wire import CloudResponse, DeadLetter, MaskedTurn, RawTurn, RestoredTurn

from .streams import ROOT, produce, read_until, settings_env
from .test_flow_basic import pg_url_for_test, worker  # noqa: F401  (fixtures)

pytestmark = pytest.mark.integration

PLANTED = "Vx7!planted-in-unknown-field"
USER = "ann.lee@example.org"
SESSION = "sess-ann.lee@example.org-42"
TS = datetime(2026, 12, 1, tzinfo=timezone.utc)


def raw_turn(turn_id: str, content: str, user: str = USER, session: str = SESSION) -> RawTurn:
    return RawTurn(turn_id=turn_id, user_id=user, session_id=session, role="user", content=content, ts=TS)


def wire_bytes(records: list[ConsumerRecord[bytes, bytes]]) -> bytes:
    """Everything a reader of the topic gets: keys, values and headers."""
    parts: list[bytes] = []
    for r in records:
        parts += [r.key or b"", r.value or b""] + [k.encode() + v for k, v in r.headers]
    return b"\n".join(parts)


async def streamproc(settings: Settings, *args: str) -> tuple[int, str, str]:
    """The CLI in a real process, without blocking the in-process worker's event loop."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "streamproc.cli", *args,
        env=settings_env(settings), cwd=ROOT, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 180)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def test_dead_letters_are_sealed_bounded_inspectable_and_replayable(worker: Settings) -> None:
    kafka = worker.kafka
    good = raw_turn("t-good", "nothing private here")
    bad = {**json.loads(encode(raw_turn("t-fixme", "call me at +44 20 7946 0958"))), "pw_hint": PLANTED}
    huge = json.dumps({**json.loads(encode(raw_turn("t-huge", "x"))), "content": "y" * 800_000}).encode()
    await produce(kafka, kafka.raw_topic, [(USER.encode(), encode(good)), (USER.encode(), json.dumps(bad).encode()), (USER.encode(), huge)])

    letters_on_wire = await read_until(kafka, kafka.dead_letter_topic, count=2, deadline_s=90)
    wire = wire_bytes(letters_on_wire)
    for secret in (PLANTED, USER, SESSION, "7946 0958", "pw_hint"):
        assert secret.encode() not in wire, "a dead letter carries its record in clear"
    letters = [DeadLetter.model_validate_json(r.value) for r in letters_on_wire]
    by_class = {l.error_class: l for l in letters}
    assert set(by_class) == {"SchemaError", "OversizedRecord"}
    schema, oversized = by_class["SchemaError"], by_class["OversizedRecord"]
    assert not schema.truncated and schema.value_size == len(json.dumps(bad).encode())
    assert oversized.truncated and oversized.value_size == len(huge) and len(oversized.digest) == 64
    assert len(letters_on_wire[[l.error_class for l in letters].index("OversizedRecord")].value) < 400_000

    code, out, err = await streamproc(worker, "dlq", "inspect", "--error-class", "SchemaError")
    assert code == 0, err
    [shown] = [json.loads(line) for line in out.splitlines()]
    assert PLANTED in shown["value"] and shown["key"] == USER and shown["offset"] == schema.offset

    code, out, err = await streamproc(worker, "dlq", "replay", "--all", "--error-class", "OversizedRecord")
    assert code == 1 and "Truncated" in err and "replayed 0 of 1" in err

    coords = f"{schema.partition}:{schema.offset}"
    code, out, err = await streamproc(worker, "dlq", "replay", "--offsets", coords, "--drop-unknown-fields")
    assert code == 0 and "replayed 1 of 1" in err, err
    assert PLANTED not in out + err and USER not in out + err

    masked = await read_until(kafka, kafka.masked_topic, count=2, deadline_s=90)
    turns = [MaskedTurn.model_validate_json(r.value) for r in masked]
    assert sorted(t.turn_id for t in turns) == ["t-fixme", "t-good"]  # replayed, masked exactly once
    assert b"7946 0958" not in wire_bytes(masked) and PLANTED.encode() not in wire_bytes(masked)
    # The replayed record kept its key, so it landed on its user's partition, in order.
    assert len({r.partition for r in masked}) == 1 and len({t.user_id for t in turns}) == 1


async def test_masked_dialogue_carries_only_pseudonyms_and_responses_restore_to_the_real_user(worker: Settings) -> None:
    kafka = worker.kafka
    other = ("bo.chen@example.org", "sess-bo.chen@example.org-1")
    turns = [raw_turn("t1", "my mail is ann.private@example.net"), raw_turn("t2", "call me tomorrow"),
             raw_turn("t3", "hello", *other)]
    await produce(kafka, kafka.raw_topic, [(t.user_id.encode(), encode(t)) for t in turns])
    records = await read_until(kafka, kafka.masked_topic, count=3, deadline_s=90)
    wire = wire_bytes(records)
    for real in (USER, SESSION, *other, "ann.lee", "bo.chen", "ann.private@example.net"):
        assert real.encode() not in wire, "a real id reached the cloud-bound topic"
    masked = {m.turn_id: m for m in (MaskedTurn.model_validate_json(r.value) for r in records)}
    assert masked["t1"].user_id == masked["t2"].user_id != masked["t3"].user_id  # the cloud can still group by user
    assert masked["t1"].session_id == masked["t2"].session_id

    reply = CloudResponse(response_id="r1", user_id=masked["t1"].user_id, session_id=masked["t1"].session_id,
                          in_reply_to="t1", content="Noted, I will write to <Email_1>.", ts=TS)
    stranger = reply.model_copy(update={"response_id": "r2", "user_id": "u-" + "a" * 32})
    crossed = reply.model_copy(update={"response_id": "r3", "session_id": masked["t3"].session_id})
    await produce(kafka, kafka.response_topic, [(r.user_id.encode(), encode(r)) for r in (reply, stranger, crossed)])

    [restored_record] = await read_until(kafka, kafka.restored_topic, count=1, deadline_s=90)
    restored = RestoredTurn.model_validate_json(restored_record.value)
    assert (restored.user_id, restored.session_id, restored_record.key) == (USER, SESSION, USER.encode())
    assert restored.content == "Noted, I will write to ann.private@example.net." and restored.unresolved == []
    letters = [DeadLetter.model_validate_json(r.value) for r in await read_until(kafka, kafka.dead_letter_topic, count=2, deadline_s=60)]
    assert sorted(l.error_class for l in letters) == ["UnknownUser", "UnknownUser"]
