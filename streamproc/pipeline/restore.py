"""Restore stage: CloudResponse records -> RestoredTurn outputs (and dead letters)."""

from __future__ import annotations

import time
from collections.abc import Sequence

from streamproc.codec import decode, encode
from streamproc.core.errors import InvalidRecord
from streamproc.masker import PlaceholderStore, restore_response
from streamproc.ops.metrics import Metrics
from streamproc.pipeline.dead_letter import DeadLetterLimiter, dead_letter
from streamproc.pipeline.types import Output, Record
from streamproc.settings import KafkaSettings
from streamproc.wire import CloudResponse


class RestoreStage:
    flow = "restore"

    def __init__(self, store: PlaceholderStore, kafka: KafkaSettings, metrics: Metrics, limiter: DeadLetterLimiter) -> None:
        self.store = store
        self.kafka = kafka
        self.metrics = metrics
        self.limiter = limiter

    async def prepare(self, records: Sequence[Record]) -> Sequence[Record]:
        return records  # nothing slow to overlap: restoration is one vault read per response

    async def finish(self, records: Sequence[Record]) -> list[Output]:
        outputs = []
        for record in records:
            try:
                response = decode(record.value, CloudResponse, max_bytes=self.kafka.max_record_bytes)
                restored = await restore_response(self.store, response)
            except InvalidRecord as err:  # includes UnknownUser
                self.limiter.admit(time.monotonic())
                self.metrics.dead_letters.labels(self.flow, err.error_class).inc()
                outputs.append(dead_letter(record, err, self.kafka.dead_letter_topic))
                continue
            outputs.append(Output(record.partition, self.kafka.restored_topic, restored.user_id.encode(), encode(restored)))
        return outputs
