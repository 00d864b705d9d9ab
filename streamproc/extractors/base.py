"""The one extractor interface: a batch of turns in, a list of detections per turn out.

Contract:
- `extract(batch)` returns exactly one list per input turn, in input order.
- Detections carry the value as it appears in the turn (`original_text`); offsets are found later by
  masking, which locates every occurrence.
- On failure it raises `ExtractionError(retriable=...)` for the whole batch; it never returns a
  partial answer, because a missing detection is a leak.
- What `retriable` means (the flow and its per-turn isolation rely on it):
  - `retriable=False`: the failure belongs to a TURN; trying the same turn again cannot help, other
    turns may well succeed. The model extractors raise it for an HTTP 400/413/422 answer (e.g. a
    prompt longer than the server's context), a prompt the in-process engine rejects as too long,
    and output that is truncated at max_tokens, not JSON or not the span schema after the
    extractor's own bounded retries of that turn (`extraction.output_attempts`).
  - `retriable=True`: the failure belongs to the SERVER or the transport, not to any turn:
    connection errors, timeouts, HTTP 5xx and 429, other 4xx (401/403/404: a configuration or
    key problem), no server answering. The same turns should be tried again later.
  - Configuration problems (a missing URL or model, a bad prompt template, vLLM not installed)
    raise `ConfigurationError`, not an ExtractionError: they are nobody's turn's fault.
  - `ExtractorDead` (not an ExtractionError): the extractor can serve nothing any more (an
    in-process engine died); the worker stops before committing and is restarted.
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
