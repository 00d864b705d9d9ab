"""Mask stage: RawTurn records -> MaskedTurn outputs (and sealed dead letters for bad records).

A masked turn is keyed by its user pseudonym, never the real user_id: the record key crosses the
trust boundary as much as the value does. One pseudonym per user keeps a user's turns on one
partition, in order."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from streamproc.codec import decode, encode
from streamproc.core.errors import InvalidRecord
from streamproc.extractors.base import TurnText
from streamproc.masker import PlaceholderStore, mask_turns
from streamproc.ops.metrics import Metrics
from streamproc.pipeline.dead_letter import DeadLetterKeys, DeadLetterLimiter, DeadLetters
from streamproc.pipeline.extract import Extraction, ExtractStep
from streamproc.pipeline.types import Output, Record
from streamproc.settings import KafkaSettings
from streamproc.wire import RawTurn


class StageStore(PlaceholderStore, DeadLetterKeys, Protocol):
    """What a flow stage needs of the vault."""


@dataclass(frozen=True, slots=True)
class MaskPrepared:
    records: Sequence[Record]
    decoded: list[RawTurn | InvalidRecord]
    extraction: Extraction


class MaskStage:
    flow = "mask"

    def __init__(
        self, extract: ExtractStep, store: StageStore, kafka: KafkaSettings, metrics: Metrics, limiter: DeadLetterLimiter
    ) -> None:
        self.extract = extract
        self.store = store
        self.kafka = kafka
        self.metrics = metrics
        self.limiter = limiter
        self.dead_letters = DeadLetters(store, kafka, metrics, limiter, self.flow)

    async def prepare(self, records: Sequence[Record]) -> MaskPrepared:
        decoded: list[RawTurn | InvalidRecord] = []
        for record in records:
            try:
                decoded.append(decode(record.value, RawTurn, max_bytes=self.kafka.max_record_bytes))
            except InvalidRecord as err:
                decoded.append(err)
        turns = [TurnText.of(t) for t in decoded if isinstance(t, RawTurn)]
        return MaskPrepared(records, decoded, await self.extract(turns))

    async def finish(self, prepared: MaskPrepared) -> list[Output]:
        good = [(r, t) for r, t in zip(prepared.records, prepared.decoded, strict=True) if isinstance(t, RawTurn)]
        ext = prepared.extraction
        masked = await mask_turns(self.store, [t for _, t in good], ext.detections, ext.extractor, degraded=ext.degraded)
        by_offset = {(r.partition, r.offset): m for (r, _), m in zip(good, masked, strict=True)}
        outputs = []
        for record, item in zip(prepared.records, prepared.decoded, strict=True):
            if isinstance(item, InvalidRecord):
                outputs.append(await self.dead_letters(record, item))
            else:
                turn = by_offset[(record.partition, record.offset)]
                outputs.append(Output(record.partition, self.kafka.masked_topic, turn.user_id.encode(), encode(turn)))
        return outputs
