"""Dead letters: sealed content, bounded size, keyed digests, and reasons that quote no input."""

from __future__ import annotations

import hashlib
import json
import os
from datetime import datetime, timezone

import pytest

from streamproc.codec import decode, encode
from streamproc.core.errors import InvalidRecord
from streamproc.pipeline.dead_letter import ENVELOPE_BYTES, SealedLetterError, Sealer, letter_bound
from streamproc.pipeline.types import Record
from streamproc.settings import KafkaSettings
from streamproc.wire import DeadLetter, RawTurn

NOW = datetime(2026, 12, 1, tzinfo=timezone.utc)
PLANTED = "Zq8!planted-pw-77"
BOUND = KafkaSettings().max_record_bytes


def sealer(key: bytes | None = None, bound: int = BOUND) -> Sealer:
    return Sealer(key or bytes(range(32)), bound)


def record(value: bytes | None, key: bytes | None = b"user-ann@example.org", offset: int = 7) -> Record:
    return Record("raw-dialogue", 2, offset, key, value, 0)


def turn_with_unknown_field() -> bytes:
    return json.dumps({"turn_id": "t1", "user_id": "user-ann@example.org", "session_id": "s", "role": "user",
                       "content": "hi", "ts": "2026-12-01T00:00:00Z", "pw_hint": PLANTED}).encode()


def test_a_dead_letter_keeps_coordinates_in_clear_and_the_record_sealed() -> None:
    value = turn_with_unknown_field()
    letter = sealer().seal(record(value), InvalidRecord("RawTurn: ?: Extra inputs are not permitted", "SchemaError"), NOW)
    wire = encode(letter)
    assert PLANTED.encode() not in wire and b"user-ann" not in wire and b"pw_hint" not in wire
    assert (letter.source_topic, letter.partition, letter.offset, letter.error_class) == ("raw-dialogue", 2, 7, "SchemaError")
    assert (letter.key_size, letter.value_size, letter.truncated) == (len(b"user-ann@example.org"), len(value), False)
    opened = sealer().open(DeadLetter.model_validate_json(wire))
    assert (opened.key, opened.value) == (b"user-ann@example.org", value)


def test_tombstones_and_keyless_records_round_trip() -> None:
    letter = sealer().seal(record(None, key=None), InvalidRecord("empty record (tombstone)", "EmptyRecord"), NOW)
    assert letter.key_size is None and letter.value_size is None
    opened = sealer().open(letter)
    assert opened.key is None and opened.value is None


def test_another_vaults_key_or_moved_coordinates_cannot_open_a_letter() -> None:
    letter = sealer().seal(record(b"{}"), InvalidRecord("x", "SchemaError"), NOW)
    with pytest.raises(SealedLetterError):
        sealer(os.urandom(32)).open(letter)
    moved = letter.model_copy(update={"offset": 8})
    with pytest.raises(SealedLetterError):
        sealer().open(moved)
    with pytest.raises(SealedLetterError):
        sealer().open(letter.model_copy(update={"sealed": None}))


def test_the_digest_is_keyed_so_a_dictionary_of_short_secrets_does_not_reverse_it() -> None:
    pin = b"4711"
    a = sealer().seal(record(pin), InvalidRecord("x", "InvalidJson"), NOW)
    b = sealer().seal(record(pin, offset=8), InvalidRecord("x", "InvalidJson"), NOW)
    other_vault = sealer(os.urandom(32)).seal(record(pin), InvalidRecord("x", "InvalidJson"), NOW)
    assert a.digest == b.digest  # copies of one record are recognisable ...
    assert a.digest != other_vault.digest  # ... only with this vault's key
    plain_hashes = {hashlib.sha256(candidate).hexdigest() for candidate in (pin, b"user-ann@example.org" + pin)}
    assert a.digest not in plain_hashes
    assert a.sealed != b.sealed  # fresh nonce per letter


def test_an_800_kb_record_becomes_a_bounded_truncated_letter_that_still_describes_the_original() -> None:
    big = b'{"content": "' + b"x" * 800_000 + b'"}'
    letter = sealer().seal(record(big), InvalidRecord(f"record is {len(big)} bytes, limit {BOUND}", "OversizedRecord"), NOW)
    wire = encode(letter)
    assert letter.truncated and letter.value_size == len(big)
    assert len(wire) <= letter_bound(BOUND) < 1_000_000  # the broker's default message.max.bytes is ~1 MiB
    assert letter.digest == sealer().digest(record(big).key, big)
    opened = sealer().open(letter)
    assert opened.value is not None and big.startswith(opened.value) and len(opened.value) <= BOUND


@pytest.mark.parametrize("key_len,value_len", [(0, 0), (10, BOUND - 10), (BOUND, BOUND), (3 * BOUND, 10), (50, 5 * BOUND)])
def test_every_letter_fits_the_bound_whatever_the_key_and_value_sizes(key_len: int, value_len: int) -> None:
    err = InvalidRecord("r" * 10_000, "E" * 200)  # absurd reason and class are clipped too
    letter = Sealer(os.urandom(32), BOUND).seal(
        Record("t" * 249, 2**31 - 1, 2**63 - 1, b"k" * key_len, b"v" * value_len, 0), err, NOW
    )
    assert len(encode(letter)) <= letter_bound(BOUND)
    assert letter_bound(BOUND) - ENVELOPE_BYTES >= len(letter.sealed or "")


@pytest.mark.parametrize("max_record_bytes", [1024, 256_000, 1_000_000, 4_000_000])
def test_the_bound_fits_the_transactional_producers_request_size(max_record_bytes: int) -> None:
    # kafka/clients.py: max_request_size = max(1 MiB, 4 x max_record_bytes)
    assert letter_bound(max_record_bytes) <= max(1_048_576, 4 * max_record_bytes)


def test_schema_errors_never_echo_an_unknown_field_name() -> None:
    raw = json.dumps({"turn_id": "t", "user_id": "u", "session_id": "s", "role": "user", "content": "c",
                      "ts": "2026-12-01T00:00:00Z", PLANTED: 1, "policy": {PLANTED: "mask"}}).encode()
    with pytest.raises(InvalidRecord) as info:
        decode(raw, RawTurn, max_bytes=10_000)
    assert PLANTED not in info.value.reason
    assert "Extra inputs are not permitted" in info.value.reason and "policy" in info.value.reason
