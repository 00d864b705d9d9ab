"""Workers racing on the same new values must agree on one placeholder per value.

Each task owns its own Vault and engine (as separate worker processes would) and assigns
overlapping, shuffled batches for the same users at the same moment.
"""

from __future__ import annotations

import asyncio
import os
import random
from collections import defaultdict

from sqlalchemy import select
from sqlalchemy.ext.asyncio import create_async_engine

from streamproc.core.masking import PlaceholderRequest
from streamproc.core.placeholders import canonical_key
from streamproc.core.policy import DEFAULT_POLICY, Action
from streamproc.core.taxonomy import PrivacyLevel
from streamproc.vault import Vault
from streamproc.vault.tables import Mapping

WORKERS = 8
USERS = ["u-a", "u-b", "u-c"]
VALUES = [(f"person{i}@race.example", "Email") for i in range(12)] + [
    (f"+44 7700 900{i:03d}", "Phone Number") for i in range(8)
]


async def _worker(url: str, key: bytes, seed: int, start: asyncio.Event) -> dict[tuple[str, str], str]:
    rng = random.Random(seed)
    seen: dict[tuple[str, str], str] = {}
    async with Vault.open(url, key) as vault:
        await start.wait()
        for _ in range(4):
            batch = []
            for user in rng.sample(USERS, k=len(USERS)):
                picked = rng.sample(VALUES, k=8)
                reqs = [PlaceholderRequest(v, t, PrivacyLevel.PL2, Action.MASK) for v, t in picked]
                batch.append((user, reqs, DEFAULT_POLICY))
            for (user, reqs, _), out in zip(batch, await vault.assign(batch), strict=True):
                for r in reqs:
                    placeholder = out[r.value]
                    assert seen.setdefault((user, r.value), placeholder) == placeholder
    return seen


async def test_racing_workers_agree_on_one_placeholder_per_value(vault_url: str) -> None:
    key = os.urandom(32)
    async with Vault.open(vault_url, key):
        pass  # write the master-key check once, so the race is about mappings
    start = asyncio.Event()
    tasks = [asyncio.create_task(_worker(vault_url, key, seed, start)) for seed in range(WORKERS)]
    await asyncio.sleep(0.2)  # let every worker open its pool
    start.set()
    results = await asyncio.gather(*tasks)

    agreed: dict[tuple[str, str], str] = {}
    for seen in results:
        for k, placeholder in seen.items():
            assert agreed.setdefault(k, placeholder) == placeholder, "workers disagree"
    per_user: dict[str, dict[str, str]] = defaultdict(dict)
    for (user, value), placeholder in agreed.items():
        assert per_user[user].setdefault(placeholder, value) == value, "one placeholder, two values"

    engine = create_async_engine(vault_url)
    try:
        async with engine.connect() as conn:
            rows = (await conn.execute(select(Mapping.user_id, Mapping.placeholder))).all()
    finally:
        await engine.dispose()
    by_user: dict[str, list[str]] = defaultdict(list)
    for user, placeholder in rows:
        by_user[user].append(placeholder)
    for user, placeholders in by_user.items():
        assert len(placeholders) == len(set(placeholders))
        assert sorted(placeholders) == sorted(per_user[user]), "a stored mapping nobody was told about"

    async with Vault.open(vault_url, key) as vault:
        for user, mapping in per_user.items():
            resolved = await vault.resolve(user, {canonical_key(p) for p in mapping})
            assert resolved == {canonical_key(p): v for p, v in mapping.items()}
