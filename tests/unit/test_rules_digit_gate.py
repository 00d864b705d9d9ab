"""The digit gate (rules/digit_gate.py) never skips an id kind on a turn where the national-id
detector would keep a match of it, and it does skip kinds on turns of the wrong digits."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from streamproc.extractors.rules import digit_gate, national_ids
from streamproc.extractors.rules.digit_gate import Needs
from streamproc.extractors.rules.national_ids import IdKind

# Neighbours chosen to sit right against a value: digits (ASCII and Arabic-Indic), every group
# separator, letters on both sides, CJK; or nothing, or a space.
_AROUND = st.one_of(st.just(""), st.just(" "), st.text(st.sampled_from("0123456789٣ .-/,_aXQ号+"), max_size=6))


@pytest.mark.parametrize("kind", national_ids.KINDS, ids=lambda kind: kind.name)
@settings(max_examples=50, deadline=None)
@given(data=st.data())
def test_the_gate_allows_every_kind_the_detector_would_keep(kind: IdKind, data: st.DataObject) -> None:
    # Mostly ASCII digits (how ids are written), sometimes any Unicode digit `\d` accepts.
    flags = data.draw(st.sampled_from([re.ASCII, re.ASCII, re.ASCII, 0]))
    value = data.draw(st.from_regex(re.compile(kind.shape.pattern, flags), fullmatch=True))
    text = data.draw(_AROUND) + value + data.draw(_AROUND)
    kept = [m for m in kind.shape.finditer(text) if not national_ids._inside_longer_number(text, *m.span())]
    if kept:
        assert digit_gate.profile(text).allows(kind.needs), text
    if any(not m.group().isalnum() for m in kept):  # a grouped value, the kind a cue-less turn keeps
        assert digit_gate.profile(text).allows(kind.needs, grouped=True), text


def test_every_kind_declares_its_needs() -> None:
    for kind in national_ids.KINDS:
        assert kind.needs.group >= 3, kind.name
        if kind.needs.exact is not None:
            assert kind.needs.exact[0] >= digit_gate._SHORTEST_EXACT, kind.name


@pytest.mark.parametrize(("text", "group", "sizes"), [
    ("", 0, frozenset()), ("PIN 0042", 4, frozenset()), ("call 415 555 0100 now", 10, {10}),
    ("电话13800138000号", 11, {11}), ("١٢٣٤٥٦٧٨٩ 1", 10, None), ("1 2 1 2 12345", 9, {9}),
    # Groups shorter than eight characters count by their length: a bound, not the exact count.
    ("1.2/3-4 5", 7, frozenset()), ("12 345, 6 7 8 9 0 1", 7, frozenset()), ("1-2-3 4", 7, frozenset()),
])
def test_profile(text: str, group: int, sizes: frozenset[int] | None) -> None:
    found = digit_gate.profile(text)
    assert (found.group, found.sizes) == (group, sizes)


def test_a_turn_of_the_wrong_digits_skips_the_scan(monkeypatch: pytest.MonkeyPatch) -> None:
    # A kind of whole nine-digit groups is not even scanned on turns of 4-digit PINs, of digits
    # in a long row or of 11-digit phones, although its (deliberately loose) shape would match.
    monkeypatch.setattr(national_ids, "KINDS", (IdKind(
        "needs_nine", re.compile(r"(?<!\d)\d(?!\d)"), lambda v: True, re.compile("test id"), 0.9, 0.9,
        Needs(9, exact=(9, 9))),))
    for text in ("PIN 0042 " * 100, "1 2 3 4 5 6 7 8 9 0 " * 100, "电话1 3800138000 " * 100):
        assert [h for h in national_ids.national_ids(text) if h] == [], text[:20]
    assert len([h for h in national_ids.national_ids("PIN 0, ref 1234-5678-9") if h]) == 1


def test_letter_kinds_need_a_letter_by_a_digit() -> None:
    assert digit_gate.profile("ABCDE1234F").letter_by_digit
    assert digit_gate.profile("QQ 12 34 56 C").letter_by_digit
    assert not digit_gate.profile("call +44 20 7946 0958 号12").letter_by_digit


@settings(max_examples=100, deadline=None)
@given(data=st.data())
def test_every_card_the_detector_keeps_is_in_a_group_of_thirteen(data: st.DataObject) -> None:
    from streamproc.extractors.rules import accounts

    value = data.draw(st.from_regex(re.compile(accounts.CARD.pattern, re.ASCII), fullmatch=True))
    text = data.draw(_AROUND) + value + data.draw(_AROUND)
    if any(13 <= sum(map(str.isdigit, m.group())) for m in accounts.CARD.finditer(text)):
        assert digit_gate.profile(text).group >= 13, text


_OPEN = digit_gate.DigitProfile(99, None, True, None, 99)  # a profile that allows everything


@pytest.mark.parametrize("pattern", ["IPV4", "COORDS"])
@settings(max_examples=100, deadline=None)
@given(data=st.data())
def test_ips_and_coordinates_find_the_same_with_the_gate(pattern: str, data: st.DataObject) -> None:
    from streamproc.extractors.rules import address, patterned

    shape, detector = (patterned.IPV4, patterned.ips) if pattern == "IPV4" else (address._COORDS, address.coordinates)
    value = data.draw(st.from_regex(re.compile(shape.pattern, re.ASCII), fullmatch=True))
    text = data.draw(_AROUND) + value + data.draw(_AROUND)
    gated = list(detector(text))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(digit_gate, "profile", lambda _text: _OPEN)
        assert gated == list(detector(text)), text
