"""One pass over a turn that decides which patterns can match in it at all (issue #14).

Python's `re` scans the whole turn once per pattern, and the rules run about fifty patterns: on a
32,000-character turn that floor alone is tens of milliseconds, and on an ordinary turn most of
those scans find nothing. Most patterns cannot match without one of a few literal strings: a cue
word ("password", "验证码"), a vendor prefix ("akia", "ghp_"), a character such as "@" or "://".
`literals(p)` derives such a set from the pattern itself (what RE2 and Hyperscan call a
prefilter); one Aho-Corasick pass (`ahocorasick-rs`, Apache-2.0) over the turn finds which of
all those strings occur, and a pattern none of whose strings occurs is skipped: it could not
have matched anywhere in the turn, nor in any window of it, so the detections cannot change.

Soundness rests on two facts, both tested: every string in `literals(p)` is a substring of what
any match of `p` consumes (lookarounds are ignored, they consume nothing), and `fold` maps every
character `re` treats as equal under IGNORECASE to the same string (ſ~s, K~k, ı~i, İ~i), so the
search on the folded turn finds them whatever the case. Patterns with no such set (shape-only
ones: digit runs, `\\S+`) always run. Detection reads the normalised view (normalise.py), so
zero-width characters are gone and full-width forms are folded before this pass sees the text.
"""

from __future__ import annotations

import re
import re._constants as C  # noqa: N812 - opcodes of the parser re itself uses (stable since 3.11)
import re._casefix as _casefix
import re._parser as P  # noqa: N812
import threading
from collections.abc import Iterable

import ahocorasick_rs

# Characters re's IGNORECASE equates with an ASCII letter although lower() does not map them to it
# (the Kelvin sign K lowers to k by itself). Replaced with `str.replace`: `str.translate` on a
# CJK turn costs a dictionary look-up per character, milliseconds on 32,000 characters.
_BEFORE_LOWER = (("İ", "i"),)  # lower() would give "i" plus a combining dot
_AFTER_LOWER = (("ı", "i"), ("ſ", "s"))
_MAX_SET = 2_000  # strings in one alternative set; larger sets stop being literal
_SMALL_CLASS = 4  # a character class of at most this many characters is a set of literals
_Lits = frozenset[str]


def fold(text: str) -> str:
    """The text the first pass searches: lower case, IGNORECASE's extra equivalences applied."""
    for ch, ascii_ in _BEFORE_LOWER:
        if ch in text:
            text = text.replace(ch, ascii_)
    text = text.lower()
    for ch, ascii_ in _AFTER_LOWER:
        if ch in text:
            text = text.replace(ch, ascii_)
    return text


def _safe(ch: str) -> bool:
    """Whether `fold` maps every character re may match to `ch` (in any case mode) to fold(ch)."""
    return ch.isascii() or (ch.lower() == ch.upper() == ch and ord(ch) not in _casefix._EXTRA_CASES)


class _Node:
    """What the analysis knows of one piece of a pattern."""

    __slots__ = ("exact", "need")

    def __init__(self, exact: _Lits | None, need: _Lits | None) -> None:
        self.exact = exact  # every string the piece can consume, when few and literal
        self.need = need  # strings one of which any match of the piece consumes


def _better(a: _Lits | None, b: _Lits | None) -> _Lits | None:
    """The more selective of two necessary sets: longer shortest string, then fewer strings."""
    if a is None or b is None:
        return a if b is None else b
    return max(a, b, key=lambda s: (min(map(len, s)), -len(s)))


def _usable(s: _Lits | None) -> _Lits | None:
    return s if s and "" not in s else None


def _product(a: _Lits, b: _Lits) -> _Lits | None:
    if len(a) * len(b) > _MAX_SET:
        return None
    return frozenset(x + y for x in a for y in b)


def _seq(items: P.SubPattern | list[tuple[object, object]], ic: bool) -> _Node:
    run: _Lits | None = frozenset({""})
    need: _Lits | None = None
    exact_all: _Lits | None = frozenset({""})
    for op, av in items:
        node = _item(op, av, ic)
        need = _better(need, node.need)
        if node.exact is not None and run is not None:
            joined = _product(run, node.exact)
            if joined is None:  # too many: close the run, start a new one here
                need = _better(need, _usable(run))
                joined = node.exact
            run = joined
        else:
            need = _better(need, _usable(run))
            run = node.exact if node.exact is not None else frozenset({""})
        exact_all = None if exact_all is None or node.exact is None else _product(exact_all, node.exact)
    need = _better(need, _usable(run))
    return _Node(exact_all, need if exact_all is None else _better(need, _usable(exact_all)))


def _item(op: object, av: object, ic: bool) -> _Node:
    if op in (C.AT, C.ASSERT, C.ASSERT_NOT):
        return _Node(frozenset({""}), None)  # consumes nothing
    if op is C.LITERAL:
        ch = chr(av)  # type: ignore[arg-type]
        return _Node(frozenset({fold(ch)}), frozenset({fold(ch)})) if _safe(ch) else _Node(None, None)
    if op is C.IN:
        chars: set[str] = set()
        for cop, cav in av:  # type: ignore[attr-defined]
            if cop is C.LITERAL and _safe(chr(cav)):
                chars.add(fold(chr(cav)))
            elif cop is C.RANGE and cav[1] - cav[0] < _SMALL_CLASS and all(
                    _safe(chr(c)) for c in range(cav[0], cav[1] + 1)):
                chars.update(fold(chr(c)) for c in range(cav[0], cav[1] + 1))
            else:  # NEGATE, CATEGORY, a wide range
                return _Node(None, None)
        lits = frozenset(chars) if len(chars) <= _SMALL_CLASS else None
        return _Node(lits, lits)
    if op is C.BRANCH:
        alts = [_seq(alt, ic) for alt in av[1]]  # type: ignore[index]
        exact: _Lits | None = frozenset().union(*(a.exact for a in alts)) if all(
            a.exact is not None for a in alts) else None  # type: ignore[arg-type]
        if exact is not None and len(exact) > _MAX_SET:
            exact = None
        needs = [a.need for a in alts]
        need = frozenset().union(*needs) if all(n is not None for n in needs) else None  # type: ignore[arg-type]
        return _Node(exact, need)
    if op is C.SUBPATTERN:
        _group, add, delete, body = av  # type: ignore[misc]
        return _seq(body, (ic or bool(add & re.IGNORECASE)) and not delete & re.IGNORECASE)
    if op is C.ATOMIC_GROUP:
        return _seq(av, ic)  # type: ignore[arg-type]
    if op in (C.MAX_REPEAT, C.MIN_REPEAT, C.POSSESSIVE_REPEAT):
        low, high, body = av  # type: ignore[misc]
        inner = _seq(body, ic)
        exact = None
        if inner.exact is not None and high <= 2:
            options: set[str] = set()
            for n in range(low, high + 1):
                power: _Lits | None = frozenset({""})
                for _ in range(n):
                    power = _product(power, inner.exact) if power is not None else None
                if power is None:
                    break
                options |= power
            else:
                exact = frozenset(options) if len(options) <= _MAX_SET else None
        return _Node(exact, inner.need if low >= 1 else None)
    return _Node(None, None)  # ANY, NOT_LITERAL, GROUPREF, CATEGORY, ...


def literals(pattern: re.Pattern[str]) -> frozenset[str] | None:
    """Folded strings one of which every match of `pattern` consumes; None when there are none."""
    ignore_case = bool(pattern.flags & re.IGNORECASE)
    node = _seq(P.parse(pattern.pattern, pattern.flags), ignore_case)
    return _usable(node.need)


class FirstPass:
    """The patterns of a set that can match in a turn, found with one Aho-Corasick pass."""

    def __init__(self, patterns: Iterable[re.Pattern[str]]) -> None:
        # Patterns are keyed by identity: hashing an `re.Pattern` hashes its compiled code, which
        # for a lexicon pattern is long, on every set operation.
        self.patterns = tuple({id(p): p for p in patterns}.values())
        self._index = {id(p): k for k, p in enumerate(self.patterns)}
        owners: dict[str, set[int]] = {}
        always: set[int] = set()
        for k, p in enumerate(self.patterns):
            lits = literals(p)
            if lits is None:
                always.add(k)
                continue
            for s in lits:
                owners.setdefault(s, set()).add(k)
        self.always = frozenset(always)
        self._owners = {w: frozenset(ks) for w, ks in owners.items()}
        # Single characters (":", ".", "@", "号") are looked for with `in`, a C scan each: given to
        # the automaton, a turn of 32,000 colons or 号 made 32,000 matches, each a Python object
        # to build and then to look up (run[cjk]: 7.3 ms for the whole pass).
        self._chars = tuple(w for w in owners if len(w) == 1)
        words = [w for w in owners if len(w) > 1]
        self._automaton = ahocorasick_rs.AhoCorasick(
            words, implementation=ahocorasick_rs.Implementation.DFA) if words else None

    def key(self, pattern: re.Pattern[str]) -> int | None:
        """The number of `pattern` in this set (None when it is not one of them)."""
        return self._index.get(id(pattern))

    def possible(self, text: str) -> frozenset[int]:
        """The numbers of every pattern that may match somewhere in `text` (a superset)."""
        folded = fold(text)
        # Each distinct word once: `set` of the matched strings is built in C, where a set of
        # match tuples cost a Python step per match (near[dsn_scheme]: 11,636 matches).
        found = set(self._automaton.find_matches_as_strings(folded, overlapping=True)) if self._automaton else set()
        found.update(ch for ch in self._chars if ch in folded)
        owners = self._owners
        return self.always.union(*(owners[w] for w in found))


class _Turn(threading.local):
    text: str | None = None
    possible: frozenset[int] = frozenset()
    first_pass: FirstPass | None = None


_turn = _Turn()


def begin(first_pass: FirstPass, text: str) -> frozenset[int]:
    """Record, for this thread, which patterns may match in `text` (the turn being detected)."""
    _turn.text, _turn.first_pass = text, first_pass
    _turn.possible = first_pass.possible(text)
    return _turn.possible


def end() -> None:
    _turn.text, _turn.first_pass, _turn.possible = None, None, frozenset()


def may_match(pattern: re.Pattern[str], text: str) -> bool:
    """False only when the current turn's first pass proved `pattern` matches nowhere in `text`.

    Outside a turn (a detector called on its own, or on another text) the answer is True."""
    if _turn.text is not text or _turn.first_pass is None:
        return True
    k = _turn.first_pass.key(pattern)
    return k is None or k in _turn.possible
