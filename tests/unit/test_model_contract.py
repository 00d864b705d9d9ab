"""The pure half of the vLLM extractor: prompt, request, output parsing and grounding."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from streamproc.core.errors import ConfigurationError, ExtractionError
from streamproc.core.spans import Detection
from streamproc.core.taxonomy import PrivacyLevel
from streamproc.extractors.base import ExtractorBase, TurnText
from streamproc.extractors.hybrid import HybridExtractor
from streamproc.extractors.model_output import ModelSpan, ground, parse
from streamproc.extractors.model_request import MAX_SPANS, SPAN_ARRAY_SCHEMA, build_request
from streamproc.extractors.prompt import PromptTemplate

TURN = TurnText("t1", "user", "I am Zhang San, code 603158, phone １３７１２３４５６７０", "Zhang San")


def test_request_follows_the_model_card_contract() -> None:
    req = build_request(PromptTemplate.load(), TURN, max_tokens=300, request_id="r1")
    assert len(req.messages) == 1 and req.messages[0]["role"] == "user"
    content = req.messages[0]["content"]
    assert "Zhang San" in content.split("The message, as JSON:")[0]
    assert content.endswith(json.dumps({"role": "user", "content": TURN.content}, ensure_ascii=False, indent=2))
    body = req.chat_completions_body("m")
    assert (body["temperature"], body["top_p"], body["repetition_penalty"], body["max_tokens"]) == (0.1, 0.1, 1.05, 300)
    assert body["chat_template_kwargs"] == {"enable_thinking": False}
    assert body["response_format"]["json_schema"]["schema"] is SPAN_ARRAY_SCHEMA


def test_schema_is_bounded_so_a_degenerate_model_cannot_loop() -> None:
    assert SPAN_ARRAY_SCHEMA["maxItems"] == MAX_SPANS
    props = SPAN_ARRAY_SCHEMA["items"]["properties"]
    assert props["original_text"]["maxLength"] and props["privacy_type"]["maxLength"]
    assert props["privacy_level"]["enum"] == ["PL1", "PL2", "PL3", "PL4"]


def test_prompt_file_replaces_the_template_and_must_have_both_fields(tmp_path: Path) -> None:
    good = tmp_path / "p.txt"
    good.write_text('Name {real_name}. Output [{"a": 1}]. Turn: {turn}', "utf-8")
    assert PromptTemplate.load(good).render("Ann", "user", "hi").startswith('Name Ann. Output [{"a": 1}]')
    bad = tmp_path / "bad.txt"
    bad.write_text("no fields here", "utf-8")
    with pytest.raises(ConfigurationError, match="no turn field"):
        PromptTemplate.load(bad)


def test_text_inside_the_turn_is_never_substituted() -> None:
    rendered = PromptTemplate.load().render("{turn}", "user", "my name is {real_name}")
    assert rendered.count("{real_name}") == 1 and "my name is {real_name}" in rendered


@pytest.mark.parametrize(
    ("text", "truncated"),
    [('[{"original_text": "x", "privacy_type": "Email", "privacy_level": "PL2"}', False),
     ("not json", False),
     ('[{"original_text": "x"}]', False),
     ('[{"original_text": "x", "privacy_type": "Email", "privacy_level": "PL9"}]', False),
     ("[]", True)],
)
def test_invalid_or_truncated_output_is_an_error_never_an_empty_answer(text: str, truncated: bool) -> None:
    with pytest.raises(ExtractionError) as info:
        parse(text, truncated=truncated)
    assert not info.value.retriable, "bad output belongs to the turn: the flow isolates it, it does not retry the batch"


def test_grounding_keeps_exact_and_normalised_spans_and_drops_invented_ones() -> None:
    spans = parse(json.dumps([
        {"original_text": "Zhang San", "privacy_type": "Real Name", "privacy_level": "PL2"},
        {"original_text": "13712345670", "privacy_type": "phone number", "privacy_level": "PL2"},
        {"original_text": "603158", "privacy_type": "Verification Code", "privacy_level": "PL2"},
        {"original_text": "Li Si", "privacy_type": "Real Name", "privacy_level": "PL2"},
        {"original_text": "likes tea", "privacy_type": "Preference", "privacy_level": "PL1"},
    ]), truncated=False)
    grounded = ground(TURN.content, spans)
    by_text = {d.original_text: d for d in grounded.detections}
    assert set(by_text) == {"Zhang San", "１３７１２３４５６７０", "603158"}
    assert by_text["１３７１２３４５６７０"].privacy_type == "Phone Number"  # mapped onto the standard tag
    assert by_text["603158"].privacy_level is PrivacyLevel.PL4  # raised to its tag's level
    assert grounded.dropped == 2  # "Li Si" is not there; "likes tea" neither


def test_grounding_tolerates_whitespace_and_case_differences() -> None:
    grounded = ground("Address: 27  Kestrel\nRoad, Ballarat", [ModelSpan(original_text="27 kestrel road", privacy_type="Detailed Address", privacy_level=PrivacyLevel.PL2)])
    assert [d.original_text for d in grounded.detections] == ["27  Kestrel\nRoad"]


class Fixed(ExtractorBase):
    def __init__(self, name: str, out: list[list[Detection]]) -> None:
        self.name, self.version, self.out = name, "1", out

    async def extract(self, batch):  # type: ignore[no-untyped-def]
        return self.out


async def test_hybrid_is_the_union_with_rules_as_safety_net() -> None:
    model = Fixed("model", [[Detection("Zhang San", "Real Name", PrivacyLevel.PL2, "model")]])
    rules = Fixed("rules", [[Detection("603158", "Verification Code", PrivacyLevel.PL4, "rules:secret"), Detection("Zhang San", "Real Name", PrivacyLevel.PL2, "rules:name")]])
    hybrid = HybridExtractor(model, rules)
    [merged] = await hybrid.extract([TURN])
    assert [(d.original_text, d.source) for d in merged] == [("Zhang San", "model"), ("603158", "rules:secret")]
    assert hybrid.name == "hybrid(model+rules)"
