"""The in-process extractor on a real vLLM engine (CPU build, pure-random tiny model).

The model's output is junk by design: these tests check the contract around the model. Every output
either becomes detections that are exact substrings of their turn, or an ExtractionError; never
anything in between. The engine's own `generate` is wrapped (not replaced) to see what it produced
and how many requests it had at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Sequence

import pytest

from streamproc.core.errors import ExtractionError
from streamproc.core.spans import Detection
from streamproc.extractors.base import TurnText
from streamproc.extractors.prompt import PromptTemplate
from streamproc.extractors.vllm_inprocess import VllmInProcessExtractor
from streamproc.ops.metrics import Metrics
from tests.vllm.support import CURRENT_TURN, GenerateRecorder, schema_valid, turn_texts

pytestmark = pytest.mark.vllm


async def extract_each(
    extractor: VllmInProcessExtractor, turns: Sequence[TurnText]
) -> dict[str, list[Detection] | BaseException]:
    """One extract() call per turn, all at once, so each turn's outcome is seen on its own (a batch
    fails as a whole on its first bad output)."""

    async def one(turn: TurnText) -> list[Detection]:
        CURRENT_TURN.set(turn.turn_id)
        (detections,) = await extractor.extract([turn])
        return detections

    results = await asyncio.gather(*(one(t) for t in turns), return_exceptions=True)
    return {t.turn_id: r for t, r in zip(turns, results, strict=True)}


async def test_every_output_is_schema_valid_detections_or_an_extraction_error(
    inprocess: VllmInProcessExtractor, short_template: PromptTemplate
) -> None:
    inprocess.template = short_template  # the random model writes spans for some turns
    inprocess.max_tokens = 48  # small: provokes truncation in the middle of a JSON string
    inprocess.output_attempts = 1  # one generation per turn, so the recorder sees the one that counted
    turns = turn_texts(16, seed=501)
    with GenerateRecorder(inprocess._engine) as recorder:
        outcomes = await extract_each(inprocess, turns)
    assert set(recorder.outputs) == {t.turn_id for t in turns}, "every turn must reach the engine"
    seen = {"length": 0, "valid": 0, "invalid": 0}
    for turn in turns:
        text, finish = recorder.outputs[turn.turn_id]
        outcome = outcomes[turn.turn_id]
        if finish == "length":
            seen["length"] += 1
            assert isinstance(outcome, ExtractionError) and not outcome.retriable, (text, outcome)  # the turn's
            assert "max_tokens" in str(outcome)
        elif schema_valid(text):
            seen["valid"] += 1
            assert isinstance(outcome, list), (text, outcome)
            assert all(d.original_text in turn.content for d in outcome)
        else:
            seen["invalid"] += 1
            assert isinstance(outcome, ExtractionError) and not outcome.retriable, (text, outcome)
    print(f"outcomes at max_tokens={inprocess.max_tokens}: {seen}")
    assert seen["length"] >= 1, f"max_tokens={inprocess.max_tokens} should truncate some outputs: {seen}"


async def test_grounding_drops_spans_the_turn_does_not_contain_and_counts_them(
    inprocess: VllmInProcessExtractor, short_template: PromptTemplate
) -> None:
    inprocess.template = short_template
    inprocess.max_tokens = 512
    inprocess.output_attempts = 1
    inprocess.metrics = metrics = Metrics()
    turns = turn_texts(16, seed=501)
    with GenerateRecorder(inprocess._engine) as recorder:
        outcomes = await extract_each(inprocess, turns)
    invented = 0  # spans in valid outputs that are not an exact substring of their turn
    for turn in turns:
        text, finish = recorder.outputs[turn.turn_id]
        outcome = outcomes[turn.turn_id]
        if finish != "length" and schema_valid(text):
            spans = json.loads(text.strip(), strict=False)
            invented += sum(s["original_text"] not in turn.content for s in spans)
            assert isinstance(outcome, list)
            assert all(d.original_text in turn.content for d in outcome), "a detection that is not in its turn"
        else:
            assert isinstance(outcome, ExtractionError)
    dropped = metrics.registry.get_sample_value("streamproc_hallucinated_spans_total", {"extractor": "vllm-inprocess"}) or 0
    print(f"invented spans {invented}, dropped (metric) {dropped}")
    assert invented >= 1, "the random model should invent spans"
    # dropped <= invented: a few may match after width/space/case normalisation, then the turn's text is used
    assert 1 <= dropped <= invented


async def test_the_batch_is_submitted_to_the_engine_concurrently_up_to_max_concurrency(inprocess: VllmInProcessExtractor) -> None:
    inprocess.max_tokens = 64
    limit = 8  # the session extractor's max_concurrency
    with GenerateRecorder(inprocess._engine) as recorder:
        with contextlib.suppress(ExtractionError):  # junk output may fail the batch: not the point here
            await inprocess.extract(turn_texts(6, seed=503))
    assert (recorder.in_flight.max, recorder.in_flight.total) == (6, 6)

    with GenerateRecorder(inprocess._engine) as recorder:
        with contextlib.suppress(ExtractionError):
            await inprocess.extract(turn_texts(16, seed=504))
    assert recorder.in_flight.max == limit
    assert recorder.in_flight.now == 0, "every request finished or was aborted"
