"""The first pass (rules/firstpass.py) skips only what cannot match: speed changes, never detections."""

from __future__ import annotations

import ast
import json
import re
from functools import cache
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from streamproc.bench.hostile import hostile_cases
from streamproc.extractors.base import TurnText
from streamproc.extractors.rules import RulesExtractor, firstpass, patterned, secrets, triggers
from streamproc.extractors.rules.firstpass import FirstPass, fold, literals
from streamproc.extractors.rules.normalise import view_of
from tests.unit.adversarial import walk, widest_branch

_UNIT = Path(__file__).parent
_HELDOUT = _UNIT.parent / "heldout"


@cache
def _extractor() -> RulesExtractor:
    return RulesExtractor()


# Families the rules tests name no example of.
_OWN = ("ping me @river_stone82 later", "my credit score is 742 now", "芝麻信用分 688", "FICO score of 801")


@cache
def corpus() -> tuple[str, ...]:
    """Every string literal of the rules unit tests (their positive and negative examples) and
    every held-out text, as the detectors see them (normalised view)."""
    texts: set[str] = set()
    for path in sorted(_UNIT.glob("test_rules_*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and len(node.value) >= 6:
                texts.add(node.value)
    for path in sorted(_HELDOUT.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            record = json.loads(line)
            texts.update(d["content"] for d in record.get("dialogues", ()))
            if "text" in record:
                texts.add(record["text"])
    texts.update(_OWN)
    return tuple(sorted(view_of(t).text for t in texts))


def _variants(text: str) -> tuple[str, ...]:
    """The text, upper-cased, and with re's IGNORECASE-only letters (long s, Kelvin, dotless i)."""
    odd = text.replace("s", "\u017f").replace("k", "\u212a").replace("i", "\u0131").replace("I", "\u0130")
    return text, text.upper(), odd


def test_fold_maps_every_character_re_ignorecase_equates_with_a_letter() -> None:
    everything = "".join(chr(c) for c in range(0x110000) if not 0xD800 <= c < 0xE000)
    for letter in "abcdefghijklmnopqrstuvwxyz":
        for m in re.finditer("(?i)" + letter, everything):
            assert fold(m.group()) == letter, hex(ord(m.group()))


def test_literals_of_small_patterns() -> None:
    assert literals(re.compile(r"(?i:pass(?:word|code))\s*+:")) == {"password", "passcode"}
    assert literals(re.compile(r"(?<![A-Za-z])AKIA[0-9A-Z]{16}")) == {"akia"}
    assert literals(re.compile(r"(?i:pin)(?: code)?|密码")) == {"pin", "密码"}
    assert literals(re.compile(r"[A-Za-z0-9._%+-]{1,64}@[a-z]{2,8}")) == {"@"}
    assert literals(re.compile(r"\d{3}-\d{4}")) == {"-"}
    assert literals(re.compile(r"\d{7,15}")) is None  # shape only: always runs
    assert literals(re.compile(r"(?:code)?\d{4}")) is None  # the cue is optional
    assert literals(re.compile(r"(?<=体重)\d{2}kg|bmi \d\d")) == {"kg", "bmi "}  # lookbehinds consume nothing


def test_every_literal_is_a_character_fold_can_find() -> None:
    for p in _extractor()._first_pass.patterns:
        for s in literals(p) or ():
            assert s and s == fold(s)
            assert all(c.isascii() or c.lower() == c.upper() for c in s), (p.pattern[:60], s)


def _samples(p: re.Pattern[str]) -> list[str]:
    return [walk(p, choice).text for choice in range(min(widest_branch(p), 300))]


def test_every_match_consumes_one_of_its_patterns_literals() -> None:
    """On samples walked from each pattern (every alternative) and on the corpus and its case
    variants: what a match consumes, folded, holds one of the pattern's literals."""
    texts = [v for t in corpus() for v in _variants(t)]
    for p in _extractor()._first_pass.patterns:
        lits = literals(p)
        if lits is None:
            continue
        samples = _samples(p)
        for text in [" ".join(samples), "\n".join(s.upper() for s in samples), *texts]:
            for m in p.finditer(text):
                consumed = fold(m.group())
                assert any(s in consumed for s in lits), (p.pattern[:80], m.group()[:40])


def test_each_family_the_gate_skips_finds_nothing_in_that_turn() -> None:
    """For each declared family, on its own test strings and every hostile turn: whenever the
    family (run ungated) finds a hit, the first pass lets it run."""
    r = _extractor()
    depends = {d: frozenset(r._first_pass.key(p) for p in ps) for d, ps in triggers.depends().items()}
    texts = [v for t in corpus() for v in _variants(t)]
    texts += [view_of(c.content).text for c in hostile_cases()][::4]
    covered: set[object] = set()
    for text in texts:
        possible = r._first_pass.possible(text)
        for detector, needs in depends.items():
            if any(h is not None for h in detector(text)):  # outside a turn: ungated
                covered.add(detector)
                assert not needs.isdisjoint(possible), (detector.__name__, text[:60])
    assert covered == set(depends), set(depends) - covered  # every family was seen finding something


def test_detections_are_the_same_with_and_without_the_first_pass(monkeypatch: pytest.MonkeyPatch) -> None:
    r = _extractor()
    turns = [TurnText("t", "user", t, None) for t in corpus()[::3]]
    gated = [r.detect(t) for t in turns]
    every = frozenset(range(len(r._first_pass.patterns)))
    monkeypatch.setattr(FirstPass, "possible", lambda self, text: every)
    assert [r.detect(t) for t in turns] == gated


def test_a_turn_without_a_cue_skips_the_cue_families_and_one_with_it_runs_them() -> None:
    r = _extractor()
    fp = r._first_pass
    password, email = fp.key(secrets._PATTERNS["password"]), fp.key(patterned.EMAIL)
    plain = fp.possible("Thanks, that was really useful. See you tomorrow.")
    assert password not in plain and email not in plain
    assert password in fp.possible("my PASSWORD is hunter22")
    assert password in fp.possible("my pa\u017f\u017fword is hunter22")  # long s: re's IGNORECASE matches it
    assert email in fp.possible("write to a@b.example")
    found = [d.original_text for d in r.detect(TurnText("t", "user", "my ｐａｓｓｗｏｒｄ is hu\u200bnter22!", None))]
    assert found == ["hu\u200bnter22!"]  # full-width cue and a zero-width space: the view folds both


def test_may_match_outside_a_turn_runs_everything() -> None:
    p = _extractor()._first_pass.patterns[0]
    assert firstpass.may_match(p, "no turn has begun for this text")


@settings(max_examples=80, deadline=None)
@given(st.text(st.sampled_from("PpaAsSkKſKıİ oOrRdDwW:：=是12345-_@.密码护照号验证码 \n"), max_size=60))
def test_the_gate_never_hides_a_pattern_that_matches(text: str) -> None:
    fp = _extractor()._first_pass
    possible = fp.possible(text)
    for k, p in enumerate(fp.patterns):
        if k not in possible:
            assert p.search(text) is None, p.pattern[:80]


@settings(max_examples=200, deadline=None)
@given(st.text(st.sampled_from("0123456789٣ -.,x\n"), min_size=1, max_size=12), st.data())
def test_the_longer_number_check_equals_its_regexes(text: str, data: st.DataObject) -> None:
    from streamproc.extractors.rules import national_ids as ids

    start = data.draw(st.integers(0, len(text)))
    end = data.draw(st.integers(start, len(text)))
    regexes = bool(ids._GROUP_BEFORE.search(text, max(0, start - 2), start) or ids._GROUP_AFTER.match(text, end))
    assert ids._inside_longer_number(text, start, end) == regexes
