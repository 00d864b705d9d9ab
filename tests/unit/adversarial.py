"""Adversarial inputs derived from a regex's own parse tree, and a growth measurement.

For every repeat in a pattern, a sample match is walked up to that repeat and then the repeat is
fed a long run of what it accepts (or of a separator): that is the shape that makes adjacent or
nested repeats backtrack. Every alternative of every branch is visited by some walk, so each cue
word of an alternation gets its turn. Plain runs of each accepted character and repeated
truncated samples ("a@a." x n) cover scans that restart inside a run.
"""

from __future__ import annotations

import re
import re._constants as C  # noqa: N812 - the opcodes of Python's own regex parser
import re._parser as P  # noqa: N812
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

# Characters tried against every class; separators first (they sit between cues and values).
UNIVERSE = (" \t\n\u3000:=-._,/@%#+\"'()[]<>{};!?\\&*$€|~`^" "0179aezAFQZéß中号路，。：（）" "\u200b\u202e")
SEPARATORS = " \t\n\u3000:=-."
REPEATS = (C.MAX_REPEAT, C.MIN_REPEAT, C.POSSESSIVE_REPEAT)
_CATS: dict[object, Callable[[str], bool]] = {
    C.CATEGORY_DIGIT: str.isdigit, C.CATEGORY_NOT_DIGIT: lambda c: not c.isdigit(),
    C.CATEGORY_SPACE: str.isspace, C.CATEGORY_NOT_SPACE: lambda c: not c.isspace(),
    C.CATEGORY_WORD: lambda c: c.isalnum() or c == "_",
    C.CATEGORY_NOT_WORD: lambda c: not (c.isalnum() or c == "_"),
    C.CATEGORY_LINEBREAK: lambda c: c == "\n", C.CATEGORY_NOT_LINEBREAK: lambda c: c != "\n",
}


def _in(items: list[tuple[object, object]], ch: str, ignore_case: bool) -> bool:
    negate = bool(items) and items[0][0] is C.NEGATE
    found = False
    for op, av in items:
        if op is C.LITERAL:
            found |= ch == chr(av) or ignore_case and ch.casefold() == chr(av).casefold()  # type: ignore[arg-type]
        elif op is C.RANGE:
            lo, hi = av  # type: ignore[misc]
            folds = {ch, ch.lower(), ch.upper()} if ignore_case else {ch}
            found |= any(len(f) == 1 and lo <= ord(f) <= hi for f in folds)
        elif op is C.CATEGORY:
            found |= _CATS.get(av, lambda c: False)(ch)
    return found != negate


def accepted(op: object, av: object, ignore_case: bool) -> list[str]:
    """The UNIVERSE characters a single-character node accepts, or [] for anything else."""
    if op is C.LITERAL:
        return [chr(av)]  # type: ignore[arg-type]
    if op is C.NOT_LITERAL:
        return [c for c in UNIVERSE if c != chr(av)]  # type: ignore[arg-type]
    if op is C.ANY:
        return [c for c in UNIVERSE if c != "\n"]
    if op is C.IN:
        return [c for c in UNIVERSE if _in(av, c, ignore_case)]  # type: ignore[arg-type]
    return []


@dataclass
class Walk:
    """One sample match and the points where a repeat starts, with what can fill it."""

    text: str
    points: list[tuple[int, tuple[str, ...]]]


def _single(body: P.SubPattern) -> tuple[object, object] | None:
    items = list(body)
    if len(items) == 1 and items[0][0] in (C.LITERAL, C.NOT_LITERAL, C.ANY, C.IN):
        return items[0]
    if len(items) == 1 and items[0][0] is C.SUBPATTERN:
        return _single(items[0][1][3])
    return None


def walk(pattern: re.Pattern[str], choice: int) -> Walk:
    ignore_case = bool(pattern.flags & re.IGNORECASE)
    out: list[str] = []
    points: list[tuple[int, tuple[str, ...]]] = []
    counter = [choice]

    def pick(options: list[str] | list[P.SubPattern]) -> object:
        counter[0] = counter[0] * 31 + 7
        return options[choice % len(options) if choice < len(options) else counter[0] % len(options)]

    def go(sp: P.SubPattern, depth: int) -> None:
        for op, av in sp:
            if op in (C.LITERAL, C.NOT_LITERAL, C.ANY, C.IN):
                chars = accepted(op, av, ignore_case)
                out.append(chars[choice % len(chars)] if chars else "a")
            elif op is C.BRANCH:
                go(pick(av[1]), depth)  # type: ignore[arg-type]
            elif op is C.SUBPATTERN:
                go(av[3], depth)
            elif op is C.ATOMIC_GROUP:
                go(av, depth)
            elif op in REPEATS:
                lo, _hi, body = av
                single = _single(body)
                fill = tuple(accepted(*single, ignore_case)) if single else ()
                if not single and depth < 6:
                    mark = len(out)
                    go(body, depth + 1)
                    fill = ("".join(out[mark:]) or "a",)
                    del out[mark:]
                points.append((len("".join(out)), fill))
                for _ in range(min(lo, 64) if lo else choice % 2):
                    if single:
                        chars = accepted(*single, ignore_case)
                        out.append(chars[choice % len(chars)] if chars else "a")
                    elif depth < 6:
                        go(body, depth + 1)
            # AT, ASSERT, ASSERT_NOT, GROUPREF...: zero width, nothing to emit
    go(P.parse(pattern.pattern, pattern.flags), 0)
    return Walk("".join(out), points)


def widest_branch(pattern: re.Pattern[str]) -> int:
    widest = 1

    def go(sp: P.SubPattern) -> None:
        nonlocal widest
        for op, av in sp:
            if op is C.BRANCH:
                widest = max(widest, len(av[1]))
                for alt in av[1]:
                    go(alt)
            elif op is C.SUBPATTERN:
                go(av[3])
            elif op is C.ATOMIC_GROUP:
                go(av)
            elif op in REPEATS:
                go(av[2])
            elif op in (C.ASSERT, C.ASSERT_NOT):
                go(av[1])
    go(P.parse(pattern.pattern, pattern.flags))
    return widest


Maker = Callable[[int], str]


def _run(head: str, unit: str, tail: str = "") -> Maker:
    return lambda n: head + unit * max(1, n // len(unit)) + tail


def makers(pattern: re.Pattern[str], max_walks: int = 8) -> Iterator[tuple[str, Maker]]:
    """(label, text-of-size-n maker) for one pattern; labels quote at most a short cue."""
    seen: set[tuple[str, str]] = set()
    walks = [walk(pattern, choice) for choice in range(min(widest_branch(pattern), 400))]
    # Every cue word (the literal lead-in of each walk) followed by a run of each separator, all
    # cues in one text: if any one of them backtracks over its run, the whole text grows faster.
    cues = sorted({w.text[:w.points[0][0]] if w.points else w.text for w in walks} - {""})
    if cues:
        for sep in SEPARATORS:
            yield f"{len(cues)} cues+{sep!r}*n", _cues(cues, sep)
    for w in walks[:max_walks]:
        for pos, fill in w.points:
            head = w.text[:pos]
            units = [u for u in fill if u] or ["a"]
            units = list(dict.fromkeys([*units[:3], *(s for s in SEPARATORS if s in units)]))
            for unit in units:
                if (head, unit) not in seen:
                    seen.add((head, unit))
                    yield f"{head[-24:]!r}+{unit!r}*n", _run(head, unit, "\x00")
                    if head and (head + unit, "") not in seen:
                        seen.add((head + unit, ""))
                        yield f"({head[-24:] + unit!r})*n", _run("", head + unit)
        for cut in {len(w.text) - 1, len(w.text) // 2}:
            if cut > 0 and (w.text[:cut], "near") not in seen:
                seen.add((w.text[:cut], "near"))
                yield f"({w.text[:cut][-24:]!r})*n near", _run("", w.text[:cut] + " ")


def _cues(cues: list[str], sep: str) -> Maker:
    # n is the length of each run; the text holds every cue once.
    return lambda n: "".join(cue + sep * max(1, n // 4) + "\x00" for cue in cues)


def best_time(fn: Callable[[str], object], text: str, repeats: int) -> float:
    """CPU seconds of this thread (not wall time: on a busy machine other processes' time would
    count), the best of `repeats` runs."""
    best = float("inf")
    for _ in range(repeats):
        started = time.thread_time()
        fn(text)
        best = min(best, time.thread_time() - started)
    return best


# Sizes grow x4; a step whose time grows more than MAX_RATIO times is super-linear (linear: 4,
# quadratic: 16, cubic: 64). Below FLOOR seconds timer noise dominates; a quadratic scan of even
# 4,000 characters is far above it. A suspicious step is measured again (min of 3 runs) before it
# counts, because a busy machine can stall any single run.
SIZES = (64, 250, 1_000, 4_000)
MAX_RATIO = 10.0
FLOOR = 0.002


def growth(fn: Callable[[str], object], make: Maker, sizes: tuple[int, ...] = SIZES,
           repeats: int = 1) -> tuple[float, list[float]]:
    """The worst step ratio over `sizes` and the times measured; stops at the first bad step."""
    times: list[float] = []
    worst = 0.0
    for i, n in enumerate(sizes):
        times.append(best_time(fn, make(n), repeats))
        if i and times[-1] > FLOOR:
            ratio = times[-1] / max(times[-2], 1e-6)
            if ratio > MAX_RATIO:
                small, large = best_time(fn, make(sizes[i - 1]), 3), best_time(fn, make(n), 3)
                ratio = large / max(small, 1e-6)
            worst = max(worst, ratio)
            if worst > MAX_RATIO:
                break  # already super-linear: growing further only costs time
    return worst, times
