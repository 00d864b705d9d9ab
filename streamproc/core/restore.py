"""Restoration: put a user's own values back in place of their placeholders.

Only placeholders the vault knows *for this user* are replaced; anything else that looks like a
placeholder stays verbatim and is reported. Escaped look-alikes lose the one backslash masking
added. One pass over the text, so a restored value is never scanned again.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from streamproc.core import placeholders


@dataclass(frozen=True, slots=True)
class RestoreResult:
    content: str
    restored: int
    unresolved: tuple[str, ...]


def wanted_keys(text: str) -> set[str]:
    """The canonical keys to look up in the vault before calling `restore`."""
    return {f.key for f in placeholders.scan(text) if f.key is not None}


def restore(text: str, values: Mapping[str, str]) -> RestoreResult:
    """`values` maps canonical placeholder keys (see placeholders.canonical_key) to originals."""
    out: list[str] = []
    unresolved: list[str] = []
    restored = 0
    cursor = 0
    for found in placeholders.scan(text):
        out.append(text[cursor : found.start])
        if found.key is None:
            out.append(placeholders.unescape_one(found.text))
        elif found.key in values:
            out.append(values[found.key])
            restored += 1
        else:
            out.append(found.text)
            if found.text not in unresolved:
                unresolved.append(found.text)
        cursor = found.end
    out.append(text[cursor:])
    return RestoreResult("".join(out), restored, tuple(unresolved))
