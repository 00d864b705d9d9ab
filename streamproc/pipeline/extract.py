"""The extraction step: its fail-closed policy and per-turn isolation.

Nothing unmasked is ever published. The step answers per turn: detections (from the configured
extractor, or from the rules with `degraded`), or an `InvalidRecord` that sends that turn alone
to dead-letter. The rest of the batch is never held hostage by one turn:

- Server-level failure (a retriable `ExtractionError`: transport, 5xx, 429, timeouts of the whole
  batch): `on_failure=retry` raises it, so the flow commits nothing and tries again after a
  back-off; `on_failure=fallback` answers the whole batch with the rules, marked `degraded`.
- Turn-level failure (a non-retriable `ExtractionError`, or a deadline): the batch is split and
  each turn runs alone under its own deadline, so only the culprits remain. A turn the model
  cannot answer is masked by the rules alone (`on_turn_failure=fallback`, marked `degraded`) or
  dead-lettered (`on_turn_failure=dead-letter`). A turn on which the rules themselves pass their
  deadline (`ExtractionTimeout`) is dead-lettered: nothing else can mask it.
- When every turn of a split fails with a timeout, the server is slow rather than the turns bad:
  that is server-level again.
Logs carry counts and error classes only; reasons never quote content.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass

from streamproc.core.errors import ExtractionError, ExtractionTimeout, InvalidRecord, StreamprocError
from streamproc.core.spans import Detection
from streamproc.extractors.base import Extractor, TurnText
from streamproc.ops.metrics import Metrics
from streamproc.wire import ExtractorInfo

log = logging.getLogger(__name__)
Failure = ExtractionError | TimeoutError
TurnResult = list[Detection] | InvalidRecord


@dataclass(frozen=True, slots=True)
class Extraction:
    """One entry per input turn, in order: detections or the reason to dead-letter the turn, the
    extractor that answered, and whether only the rules fallback did."""

    detections: list[TurnResult]
    extractors: list[ExtractorInfo]
    degraded: list[bool]


class ExtractStep:
    def __init__(
        self,
        primary: Extractor,
        *,
        fallback: Extractor | None,
        timeout_s: float,
        metrics: Metrics,
        turn_fallback: Extractor | None = None,
    ) -> None:
        """`fallback` answers whole batches when the primary is down (on_failure=fallback);
        `turn_fallback` answers single turns the primary cannot (on_turn_failure=fallback)."""
        self.primary = primary
        self.fallback = fallback
        self.turn_fallback = turn_fallback
        self.timeout_s = timeout_s
        self.metrics = metrics

    async def __call__(self, turns: Sequence[TurnText]) -> Extraction:
        if not turns:
            return Extraction([], [], [])
        try:
            found: list[TurnResult] = list(await self._run(self.primary, turns))
            return Extraction(found, [_info(self.primary)] * len(turns), [False] * len(turns))
        except (ExtractionError, TimeoutError) as err:
            self._count(self.primary, err, len(turns))
            if _server_level(err):
                return await self._whole_batch_fallback(turns, err)
            first: Failure = err
        alone = [first] if len(turns) == 1 else await asyncio.gather(*(self._alone(self.primary, t) for t in turns))
        return await self._settle(turns, alone)

    async def aclose(self) -> None:
        """Close the extractors (and kill their child processes), each once."""
        unique = {id(e): e for e in (self.primary, self.fallback, self.turn_fallback) if e is not None}
        await asyncio.gather(*(e.aclose() for e in unique.values()))

    async def _settle(self, turns: Sequence[TurnText], alone: Sequence[list[Detection] | Failure]) -> Extraction:
        answered = any(isinstance(a, list) for a in alone)
        down = {
            i for i, a in enumerate(alone)
            if not isinstance(a, list) and (_server_level(a) or (isinstance(a, TimeoutError) and not answered))
        }
        if down and self.fallback is None:
            raise ExtractionError(f"{self.primary.name} unavailable for {len(down)} turn(s)", retriable=True)

        async def settle_one(i: int, turn: TurnText, result: list[Detection] | Failure) -> tuple[TurnResult, ExtractorInfo, bool]:
            if isinstance(result, list):
                return result, _info(self.primary), False
            return await self._rescue(turn, result, self.fallback if i in down else self.turn_fallback)

        settled = await asyncio.gather(*(settle_one(i, t, r) for i, (t, r) in enumerate(zip(turns, alone, strict=True))))
        return Extraction([s[0] for s in settled], [s[1] for s in settled], [s[2] for s in settled])

    async def _rescue(
        self, turn: TurnText, failure: Failure, rules: Extractor | None
    ) -> tuple[TurnResult, ExtractorInfo, bool]:
        """One failed turn: the rules alone, or the reason it goes to dead-letter."""
        if rules is not None and not isinstance(failure, ExtractionTimeout):
            result = await self._alone(rules, turn)
            if isinstance(result, list):
                self.metrics.degraded.inc()
                self.metrics.turn_failures.labels(self.primary.name, "fallback").inc()
                return result, _info(rules), True
            self._count(rules, result, 1)
            failure = result
        self.metrics.turn_failures.labels(self.primary.name, "dead-letter").inc()
        return _dead(failure), _info(self.primary), False

    async def _whole_batch_fallback(self, turns: Sequence[TurnText], err: Failure) -> Extraction:
        if self.fallback is None:
            if isinstance(err, ExtractionError):
                raise err
            raise ExtractionError(f"{self.primary.name} timed out after {self.timeout_s}s", retriable=True) from None
        self.metrics.degraded.inc(len(turns))
        try:
            found: list[TurnResult] = list(await self._run(self.fallback, turns))
        except (ExtractionError, TimeoutError):
            alone = await asyncio.gather(*(self._alone(self.fallback, t) for t in turns))
            found = [a if isinstance(a, list) else _dead(a) for a in alone]
        return Extraction(found, [_info(self.fallback)] * len(turns), [True] * len(turns))

    async def _alone(self, extractor: Extractor, turn: TurnText) -> list[Detection] | Failure:
        try:
            [found] = await self._run(extractor, [turn])
            return found
        except (ExtractionError, TimeoutError) as err:
            return err

    async def _run(self, extractor: Extractor, turns: Sequence[TurnText]) -> list[list[Detection]]:
        started = time.perf_counter()
        try:
            async with asyncio.timeout(self.timeout_s):
                detections = await extractor.extract(turns)
        except (StreamprocError, TimeoutError):
            raise  # errors that say what they are (a ConfigurationError must stop the worker)
        except Exception as err:  # an extractor bug on some input is data-specific: isolate the turn
            log.error("extractor %s raised %s on %d turn(s)", extractor.name, type(err).__name__, len(turns))
            raise ExtractionError(f"{extractor.name} raised {type(err).__name__}", retriable=False) from None
        self.metrics.extraction_latency.labels(extractor.name).observe(time.perf_counter() - started)
        if len(detections) != len(turns):
            raise ExtractionError(f"{extractor.name} returned {len(detections)} results for {len(turns)} turns", retriable=False)
        for per_turn in detections:
            for det in per_turn:
                self.metrics.spans.labels(det.privacy_level.value, det.source.split(":")[0]).inc()
        return detections

    def _count(self, extractor: Extractor, err: Failure, turns: int) -> None:
        retriable = _server_level(err)
        self.metrics.extraction_failures.labels(extractor.name, str(retriable).lower()).inc()
        log.warning("extractor %s failed on %d turn(s): %s", extractor.name, turns, type(err).__name__)


def _server_level(err: Failure) -> bool:
    """Retriable errors say the server, not the turn, is the problem. A timeout of a whole batch
    is ambiguous: it is settled by splitting (see the module docstring)."""
    return isinstance(err, ExtractionError) and err.retriable


def _dead(failure: Failure) -> InvalidRecord:
    if isinstance(failure, (ExtractionTimeout, TimeoutError)):
        return InvalidRecord("extraction passed its deadline on this turn", "ExtractionTimeout")
    return InvalidRecord(f"no extractor could answer this turn ({type(failure).__name__})", "ExtractionFailed")


def _info(extractor: Extractor) -> ExtractorInfo:
    return ExtractorInfo(name=extractor.name, version=extractor.version)

