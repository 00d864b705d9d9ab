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
