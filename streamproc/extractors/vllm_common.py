"""What the two vLLM engines share: building requests for a batch and turning raw model text into
grounded detections, with the hallucination metric."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Awaitable, Sequence
from typing import TypeVar

from streamproc.core.spans import Detection
from streamproc.extractors.base import TurnText
from streamproc.extractors.model_output import ground, parse
from streamproc.extractors.model_request import ModelRequest, build_request
from streamproc.extractors.prompt import PromptTemplate
from streamproc.ops.metrics import Metrics

T = TypeVar("T")
_ids = itertools.count(1)


def batch_requests(template: PromptTemplate, batch: Sequence[TurnText], max_tokens: int) -> list[ModelRequest]:
    """One request per turn, with ids unique in this process (engines key requests on them)."""
    return [build_request(template, turn, max_tokens=max_tokens, request_id=f"sp-{next(_ids)}") for turn in batch]


def detections_from(
    text: str, *, truncated: bool, turn: TurnText, extractor: str, metrics: Metrics | None
) -> list[Detection]:
    grounded = ground(turn.content, parse(text, truncated=truncated), source="model")
    if grounded.dropped and metrics is not None:
        metrics.hallucinated_spans.labels(extractor).inc(grounded.dropped)
    return grounded.detections


async def gather_all(coros: Sequence[Awaitable[T]]) -> list[T]:
    """Run all concurrently; on the first failure cancel the rest and raise that error itself
    (not an ExceptionGroup), so the flow sees an ExtractionError and applies its policy."""
    try:
        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(_awaited(c)) for c in coros]
    except BaseExceptionGroup as group_error:
        raise _first_leaf(group_error) from None
    return [task.result() for task in tasks]


async def _awaited(awaitable: Awaitable[T]) -> T:
    return await awaitable


def _first_leaf(err: BaseException) -> BaseException:
    while isinstance(err, BaseExceptionGroup):
        err = err.exceptions[0]
    return err
