"""Restore stage: CloudResponse records -> RestoredTurn outputs (and dead letters)."""

from __future__ import annotations

from collections.abc import Sequence

from streamproc.codec import decode_each, encode
from streamproc.core.errors import InvalidRecord
from streamproc.masker import restore_responses
from streamproc.ops.metrics import Metrics
from streamproc.pipeline.dead_letter import DeadLetterLimiter, DeadLetters
from streamproc.pipeline.mask import StageStore
from streamproc.pipeline.outputs import bounded
from streamproc.pipeline.types import Output, Record
from streamproc.settings import KafkaSettings
from streamproc.wire import CloudResponse


class RestoreStage:
    flow = "restore"

    def __init__(self, store: StageStore, kafka: KafkaSettings, metrics: Metrics, limiter: DeadLetterLimiter) -> None:
        self.store = store
        self.kafka = kafka
        self.metrics = metrics
        self.limiter = limiter
        self.dead_letters = DeadLetters(store, kafka, metrics, limiter, self.flow)

    async def prepare(self, records: Sequence[Record]) -> Sequence[Record]:
        return records  # nothing slow to overlap: restoration is one vault read per response

    async def finish(self, records: Sequence[Record]) -> list[Output]:
        return await self.finish_decoded(records, decode_each((r.value for r in records), CloudResponse, max_bytes=self.kafka.max_record_bytes))

    async def finish_decoded(self, records: Sequence[Record], decoded: Sequence[CloudResponse | InvalidRecord]) -> list[Output]:
        """`finish` for records already decoded (by the streaming stage in front of this one)."""
        valid = [d for d in decoded if isinstance(d, CloudResponse)]
        restored = iter(await restore_responses(self.store, valid))  # one vault read per batch
        outputs = []
        for record, item in zip(records, decoded, strict=True):
            result = next(restored) if isinstance(item, CloudResponse) else item
            if not isinstance(result, InvalidRecord):  # restoring can expand a reply a lot
                out = Output(record.partition, self.kafka.restored_topic, result.user_id.encode(), encode(result))
                result = bounded(out, self.kafka)
            if isinstance(result, InvalidRecord):  # bad record, UnknownUser, or too large to send
                outputs.append(await self.dead_letters(record, result))
            else:
                outputs.append(result)
        return outputs
