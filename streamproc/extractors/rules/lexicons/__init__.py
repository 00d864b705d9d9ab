"""Word lists the context detectors use, one entry per line in `<name>.txt`.

Lines starting with `#` are comments (each file opens with one saying what belongs in it). Files
are read on first use and cached, so importing the package does no I/O.
"""

from __future__ import annotations

from functools import cache
from importlib import resources


@cache
def load(name: str) -> frozenset[str]:
    """The entries of `lexicons/<name>.txt`, stripped, without comments or blank lines."""
    raw = resources.files(__package__).joinpath(f"{name}.txt").read_text(encoding="utf-8")
    entries = (line.strip() for line in raw.splitlines())
    return frozenset(e for e in entries if e and not e.startswith("#"))
