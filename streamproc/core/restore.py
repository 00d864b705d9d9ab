"""Restoration: put a user's own values back in place of their placeholders.

Only placeholders the vault knows *for this user* are replaced; anything else that looks like a
placeholder stays verbatim and is reported. Escaped look-alikes lose the one backslash masking
added. One pass over the text, so a restored value is never scanned again.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from streamproc.core import placeholders


@dataclass(frozen=True, slots=True)
class RestoreResult:
    content: str
    restored: int
    unresolved: tuple[str, ...]


def wanted_keys(text: str, found: Sequence[placeholders.Found] | None = None) -> set[str]:
    """The canonical keys to look up in the vault before calling `restore`. `found`: the text's
    `placeholders.scan`, when the caller keeps it to hand to `restore` too (one scan, not two)."""
    return {f.key for f in (placeholders.scan(text) if found is None else found) if f.key is not None}


def restore(text: str, values: Mapping[str, str], found: Sequence[placeholders.Found] | None = None) -> RestoreResult:
    """`values` maps canonical placeholder keys (see placeholders.canonical_key) to originals;
    `found`, if given, must be `list(placeholders.scan(text))`."""
    out: list[str] = []
    unresolved: list[str] = []
    restored = 0
    cursor = 0
    for hit in placeholders.scan(text) if found is None else found:
        out.append(text[cursor : hit.start])
        if hit.key is None:
            out.append(placeholders.unescape_one(hit.text))
        elif hit.key in values:
            out.append(values[hit.key])
            restored += 1
        else:
            out.append(hit.text)
            if hit.text not in unresolved:
                unresolved.append(hit.text)
        cursor = hit.end
    out.append(text[cursor:])
    return RestoreResult("".join(out), restored, tuple(unresolved))
