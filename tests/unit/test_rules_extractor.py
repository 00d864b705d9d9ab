"""The RulesExtractor contract: batch shape, exact substrings, confidence knob."""

from __future__ import annotations

import asyncio

import pytest

from streamproc.extractors.base import Extractor, TurnText
from streamproc.extractors.rules import RulesExtractor


def test_rules_extractor_satisfies_the_extractor_protocol():
    rules = RulesExtractor()
    assert isinstance(rules, Extractor)
    assert rules.name == "rules" and rules.version


def test_extract_returns_one_list_per_turn_in_input_order():
    batch = [
        TurnText("a", "user", "mail me at li.na@example.com"),
        TurnText("b", "assistant", "nothing private here"),
        TurnText("c", "user", "验证码 771203"),
    ]
    result = asyncio.run(RulesExtractor().extract(batch))
    assert [[d.original_text for d in turn] for turn in result] == [["li.na@example.com"], [], ["771203"]]


def test_empty_batch_and_empty_content_give_empty_results():
    assert asyncio.run(RulesExtractor().extract([])) == []
    assert RulesExtractor().detect(TurnText("x", "user", "")) == []


def test_every_detection_is_an_exact_substring_of_the_content():
    text = "邮箱:zoe@example.net；电话 +44 20 7946 0958；密码是 pa55!Word。"
    for d in RulesExtractor().detect(TurnText("x", "user", text)):
        assert d.original_text in text
        assert d.original_text == d.original_text.strip(" ，。；:")


def test_a_value_repeated_in_a_turn_is_reported_once():
    text = "code 552901, again: code 552901"
    values = [d.original_text for d in RulesExtractor().detect(TurnText("x", "user", text))]
    assert values == ["552901"]


def test_min_confidence_drops_the_lower_tiers():
    text = "never use Hx7$kq!Pw2zN again; key AKIAQ3EGRT5YH7NWX2LM"
    loose = {d.original_text for d in RulesExtractor(0.5).detect(TurnText("x", "user", text))}
    strict = {d.original_text for d in RulesExtractor(0.9).detect(TurnText("x", "user", text))}
    assert "Hx7$kq!Pw2zN" in loose and "Hx7$kq!Pw2zN" not in strict
    assert "AKIAQ3EGRT5YH7NWX2LM" in strict


def test_min_confidence_outside_unit_interval_is_rejected():
    with pytest.raises(ValueError):
        RulesExtractor(1.5)
