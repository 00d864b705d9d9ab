"""Run a cue-first pattern only where its cue words occur, instead of at every position.

Python's `re` tries a case-insensitive alternation at each offset of the text, which is most of
the cost of a cue-led detector on long messages without the cue. `at_cues` finds the cue words
with `str.find` (C speed) and calls `pattern.match` at those offsets only; lookbehinds and `\\b`
still see the text before the offset. Results equal `finditer` for patterns whose every
alternative starts with one of the cues (non-overlapping, left to right).
"""

from __future__ import annotations

import re
from collections.abc import Iterator


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
