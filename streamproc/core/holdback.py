"""Bounded hold-back for streamed responses: emit what can no longer become part of a placeholder.

A cloud agent's answer arrives in chunks, and a placeholder may be cut anywhere (`<Real_Na` +
`me_1>`, `&l` + `t;Email_1&gt;`, `<\\Ema` + `il_1>`). `split` decides, for the text received so
far, the longest prefix whose restoration can no longer change whatever comes next, and holds back
the rest: the suffix starting at the first position where a placeholder-like run (any form
`placeholders.PLACEHOLDER_LIKE` accepts: any case, inner spaces and tabs, `&lt;...&gt;`, the
escaped `<\\Type_n>`) has begun and could still complete.

Why the emitted prefix restores exactly as it would in the whole text: restoration is one
`finditer` walk. A complete run ends in `>` or `&gt;`, and nothing before the close may contain
`>` or `&`, so a complete run never changes as text is appended. A position where no run can start
whatever follows is plain text either way. The first position that is neither is where the walk
stops being decided; everything before it is final.

The bound: a run the restorer could meet in practice is at most HOLDBACK_BOUND characters long:
`&lt;` (4) + 8 backslashes + 8 blanks + an 81-character name + 8 separators + 9 digits + 8 blanks +
`&gt;` (4) = 130. The pattern itself allows longer blank and backslash runs; a candidate that
starts more than HOLDBACK_BOUND characters before the end of the received text is released as plain
text, so a run longer than the bound (nine or more padding blanks or backslashes) streams verbatim.
That is the only case where streamed output can differ from restoring the whole text at once.
"""

from __future__ import annotations

from dataclasses import dataclass

from streamproc.core.placeholders import PLACEHOLDER_LIKE

HOLDBACK_BOUND = 4 + 8 + 8 + 81 + 8 + 9 + 8 + 4

# Appending one of these to a viable prefix completes it into a run. One per automaton state:
# inside the close (`&`, `&g`, `&gt`), after digits or blanks, inside the separator, inside the
# name, right after the open or its backslashes and blanks, and inside an `&lt;` open.
_COMPLETIONS = (";", "t;", "gt;", ">", "1>", "_1>", "a_1>", ";a_1>", "t;a_1>", "lt;a_1>")
_STARTS = frozenset("<&")


@dataclass(frozen=True, slots=True)
class Split:
    ready: str  # safe to restore and emit now
    held: str  # could still become (part of) a placeholder; never longer than HOLDBACK_BOUND


def could_complete(suffix: str) -> bool:
    """True when `suffix` is not a complete run but some continuation makes it one from index 0."""
    if PLACEHOLDER_LIKE.match(suffix) is not None:
        return False
    return any(PLACEHOLDER_LIKE.match(suffix + tail) is not None for tail in _COMPLETIONS)


def hold_start(text: str) -> int:
    """Where the undecided suffix of `text` begins (len(text) when nothing needs holding)."""
    cursor = 0
    for found in PLACEHOLDER_LIKE.finditer(text):
        cursor = found.end()  # runs before the last complete one are decided (module docstring)
    start = max(cursor, len(text) - HOLDBACK_BOUND)
    for index in range(start, len(text)):
        if text[index] in _STARTS and could_complete(text[index:]):
            return index
    return len(text)


def split(held: str, chunk: str, *, final: bool) -> Split:
    """The text held so far plus a new chunk, cut into what to emit now and what to keep."""
    text = held + chunk
    if final:
        return Split(text, "")
    cut = hold_start(text)
    return Split(text[:cut], text[cut:])
