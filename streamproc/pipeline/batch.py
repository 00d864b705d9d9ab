"""Micro-batching: a batch closes at max turns, max estimated tokens, or max wait, whichever first.

Pure and synchronous; the clock is passed in, so tests need no event loop and no sleeps.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from streamproc.pipeline.types import Record

CHARS_PER_TOKEN = 4  # a cheap, tokenizer-free estimate; only bounds batch size


def estimated_tokens(record: Record) -> int:
    return 1 + len(record.value or b"") // CHARS_PER_TOKEN


@dataclass
class MicroBatcher:
    max_turns: int
    max_tokens: int
    max_wait_s: float
    _records: list[Record] = field(default_factory=list)
    _tokens: int = 0
    _opened_at: float | None = None

    def add(self, record: Record, now: float) -> list[list[Record]]:
        """Add one record; return the batches this closed (zero, one, or two if it overflowed)."""
        closed: list[list[Record]] = []
        tokens = estimated_tokens(record)
        if self._records and self._tokens + tokens > self.max_tokens:
            closed.append(self._take())
        if not self._records:
            self._opened_at = now
        self._records.append(record)
        self._tokens += tokens
        if len(self._records) >= self.max_turns or self._tokens >= self.max_tokens:
            closed.append(self._take())
        return closed

    def poll(self, now: float) -> list[Record] | None:
        """The open batch if it has waited long enough."""
        if self._records and self._opened_at is not None and now - self._opened_at >= self.max_wait_s:
            return self._take()
        return None

    def seconds_left(self, now: float) -> float:
        """How long a poll may block before the open batch is due; max_wait when empty."""
        if self._opened_at is None or not self._records:
            return self.max_wait_s
        return max(0.0, self.max_wait_s - (now - self._opened_at))

    def drop(self) -> None:
        """Forget buffered records (after a rebalance they are replayed from committed offsets)."""
        self._take()

    def flush(self) -> list[Record]:
        """Close the open batch now, whatever its size (graceful shutdown)."""
        return self._take()

    def __len__(self) -> int:
        return len(self._records)

    def _take(self) -> list[Record]:
        batch, self._records, self._tokens, self._opened_at = self._records, [], 0, None
        return batch
