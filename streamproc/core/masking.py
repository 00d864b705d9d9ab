"""Masking in two pure steps around the vault.

1. `plan(text, detections, policy)` locates every occurrence of every value on character offsets,
   drops what the policy keeps, merges overlapping spans (labelled by the higher level, then the
   longer span) and returns the values that need a placeholder.
2. The caller asks the vault for those placeholders (it allocates or recalls them).
3. `render(plan, placeholders)` rebuilds the text in one left-to-right pass; text between spans is
   escaped so a user-typed look-alike can never restore to a real value.

Nothing is mutated on the side: new mappings come back from the vault explicitly.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from streamproc.core import placeholders
from streamproc.core.policy import Action, Policy
from streamproc.core.spans import Detection, Span
from streamproc.core.taxonomy import PrivacyLevel


@dataclass(frozen=True, slots=True)
class PlannedSpan:
    span: Span
    value: str
    action: Action


@dataclass(frozen=True, slots=True)
class PlaceholderRequest:
    """A value that needs a placeholder, with the strongest type/level it was seen at in the turn."""

    value: str
    privacy_type: str
    privacy_level: PrivacyLevel
    action: Action


@dataclass(frozen=True, slots=True)
class MaskPlan:
    text: str
    spans: tuple[PlannedSpan, ...]

    def requests(self) -> list[PlaceholderRequest]:
        strongest: dict[str, PlannedSpan] = {}
        for planned in self.spans:
            current = strongest.get(planned.value)
            if current is None or _priority(planned) > _priority(current):
                strongest[planned.value] = planned
        return [
            PlaceholderRequest(p.value, p.span.privacy_type, p.span.privacy_level, p.action)
            for p in strongest.values()
        ]


@dataclass(frozen=True, slots=True)
class Entity:
    placeholder: str
    privacy_type: str
    privacy_level: PrivacyLevel


@dataclass(frozen=True, slots=True)
class MaskResult:
    content: str
    entities: tuple[Entity, ...]


def _priority(p: PlannedSpan) -> tuple[int, int]:
    return (p.span.privacy_level.rank, p.action.strictness)


def locate(text: str, detections: Iterable[Detection]) -> list[Span]:
    """Every occurrence (overlapping ones too) of every detected value, as spans."""
    spans: list[Span] = []
    for det in detections:
        value = det.original_text
        if not value.strip():
            continue
        start = text.find(value)
        while start != -1:
            spans.append(Span(start, start + len(value), det.privacy_type, det.privacy_level, det.source))
            start = text.find(value, start + 1)
    return spans


def _widen_over_lookalikes(text: str, spans: Iterable[Span]) -> list[Span]:
    """A span that cuts into a user-typed look-alike grows to cover it whole, so the text left
    between spans never holds half a look-alike (which escaping could not see).

    Look-alikes come from one scan, so they are sorted and never overlap: a span can only cut
    into the one around its start and the one around its end, and growing to a look-alike's
    edge never cuts into another. Two binary searches per span, however many look-alikes."""
    regions = placeholders.lookalike_regions(text)
    if not regions:
        return list(spans)
    starts = [r_start for r_start, _ in regions]
    widened = []
    for span in spans:
        start, end = span.start, span.end
        i = bisect_right(starts, start) - 1
        if i >= 0 and regions[i][0] < start < regions[i][1]:
            start = regions[i][0]
        j = bisect_left(starts, end) - 1
        if j >= 0 and regions[j][0] < end < regions[j][1]:
            end = regions[j][1]
        widened.append(Span(start, end, span.privacy_type, span.privacy_level, span.source))
    return widened


def resolve_overlaps(spans: Iterable[Span]) -> list[Span]:
    """Merge overlapping spans into one per cluster, labelled by its strongest member.

    The strongest member is the higher level, then the longer span, then the earlier one (DESIGN's
    rule). It covers the union of the cluster, not just itself: otherwise a short PL4 value inside
    a longer PL3 one (a PIN inside a card number) would leave the rest of the longer value in clear.
    Returned in text order, non-overlapping.
    """
    merged: list[list[Span]] = []
    reach = -1  # the end of the current cluster, kept as we go (a cluster can hold 10^4 spans)
    for span in sorted(set(spans), key=lambda s: (s.start, -s.end)):
        if merged and span.start < reach:
            merged[-1].append(span)
            reach = max(reach, span.end)
        else:
            merged.append([span])
            reach = span.end
    return [_cover(cluster) for cluster in merged]


def _cover(cluster: list[Span]) -> Span:
    best = min(cluster, key=lambda s: (-s.privacy_level.rank, -s.length, s.start, s.privacy_type))
    end = max(s.end for s in cluster)
    return Span(cluster[0].start, end, best.privacy_type, best.privacy_level, best.source)


def plan(text: str, detections: Sequence[Detection], policy: Policy) -> MaskPlan:
    acting = [d for d in detections if policy.action_for(d.privacy_level) is not Action.KEEP]
    spans = resolve_overlaps(_widen_over_lookalikes(text, locate(text, acting)))
    return MaskPlan(
        text=text,
        spans=tuple(
            PlannedSpan(s, text[s.start : s.end], policy.action_for(s.privacy_level)) for s in spans
        ),
    )


def render(mask_plan: MaskPlan, assigned: Mapping[str, str]) -> MaskResult:
    """Rebuild the text with `assigned[value]` (a placeholder) in place of every planned span."""
    text = mask_plan.text
    out: list[str] = []
    entities: dict[str, Entity] = {}
    cursor = 0
    for planned in mask_plan.spans:
        placeholder = assigned[planned.value]
        out.append(placeholders.escape(text[cursor : planned.span.start]))
        out.append(placeholder)
        cursor = planned.span.end
        entities.setdefault(
            placeholder, Entity(placeholder, planned.span.privacy_type, planned.span.privacy_level)
        )
    out.append(placeholders.escape(text[cursor:]))
    return MaskResult("".join(out), tuple(entities.values()))
