"""Placeholder syntax: `<Type_n>`, tolerant recognition, and escaping of look-alikes users type.

Recognition is deliberately loose (case, inner spaces, `&lt;...&gt;`) because cloud models rewrite
what they echo. Anything that loose pattern matches in *user* text is escaped on the way out by
adding one backslash after the opening bracket (`<Email_1>` -> `<\\Email_1>`), and restoration
removes exactly one. That is a bijection, so a user-typed look-alike can never be mistaken for a
real placeholder, and round trips stay exact.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

PLACEHOLDER_LIKE = re.compile(
    r"(?P<open><|&lt;)(?P<esc>\\*+)[ \t]*+"
    r"(?P<name>[A-Za-z0-9][A-Za-z0-9_ \t]{0,80}?)[ \t_]++(?P<n>[0-9]{1,9})[ \t]*+"
    r"(?P<close>>|&gt;)",
    re.IGNORECASE,
)
_SEPARATORS = re.compile(r"[ \t_]+")


def format_placeholder(name: str, n: int) -> str:
    return f"<{name}_{n}>"


def canonical_key(placeholder: str) -> str:
    """The lookup key of a placeholder however it was written: `< real name _01 >` -> `real_name_1`."""
    match = PLACEHOLDER_LIKE.fullmatch(placeholder.strip())
    if match is None or match["esc"]:
        raise ValueError("not a placeholder")
    return _key(match)


def _key(match: re.Match[str]) -> str:
    name = _SEPARATORS.sub("_", match["name"]).strip("_").casefold()
    return f"{name}_{int(match['n'])}"


@dataclass(frozen=True, slots=True)
class Found:
    start: int
    end: int
    key: str | None  # None for an escaped look-alike
    text: str


def scan(text: str) -> Iterator[Found]:
    """Every placeholder-like run in `text`, escaped ones with key None."""
    for match in PLACEHOLDER_LIKE.finditer(text):
        key = None if match["esc"] else _key(match)
        yield Found(match.start(), match.end(), key, match.group(0))


def escape(text: str) -> str:
    """Add one backslash to every placeholder look-alike in user text."""
    return PLACEHOLDER_LIKE.sub(lambda m: f"{m['open']}\\{m.group(0)[len(m['open']):]}", text)


def unescape_one(found_text: str) -> str:
    """Remove the backslash that `escape` added to one escaped look-alike."""
    match = PLACEHOLDER_LIKE.fullmatch(found_text)
    if match is None or not match["esc"]:
        raise ValueError("not an escaped placeholder")
    cut = match.start("esc")
    return found_text[:cut] + found_text[cut + 1 :]


def lookalike_regions(text: str) -> list[tuple[int, int]]:
    """Offsets of look-alikes in user text; masking never cuts through one (see masking.py)."""
    return [(m.start(), m.end()) for m in PLACEHOLDER_LIKE.finditer(text)]
