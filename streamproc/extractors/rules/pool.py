"""Rules detection in worker processes, so a busy mask flow can use a second core.

The detectors are pure Python and CPU-bound; in the worker's own process they would hold the GIL
that the event loop needs for Kafka and the vault. Each pool process builds its own extractor
once (the lexicons load lazily there); turns and detections cross as small picklable values.
Processes are spawned, not forked: forking a process that runs an event loop and threads is
unsafe.
"""

from __future__ import annotations

import asyncio
import multiprocessing
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor

from streamproc.core.spans import Detection
from streamproc.extractors.base import TurnText
from streamproc.extractors.rules.extractor import RulesExtractor

_local: RulesExtractor | None = None


def _init(min_confidence: float, phone_regions: tuple[str, ...], preset: str = "default") -> None:
    global _local
    _local = RulesExtractor(min_confidence, phone_regions=phone_regions, preset=preset)


def _detect_chunk(turns: list[TurnText]) -> list[list[Detection]]:
    assert _local is not None, "pool process not initialised"
    return [_local.detect(turn) for turn in turns]


class RulesPool:
    def __init__(self, processes: int, min_confidence: float, phone_regions: tuple[str, ...],
                 preset: str = "default") -> None:
        self.processes = processes
        self._pool = ProcessPoolExecutor(
            processes, mp_context=multiprocessing.get_context("spawn"), initializer=_init,
            initargs=(min_confidence, phone_regions, preset),
        )

    async def detect(self, batch: Sequence[TurnText]) -> list[list[Detection]]:
        """Split the batch in one chunk per process, keep the order."""
        loop = asyncio.get_running_loop()
        size = max(1, -(-len(batch) // self.processes))
        chunks = [list(batch[i : i + size]) for i in range(0, len(batch), size)]
        results = await asyncio.gather(*(loop.run_in_executor(self._pool, _detect_chunk, c) for c in chunks))
        return [per_turn for chunk in results for per_turn in chunk]

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
