"""Cue secrets pass over cues no value can follow without changing a single match.

`secrets._cue_matches` skips cues whose next possible value start is out of reach and switches
between cue-by-cue and match-by-match scanning; its matches must equal `finditer` of the plain
pattern (same spans, same groups: the judgement reads the cue, gap and separator), whatever the
mix of live and dead cues, long separators and quotes.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from streamproc.extractors.rules import secrets

ATOMS = (
    "password", "Password", "pwd", "密码", "PIN", "PIN code", "CVV", "code", "verification code",
    "one-time password", "otp", "token", "api key", "session id", "验证码", "令牌", " ", "  ", "\n",
    "\t", "\u3000", ":", "=", " is ", " was ", "就是", "是", "\"", "'", "“", "”", "「", "」", "603158",
    "0000", "12345678", "2024", "12:30", "B-514-377", "Hunter42!", "p@ss", "x1", "-", ".", "。", "?",
    "the", "my", "zip", "ending in", "a" * 45, " " * 70, "password=" * 12, "code is " * 12,
    "x" * 300, "PIN 1234 " * 4, "." * 90,
)


def _matches(family: str, text: str) -> tuple[list[object], list[object]]:
    def key(m):  # type: ignore[no-untyped-def]
        return m.span(), m.groupdict()

    expected = [key(m) for m in secrets._PATTERNS[family].finditer(text)]
    return expected, [key(m) for m in secrets._cue_matches(family, text)]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(ATOMS), max_size=60), st.sampled_from(sorted(secrets._CUES)))
def test_cue_matches_equal_finditer(atoms: list[str], family: str) -> None:
    expected, got = _matches(family, "".join(atoms))
    assert got == expected


@pytest.mark.parametrize(("family", "text"), [
    ("password", "password=" * 400),  # no value start at all
    ("password", "password=" * 400 + " Hunter42!"),  # one, after hundreds of dead cues
    ("password", "password" + " " * 300 + "is Hunter42!"),  # a separator longer than the reach
    ("password", "password " + "a" * 38 + " " * 100 + "is Hunter42!"),  # a full gap, then that
    ("pin", "PIN 1234 " + ("PIN " + "." * 80) * 20 + "PIN 5678 PIN 9012"),  # far, then close again
    ("otp", "code 603158 " * 50 + "code is " * 100 + "code 603158"),
])
def test_cue_matches_equal_finditer_on_long_runs(family: str, text: str) -> None:
    expected, got = _matches(family, text)
    assert got == expected


# The detectors read each match through shortcuts (the value's span from the last group to close,
# a digits-only family judged inline, postfix codes judged by their groups as written, hits built
# as tuples). These references read every match the plain way; the hits must be the same.
def _reference_cue_secrets(text: str) -> list[object]:
    out: list[object] = []
    for family, pattern in secrets._PATTERNS.items():
        is_code = secrets._VALUE[family] is secrets._CODE
        for m in pattern.finditer(text):
            if (family == "otp" and secrets._ANY_NOT_A_CODE.search(text)
                    and secrets._NOT_A_CODE_BEFORE.search(text, max(0, m.start() - 12), m.start())):
                continue
            quoted = m.group("quoted") is not None
            start, end = m.span("quoted" if quoted else "code" if is_code else "secret")
            if secrets._ANY_TAIL.search(text) and secrets._CARD_OR_PHONE_TAIL.search(text, max(0, start - 14), start):
                continue
            if not (quoted or is_code):
                while end > start and text[end - 1] in secrets._TRAIL_PUNCT:
                    end -= 1
            confidence = secrets._value_ok(family, text[start:end], quoted, m["cue"], m["gap"], m["sep"])
            if confidence:
                out.append(secrets.hit(text, start, end, secrets._CUES[family][0], secrets.PL.PL4, f"cue_{family}",
                                       confidence, trail=secrets.SECRET_TRAIL))
    return out


def _reference_postfix_codes(text: str) -> list[object]:
    out: list[object] = []
    for m in secrets._POSTFIX.finditer(text):
        start, end = m.span("code")
        typ = secrets._postfix_type(m["code"], m["cue"].casefold())
        if typ is None or (secrets._ANY_TAIL.search(text)
                           and secrets._CARD_OR_PHONE_TAIL.search(text, max(0, start - 14), start)):
            continue
        out.append(secrets.Hit(start, end, typ, secrets.PL.PL4, "cue_postfix", 0.75))
    return out


HIT_ATOMS = (*ATOMS, "ending in ", "尾号", "zip code ", "code ", " code", " token", "验证码", "KLM-4471",
             "“603158”", "'1234'", "\"Hunter42!\"", "PIN '12a4'", "CVV 123", "12345")


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(HIT_ATOMS), max_size=40))
def test_detectors_equal_plain_reading(atoms: list[str]) -> None:
    text = "".join(atoms)
    assert list(secrets.cue_secrets(text)) == _reference_cue_secrets(text)
    assert list(secrets.postfix_codes(text)) == _reference_postfix_codes(text)


@pytest.mark.parametrize("text", [
    " ".join(f"PIN {i:04d}" for i in range(400)),
    "code 603158 " * 300,
    "card ending in 8831 PIN 1234 code 603158 zip code 94110 PIN \"5678\" CVV '123' 603158 token",
])
def test_detectors_equal_plain_reading_on_long_runs(text: str) -> None:
    assert list(secrets.cue_secrets(text)) == _reference_cue_secrets(text)
    assert list(secrets.postfix_codes(text)) == _reference_postfix_codes(text)
