"""Embedded mode: mask, restore, extract, forget and policy without a broker."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TextIO

from streamproc.app import build_extract_step, build_extractor, open_vault
from streamproc.codec import encode
from streamproc.commands.lines import LineErrors, chunks, open_input, read_models
from streamproc.core import masking
from streamproc.core.errors import InvalidRecord
from streamproc.core.policy import Action, Policy
from streamproc.core.taxonomy import PrivacyLevel
from streamproc.extractors.base import TurnText
from streamproc.masker import mask_turns, restore_response
from streamproc.ops.metrics import Metrics
from streamproc.settings import Settings
from streamproc.wire import CloudResponse, RawTurn

BATCH = 64


def _finish(errors: LineErrors, strict: bool) -> int:
    if errors.count:
        print(f"{errors.count} line(s) skipped", file=sys.stderr)
    return 1 if strict and errors.count else 0


async def mask(settings: Settings, path: Path | None, out: TextIO, strict: bool) -> int:
    """Every line is masked or reported on stderr (a bad record, or a turn no extractor could
    answer); one bad line never stops the run."""
    errors = LineErrors(str(path or "<stdin>"))
    metrics = Metrics()
    async with open_vault(settings, metrics) as vault:
        step = build_extract_step(settings, build_extractor(settings, metrics), metrics)
        try:
            with open_input(path) as stream:
                for chunk in chunks(read_models(stream, RawTurn, errors, max_bytes=settings.kafka.max_record_bytes), BATCH):
                    ext = await step([TurnText(t.turn_id, t.role, t.content, t.real_name) for _, t in chunk])
                    ready = []
                    for (line_no, turn), found, info, degraded in zip(chunk, ext.detections, ext.extractors, ext.degraded, strict=True):
                        if isinstance(found, InvalidRecord):
                            errors.report(line_no, f"{found.error_class}: {found.reason}")
                        else:
                            ready.append((turn, found, info, degraded))
                    masked = await mask_turns(vault, [r[0] for r in ready], [r[1] for r in ready], [r[2] for r in ready], degraded=[r[3] for r in ready])
                    for turn in masked:
                        out.write(encode(turn).decode() + "\n")
                    out.flush()
        finally:
            await step.aclose()
    return _finish(errors, strict)


async def restore(settings: Settings, path: Path | None, out: TextIO, strict: bool) -> int:
    errors = LineErrors(str(path or "<stdin>"))
    async with open_vault(settings) as vault:
        with open_input(path) as stream:
            for line_no, response in read_models(stream, CloudResponse, errors, max_bytes=settings.kafka.max_record_bytes):
                try:
                    restored = await restore_response(vault, response)
                except InvalidRecord as err:
                    errors.report(line_no, f"{err.error_class}: {err.reason}")
                    continue
                out.write(encode(restored).decode() + "\n")
    return _finish(errors, strict)


async def extract(settings: Settings, path: Path | None, out: TextIO, strict: bool) -> int:
    """A local debugging tool: prints original values by design. Never point it at a shared log."""
    errors = LineErrors(str(path or "<stdin>"))
    extractor = build_extractor(settings)
    try:
        with open_input(path) as stream:
            for chunk in chunks(read_models(stream, RawTurn, errors, max_bytes=settings.kafka.max_record_bytes), BATCH):
                turns = [t for _, t in chunk]
                batch = await extractor.extract([TurnText(t.turn_id, t.role, t.content, t.real_name) for t in turns])
                for turn, detections in zip(turns, batch, strict=True):
                    spans = masking.resolve_overlaps(masking.locate(turn.content, detections))
                    out.write(json.dumps({"turn_id": turn.turn_id, "spans": [
                        {"original_text": turn.content[s.start:s.end], "privacy_type": s.privacy_type,
                         "privacy_level": s.privacy_level.value, "start": s.start, "end": s.end, "source": s.source}
                        for s in spans
                    ]}, ensure_ascii=False) + "\n")
    finally:
        await extractor.aclose()
    return _finish(errors, strict)


async def forget(settings: Settings, user_id: str) -> int:
    async with open_vault(settings) as vault:
        found = await vault.forget(user_id)
    print(f"{'forgot' if found else 'no such user'}: {user_id}")
    return 0 if found else 1


async def policy(settings: Settings, user_id: str, changes: dict[str, str], ttls: dict[str, int | None]) -> int:
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
    print(json.dumps({"user_id": user_id, **current.to_dict()}, indent=2))
    return 0

