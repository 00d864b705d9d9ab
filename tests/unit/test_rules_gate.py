"""The first-character gate changes speed, never matches."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from streamproc.extractors.rules.gate import first_chars, gated
from tests.unit.adversarial import walk, widest_branch
from tests.unit.test_rules_linear_time import module_patterns

_GATE = re.compile(r"^\(\?=\[(?:\\.|[^\]\\])*\]\)\(\?:")


def test_first_chars_of_small_patterns() -> None:
    assert first_chars(re.compile(r"(?<![a-z])(?:ab|c[d-f])")) == frozenset("ac")
    assert first_chars(re.compile(r"(?i:pin)|密码")) == frozenset("pP密")
    assert first_chars(re.compile(r"x?y")) == frozenset("xy")
    assert first_chars(re.compile(r"\s*x")) is None  # unconstrained start
    assert first_chars(re.compile(r"a?")) is None  # can match the empty string


def test_case_insensitive_gates_keep_re_s_extra_folds() -> None:
    p = gated(re.compile(r"(?i)sk"))
    assert p.search("\u017f\u212a") is not None  # long s and Kelvin sign fold to s and k


def _gated_pairs() -> list[tuple[str, re.Pattern[str], re.Pattern[str]]]:
    pairs = []
    for name, p in sorted(module_patterns().items()):
        if _GATE.match(p.pattern):
            original = re.compile(_GATE.sub("", p.pattern)[:-1], p.flags)
            pairs.append((name, p, original))
    return pairs


def test_the_heavy_cue_patterns_are_gated() -> None:
    names = {n for n, _, _ in _gated_pairs()}
    assert any(n.startswith("identity._PATTERNS") for n in names)
    assert any(n.startswith("secrets._PATTERNS") for n in names)
    assert "medical._lexicon_pattern" in names


@pytest.mark.parametrize("name,gated_p,original", _gated_pairs(), ids=[n for n, _, _ in _gated_pairs()])
def test_a_gated_pattern_finds_exactly_what_the_original_finds(name: str, gated_p: re.Pattern[str],
                                                              original: re.Pattern[str]) -> None:
    samples = [walk(original, choice).text for choice in range(min(widest_branch(original), 64))]
    text = " ".join(samples) + "\n" + "，".join(samples) + "".join(samples)
    assert [m.span() for m in gated_p.finditer(text)] == [m.span() for m in original.finditer(text)]


@settings(max_examples=60, deadline=None)
@given(st.text(st.sampled_from("PpaAsSkK ſK:：=是12345-_密码护照号 \n"), max_size=80))
def test_gates_agree_on_arbitrary_text(text: str) -> None:
    for _name, gated_p, original in _gated_pairs()[:40]:
        assert [m.span() for m in gated_p.finditer(text)] == [m.span() for m in original.finditer(text)]
