"""What travels between the Kafka loop and the stages. Offsets ride with the data."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar


@dataclass(frozen=True, slots=True)
class Record:
    """One consumed Kafka record, as bytes; decoding is a stage's job (it may fail)."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    timestamp_ms: int


@dataclass(frozen=True, slots=True)
class Output:
    """One record to produce, tagged with the input partition whose transaction must carry it.

    `value` None is a tombstone (state changelogs); `partition` pins the output partition (a
    changelog partition follows its input partition), else the key decides."""

    source_partition: int
    topic: str
    key: bytes | None
    value: bytes | None
    partition: int | None = None


P = TypeVar("P")


class Stage(Protocol, Generic[P]):
    """A flow's processing, in two halves.

    `prepare` may run for several batches at once (it is where slow extraction happens); it must
    not write anything durable. `finish` runs once per batch, strictly in batch order, and returns
    every output of the batch, dead letters included; it may write to the vault (idempotently).
    Either half raises to say "this batch is not done": the flow then commits nothing for it.
    """

    async def prepare(self, records: Sequence[Record]) -> P: ...

    async def finish(self, prepared: P) -> list[Output]: ...
