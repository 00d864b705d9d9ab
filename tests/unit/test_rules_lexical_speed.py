"""Speed rewrites of lexical detectors (issue #10) find exactly what the plain forms found.

Each rewrite skips work that cannot lead to a match; these tests compare it with the plain form
on texts built from the characters that matter to it (Hypothesis), so a skipped match shows up.
"""

from __future__ import annotations

import re

import ahocorasick_rs
from hypothesis import given, settings
from hypothesis import strategies as st
from stdnum import iban as std_iban
from stdnum.iso7064 import mod_97_10

from streamproc.extractors.rules import RulesExtractor, accounts, identity
from streamproc.extractors.rules.firstpass import fold
from streamproc.extractors.rules.text import L, R

# The gap as it was before it stopped ending in whitespace.
_PLAIN_GAP = r"(?:\s*+\((?:[^()\n]{0,20})\))?[^\d\n。！？!?；;，,:：]{0,24}?"
_PIECES = ["订单号", "order", " number", "Passport", " ", "  ", "\u3000", "\t", "\n", ":", "：", "是",
           " is ", "(", ")", "ref", "A1", "x", "12", "-", "#", "。", "ab", "  (see below) "]


def _spans(pattern: re.Pattern[str], text: str) -> list[tuple[tuple[int, int], ...]]:
    return [(m.span(), m.span("cue"), m.span("value")) for m in pattern.finditer(text)]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(_PIECES), max_size=40), st.integers(0, len(identity._LABELS) - 1))
def test_label_gap_finds_what_the_plain_gap_found(pieces: list[str], k: int) -> None:
    _name, _typ, _level, label, kind = identity._LABELS[k]
    plain = re.compile(r"(?P<cue>" + L + "(?:" + label + r"))" + R + _PLAIN_GAP + identity._SEP
                       + identity._VALUES[kind] + R)
    text = "".join(pieces)
    assert _spans(identity._PATTERNS[k][4], text) == _spans(plain, text)


_IBAN_CHARS = st.text(alphabet="0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=5, max_size=34)


@settings(max_examples=300, deadline=None)
@given(_IBAN_CHARS)
def test_iban_checksum_precheck_is_stdnums_checksum(compact: str) -> None:
    assert accounts._checksum_fails(compact) == (mod_97_10.checksum(compact[4:] + compact[:4]) != 1)


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(sorted(accounts.IBAN_LENGTHS)), _IBAN_CHARS)
def test_iban_checksum_precheck_passes_every_valid_iban(country: str, bban: str) -> None:
    number = country + std_iban.calc_check_digits(country + "00" + bban) + bban
    assert not accounts._checksum_fails(number)
    assert not accounts._checksum_fails("DE\u0661\u0662" + bban)  # non-ASCII digits: left to stdnum


_FIRST_PASS = RulesExtractor.from_preset("default")._first_pass
_WORDS = sorted(_FIRST_PASS._owners)
_ONE_AUTOMATON = ahocorasick_rs.AhoCorasick(_WORDS)


def _possible_with_one_automaton(text: str) -> frozenset[int]:
    """The first pass as it was: every word, single characters too, in one automaton."""
    found = {_WORDS[i] for i, _s, _e in _ONE_AUTOMATON.find_matches_as_indexes(fold(text), overlapping=True)}
    return _FIRST_PASS.always.union(*(_FIRST_PASS._owners[w] for w in found))


@settings(max_examples=150, deadline=None)
@given(st.lists(st.one_of(st.sampled_from(_WORDS), st.sampled_from(["号", ":", ".", "@", "A", "İ", " ", "Pass"]),
                          st.text(max_size=4)), max_size=30))
def test_first_pass_single_characters_apart_find_what_one_automaton_found(pieces: list[str]) -> None:
    text = "".join(pieces)
    assert _FIRST_PASS.possible(text) == _possible_with_one_automaton(text)
