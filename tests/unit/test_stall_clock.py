"""The one progress-based wait of the bench and the tests: growth resets it, only a stall fails."""

from __future__ import annotations

import pytest

from streamproc.bench.common import BenchError, StallClock


def test_growing_progress_never_fails_even_with_no_patience() -> None:
    clock = StallClock(0.0)
    for done in range(1000):
        clock.check(done, "growing")


def test_a_stall_fails_with_the_chosen_error_naming_what_stalled() -> None:
    clock = StallClock(0.0, AssertionError)
    clock.check(5, "first")
    with pytest.raises(AssertionError, match="no progress for 0s: 5 of 10 records"):
        while True:  # the monotonic clock moves on; the next reading past it fails
            clock.check(5, "5 of 10 records")


def test_the_bench_default_is_bench_error() -> None:
    clock = StallClock(0.0)
    clock.check(1, "first")
    with pytest.raises(BenchError):
        while True:
            clock.check(1, "stuck")
