"""Per-turn isolation and the deadline, with fake extractors (pure) and a real child process."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Sequence

import pytest

from streamproc.core.errors import ExtractionError, InvalidRecord
from streamproc.core.spans import Detection
from streamproc.core.taxonomy import PrivacyLevel
from streamproc.extractors.base import ExtractorBase, TurnText
from streamproc.extractors.rules.pool import RulesPool
from streamproc.ops.metrics import Metrics
from streamproc.pipeline.extract import ExtractStep


def _turn(i: int, content: str = "") -> TurnText:
    return TurnText(f"t{i}", "user", content or f"turn {i}")


def _found(turn: TurnText, source: str) -> list[Detection]:
    return [Detection(turn.content, "Token", PrivacyLevel.PL4, source, 1.0)]


class FakeModel(ExtractorBase):
    """Answers every turn, except: 'POISON' fails non-retriably whenever it is in the batch,
    'SLOW' never answers, and everything fails retriably while `down`."""

    name = "fake-model"
    version = "1"

    def __init__(self, down: bool = False) -> None:
        self.down = down
        self.calls: list[int] = []

    async def extract(self, batch: Sequence[TurnText]) -> list[list[Detection]]:
        self.calls.append(len(batch))
        if self.down:
            raise ExtractionError("connection refused", retriable=True)
        if any(t.content == "SLOW" for t in batch):
            await asyncio.Event().wait()
        if any(t.content == "POISON" for t in batch):
            raise ExtractionError("context overflow", retriable=False)
        return [_found(t, "model") for t in batch]


class FakeRules(ExtractorBase):
    name = "rules"
    version = "r"

    async def extract(self, batch: Sequence[TurnText]) -> list[list[Detection]]:
        return [_found(t, "rules:x") for t in batch]


def _step(model: ExtractorBase, *, fallback: bool = False, turn_fallback: bool = True, timeout_s: float = 5.0) -> tuple[ExtractStep, Metrics]:
    metrics = Metrics()
    rules = FakeRules()
    step = ExtractStep(model, fallback=rules if fallback else None, turn_fallback=rules if turn_fallback else None, timeout_s=timeout_s, metrics=metrics)
    return step, metrics


async def test_a_turn_the_model_cannot_answer_is_masked_by_rules_alone_and_the_others_keep_model_results() -> None:
    turns = [_turn(0), _turn(1, "POISON"), _turn(2)]
    step, metrics = _step(FakeModel())
    ext = await step(turns)
    assert [d[0].source for d in ext.detections] == ["model", "rules:x", "model"]  # type: ignore[index]
    assert ext.degraded == [False, True, False]
    assert [i.name for i in ext.extractors] == ["fake-model", "rules", "fake-model"]
    assert metrics.turn_failures.labels("fake-model", "fallback")._value.get() == 1
    assert metrics.degraded._value.get() == 1


async def test_the_operator_can_send_such_a_turn_to_dead_letter_instead() -> None:
    step, metrics = _step(FakeModel(), turn_fallback=False)
    ext = await step([_turn(0), _turn(1, "POISON")])
    assert isinstance(ext.detections[1], InvalidRecord) and ext.detections[1].error_class == "ExtractionFailed"
    assert "POISON" not in ext.detections[1].reason
    assert ext.detections[0][0].source == "model"  # type: ignore[index]
    assert metrics.turn_failures.labels("fake-model", "dead-letter")._value.get() == 1


async def test_a_turn_that_never_answers_times_out_alone_while_the_others_proceed() -> None:
    step, _ = _step(FakeModel(), timeout_s=0.3)
    ext = await step([_turn(0), _turn(1, "SLOW"), _turn(2)])
    assert ext.degraded == [False, True, False]


async def test_a_server_that_is_down_keeps_the_retry_policy_for_the_whole_batch() -> None:
    step, _ = _step(FakeModel(down=True))
    with pytest.raises(ExtractionError) as info:
        await step([_turn(0), _turn(1)])
    assert info.value.retriable


async def test_a_server_that_is_down_falls_back_for_the_whole_batch_under_fallback() -> None:
    step, _ = _step(FakeModel(down=True), fallback=True)
    ext = await step([_turn(0), _turn(1)])
    assert ext.degraded == [True, True] and all(isinstance(d, list) for d in ext.detections)


async def test_when_every_turn_times_out_alone_the_server_is_slow_and_the_batch_is_retried() -> None:
    step, _ = _step(FakeModel(), timeout_s=0.2)
    with pytest.raises(ExtractionError) as info:
        await step([_turn(0, "SLOW"), _turn(1, "SLOW")])
    assert info.value.retriable


class HangsOnMarker:
    """A detector that spins holding the GIL on one marker, as a backtracking regex would."""

    def detect(self, turn: TurnText) -> list[Detection]:
        if turn.content == "HANG":
            while True:
                pass
        return _found(turn, "rules:child")


def build_hanging() -> HangsOnMarker:
    return HangsOnMarker()


class PoolRules(ExtractorBase):
    name = "rules"
    version = "pool"

    def __init__(self, pool: RulesPool) -> None:
        self.pool = pool

    async def extract(self, batch: Sequence[TurnText]) -> list[list[Detection]]:
        return await self.pool.detect(batch)


async def test_a_spinning_detector_is_killed_at_its_deadline_and_only_its_turn_is_dead_lettered() -> None:
    pool = RulesPool(1, 0.5, deadline_s=1.0, build=build_hanging)
    try:
        step = ExtractStep(PoolRules(pool), fallback=None, timeout_s=60, metrics=Metrics())
        ticks = 0

        async def heartbeat() -> None:  # the event loop keeps running while the child spins
            nonlocal ticks
            while True:
                await asyncio.sleep(0.05)
                ticks += 1

        beat = asyncio.create_task(heartbeat())
        started = time.monotonic()
        ext = await step([_turn(0), _turn(1, "HANG"), _turn(2)])
        elapsed = time.monotonic() - started
        beat.cancel()
        assert isinstance(ext.detections[1], InvalidRecord) and ext.detections[1].error_class == "ExtractionTimeout"
        assert ext.detections[0][0].source == ext.detections[2][0].source == "rules:child"  # type: ignore[index]
        assert ticks >= elapsed / 0.05 / 4  # the loop was never starved for long
        assert await pool.detect([_turn(3)]) == [_found(_turn(3), "rules:child")]  # respawned
    finally:
        pool.close()


async def test_cancelling_a_call_kills_the_spinning_child() -> None:
    pool = RulesPool(1, 0.5, deadline_s=600, build=build_hanging)
    try:
        await pool.detect([_turn(0)])  # started and warm
        child = pool._children[0]
        assert child.process is not None
        pid = child.process.pid
        task = asyncio.create_task(pool.detect([_turn(1, "HANG")]))
        while not child.busy:  # yields to the loop until the turn is in the child's hands
            await asyncio.sleep(0)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert child.process is None
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)  # killed and reaped
    finally:
        pool.close()


class CrashesOnMarker:
    """A detector with a bug that one input triggers."""

    def detect(self, turn: TurnText) -> list[Detection]:
        if turn.content == "CRASH":
            raise IndexError("boom at a private value")
        return _found(turn, "rules:child")


def build_crashing() -> CrashesOnMarker:
    return CrashesOnMarker()


async def test_a_detector_bug_on_one_turn_dead_letters_that_turn_only_without_its_message() -> None:
    pool = RulesPool(1, 0.5, deadline_s=30, build=build_crashing)
    try:
        step = ExtractStep(PoolRules(pool), fallback=None, timeout_s=60, metrics=Metrics())
        ext = await step([_turn(0), _turn(1, "CRASH")])
        failed = ext.detections[1]
        assert isinstance(failed, InvalidRecord) and failed.error_class == "ExtractionFailed"
        assert "private" not in failed.reason
        assert isinstance(ext.detections[0], list)
    finally:
        pool.close()


class BuggyModel(FakeModel):
    async def extract(self, batch: Sequence[TurnText]) -> list[list[Detection]]:
        if any(t.content == "CRASH" for t in batch):
            raise KeyError("a private value")
        return await super().extract(batch)


async def test_an_extractor_bug_on_one_turn_is_isolated_like_any_turn_failure() -> None:
    step, _ = _step(BuggyModel())
    ext = await step([_turn(0), _turn(1, "CRASH")])
    assert ext.degraded == [False, True]
