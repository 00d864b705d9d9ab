"""Value objects for what an extractor reports and where it sits in a text."""

from __future__ import annotations

from dataclasses import dataclass

from streamproc.core.taxonomy import PrivacyLevel


@dataclass(frozen=True, slots=True)
class Detection:
    """One private value an extractor found in a turn. No offsets: masking locates every occurrence.

    `source` names the detector (e.g. `rules:email`, `model`) for metrics; it never goes on the wire.
    """

    original_text: str
    privacy_type: str
    privacy_level: PrivacyLevel
    source: str = "unknown"
    confidence: float = 1.0


@dataclass(frozen=True, slots=True)
class Span:
    """A detection pinned to character offsets [start, end) of one text."""

    start: int
    end: int
    privacy_type: str
    privacy_level: PrivacyLevel
    source: str = "unknown"

    def __post_init__(self) -> None:
        if not 0 <= self.start < self.end:
            raise ValueError(f"invalid span offsets [{self.start}, {self.end})")

    @property
    def length(self) -> int:
        return self.end - self.start

    def overlaps(self, other: Span) -> bool:
        return self.start < other.end and other.start < self.end
