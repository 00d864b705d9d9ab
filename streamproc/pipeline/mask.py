"""Mask stage: RawTurn records -> MaskedTurn outputs, and sealed dead letters for the records that
cannot be masked (undecodable, a turn no extractor could answer, an output too large to produce).

A masked turn is keyed by its user pseudonym, never the real user_id: the record key crosses the
trust boundary as much as the value does. One pseudonym per user keeps a user's turns on one
partition, in order."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from streamproc.codec import decode_each, encode
from streamproc.core.errors import InvalidRecord
from streamproc.core.spans import Detection
from streamproc.extractors.base import TurnText
from streamproc.masker import mask_turns
from streamproc.vault.port import PlaceholderStore
from streamproc.ops.metrics import Metrics
from streamproc.pipeline.dead_letter import DeadLetterKeys, DeadLetterLimiter, DeadLetters
from streamproc.pipeline.extract import ExtractStep
from streamproc.pipeline.outputs import bounded
from streamproc.pipeline.types import Output, Record
from streamproc.settings import KafkaSettings
from streamproc.wire import ExtractorInfo, RawTurn


class StageStore(PlaceholderStore, DeadLetterKeys, Protocol):
    """What a flow stage needs of the vault."""


@dataclass(frozen=True, slots=True)
class Ready:
    """A decoded turn and its extraction, ready to mask."""

    turn: RawTurn
    detections: list[Detection]
    extractor: ExtractorInfo
    degraded: bool


@dataclass(frozen=True, slots=True)
class MaskPrepared:
    records: Sequence[Record]
    items: list[Ready | InvalidRecord]


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
        decoded = decode_each((r.value for r in records), RawTurn, max_bytes=self.kafka.max_record_bytes)
        turns = [t for t in decoded if isinstance(t, RawTurn)]
        ext = await self.extract([TurnText.of(t) for t in turns])
        answers = iter(zip(ext.detections, ext.extractors, ext.degraded, strict=True))
        items: list[Ready | InvalidRecord] = []
        for item in decoded:
            if isinstance(item, InvalidRecord):
                items.append(item)
                continue
            found, info, degraded = next(answers)
            items.append(found if isinstance(found, InvalidRecord) else Ready(item, found, info, degraded))
        return MaskPrepared(records, items)

    async def finish(self, prepared: MaskPrepared) -> list[Output]:
        ready = [i for i in prepared.items if isinstance(i, Ready)]
        masked = iter(await mask_turns(
            self.store, [r.turn for r in ready], [r.detections for r in ready],
            [r.extractor for r in ready], degraded=[r.degraded for r in ready],
        ))
        outputs = []
        for record, item in zip(prepared.records, prepared.items, strict=True):
            if isinstance(item, Ready):
                turn = next(masked)
                out = Output(record.partition, self.kafka.masked_topic, turn.user_id.encode(), encode(turn))
                result: Output | InvalidRecord = bounded(out, self.kafka)
            else:
                result = item
            if isinstance(result, InvalidRecord):
                outputs.append(await self.dead_letters(record, result))
            else:
                outputs.append(result)
        return outputs
