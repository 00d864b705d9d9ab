"""`streamproc vault identity|move-group`: which vault a consumer group is bound to, and the
deliberate move of a group to another vault (see streamproc/kafka/fencing.py)."""

from __future__ import annotations

import asyncio
import json

from streamproc.app import open_vault
from streamproc.kafka.fencing import bind_group_to_vault, group_vault
from streamproc.settings import Settings


def identity(settings: Settings) -> int:
    async def run() -> dict[str, object]:
        async with open_vault(settings) as vault:
            mine = await vault.identity()
        bound = await group_vault(settings.kafka)
        return {"vault_id": mine, "group": settings.kafka.group_id, "group_vault_id": bound, "matches": bound in (None, mine)}

    report = asyncio.run(run())
    print(json.dumps(report, indent=2))
    return 0 if report["matches"] else 1


def move_group(settings: Settings) -> int:
    async def run() -> tuple[str, str | None]:
        async with open_vault(settings) as vault:
            mine = await vault.identity()
        return mine, await bind_group_to_vault(settings.kafka, mine)

    mine, previous = asyncio.run(run())
    print(f"group {settings.kafka.group_id}: vault {previous} -> {mine}")
    return 0
