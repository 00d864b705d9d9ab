"""Output of servers without structured output (structured_output=false): tolerant parsing with
json-repair, then the same validation and grounding; fail-closed where repair would guess."""

from __future__ import annotations

import json

import pytest

from streamproc.extractors.model_output import BadModelOutput, ground, parse
from streamproc.extractors.model_request import build_request
from streamproc.extractors.prompt import PromptTemplate
from streamproc.extractors.base import TurnText

SPAN = {"original_text": "13712345670", "privacy_type": "Phone Number", "privacy_level": "PL2"}
ONE = json.dumps([SPAN], ensure_ascii=False)
TWO = json.dumps([SPAN, SPAN | {"original_text": "Ann Lee", "privacy_type": "Real Name"}], ensure_ascii=False)


@pytest.mark.parametrize(
    "text",
    [
        f"```json\n{ONE}\n```",
        f"<think>\nThe phone [is] private.\n</think>\n\n{ONE}",
        f"{ONE}\nThat is every private value in the message.",
        f"Here is the list: {ONE}",
        ONE[:-1],  # the closing bracket is missing; the last element is complete
        ONE[:-1] + ",",
        f"<think></think>```\n{ONE[:-1]}\n```",
    ],
)
def test_tolerant_parsing_recovers_the_span_array(text: str) -> None:
    assert [s.model_dump(mode="json") for s in parse(text, truncated=False, tolerant=True)] == [SPAN]


def test_tolerant_parsing_of_two_spans_with_a_missing_bracket() -> None:
    assert len(parse(TWO[:-1], truncated=False, tolerant=True)) == 2


@pytest.mark.parametrize(
    ("text", "truncated"),
    [
        (ONE, True),  # cut at max_tokens: spans may be missing, whatever repair could do
        (TWO[: TWO.rindex('"Real Name"')], False),  # the last element lacks its level: fail closed
        (TWO[: TWO.rindex("Ann") + 2], False),  # cut inside a value: we cannot know the whole value
        ("[", False),  # repairs to [] but is no honest empty answer
        ("There is nothing private here.", False),
        ("<think>still thinking [", False),
        ('[{"original_text": "x", "privacy_type": "Email", "privacy_level": "PL7"}]', False),
        ('{"original_text": "x", "privacy_type": "Email", "privacy_level": "PL2"}', False),
    ],
)
def test_tolerant_parsing_fails_closed(text: str, truncated: bool) -> None:
    with pytest.raises(BadModelOutput) as info:
        parse(text, truncated=truncated, tolerant=True)
    assert not info.value.retriable
    assert info.value.truncated is truncated


def test_an_honest_empty_answer_is_accepted_with_or_without_trailing_text() -> None:
    assert parse("[]", truncated=False, tolerant=True) == []
    assert parse("```json\n[]\n```\nNothing private.", truncated=False, tolerant=True) == []


def test_strict_parsing_does_not_repair() -> None:
    with pytest.raises(BadModelOutput):
        parse(f"```json\n{ONE}\n```", truncated=False)


def test_repaired_spans_are_still_grounded() -> None:
    spans = parse(TWO[:-1], truncated=False, tolerant=True)
    grounded = ground("my number is 13712345670", spans)
    assert [d.original_text for d in grounded.detections] == ["13712345670"] and grounded.dropped == 1


def test_the_request_body_drops_the_schema_only_when_structured_output_is_off() -> None:
    turn = TurnText("t", "user", "hi", None)
    on = build_request(PromptTemplate.load(), turn, max_tokens=32, request_id="a").chat_completions_body("m")
    off = build_request(PromptTemplate.load(), turn, max_tokens=32, request_id="b", structured=False).chat_completions_body("m")
    assert "response_format" in on and "response_format" not in off
    assert {k: v for k, v in on.items() if k != "response_format"} == off
