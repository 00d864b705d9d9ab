"""What the two vLLM engines share: the prompt template, building requests for a batch, and one
turn's round trip: generate, parse, ground, retrying the turn a bounded number of times when the
output is unusable (then a turn-specific, non-retriable error; see extractors/base.py)."""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import TypeVar

from streamproc.core.spans import Detection
from streamproc.extractors.base import TurnText
from streamproc.extractors.model_output import BadModelOutput, ground, parse
from streamproc.extractors.model_request import ModelRequest, build_request
from streamproc.extractors.prompt import PromptTemplate
from streamproc.ops.metrics import Metrics

T = TypeVar("T")
_ids = itertools.count(1)
log = logging.getLogger(__name__)

# One generation: the request in, (text, cut at max_tokens) out.
Generate = Callable[[ModelRequest], Awaitable[tuple[str, bool]]]


def load_template(path: Path | None, extractor: str) -> PromptTemplate:
    """Load the prompt and say at start which style was detected (no prompt text is logged)."""
    template = PromptTemplate.load(path)
    log.info("%s prompt template: %s", extractor, template.description)
    return template


def next_id() -> str:
    return f"sp-{next(_ids)}"


def batch_requests(
    template: PromptTemplate, batch: Sequence[TurnText], max_tokens: int, *, structured: bool = True
) -> list[ModelRequest]:
    """One request per turn, with ids unique in this process (engines key requests on them)."""
    return [
        build_request(template, turn, max_tokens=max_tokens, request_id=next_id(), structured=structured)
        for turn in batch
    ]


def detections_from(
    text: str, *, truncated: bool, turn: TurnText, extractor: str, metrics: Metrics | None, tolerant: bool = False
) -> list[Detection]:
    grounded = ground(turn.content, parse(text, truncated=truncated, tolerant=tolerant), source="model")
    if grounded.dropped and metrics is not None:
        metrics.hallucinated_spans.labels(extractor).inc(grounded.dropped)
    return grounded.detections


async def extract_turn(
    generate: Generate, request: ModelRequest, turn: TurnText, *, attempts: int, extractor: str, metrics: Metrics | None
) -> list[Detection]:
    """Up to `attempts` generations for one turn: unusable output is tried again (with twice the
    max_tokens when it was cut); the last BadModelOutput is raised (retriable=False)."""
    for attempt in range(1, attempts + 1):
        text, truncated = await generate(request)
        try:
            return detections_from(
                text, truncated=truncated, turn=turn, extractor=extractor, metrics=metrics, tolerant=request.schema is None
            )
        except BadModelOutput as err:
            if attempt == attempts:
                raise
            log.info("%s: unusable output (%s), trying the turn again", extractor, "cut" if err.truncated else "invalid")
            request = request.retry(next_id(), more_tokens=err.truncated)
    raise AssertionError("unreachable")


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
