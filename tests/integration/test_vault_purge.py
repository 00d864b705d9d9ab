"""The worker's scheduled TTL purge, on both backends: expired values leave the vault on their
own, unexpired ones stay, and the purge is counted in `streamproc_vault_purged_rows_total`."""

from __future__ import annotations

import asyncio
import os

from sqlalchemy import select
from sqlalchemy.ext.asyncio import create_async_engine

from streamproc.core.masking import PlaceholderRequest
from streamproc.core.policy import Action, Policy
from streamproc.core.taxonomy import PrivacyLevel
from streamproc.ops.metrics import Metrics
from streamproc.ops.purge import run_purge
from streamproc.vault import Vault
from streamproc.vault.tables import Mapping

PL2, PL3 = PrivacyLevel.PL2, PrivacyLevel.PL3
POLICY = Policy(actions={PL2: Action.MASK, PL3: Action.MASK}, ttl_seconds={PL2: 60})
T0 = 1_700_000_000.0


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> float:
        return self.now


def purged(metrics: Metrics) -> float:
    return metrics.registry.get_sample_value("streamproc_vault_purged_rows_total") or 0.0


async def stored_values(url: str) -> dict[tuple[str, str], bool]:
    """(user, placeholder) -> whether a ciphertext is still stored."""
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            rows = await conn.execute(select(Mapping.user_id, Mapping.placeholder, Mapping.ciphertext))
            return {(r.user_id, r.placeholder): r.ciphertext is not None for r in rows}
    finally:
        await engine.dispose()


async def test_scheduled_purge_drops_expired_values_and_keeps_the_rest(vault_url: str) -> None:
    clock = Clock()
    metrics = Metrics()
    users = [f"u{i}" for i in range(30)]
    async with Vault.open(vault_url, os.urandom(32), clock=clock) as vault:
        await vault.assign([
            (u, [
                PlaceholderRequest(f"{u}@ttl.example", "Email", PL2, Action.MASK),  # 60 s TTL
                PlaceholderRequest(f"{u} diagnosis", "Medical Health", PL3, Action.MASK),  # no TTL
            ], POLICY)
            for u in users
        ])
        clock.now += 30
        await vault.assign([("late", [PlaceholderRequest("late@ttl.example", "Email", PL2, Action.MASK)], POLICY)])
        clock.now += 45  # the 30 users' e-mails are 75 s old, late's 45 s

        stop = asyncio.Event()
        # An hour's interval: the first run happens at start, and `stop` must not wait for the next.
        purging = asyncio.create_task(run_purge(vault, 3600, metrics, stop))
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 60
        try:
            while purged(metrics) < len(users):
                assert not purging.done(), "the purge task died"
                assert loop.time() < deadline, "no purge within 60 s"
                await asyncio.sleep(0.02)  # polling the metric: the condition under test
        finally:
            stop.set()
            await asyncio.wait_for(purging, timeout=30)

        assert purged(metrics) == len(users)
        expired = await vault.resolve_many([(u, {"email_1", "medical_health_1"}) for u in users])
        assert expired == [{"medical_health_1": f"{u} diagnosis"} for u in users]
        assert await vault.resolve("late", {"email_1"}) == {"email_1": "late@ttl.example"}
        assert (await vault.stats())["expired_unpurged"] == 0

    rows = await stored_values(vault_url)
    assert all(not rows[(u, "<Email_1>")] for u in users)  # the value is gone, the placeholder stays
    assert all(rows[(u, "<Medical_Health_1>")] for u in users)
    assert rows[("late", "<Email_1>")]


async def test_purge_in_small_batches_reaches_every_expired_row(vault_url: str) -> None:
    clock = Clock()
    async with Vault.open(vault_url, os.urandom(32), clock=clock) as vault:
        await vault.assign([
            ("u", [PlaceholderRequest(f"v{i}@ttl.example", "Email", PL2, Action.MASK) for i in range(25)], POLICY)
        ])
        clock.now += 61
        assert await vault.purge_expired(batch=7) == 25
        assert await vault.purge_expired(batch=7) == 0
