"""Every detector runs in time linear in the turn's length: proven by growth ratios, not timings.

Inputs are generated, not hand-picked, so detectors and patterns added later are covered too:
- every compiled pattern at module level in rules/ and in the core's placeholder code (found by
  introspection, including those built by argument-less cached factories) is fed, for each of
  its repeats, a sample match up to that repeat followed by a long run of what it accepts, every
  cue word followed by runs of separators, and repeated near-matches (tests/unit/adversarial.py);
- every detector in TEXT_DETECTORS and NAME_DETECTORS, and `RulesExtractor.detect`, gets runs of
  each character class, separator runs after its module's cue words, and thousands of spans.
A step from n to 4n characters that costs more than 10x is super-linear (quadratic costs 16x).
The hostile catalogue (streamproc/bench/hostile.py) must go through detection and masking.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import itertools
import pkgutil
import re
from collections.abc import Callable, Iterator
from types import ModuleType

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import streamproc.extractors.rules as rules_pkg
from streamproc.bench.hostile import BIDI, MAX_CHARS, ZERO_WIDTH, HostileCase, hostile_cases
from streamproc.core import masking, placeholders, restore
from streamproc.core.spans import Detection
from streamproc.core.policy import Action, Policy
from streamproc.core.taxonomy import PrivacyLevel, type_name
from streamproc.extractors.base import TurnText
from streamproc.extractors.rules import RulesExtractor
from streamproc.extractors.rules.extractor import NAME_DETECTORS, TEXT_DETECTORS
from tests.unit.adversarial import MAX_RATIO, SEPARATORS, growth, makers, walk, widest_branch

CORE_MODULES = ("streamproc.core.placeholders", "streamproc.core.restore", "streamproc.core.masking")
DETECTOR_SIZES = (1_000, 4_000, 16_000)
MASK_ALL = Policy(actions={level: Action.MASK for level in PrivacyLevel if level is not PrivacyLevel.PL1})


def _modules() -> list[ModuleType]:
    names = [f"{rules_pkg.__name__}.{m.name}" for m in pkgutil.iter_modules(rules_pkg.__path__)
             if m.name != "pool"]
    return [importlib.import_module(n) for n in (*names, *CORE_MODULES)]


def _patterns_in(name: str, value: object, depth: int = 0) -> Iterator[tuple[str, re.Pattern[str]]]:
    if isinstance(value, re.Pattern) and isinstance(value.pattern, str):
        yield name, value
    elif isinstance(value, (list, tuple)) and depth < 3:
        for i, item in enumerate(value):
            yield from _patterns_in(f"{name}[{i}]", item, depth + 1)
    elif isinstance(value, dict) and depth < 3:
        for key, item in value.items():
            yield from _patterns_in(f"{name}[{key}]", item, depth + 1)


@functools.cache
def module_patterns() -> dict[str, re.Pattern[str]]:
    """Every compiled pattern a rules or core module holds, or builds without arguments."""
    found: dict[str, re.Pattern[str]] = {}
    for module in _modules():
        short = module.__name__.rsplit(".", 1)[-1]
        for attr, value in vars(module).items():
            if getattr(value, "__module__", None) != module.__name__ and not isinstance(value, (re.Pattern, list, tuple, dict)):
                continue
            if hasattr(value, "cache_info") and callable(value) and not inspect.signature(value).parameters:
                value = value()  # a cached factory such as _western() or _amount_patterns()
            found.update(_patterns_in(f"{short}.{attr}", value))
    return found


def _count(pattern: re.Pattern[str]) -> Callable[[str], int]:
    return lambda text: sum(1 for _ in pattern.finditer(text))


def test_introspection_finds_the_patterns_of_every_family() -> None:
    names = module_patterns()
    for expected in ("patterned.EMAIL", "identity._PATTERNS", "secrets._PATTERNS[password]",
                     "financial._amount_patterns[0]", "keys.ODBC", "placeholders.PLACEHOLDER_LIKE",
                     "address._ZH_ADDRESS", "people._patterns[salutation]"):
        assert any(n.startswith(expected) for n in names), expected
    assert len(names) > 60


@pytest.mark.parametrize("name", sorted(module_patterns()))
def test_every_module_pattern_scans_in_linear_time(name: str) -> None:
    pattern = module_patterns()[name]
    slow = []
    for label, make in makers(pattern):
        worst, times = growth(_count(pattern), make)
        if worst > MAX_RATIO:
            slow.append(f"{label}: x{worst:.0f} ({', '.join(f'{t * 1e3:.1f}' for t in times)} ms)")
    assert not slow, f"{name} is super-linear on: " + "; ".join(slow[:5])


# Units repeated to length n: runs of each character class and near-matches of common values.
GENERIC_UNITS = (
    " ", "\t", "\n", "\u3000", ":", "=", "-", ".", "7", "a", "Q", "f3", "Ab9+/", "号", "浙江省", "@",
    "/", "%", "\"'", "([{<", ")]}>", "\\", "_", "#", "1,", "aB3!", "a@a.", "1234-", "+1 ", "password=",
    "code is ", "$1,", "1.", "a:", "DE12 ", "-----BEGIN ", "<a_", "Ab ", "路1号", ZERO_WIDTH + BIDI,
)


def _cue_words(module_name: str, limit: int = 8) -> list[str]:
    words = set()
    for name, pattern in module_patterns().items():
        if name.split(".")[0] == module_name:
            words.update(w for w in _leads(pattern) if len(w) >= 2)
    return sorted(words)[:limit]


def _leads(pattern: re.Pattern[str]) -> set[str]:
    leads = set()
    for choice in range(min(widest_branch(pattern), 24)):
        w = walk(pattern, choice)
        leads.add(w.text[: w.points[0][0]] if w.points else w.text)
    return leads


def _detector_inputs(module_name: str) -> Iterator[tuple[str, Callable[[int], str]]]:
    for unit in GENERIC_UNITS:
        yield f"{unit!r}*n", lambda n, u=unit: u * (n // len(u))
    for word, sep in itertools.product(_cue_words(module_name), SEPARATORS):
        yield f"cue+{sep!r}*n", lambda n, w=word, s=sep: w + s * n + "x"


def _detectors() -> list[tuple[str, Callable[[str], object]]]:
    out: list[tuple[str, Callable[[str], object]]] = []
    for d in TEXT_DETECTORS:
        out.append((f"{d.__module__.rsplit('.', 1)[-1]}.{d.__name__}", lambda t, d=d: list(d(t))))
    for n in NAME_DETECTORS:
        out.append((f"{n.__module__.rsplit('.', 1)[-1]}.{n.__name__}",
                    lambda t, n=n: list(n(t, "Alexandra Maria Quinn"))))
    return out


@pytest.mark.parametrize("name,detector", _detectors(), ids=[n for n, _ in _detectors()])
def test_every_detector_runs_in_linear_time(name: str, detector: Callable[[str], object]) -> None:
    slow = []
    for label, make in _detector_inputs(name.split(".")[0]):
        worst, times = growth(detector, make, DETECTOR_SIZES, repeats=2)
        if worst > MAX_RATIO:
            slow.append(f"{label}: x{worst:.0f} ({', '.join(f'{t * 1e3:.1f}' for t in times)} ms)")
    assert not slow, f"{name} is super-linear on: " + "; ".join(slow[:5])


MANY_SPANS = {
    "same e-mail": lambda n: "a@b.co " * (n // 7),
    "distinct e-mails": lambda n: " ".join(f"u{i}@b.co" for i in range(n // 10)),
    "PINs": lambda n: " ".join(f"PIN {i:04d}" for i in range(n // 9)),
    "look-alikes": lambda n: "<Email_1> &lt;Email_2&gt; a@b.co " * (n // 32),
}


def _assign(plan: masking.MaskPlan) -> dict[str, str]:
    counters: dict[str, itertools.count[int]] = {}
    return {r.value: placeholders.format_placeholder(
        type_name(r.privacy_type), next(counters.setdefault(r.privacy_type, itertools.count(1))))
        for r in plan.requests()}


def _mask(text: str, detections: list[Detection]) -> masking.MaskResult:
    plan = masking.plan(text, detections, MASK_ALL)
    return masking.render(plan, _assign(plan))


def _detect_and_mask(text: str, real_name: str | None = None) -> masking.MaskResult:
    return _mask(text, RulesExtractor().detect(TurnText("t", "user", text, real_name)))


@pytest.mark.parametrize("shape", sorted(MANY_SPANS))
def test_detect_and_mask_stay_linear_with_thousands_of_spans(shape: str) -> None:
    worst, times = growth(_detect_and_mask, MANY_SPANS[shape], DETECTOR_SIZES, repeats=2)
    assert worst <= MAX_RATIO, f"{shape}: x{worst:.0f} ({', '.join(f'{t * 1e3:.0f}' for t in times)} ms)"


@pytest.mark.parametrize("case", hostile_cases(), ids=lambda c: c.name)
def test_every_hostile_case_is_detected_and_masked_without_error(case: HostileCase) -> None:
    assert len(case.content) <= MAX_CHARS
    detections = RulesExtractor().detect(TurnText("t", "user", case.content, case.real_name))
    assert all(d.original_text in case.content for d in detections)
    result = _mask(case.content, detections)
    assert restore.restore(result.content, {}).unresolved is not None  # restoration scans it too


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(st.characters(blacklist_categories=("Cs",)), max_size=400)
       | st.text(st.sampled_from("0123456789 -.:@=号路省市\u200b\u202eaZ_<>/#$,\n"), max_size=400),
       st.none() | st.text(max_size=40))
def test_detect_never_raises_and_reports_exact_substrings(content: str, real_name: str | None) -> None:
    for d in RulesExtractor().detect(TurnText("t", "user", content, real_name)):
        assert d.original_text and d.original_text in content
