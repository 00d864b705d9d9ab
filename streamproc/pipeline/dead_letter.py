"""Dead letters: a bad record goes to the local dead-letter topic with its origin and a reason.

A cap on the rate stops the worker when most records fail: that is a bad deploy or a wrong topic,
and filling the dead-letter topic would hide it (arroyo's DlqLimit idea).
"""

from __future__ import annotations

import base64
from collections import deque
from datetime import datetime, timezone

from streamproc.codec import encode
from streamproc.core.errors import InvalidRecord, StreamprocError
from streamproc.pipeline.types import Output, Record
from streamproc.wire import DeadLetter


class DeadLetterRateExceeded(StreamprocError):
    """Too many dead letters in a minute: stop, do not commit, let an operator look."""


def dead_letter(record: Record, err: InvalidRecord, topic: str, now: datetime | None = None) -> Output:
    letter = DeadLetter(
        source_topic=record.topic,
        partition=record.partition,
        offset=record.offset,
        key_b64=base64.b64encode(record.key).decode() if record.key is not None else None,
        value_b64=base64.b64encode(record.value or b"").decode(),
        error_class=err.error_class,
        reason=err.reason,
        ts=now or datetime.now(timezone.utc),
    )
    return Output(record.partition, topic, record.key, encode(letter))


class DeadLetterLimiter:
    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self._times: deque[float] = deque()

    def admit(self, now: float) -> None:
        """Count one dead letter at monotonic time `now`; raise when over the cap."""
        self._times.append(now)
        while self._times and now - self._times[0] > 60.0:
            self._times.popleft()
        if len(self._times) > self.per_minute:
            raise DeadLetterRateExceeded(f"more than {self.per_minute} dead letters in a minute")
