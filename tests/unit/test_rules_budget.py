"""Per-turn validation budgets and first-pass triggers of the rules extractor fail closed.

A hostile turn holds thousands of phone- or id-shaped candidates; validating each one with
`phonenumbers`/`stdnum` would cost ~0.1 ms apiece. Repeated values are judged once per turn, and
past a budget the remaining candidates are masked by shape: more masking, never a leak. The
triggers that skip a detector family must never skip a value that family would have found.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from streamproc.extractors.base import TurnText
from streamproc.extractors.rules import RulesExtractor, national_ids, phones, secrets
from streamproc.extractors.rules.extractor import NEEDS_DIGIT
from streamproc.extractors.rules.national_ids import IdKind
from tests.unit.rules_support import found

# Distinct, well-formed London numbers: more of them than the validation budget.
MANY_PHONES = [f"+44 20 7946 {i:04d}" for i in range(phones.VALIDATION_BUDGET + 150)]


def _detect(text: str) -> set[str]:
    return {d.original_text for d in RulesExtractor().detect(TurnText("t1", "user", text, None))}


def test_turn_with_more_phones_than_the_budget_is_fully_masked() -> None:
    text = " ".join(f"call {p} or" for p in MANY_PHONES)
    detections = RulesExtractor().detect(TurnText("t1", "user", text, None))
    phones_found = {d.original_text for d in detections if d.privacy_type == "Phone Number"}
    assert phones_found == set(MANY_PHONES)
    # Validated ones at their tier, the rest by shape: all above the default threshold.
    assert {d.confidence for d in detections} <= {0.9, phones.SHAPE_ONLY_CONFIDENCE}


def test_phone_candidates_past_the_budget_are_masked_by_shape(monkeypatch: pytest.MonkeyPatch) -> None:
    # An invalid international number is no phone while the budget lasts ...
    invalid = "+44 99 9999 9999"
    assert invalid not in _detect(f"see {invalid} here")
    # ... and is masked, unvalidated, once the turn has spent it: fail closed.
    monkeypatch.setattr(phones, "VALIDATION_BUDGET", 0)
    assert invalid in _detect(f"see {invalid} here")


def test_phone_budget_is_per_turn_not_per_process() -> None:
    rules = RulesExtractor()
    text = " ".join(MANY_PHONES)
    for _ in range(2):
        rules.detect(TurnText("t1", "user", text, None))
    # A later ordinary turn still gets full validation: the invalid number is not a phone.
    after = rules.detect(TurnText("t2", "user", "see +44 99 9999 9999 here", None))
    assert not any(d.privacy_type == "Phone Number" for d in after)


def test_repeated_phone_is_validated_once_per_turn(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = 0
    real = phones._international

    def counting(raw: str) -> bool:
        nonlocal calls
        calls += 1
        return real(raw)

    monkeypatch.setattr(phones, "_international", counting)
    assert "+44 20 7946 0958" in _detect("call +44 20 7946 0958 " * 500)
    assert calls == 1


def _counting_kind(calls: list[str]) -> IdKind:
    def valid(value: str) -> bool:
        calls.append(value)
        return False

    return IdKind("test_kind", re.compile(r"(?<!\d)\d{3}-\d{3}-\d{3}(?!\d)"), valid,
                  re.compile(r"test id"), 0.0, 0.8)


def test_repeated_id_is_validated_once_per_turn(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    monkeypatch.setattr(national_ids, "KINDS", (_counting_kind(calls),))
    hits = list(national_ids.national_ids("x 123-456-789 y " * 300))
    assert hits == [] and len(calls) == 1


def test_id_candidates_past_the_budget_count_as_valid(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    monkeypatch.setattr(national_ids, "KINDS", (_counting_kind(calls),))
    monkeypatch.setattr(national_ids, "VALIDATION_BUDGET", 2)
    values = [f"{i:03d}-456-789" for i in range(100, 110)]
    hits = [h for h in national_ids.national_ids(" x ".join(values)) if h is not None]
    # The first two are validated (and fail); the rest are masked by their grouped shape.
    assert len(calls) == 2
    assert len(hits) == len(values) - 2


DIGIT_FREE = (
    "my password is hunter and the code is pending, card ending in soon, room number unknown",
    "flight to Paris, credit score excellent, IBAN DE, 航班 验证码 身份证 银行卡 尾号",
    "the verification code is abc-def, token ghjkl, my SSN is on file, coordinates N, E",
)


def _all(detector: object, text: str) -> Iterator[object]:
    yield from (h for h in detector(text) if h is not None)  # type: ignore[operator]


@pytest.mark.parametrize("text", DIGIT_FREE)
def test_digit_triggered_detectors_find_nothing_without_a_digit(text: str) -> None:
    for detector in NEEDS_DIGIT:
        assert list(_all(detector, text)) == [], detector
    assert list(_all(phones.detector(), text)) == []


def test_quoted_password_without_digits_is_still_found() -> None:
    # The value-character trigger of cue secrets counts quotes: no digit or symbol needed.
    assert found("my wifi password is 'correcthorsebattery' ok")["correcthorsebattery"][0] == "Password"
    assert secrets._VALUE_CHAR["password"].search("'x'")


def test_repeated_phone_candidate_is_judged_once(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = 0
    real = phones._best_span

    def counting(*args: object) -> object:
        nonlocal calls
        calls += 1
        return real(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(phones, "_best_span", counting)
    hits = [h for h in phones.make_detector()("电话13800138000 号 " * 400) if h]
    assert len(hits) == 400 and calls == 1


_PLAIN_CANDIDATE = re.compile(phones._CANDIDATE.pattern.replace(phones._LONG_ENOUGH, ""))


@settings(max_examples=400, deadline=None)
@given(st.text(st.sampled_from("0123456789٣ +()-./,_a号"), max_size=40))
def test_the_length_lookahead_keeps_every_candidate_long_enough_to_be_a_phone(text: str) -> None:
    def kept(pattern: re.Pattern[str]) -> list[tuple[int, int]]:
        return [m.span() for m in pattern.finditer(text) if m.end() - m.start() >= 7]

    assert kept(phones._CANDIDATE) == kept(_PLAIN_CANDIDATE)
