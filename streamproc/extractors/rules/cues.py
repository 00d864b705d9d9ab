"""Cue words near a value, looked up in O(log n) instead of one regex search per candidate.

A text full of candidates (a hostile record of 30,000 digit groups) would otherwise run the cue
regex over a window once per candidate. Here the cue regex runs once over the whole text, lazily,
and each question is a binary search over where the cues are.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterator
from functools import lru_cache

from .firstpass import may_match
from .gate import gated


@lru_cache(maxsize=256)  # a fixed set of module-level cue patterns
def _gated(cue: re.Pattern[str]) -> re.Pattern[str]:
    return gated(cue)


class CueIndex:
    def __init__(self, cue: re.Pattern[str], text: str) -> None:
        # Gated on the cue's first characters: the same matches, but a text of digits and spaces
        # (a hostile turn of numbers) no longer costs a case-insensitive alternation per position.
        self._cue = _gated(cue)
        self._text = text
        # A cue the turn's first pass ruled out has no occurrence to look for.
        self._starts: list[int] | None = None if may_match(cue, text) else []
        self._ends: list[int] = []

    def anywhere(self) -> bool:
        """Whether the cue occurs anywhere in the text."""
        return bool(self._found())

    def near(self, start: int, end: int, before: int = 48, after: int = 16) -> bool:
        """Whether a cue lies wholly within [start - before, end + after]."""
        starts = self._found()
        lo = max(0, start - before)
        i = bisect.bisect_left(starts, lo)
        return i < len(starts) and starts[i] <= end + after and self._ends[i] <= end + after

    def _found(self) -> list[int]:
        if self._starts is None:
            spans = [m.span() for m in self._cue.finditer(self._text)]
            self._starts = [s for s, _ in spans]
            self._ends = [e for _, e in spans]
        return self._starts


# Run a cue-first pattern only where its cue words occur, instead of at every position (issue #12).
# Python's `re` tries a case-insensitive alternation at each offset of the text, which is most of
# the cost of a cue-led detector on long messages without the cue. `at_cues` finds the cue words
# with `str.find` (C speed) and calls `pattern.match` at those offsets only; lookbehinds and `\b`
# still see the text before the offset. Results equal `finditer` for patterns whose every
# alternative starts with one of the cues (non-overlapping, left to right).
def at_cues(pattern: re.Pattern[str], text: str, cues: tuple[str, ...], low: str | None = None) -> Iterator[re.Match[str]]:
    """Matches of `pattern` starting where one of the lower-case `cues` starts in `text`."""
    low = text.lower() if low is None else low
    if len(low) != len(text):  # a case mapping changed the length: offsets would not line up
        yield from pattern.finditer(text)
        return
    starts: set[int] = set()
    for cue in cues:
        i = low.find(cue)
        while i != -1:
            starts.add(i)
            i = low.find(cue, i + 1)
    end = -1
    for i in sorted(starts):
        if i < end:
            continue
        m = pattern.match(text, i)
        if m is not None:
            end = m.end()
            yield m
