"""A first-character gate that lets a scan skip, cheaply, the positions where no match can start.

Python's `re` tries a pattern at every position of the text. A cue pattern that opens with a
lookbehind (`(?<![A-Za-z0-9])`) and a case-insensitive alternation of forty words spends hundreds
of nanoseconds at each space or CJK character before it fails: a 32,000-character turn then costs
tens of milliseconds per pattern. `gated(p)` computes the set of characters a match of `p` can
start with and prefixes `(?=[that set])`: the same matches, but a position whose character is not
in the set fails on one class test. Patterns whose first character is unconstrained (a negated
class, `\\s`, `.`) or that can match the empty string are returned unchanged.
"""

from __future__ import annotations

import re
import re._constants as C  # noqa: N812 - opcodes of the parser re itself uses (stable since 3.11)
import re._casefix as _casefix
import re._parser as P  # noqa: N812

_MAX_SET = 400  # larger first sets gain little over the pattern itself
_LEADING_FLAGS = re.compile(r"^\(\?[aiLmsux]+\)")


class _Unbounded(Exception):
    """The first character is not confined to a small, explicit set."""


def _class_chars(items: list[tuple[object, object]]) -> set[str]:
    chars: set[str] = set()
    for op, av in items:
        if op is C.LITERAL:
            chars.add(chr(av))  # type: ignore[arg-type]
        elif op is C.RANGE and av[1] - av[0] <= _MAX_SET:  # type: ignore[index,operator]
            chars.update(chr(c) for c in range(av[0], av[1] + 1))  # type: ignore[index,operator]
        else:  # NEGATE, CATEGORY, a wide range such as CJK
            raise _Unbounded
    return chars


def _first(seq: P.SubPattern, ignore_case: bool) -> tuple[set[str], bool]:
    """(characters a match of `seq` can start with, whether `seq` can match the empty string)."""
    chars: set[str] = set()
    for op, av in seq:
        if op in (C.AT, C.ASSERT, C.ASSERT_NOT):
            continue  # zero width: the next item decides
        if op is C.LITERAL:
            chars.add(chr(av))  # type: ignore[arg-type]
            return chars, False
        if op is C.IN:
            chars |= _class_chars(av)  # type: ignore[arg-type]
            return chars, False
        if op is C.BRANCH:
            nullable = False
            for alt in av[1]:  # type: ignore[index]
                alt_chars, alt_nullable = _first(alt, ignore_case)
                chars |= alt_chars
                nullable |= alt_nullable
            if not nullable:
                return chars, False
        elif op is C.SUBPATTERN:
            _group, add, delete, body = av  # type: ignore[misc]
            sub_ic = (ignore_case or bool(add & re.IGNORECASE)) and not delete & re.IGNORECASE
            sub_chars, nullable = _first(body, sub_ic)
            chars |= _fold(sub_chars) if sub_ic else sub_chars
            if not nullable:
                return chars, False
        elif op is C.ATOMIC_GROUP:
            sub_chars, nullable = _first(av, ignore_case)  # type: ignore[arg-type]
            chars |= sub_chars
            if not nullable:
                return chars, False
        elif op in (C.MAX_REPEAT, C.MIN_REPEAT, C.POSSESSIVE_REPEAT):
            low, _high, body = av  # type: ignore[misc]
            sub_chars, nullable = _first(body, ignore_case)
            chars |= sub_chars
            if low and not nullable:
                return chars, False
        else:  # ANY, NOT_LITERAL, GROUPREF, ...
            raise _Unbounded
    return chars, True


def _fold(chars: set[str]) -> set[str]:
    """Case variants as re's IGNORECASE sees them, including its extra folds (ſ~s, K~k, ı~i)."""
    out = set(chars)
    for c in chars:
        out.update(v for v in (c.lower(), c.upper()) if len(v) == 1)
    for c in list(out):
        out.update(chr(x) for x in _casefix._EXTRA_CASES.get(ord(c), ()))
    return out


def first_chars(pattern: re.Pattern[str]) -> frozenset[str] | None:
    """Every character a match of `pattern` can start with; None when that is not a small set."""
    ignore_case = bool(pattern.flags & re.IGNORECASE)
    try:
        chars, nullable = _first(P.parse(pattern.pattern, pattern.flags), ignore_case)
    except _Unbounded:
        return None
    if nullable or not chars or len(chars) > _MAX_SET:
        return None
    return frozenset(_fold(chars) if ignore_case else chars)


def gated(pattern: re.Pattern[str]) -> re.Pattern[str]:
    """`pattern` behind a lookahead on its first character (see the module docstring)."""
    chars = first_chars(pattern)
    if chars is None:
        return pattern
    body = _LEADING_FLAGS.sub("", pattern.pattern)
    charset = "".join(sorted(re.escape(c) for c in chars))
    return re.compile(f"(?=[{charset}])(?:{body})", pattern.flags)


def compile_gated(source: str, flags: int = 0) -> re.Pattern[str]:
    """`re.compile`, then `gated`."""
    return gated(re.compile(source, flags))
