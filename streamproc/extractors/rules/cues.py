"""Cue words near a value, looked up in O(log n) instead of one regex search per candidate.

A text full of candidates (a hostile record of 30,000 digit groups) would otherwise run the cue
regex over a window once per candidate. Here the cue regex runs once over the whole text, lazily,
and each question is a binary search over where the cues are.
"""

from __future__ import annotations

import bisect
import re


class CueIndex:
    def __init__(self, cue: re.Pattern[str], text: str) -> None:
        self._cue = cue
        self._text = text
        self._starts: list[int] | None = None
        self._ends: list[int] = []

    def near(self, start: int, end: int, before: int = 48, after: int = 16) -> bool:
        """Whether a cue lies wholly within [start - before, end + after]."""
        if self._starts is None:
            spans = [m.span() for m in self._cue.finditer(self._text)]
            self._starts = [s for s, _ in spans]
            self._ends = [e for _, e in spans]
        lo = max(0, start - before)
        i = bisect.bisect_left(self._starts, lo)
        return i < len(self._starts) and self._starts[i] <= end + after and self._ends[i] <= end + after
