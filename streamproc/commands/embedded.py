"""Embedded mode: mask, restore, extract, forget and policy without a broker.

mask, restore and extract are line filters (commands/lines.py): one output line per input line,
in order, flushed per batch. They are built by the same composition root as the worker
(streamproc.app), so a line masks exactly as the same record would on the stream.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import TextIO

from streamproc.app import build_extract_step, build_extractor, open_vault
from streamproc.codec import encode
from streamproc.commands.lines import Line, LineTally, open_input, read_batches, write_json
from streamproc.core import masking
from streamproc.core.errors import InvalidRecord
from streamproc.core.policy import Action, Policy
from streamproc.core.taxonomy import PrivacyLevel
from streamproc.extractors.base import Extractor, TurnText
from streamproc.masker import mask_turns, restore_responses
from streamproc.ops.metrics import Metrics
from streamproc.settings import Settings
from streamproc.vault.store import Vault
from streamproc.wire import CloudResponse, RawTurn

Handler = Callable[[list[Line[RawTurn]] | list[Line[CloudResponse]], TextIO, LineTally], Awaitable[None]]


def run_filter(settings: Settings, command: str, path: Path | None) -> int:
    """Run `mask`, `restore` or `extract` over a file or stdin. The first Ctrl-C finishes the
    batch in hand and exits 130; a second one stops at once."""
    return asyncio.run(_filter(settings, command, path, sys.stdout))


async def _filter(settings: Settings, command: str, path: Path | None, out: TextIO) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()

    def interrupted() -> None:
        stop.set()
        loop.remove_signal_handler(signal.SIGINT)  # the second Ctrl-C is Python's KeyboardInterrupt

    loop.add_signal_handler(signal.SIGINT, interrupted)
    tally = LineTally(str(path or "<stdin>"))
    model = CloudResponse if command == "restore" else RawTurn
    async with _handler(settings, command) as handle:
        with open_input(path) as stream:
            async for batch in read_batches(stream, model, tally, max_bytes=settings.kafka.max_record_bytes, stop=stop):  # type: ignore[type-var]
                await handle(batch, out, tally)
                out.flush()
    return 130 if stop.is_set() else tally.exit_code()


@contextlib.asynccontextmanager
async def _handler(settings: Settings, command: str) -> AsyncIterator[Handler]:
    if command == "extract":
        extractor = build_extractor(settings)
        try:
            yield lambda batch, out, tally: _extract(extractor, batch, out, tally)  # type: ignore[arg-type]
        finally:
            await extractor.aclose()
        return
    metrics = Metrics()
    async with open_vault(settings, metrics) as vault:
        if command == "restore":
            yield lambda batch, out, tally: _restore(vault, batch, out, tally)  # type: ignore[arg-type]
            return
        step = build_extract_step(settings, build_extractor(settings, metrics), metrics)
        try:
            async def mask(batch: list[Line[RawTurn]], out: TextIO, tally: LineTally) -> None:
                """A line no extractor could answer (ExtractionTimeout, ExtractionFailed) is
                rejected like an invalid one; the others are masked."""
                turns = [line.item for line in batch if isinstance(line.item, RawTurn)]
                ext = await step([TurnText.of(t) for t in turns])
                answers = iter(zip(turns, ext.detections, ext.extractors, ext.degraded, strict=True))
                outcome: dict[int, InvalidRecord | int] = {}
                ready = []
                for line in batch:
                    if isinstance(line.item, InvalidRecord):
                        outcome[line.number] = line.item
                        continue
                    turn, found, info, degraded = next(answers)
                    if isinstance(found, InvalidRecord):
                        outcome[line.number] = found
                    else:
                        outcome[line.number] = len(ready)
                        ready.append((turn, found, info, degraded))
                masked = await mask_turns(vault, [r[0] for r in ready], [r[1] for r in ready], [r[2] for r in ready],
                                          degraded=[r[3] for r in ready])
                for line in batch:
                    result = outcome[line.number]
                    if isinstance(result, InvalidRecord):
                        write_json(out, tally.reject(line.number, result))
                    else:
                        out.write(encode(masked[result]).decode() + "\n")

            yield mask  # type: ignore[misc]
        finally:
            await step.aclose()


async def _restore(vault: Vault, batch: list[Line[CloudResponse]], out: TextIO, tally: LineTally) -> None:
    """One vault read per batch; an unknown or forgotten user's line becomes an error record."""
    responses = [line.item for line in batch if isinstance(line.item, CloudResponse)]
    restored = iter(await restore_responses(vault, responses))
    for line in batch:
        result = line.item if isinstance(line.item, InvalidRecord) else next(restored)
        if isinstance(result, InvalidRecord):
            write_json(out, tally.reject(line.number, result))
        else:
            out.write(encode(result).decode() + "\n")


async def _extract(extractor: Extractor, batch: list[Line[RawTurn]], out: TextIO, tally: LineTally) -> None:
    """A local debugging tool: prints original values by design. Never point it at a shared log."""
    turns = [line.item for line in batch if isinstance(line.item, RawTurn)]
    found = iter(await extractor.extract([TurnText.of(t) for t in turns]))
    for line in batch:
        if isinstance(line.item, InvalidRecord):
            write_json(out, tally.reject(line.number, line.item))
            continue
        turn, detections = line.item, next(found)
        spans = masking.resolve_overlaps(masking.locate(turn.content, detections))
        write_json(out, {"turn_id": turn.turn_id, "spans": [
            {"original_text": turn.content[s.start:s.end], "privacy_type": s.privacy_type,
             "privacy_level": s.privacy_level.value, "start": s.start, "end": s.end, "source": s.source}
            for s in spans
        ]})


def forget(settings: Settings, user_id: str) -> int:
    async def run() -> bool:
        async with open_vault(settings) as vault:
            return await vault.forget(user_id)

    found = asyncio.run(run())
    print(f"{'forgot' if found else 'no such user'}: {user_id}", file=sys.stdout if found else sys.stderr)
    return 0 if found else 1


def policy(settings: Settings, user_id: str, changes: dict[str, str], ttls: dict[str, int | None]) -> int:
    async def run() -> Policy:
        async with open_vault(settings) as vault:
            current = await vault.get_policy(user_id)
            if changes or ttls:
                actions = dict(current.actions)
                actions.update({PrivacyLevel.parse(k): Action(v) for k, v in changes.items()})
                ttl = dict(current.ttl_seconds)
                for level, seconds in ttls.items():
                    if seconds is None:
                        ttl.pop(PrivacyLevel.parse(level), None)
                    else:
                        ttl[PrivacyLevel.parse(level)] = seconds
                current = Policy(actions=actions, ttl_seconds=ttl)
                await vault.set_policy(user_id, current)
            return current

    current = asyncio.run(run())
    print(json.dumps({"user_id": user_id, **current.to_dict()}, indent=2))
    return 0
