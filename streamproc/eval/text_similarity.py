"""How close a predicted value is to a gold value, as a score in [0, 1].

Gold spans come without offsets, so spans are compared as strings:
- exact match after trivial whitespace normalisation (strip, runs of whitespace -> one space)
  scores 1.0, whatever the type;
- otherwise, only for descriptive types, partial credit by the longest common *contiguous* run
  of tokens: 2·L / (len_a + len_b), a Dice coefficient over that run. It is 1.0 only for equal
  token sequences and falls as either side adds words the other lacks.

Tokens: runs of letters/digits outside CJK scripts (so ASCII words and numbers, and accented
Latin words too), and every CJK character on its own, because Chinese has no spaces and a
per-character unit is what annotators' span boundaries vary by. Tokens compare case-folded;
punctuation is not a token.
"""

from __future__ import annotations

import re

_CJK = (
    "\u3040-\u30ff"  # Hiragana, Katakana
    "\u3400-\u4dbf"  # CJK Extension A
    "\u4e00-\u9fff"  # CJK Unified Ideographs
    "\uac00-\ud7af"  # Hangul syllables
    "\uf900-\ufaff"  # CJK Compatibility Ideographs
)
_TOKEN = re.compile(rf"[{_CJK}]|(?:(?![{_CJK}])[^\W_])+")


def normalise_text(text: str) -> str:
    """Strip and collapse whitespace runs: the only difference an exact match forgives."""
    return " ".join(text.split())


def tokenize(text: str) -> list[str]:
    return [token.casefold() for token in _TOKEN.findall(text)]


def longest_common_run(a: list[str], b: list[str]) -> int:
    """Length of the longest contiguous token sequence that occurs in both (classic DP)."""
    if not a or not b:
        return 0
    best = 0
    previous = [0] * (len(b) + 1)
    for token_a in a:
        current = [0] * (len(b) + 1)
        for j, token_b in enumerate(b, start=1):
            if token_a == token_b:
                current[j] = previous[j - 1] + 1
                if current[j] > best:
                    best = current[j]
        previous = current
    return best


def token_overlap(a: str, b: str) -> float:
    """2·LCS/(len_a + len_b) over tokens; 0.0 when either side has no tokens."""
    tokens_a, tokens_b = tokenize(a), tokenize(b)
    if not tokens_a or not tokens_b:
        return 0.0
    return 2 * longest_common_run(tokens_a, tokens_b) / (len(tokens_a) + len(tokens_b))


def text_score(predicted: str, gold: str, *, partial: bool) -> float:
    """1.0 for an exact match; else the token overlap when `partial`, else 0.0."""
    if normalise_text(predicted) == normalise_text(gold):
        return 1.0 if normalise_text(gold) else 0.0
    if not partial:
        return 0.0
    return token_overlap(predicted, gold)
