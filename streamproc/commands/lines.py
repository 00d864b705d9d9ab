"""Reading JSONL robustly: every bad line is reported by number, the others still processed."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, TypeVar

from pydantic import BaseModel

from streamproc.codec import decode
from streamproc.core.errors import InvalidRecord

M = TypeVar("M", bound=BaseModel)


@dataclass
class LineErrors:
    """Counts bad lines and prints `line N: reason` to stderr (never the line itself)."""

    source: str
    count: int = 0
    seen: list[int] = field(default_factory=list)

    def report(self, line_no: int, reason: str) -> None:
        self.count += 1
        self.seen.append(line_no)
        print(f"{self.source}:{line_no}: {reason}", file=sys.stderr)


def open_input(path: Path | None) -> BinaryIO:
    return path.open("rb") if path else sys.stdin.buffer


def read_models(stream: BinaryIO, model: type[M], errors: LineErrors, *, max_bytes: int) -> Iterator[tuple[int, M]]:
    for line_no, raw in enumerate(stream, start=1):
        line = raw.rstrip(b"\r\n")
        if not line.strip():
            continue
        try:
            yield line_no, decode(line, model, max_bytes=max_bytes)
        except InvalidRecord as err:
            errors.report(line_no, f"{err.error_class}: {err.reason}")


def chunks(items: Iterator[tuple[int, M]], size: int) -> Iterator[list[tuple[int, M]]]:
    chunk: list[tuple[int, M]] = []
    for item in items:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
