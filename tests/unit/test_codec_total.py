"""Decoding is total: any byte string becomes a model or an InvalidRecord, never another exception,
and no reason quotes the input."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from streamproc.codec import decode, encode
from streamproc.core.errors import InvalidRecord
from streamproc.wire import CloudResponse, RawTurn

LIMIT = 256_000
SECRET = "4539148803436467"
GOOD = {"turn_id": "t1", "user_id": "u1", "session_id": "s1", "role": "user", "content": "hi", "ts": "2026-01-01T00:00:00Z"}


def _outcome(raw: bytes, model: type = RawTurn) -> str:
    try:
        decode(raw, model, max_bytes=LIMIT)
    except InvalidRecord as err:
        return err.error_class
    return "ok"


def _good(**change: object) -> bytes:
    return json.dumps({**GOOD, **change}).encode()


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (b"[" * 100_000 + b"]" * 100_000, "NestingTooDeep"),
        (b'{"turn_id": ' + b"9" * 200_000 + b"}", "NumberOutOfRange"),
        (_good()[:-1] + b', "content": "' + SECRET.encode() + b'"}', "DuplicateKey"),
        (_good()[:-1] + b', "x": NaN}', "InvalidJson"),
        (_good()[:-1] + b', "x": -Infinity}', "InvalidJson"),
        (_good(content="\ud800" + SECRET), "InvalidJson"),
        (_good()[:-1] + b', "x": "a\x01' + SECRET.encode() + b'"}', "InvalidJson"),
        (b"\xef\xbb\xbf" + _good(), "ok"),
        (b"\xef\xbb\xbf\xef\xbb\xbf" + _good(), "InvalidJson"),
        (_good(turn_id="t\u0000" + SECRET), "SchemaError"),
        (_good(content="nul \u0000 inside content is text"), "ok"),
        (_good(**{SECRET: 1}), "SchemaError"),
        (_good(content=12), "SchemaError"),
        (_good(content=["x"] * 3), "SchemaError"),
        (_good()[:-1] + b', "x": 1e999}', "SchemaError"),
        (_good(policy={"PL2": "keep", "PL9": SECRET}), "SchemaError"),
        (b'"just a string ' + SECRET.encode() + b'"', "SchemaError"),
        (b"", "InvalidJson"),
    ],
)
def test_hostile_json_shapes_become_invalid_records_without_quoting_input(raw: bytes, expected: str) -> None:
    assert _outcome(raw) == expected
    if expected != "ok":
        with pytest.raises(InvalidRecord) as info:
            decode(raw, RawTurn, max_bytes=LIMIT)
        assert SECRET not in info.value.reason


def test_a_lone_surrogate_escape_is_refused_before_it_can_break_encoding_later() -> None:
    raw = b'{"turn_id": "t", "user_id": "u", "session_id": "s", "role": "user", "content": "\\udc00x", "ts": "2026-01-01T00:00:00Z"}'
    assert _outcome(raw) == "InvalidJson"


def test_a_valid_surrogate_pair_is_an_ordinary_character() -> None:
    raw = _good()[:-1].replace(b'"hi"', b'"\\ud83d\\ude00"') + b"}"
    turn = decode(raw, RawTurn, max_bytes=LIMIT)
    assert turn.content == "\U0001F600" and encode(turn)


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=2_000))
def test_any_bytes_decode_to_a_model_or_an_invalid_record(raw: bytes) -> None:
    for model in (RawTurn, CloudResponse):
        _outcome(raw, model)


_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=40)
_json_like = st.recursive(_scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4), max_leaves=30)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from(sorted(GOOD) + ["policy", "real_name", "extra"]), _json_like, max_size=8), st.sampled_from([b"", b"\xef\xbb\xbf"]))
def test_json_like_records_decode_to_a_model_or_an_invalid_record(fields: dict[str, object], prefix: bytes) -> None:
    raw = prefix + json.dumps({**GOOD, **fields}, allow_nan=True).encode("utf-8", "surrogatepass")
    outcome = _outcome(raw)
    if outcome == "ok":  # whatever decodes must encode again (no lone surrogates survive)
        encode(decode(raw, RawTurn, max_bytes=LIMIT))


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=1, max_value=3_000), st.sampled_from([b"[", b'{"a":', b"[1,"]))
def test_deep_nesting_of_any_depth_is_an_invalid_record(depth: int, opener: bytes) -> None:
    closer = {b"[": b"]", b'{"a":': b"}", b"[1,": b"]"}[opener]
    assert _outcome(opener * depth + b"0" + closer * depth) in {"NestingTooDeep", "SchemaError"}
