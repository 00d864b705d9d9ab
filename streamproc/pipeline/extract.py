"""The extraction step and its fail-closed policy.

If the configured extractor fails or times out, nothing unmasked may be published. With
`on_failure=retry` the error propagates as retriable: the flow commits nothing and tries again
after a back-off. With `on_failure=fallback` the rules extractor answers instead and the turns are
marked `degraded`. Logs carry counts and error classes only.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass

from streamproc.core.errors import ExtractionError
from streamproc.core.spans import Detection
from streamproc.extractors.base import Extractor, TurnText
from streamproc.ops.metrics import Metrics
from streamproc.wire import ExtractorInfo

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Extraction:
    detections: list[list[Detection]]
    extractor: ExtractorInfo
    degraded: bool


class ExtractStep:
    def __init__(
        self, primary: Extractor, *, fallback: Extractor | None, timeout_s: float, metrics: Metrics
    ) -> None:
        self.primary = primary
        self.fallback = fallback
        self.timeout_s = timeout_s
        self.metrics = metrics

    async def __call__(self, turns: Sequence[TurnText]) -> Extraction:
        if not turns:
            return Extraction([], _info(self.primary), False)
        try:
            return Extraction(await self._run(self.primary, turns), _info(self.primary), False)
        except (ExtractionError, TimeoutError) as err:
            retriable = not isinstance(err, ExtractionError) or err.retriable
            self.metrics.extraction_failures.labels(self.primary.name, str(retriable).lower()).inc()
            log.warning("extractor %s failed on %d turns: %s", self.primary.name, len(turns), type(err).__name__)
            if self.fallback is None:
                if isinstance(err, ExtractionError):
                    raise
                raise ExtractionError(f"{self.primary.name} timed out after {self.timeout_s}s", retriable=True) from None
        self.metrics.degraded.inc(len(turns))
        return Extraction(await self._run(self.fallback, turns), _info(self.fallback), True)

    async def _run(self, extractor: Extractor, turns: Sequence[TurnText]) -> list[list[Detection]]:
        started = time.perf_counter()
        async with asyncio.timeout(self.timeout_s):
            detections = await extractor.extract(turns)
        self.metrics.extraction_latency.labels(extractor.name).observe(time.perf_counter() - started)
        if len(detections) != len(turns):
            raise ExtractionError(f"{extractor.name} returned {len(detections)} results for {len(turns)} turns", retriable=False)
        for per_turn in detections:
            for det in per_turn:
                self.metrics.spans.labels(det.privacy_level.value, det.source.split(":")[0]).inc()
        return detections


def _info(extractor: Extractor) -> ExtractorInfo:
    return ExtractorInfo(name=extractor.name, version=extractor.version)
