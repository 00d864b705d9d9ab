"""Per-turn isolation on a real vLLM server: a turn longer than the model's context, in a batch of
normal turns, is answered by the rules alone (degraded); the other turns keep the model's answers."""

from __future__ import annotations

import pytest

from streamproc.extractors.base import TurnText
from streamproc.extractors.prompt import PromptTemplate
from streamproc.extractors.rules import RulesExtractor
from streamproc.extractors.vllm_http import VllmHttpExtractor
from streamproc.ops.metrics import Metrics
from streamproc.pipeline.extract import ExtractStep
from tests.vllm.support import MAX_MODEL_LEN, VllmServer, turn_texts

pytestmark = pytest.mark.vllm


async def test_a_turn_longer_than_the_context_is_masked_by_rules_alone_and_the_others_by_the_model(vllm_server: VllmServer) -> None:
    normal = turn_texts(3, seed=991)
    # Far past max-model-len tokens whatever the tokenizer: the server answers 400 for this turn only.
    too_long = TurnText("too-long", "user", ("mail ann.lee@example.org now. " + "word " * 6_000)[:32_000])
    assert len(too_long.content) > 4 * MAX_MODEL_LEN
    batch = [normal[0], too_long, normal[1], normal[2]]
    metrics = Metrics()
    model = VllmHttpExtractor(vllm_server.url, model=None, template=PromptTemplate.load(), max_tokens=256,
                              timeout_s=120.0, max_concurrency=8, metrics=metrics)
    rules = RulesExtractor(processes=1)
    step = ExtractStep(model, fallback=None, turn_fallback=rules, timeout_s=300.0, metrics=metrics)
    try:
        ext = await step(batch)
    finally:
        await step.aclose()
    assert ext.degraded == [False, True, False, False]
    assert [i.name for i in ext.extractors] == ["vllm-http", "rules", "vllm-http", "vllm-http"]
    assert any(d.original_text == "ann.lee@example.org" for d in ext.detections[1])  # type: ignore[union-attr]
    assert metrics.turn_failures.labels("vllm-http", "fallback")._value.get() == 1
