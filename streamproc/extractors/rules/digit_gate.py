"""Which national-id kinds a turn can hold at all, from one look at its digits (issue #10).

Seventeen id shapes scanned over a 32,000-character turn cost about 0.7 ms each, and a hostile
turn of digits used to pay for all of them. Each kind declares what any match of it needs
(`Needs`); `DigitProfile` reads the turn once; a kind whose needs the turn cannot meet is not
scanned. Payment cards (13 digits), IPv4 addresses (4 digits, 7 characters) and decimal
coordinates (4 digits, 5 characters) ask the same profile. Skipping can never lose a detection:
tests/unit/test_rules_digit_gate.py draws values from each kind's own shape, puts them in hostile
surroundings and checks that every match the detector would keep is allowed.

A digit group is a run of digits joined by single spaces, dots, dashes or slashes: every
separator an id shape allows between two digits is one of these, so a match's digits lie in one
group. A kind made only of digits and such separators (`exact`) is stricter still: the detector
keeps a match only when nothing continues it on either side (its lookarounds and
`_inside_longer_number`), so a kept match is a whole group, and the turn must hold a group of
exactly that many digits (a separated one, for a kind that needs a cue to report a plain number
and a turn without that cue). Those lookarounds only know ASCII digits, so a turn whose long
groups hold any other digit is not judged by its group sizes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

_DIGIT_GROUP = re.compile(r"\d+(?:[ .\-/]\d+)*+")  # linear: nothing after the possessive repeat can fail
# An ASCII letter next to a digit, directly or across one space or dash: "ABCDE1234F", "AB 12 34".
_LETTER_BY_DIGIT = re.compile(r"[A-Za-z][ \-]?\d|\d-?[A-Za-z]")
_SHORTEST_EXACT = 8  # digits of the shortest digit-only kind: shorter groups cannot be one


@dataclass(frozen=True, slots=True)
class Needs:
    """What every match of an id kind holds."""

    group: int  # digits in one digit group, at least
    exact: tuple[int, int] | None = None  # digit-only kind: a whole group of this many digits
    letter: bool = False  # an ASCII letter next to one of its digits


@dataclass(frozen=True, slots=True)
class DigitProfile:
    group: int  # digits in the turn's largest digit group, or more
    sizes: frozenset[int] | None  # digit counts of its groups of 8 or more digits; None: unknown
    letter_by_digit: bool
    grouped_sizes: frozenset[int] | None = None  # the same, of groups with a separator inside
    longest: int = 0  # characters in its longest group ("192.168.0.1" has 11)

    def allows(self, needs: Needs, grouped: bool = False) -> bool:
        """Whether the turn can hold a match; with `grouped`, one whose digits are separated
        ("123-45-6789", not "123456789")."""
        if needs.group > self.group:
            return False
        sizes = self.grouped_sizes if grouped else self.sizes
        if needs.exact is not None and sizes is not None:
            low, high = needs.exact
            if not any(low <= size <= high for size in sizes):
                return False
        return self.letter_by_digit or not needs.letter


@lru_cache(maxsize=2)  # ids, cards, IPs and coordinates ask about the same turn in turn
def profile(text: str) -> DigitProfile:
    """The digits of `text`: "call 415 555 0100" has one group of 10.

    Built from C-level calls on the distinct groups (a hostile turn repeats one group thousands
    of times); groups shorter than 8 characters count by their length, a bound on their digits.
    """
    groups = set(_DIGIT_GROUP.findall(text))
    if not groups:
        return DigitProfile(0, frozenset(), False)
    long_groups = [found for found in groups if len(found) >= _SHORTEST_EXACT]
    counts = [len(found) - sum(map(found.count, " .-/")) for found in long_groups]
    sizes: frozenset[int] | None = frozenset(c for c in counts if c >= _SHORTEST_EXACT)
    grouped: frozenset[int] | None = frozenset(
        c for c, found in zip(counts, long_groups, strict=True) if c >= _SHORTEST_EXACT and c < len(found))
    if not all(found.isascii() for found in long_groups):
        sizes = grouped = None
    longest = max(map(len, groups))
    group = max(max(counts, default=0), min(longest, _SHORTEST_EXACT - 1))
    letter_by_digit = group >= 3 and _LETTER_BY_DIGIT.search(text) is not None
    return DigitProfile(group, sizes, letter_by_digit, grouped, longest)
