"""Reading JSON Lines as a live filter: batches close at `size` lines or after `idle_s` without
a new line, so a line typed on a terminal is answered at once and a file still goes in batches.

Every line is accounted for: it decodes to a model or to an `InvalidRecord` (reported on stderr
as `SOURCE:LINE: ErrorClass: reason`, never with its content), and the caller writes one output
line for it either way.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sys
import threading
from collections import deque
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Generic, TypeVar

from pydantic import BaseModel

from streamproc.codec import decode
from streamproc.core.errors import InvalidRecord

M = TypeVar("M", bound=BaseModel)
BOM = b"\xef\xbb\xbf"


@dataclass
class LineTally:
    """How many lines came in and how many were rejected; prints each rejection and a summary."""

    source: str
    lines: int = 0
    rejected: int = 0

    def reject(self, line_no: int, err: InvalidRecord) -> dict[str, object]:
        """Count and report a rejected line; return the error record that stands in for it."""
        self.rejected += 1
        print(f"{self.source}:{line_no}: {err.error_class}: {err.reason}", file=sys.stderr)
        return {"error": {"line": line_no, "error_class": err.error_class, "reason": err.reason}}

    def exit_code(self) -> int:
        """0 only when every line produced its output; otherwise a summary line and 1."""
        if self.rejected:
            print(f"{self.rejected} of {self.lines} lines rejected", file=sys.stderr)
            return 1
        return 0


@dataclass(frozen=True)
class Line(Generic[M]):
    number: int
    item: M | InvalidRecord


def open_input(path: Path | None) -> contextlib.AbstractContextManager[BinaryIO]:
    """The file, or stdin left open: closing stdin while the reader thread blocks on it hangs."""
    return path.open("rb") if path else contextlib.nullcontext(sys.stdin.buffer)


def write_json(out: object, record: dict[str, object]) -> None:
    out.write(json.dumps(record, ensure_ascii=False) + "\n")  # type: ignore[attr-defined]


async def read_batches(
    stream: BinaryIO, model: type[M], tally: LineTally, *, max_bytes: int, size: int = 64, idle_s: float = 0.05,
    stop: asyncio.Event | None = None,
) -> AsyncIterator[list[Line[M]]]:
    """Decoded lines in batches. A thread reads (a blocking read cannot stall the event loop) and
    hands over every line one read returned at once: a handover per line costs a trip through the
    event loop and a GIL switch, and kept file batches at a few lines. `stop` ends the stream
    after the batch in hand, for a graceful Ctrl-C."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[list[bytes] | None] = asyncio.Queue(maxsize=4)  # bounded: a large file is read as it goes

    def pump() -> None:
        try:
            for lines in _raw_chunks(stream.fileno(), max_bytes + 1):
                asyncio.run_coroutine_threadsafe(queue.put(lines), loop).result()
        finally:
            asyncio.run_coroutine_threadsafe(queue.put(None), loop)

    threading.Thread(target=pump, name="input-reader", daemon=True).start()
    stop = stop or asyncio.Event()
    pending: deque[bytes] = deque()
    line_no = 0
    at_end = False
    while not at_end and not stop.is_set():
        batch: list[Line[M]] = []
        timeout: float | None = None  # the first line of a batch may take as long as it takes
        while len(batch) < size:
            if not pending:
                lines = await _next(queue, stop, timeout)
                if lines is _IDLE:
                    break
                if lines is None:
                    at_end = True
                    break
                pending.extend(lines)
                continue
            raw = pending.popleft()
            line_no += 1
            if line_no == 1 and raw.startswith(BOM):
                raw = raw[len(BOM):]  # a file saved with a byte-order mark is still UTF-8 JSON
            line = raw.rstrip(b"\r\n")
            if not line.strip():
                continue
            tally.lines += 1
            try:
                batch.append(Line(line_no, decode(line, model, max_bytes=max_bytes)))
            except InvalidRecord as err:
                batch.append(Line(line_no, err))
            timeout = idle_s
        if batch:
            yield batch


def _raw_chunks(fd: int, cap: int, chunk: int = 1 << 16) -> Iterator[list[bytes]]:
    """The complete lines of each read, straight from the file descriptor. Not through the
    BufferedReader: a daemon thread blocked inside it holds its lock, and the interpreter aborts
    at exit after a Ctrl-C. A line longer than `cap` keeps only its first `cap` bytes (enough to
    be rejected as oversized): a file with no newline at all must not fill memory."""
    pending = b""
    too_long = False
    while data := os.read(fd, chunk):
        lines: list[bytes] = []
        if too_long:  # skip the rest of an oversized line without buffering it
            cut = data.find(b"\n")
            if cut < 0:
                continue
            lines.append(pending + b"\n")
            pending, too_long, data = b"", False, data[cut + 1:]
        *complete, pending = (pending + data).split(b"\n")
        lines.extend(line + b"\n" for line in complete)
        if len(pending) > cap:
            pending, too_long = pending[:cap], True
        if lines:
            yield lines
    if pending:
        yield [pending]


_IDLE: list[bytes] = []  # what _next returns on an idle timeout or a stop (compared by identity)


async def _next(queue: asyncio.Queue[list[bytes] | None], stop: asyncio.Event, timeout: float | None) -> list[bytes] | None:
    """The next read's lines; None at the end of input; _IDLE after `timeout` idle seconds or on stop."""
    if stop.is_set():
        return _IDLE
    getter = asyncio.ensure_future(queue.get())
    stopper = asyncio.ensure_future(stop.wait())
    done, _ = await asyncio.wait({getter, stopper}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    stopper.cancel()
    if getter in done:
        return getter.result()
    getter.cancel()  # asyncio.Queue keeps the item when a waiting get() is cancelled
    return _IDLE
