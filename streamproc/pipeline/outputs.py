"""Outputs the producer can send. A record the producer would refuse (MessageSizeTooLargeError, a
non-retriable error) must never reach it: the flow would abort the transaction and replay the
same batch forever. Such an output is replaced, before producing, by a dead letter for its input
record (reason `OutputTooLarge`); masking can expand a turn a lot (ten thousand short spans each
become a placeholder and an entity)."""

from __future__ import annotations

from streamproc.core.errors import InvalidRecord
from streamproc.pipeline.types import Output
from streamproc.settings import KafkaSettings

# What a record costs beyond its key and value in a v2 batch of one (headers, varints, batch
# header): generously rounded up, so the check errs on the side of the dead letter.
RECORD_OVERHEAD = 1_024


def bounded(out: Output, kafka: KafkaSettings) -> Output | InvalidRecord:
    size = len(out.value) + len(out.key or b"") + RECORD_OVERHEAD
    limit = kafka.producer_max_request_bytes
    if size <= limit:
        return out
    return InvalidRecord(f"output would be {size} bytes, over the producer limit of {limit}", "OutputTooLarge")
