"""Pure pieces of the pipeline: micro-batching with an injected clock, the dead-letter cap,
decoding errors that never quote the input."""

from __future__ import annotations

import pytest

from streamproc.codec import decode
from streamproc.core.errors import InvalidRecord
from streamproc.pipeline.batch import MicroBatcher
from streamproc.pipeline.dead_letter import DeadLetterLimiter, DeadLetterRateExceeded
from streamproc.pipeline.types import Record
from streamproc.wire import RawTurn


def rec(offset: int, size: int = 10) -> Record:
    return Record("t", 0, offset, b"k", b"x" * size, 0)


def test_batch_closes_at_max_turns() -> None:
    batcher = MicroBatcher(max_turns=3, max_tokens=10_000, max_wait_s=1.0)
    assert batcher.add(rec(0), 0.0) == [] and batcher.add(rec(1), 0.0) == []
    [closed] = batcher.add(rec(2), 0.0)
    assert [r.offset for r in closed] == [0, 1, 2] and len(batcher) == 0


def test_batch_closes_at_max_tokens_before_overflowing() -> None:
    batcher = MicroBatcher(max_turns=100, max_tokens=30, max_wait_s=1.0)
    batcher.add(rec(0, 40), 0.0)  # 11 tokens
    batcher.add(rec(1, 40), 0.0)  # 22
    [closed] = batcher.add(rec(2, 40), 0.0)  # would be 33: the first two close, the third opens a batch
    assert [r.offset for r in closed] == [0, 1] and len(batcher) == 1


def test_batch_closes_at_max_wait_measured_from_its_first_record() -> None:
    batcher = MicroBatcher(max_turns=100, max_tokens=10_000, max_wait_s=0.05)
    batcher.add(rec(0), 10.0)
    assert batcher.poll(10.04) is None
    assert batcher.seconds_left(10.04) == pytest.approx(0.01)
    assert [r.offset for r in batcher.poll(10.05) or []] == [0]


def test_dead_letter_cap_stops_a_bad_deploy_but_not_a_few_bad_records() -> None:
    limiter = DeadLetterLimiter(per_minute=3)
    for t in (0.0, 1.0, 2.0):
        limiter.admit(t)
    limiter.admit(61.5)  # the first three aged out
    with pytest.raises(DeadLetterRateExceeded):
        for t in (62.0, 62.1, 62.2):
            limiter.admit(t)


@pytest.mark.parametrize(
    ("raw", "error_class"),
    [(None, "EmptyRecord"), (b"\xff secret-4539148803436467", "InvalidUtf8"), (b'{"x": "secret-4539148803436467"', "InvalidJson"),
     (b'{"turn_id": "secret-4539148803436467"}', "SchemaError"), (b"x" * 2000, "OversizedRecord")],
)
def test_decode_errors_name_the_problem_but_never_the_value(raw: bytes | None, error_class: str) -> None:
    with pytest.raises(InvalidRecord) as info:
        decode(raw, RawTurn, max_bytes=1024)
    assert info.value.error_class == error_class
    assert "4539148803436467" not in info.value.reason and "4539148803436467" not in str(info.value)
