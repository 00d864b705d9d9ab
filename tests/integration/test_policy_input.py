"""A stored policy that cannot be read is applied as the strictest, with a metric: never a crash."""

from __future__ import annotations

import logging
from datetime import datetime, timezone

import pytest
from sqlalchemy import update

from streamproc.core.policy import STRICTEST_POLICY, Policy
from streamproc.core.taxonomy import PrivacyLevel
from streamproc.core.spans import Detection
from streamproc.masker import mask_turns
from streamproc.ops.metrics import Metrics
import os
from streamproc.vault.engine import transaction
from streamproc.vault.store import Vault
from streamproc.vault.tables import User
from streamproc.wire import ExtractorInfo, RawTurn

SECRET = "ann.lee@example.org"


def _turn(user: str) -> RawTurn:
    return RawTurn(turn_id=f"t-{user}", user_id=user, session_id="s", role="user", content=f"mail {SECRET}", ts=datetime.now(timezone.utc))


@pytest.mark.parametrize("stored", [{"ttl_seconds": {"PL2": -5}}, {"actions": {"PL2": "shred"}}, "not an object", {"ttl_seconds": {"PL2": 999_999_999_999}}])
async def test_an_unreadable_stored_policy_redacts_that_user_and_the_others_are_unaffected(
    vault_url: str, stored: object, caplog: pytest.LogCaptureFixture
) -> None:
    metrics = Metrics()
    async with Vault.open(vault_url, os.urandom(32), on_unreadable_policy=metrics.bad_policies.inc) as vault:
        await vault.set_policy("poisoned", Policy())
        async with transaction(vault._engine, write=True) as conn:  # as a hand edit or an old version would
            await conn.execute(update(User).where(User.user_id == "poisoned").values(policy=stored))
        with caplog.at_level(logging.WARNING):
            policies = await vault.get_policies(["poisoned", "fine"])
            assert policies == {"poisoned": STRICTEST_POLICY, "fine": Policy()}
            turns = [_turn("poisoned"), _turn("fine")]
            found = [[Detection(SECRET, "Email", PrivacyLevel.PL2, "test", 1.0)]] * 2
            masked = await mask_turns(vault, turns, found, ExtractorInfo(name="t", version="0"), degraded=False)
        assert all(SECRET not in m.content for m in masked)
        assert masked[0].content == "mail <Email_1>" and masked[1].content == "mail <Email_1>"
        assert await vault.resolve("poisoned", {"email_1"}) == {}  # redacted: nothing stored
        assert await vault.resolve("fine", {"email_1"}) == {"email_1": SECRET}
        assert metrics.bad_policies._value.get() >= 1
        assert "could not be read" in caplog.text and "shred" not in caplog.text and "999999" not in caplog.text
