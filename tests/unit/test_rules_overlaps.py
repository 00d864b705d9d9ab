"""`resolve_overlaps` (cluster by cluster, a grid for big clusters) equals the plain rule it
implements: in rank order, keep each span that clashes with no span kept before it."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from streamproc.core.taxonomy import PrivacyLevel
from streamproc.extractors.rules.extractor import _clashes, _ranking, resolve_overlaps
from streamproc.extractors.rules.text import Hit


def _reference(hits: list[Hit]) -> list[Hit]:
    kept: list[Hit] = []
    for h in sorted(hits, key=_ranking):
        if not any(_clashes(h, k) for k in kept):
            kept.append(h)
    return sorted(kept, key=lambda h: h.start)


@st.composite
def _hit(draw: st.DrawFn, width: int) -> Hit:
    start = draw(st.integers(0, width))
    return Hit(start, start + draw(st.integers(1, 90)), draw(st.sampled_from(["Phone Number", "Email", "ID Number"])),
               draw(st.sampled_from(list(PrivacyLevel))), "test", draw(st.sampled_from([0.5, 0.7, 0.9])))


@settings(max_examples=300, deadline=None)
@given(st.integers(20, 2_000).flatmap(lambda width: st.lists(_hit(width), max_size=60)))
def test_resolve_overlaps_equals_the_rule(hits: list[Hit]) -> None:
    assert resolve_overlaps(hits) == _reference(hits)


def test_a_long_span_over_many_short_ones_takes_the_grid_path() -> None:
    short = [Hit(i * 3, i * 3 + 2, "Phone Number", PrivacyLevel.PL2, "test", 0.9) for i in range(500)]
    long = Hit(0, 1_500, "Phone Number", PrivacyLevel.PL2, "test", 0.9)
    assert resolve_overlaps([*short, long]) == [long]
    assert resolve_overlaps(short) == short


@settings(max_examples=100, deadline=None)
@given(_hit(200), st.sampled_from([0.5, 0.7, 0.9]), st.lists(_hit(2_000), max_size=10), st.booleans())
def test_one_value_found_by_two_detectors(first: Hit, confidence: float, others: list[Hit], swap: bool) -> None:
    twin = first._replace(detector="other", confidence=confidence)
    hits = [twin, first, *others] if swap else [first, twin, *others]
    assert resolve_overlaps(hits) == _reference(hits)
