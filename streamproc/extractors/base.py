"""The one extractor interface: a batch of turns in, a list of detections per turn out.

Contract:
- `extract(batch)` returns exactly one list per input turn, in input order.
- Detections carry the value as it appears in the turn (`original_text`); offsets are found later by
  masking, which locates every occurrence.
- On failure it raises `ExtractionError(retriable=...)` for the whole batch; it never returns a
  partial answer, because a missing detection is a leak.
- `aclose()` releases engines and connections; extractors are used as async context managers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Protocol, Self, runtime_checkable

from streamproc.core.spans import Detection
from streamproc.wire import RawTurn


@dataclass(frozen=True, slots=True)
class TurnText:
    """What an extractor needs of a turn."""

    turn_id: str
    role: str
    content: str
    real_name: str | None = None

    @classmethod
    def of(cls, turn: RawTurn) -> TurnText:
        return cls(turn.turn_id, turn.role, turn.content, turn.real_name)


@runtime_checkable
class Extractor(Protocol):
    name: str
    version: str

    async def extract(self, batch: Sequence[TurnText]) -> list[list[Detection]]: ...

    async def aclose(self) -> None: ...


class ExtractorBase:
    """Async-context-manager plumbing shared by the implementations."""

    async def aclose(self) -> None:
        return None

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()
