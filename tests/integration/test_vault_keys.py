"""Master key lifecycle on both backends (SQLite file and real Postgres) via `vault_url`:
key ids, `keys status`, and `keys rotate` killed with SIGKILL mid-way, resumed, under live traffic."""

from __future__ import annotations

import asyncio
import base64
import io
import os
import signal
import sys
from asyncio.subprocess import PIPE
from pathlib import Path

import pytest
from pydantic import SecretStr
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import create_async_engine

from streamproc.commands import keys as keys_cmd
from streamproc.core.masking import PlaceholderRequest
from streamproc.core.policy import DEFAULT_POLICY
from streamproc.core.taxonomy import PrivacyLevel
from streamproc.settings import Settings
from streamproc.vault import MasterKeyError, Vault
from streamproc.vault.keyring import KeyRing, key_id
from streamproc.vault.tables import User

USERS = 200
ROOT = Path(__file__).resolve().parents[2]


def email(user: str) -> str:
    return f"{user}@rotation.example"


def req(value: str) -> PlaceholderRequest:
    return PlaceholderRequest(value, "Email", PrivacyLevel.PL2, DEFAULT_POLICY.action_for(PrivacyLevel.PL2))


async def seed(url: str, keys: KeyRing | bytes, users: list[str]) -> None:
    async with Vault.open(url, keys) as vault:
        await vault.assign([(u, [req(email(u))], DEFAULT_POLICY) for u in users])


async def key_ids(url: str) -> dict[str, str | None]:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            return {row.user_id: row.key_id for row in await conn.execute(select(User.user_id, User.key_id))}
    finally:
        await engine.dispose()


async def assert_all_restore(url: str, keys: KeyRing, users: list[str]) -> None:
    async with Vault.open(url, keys) as vault:
        got = await vault.resolve_many([(u, {"email_1"}) for u in users])
    assert got == [{"email_1": email(u)} for u in users]


def cli_env(tmp: Path, url: str, current: bytes, previous: bytes | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("STREAMPROC_")}
    env |= {
        "STREAMPROC_STATE_DIR": str(tmp / "state"),
        "STREAMPROC_VAULT__URL": url,
        "STREAMPROC_VAULT__MASTER_KEY": base64.b64encode(current).decode(),
        "PYTHONPATH": str(ROOT),
    }
    if previous is not None:
        env["STREAMPROC_VAULT__PREVIOUS_MASTER_KEYS"] = base64.b64encode(previous).decode()
    return env


async def keys_cli(env: dict[str, str], *args: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "streamproc.cli", "keys", *args, env=env, stdout=PIPE, stderr=PIPE
    )


async def live_traffic(url: str, ring: KeyRing, old_users: list[str], stop: asyncio.Event) -> int:
    """A worker with the rotation config: new users under the new key, reads of old users."""
    rounds = 0
    async with Vault.open(url, ring) as vault:
        while not stop.is_set():
            fresh = [f"live-{rounds}-{i}" for i in range(3)]
            await vault.assign([(u, [req(email(u))], DEFAULT_POLICY) for u in fresh])
            sample = old_users[(rounds * 7) % len(old_users) :][:20]
            got = await vault.resolve_many([(u, {"email_1"}) for u in sample + fresh])
            assert got == [{"email_1": email(u)} for u in sample + fresh]
            rounds += 1
            await asyncio.sleep(0)  # let the rotate's pipe reader run between rounds
    return rounds


async def test_rotation_killed_mid_way_resumes_and_every_mapping_still_decrypts(
    vault_url: str, tmp_path: Path
) -> None:
    old, new = os.urandom(32), os.urandom(32)
    users = [f"user-{i:04d}" for i in range(USERS)]
    await seed(vault_url, old, users)
    # Rows from before revision 0002 carry no key id: rotation must find their key by trial.
    engine = create_async_engine(vault_url)
    async with engine.begin() as conn:
        await conn.execute(update(User).where(User.user_id.in_(users[:25])).values(key_id=None))
    await engine.dispose()
    ring = KeyRing(new, (old,))
    env = cli_env(tmp_path, vault_url, new, old)

    stop = asyncio.Event()
    traffic = asyncio.create_task(live_traffic(vault_url, ring, users, stop))
    try:
        proc = await keys_cli(env, "rotate", "--batch-size", "10", "--pause-s", "0.05")
        assert proc.stdout is not None
        line = await asyncio.wait_for(proc.stdout.readline(), timeout=120)
        assert line.startswith(b"rewrapped "), line
        proc.send_signal(signal.SIGKILL)  # after at least one committed page, long before the last
        await proc.wait()
        assert proc.returncode == -signal.SIGKILL

        mid = await key_ids(vault_url)
        moved = sum(1 for u in users if mid[u] == key_id(new))
        assert 0 < moved < USERS, f"kill landed outside the rotation ({moved}/{USERS} moved)"
        assert {mid[u] for u in users} <= {key_id(new), key_id(old), None}

        proc = await keys_cli(env, "rotate", "--batch-size", "50")
        out, err = await asyncio.wait_for(proc.communicate(), timeout=180)
        assert proc.returncode == 0, (out + err).decode(errors="replace")[-2000:]
        assert b"done: rewrapped" in out
    finally:
        stop.set()
        rounds = await traffic
    assert rounds > 0

    after = await key_ids(vault_url)
    assert set(after.values()) == {key_id(new)}, "a wrapped key is not under the new master key"
    # The old key can now be retired: the new key alone opens the vault and every mapping.
    await assert_all_restore(vault_url, KeyRing(new), users + [u for u in after if u.startswith("live-")])
    with pytest.raises(MasterKeyError):
        async with Vault.open(vault_url, KeyRing(old)):
            pass

    # `keys status` in-process (one CLI start less): the operator's view after the rotation.
    settings = Settings(state_dir=tmp_path / "state")
    settings = settings.model_copy(update={"vault": settings.vault.model_copy(
        update={"url": vault_url, "master_key": SecretStr(base64.b64encode(new).decode())}
    )})
    out = io.StringIO()
    assert await keys_cmd.status(settings, out, as_json=False) == 0
    text = out.getvalue()
    assert f"users: {len(after)} under {key_id(new)} (current)" in text
    assert "every wrapped key is under the current master key" in text
    for secret in (old, new):
        assert base64.b64encode(secret).decode() not in text


async def test_status_counts_keys_per_master_key_id_and_rotation_is_idempotent(vault_url: str) -> None:
    old, new = os.urandom(32), os.urandom(32)
    await seed(vault_url, old, ["a", "b", "c"])
    async with Vault.open(vault_url, old) as vault:
        sealing_key = await vault.service_key("dead-letter")  # a vault-wide key joins rotation too
    ring = KeyRing(new, (old,))
    await seed(vault_url, ring, ["d"])  # a worker already on the new config
    async with Vault.open(vault_url, ring) as vault:
        before = await vault.key_status()
        assert before.counts == {"users": {key_id(old): 3, key_id(new): 1}, "service_keys": {key_id(old): 1}}
        assert before.not_current == 4 and before.in_use(key_id(old)) == 4
        first = await vault.rotate_keys(batch=2)
        second = await vault.rotate_keys(batch=2)
        after = await vault.key_status()
    assert first.rewrapped == {"users": 3, "service_keys": 1} and not first.failed
    assert second.rewrapped == {"users": 0, "service_keys": 0}
    assert after.counts == {"users": {key_id(new): 4}, "service_keys": {key_id(new): 1}} and after.not_current == 0
    await assert_all_restore(vault_url, KeyRing(new), ["a", "b", "c", "d"])
    async with Vault.open(vault_url, KeyRing(new)) as vault:
        assert await vault.service_key("dead-letter") == sealing_key  # same key, new envelope


async def test_vault_opens_only_with_a_key_that_created_it(vault_url: str) -> None:
    old, new, stranger = os.urandom(32), os.urandom(32), os.urandom(32)
    await seed(vault_url, old, ["a"])
    with pytest.raises(MasterKeyError):
        async with Vault.open(vault_url, KeyRing(stranger)):
            pass
    with pytest.raises(MasterKeyError):  # the old key dropped before rotating
        async with Vault.open(vault_url, KeyRing(new)):
            pass
    async with Vault.open(vault_url, KeyRing(new, (old,))) as vault:
        assert await vault.resolve("a", {"email_1"}) == {"email_1": email("a")}
        await vault.rotate_keys()
    with pytest.raises(MasterKeyError):  # an old-config worker must not start after a rotation
        async with Vault.open(vault_url, KeyRing(old)):
            pass
    async with Vault.open(vault_url, KeyRing(new)) as vault:
        assert await vault.resolve("a", {"email_1"}) == {"email_1": email("a")}


async def test_rotation_reports_keys_no_configured_master_key_opens(vault_url: str) -> None:
    old, new, stranger = os.urandom(32), os.urandom(32), os.urandom(32)
    await seed(vault_url, old, ["a", "b"])
    engine = create_async_engine(vault_url)
    async with engine.begin() as conn:  # b's envelope names a master key nobody configured
        await conn.execute(update(User).where(User.user_id == "b").values(key_id=key_id(stranger)))
    await engine.dispose()
    async with Vault.open(vault_url, KeyRing(new, (old,))) as vault:
        report = await vault.rotate_keys()
        status = await vault.key_status()
        with pytest.raises(MasterKeyError, match="not configured"):
            await vault.resolve("b", {"email_1"})
    assert report.rewrapped["users"] == 1 and report.failed == {"users": 1}
    assert status.counts["users"] == {key_id(new): 1, key_id(stranger): 1} and status.not_current == 1


async def test_a_vault_from_before_key_ids_upgrades_and_rotates(vault_db_url: str) -> None:
    """Rows written at revision 0001 (no key_id column) upgrade to NULL ids: still readable,
    counted as unrecorded, and given the current id by a rotation."""
    import datetime as dt

    from alembic import command
    from sqlalchemy.engine import Connection

    from streamproc.core.placeholders import canonical_key
    from streamproc.vault.crypto import UserKeys, new_dek, wrap_dek
    from streamproc.vault.migrate import alembic_config, migrate
    from streamproc.vault.tables import Mapping

    def upgrade_to_0001(conn: Connection) -> None:
        cfg = alembic_config(vault_db_url)
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0001")

    old, new = os.urandom(32), os.urandom(32)
    now = dt.datetime.now(dt.UTC)
    engine = create_async_engine(vault_db_url)
    async with engine.begin() as conn:
        await conn.run_sync(upgrade_to_0001)
        for user in ("a", "b"):  # what 0001-era code wrote: no key_id column at all
            dek = new_dek()
            keys = UserKeys.from_dek(user, dek)
            await conn.execute(User.__table__.insert().values(user_id=user, wrapped_dek=wrap_dek(old, user, dek), created_at=now))
            await conn.execute(Mapping.__table__.insert().values(
                user_id=user, value_hash=keys.value_hash(email(user)), placeholder="<Email_1>",
                placeholder_key=canonical_key("<Email_1>"), type_key="email", privacy_type="Email",
                privacy_level="PL2", action="mask", ciphertext=keys.encrypt(canonical_key("<Email_1>"), email(user)),
                created_at=now, expires_at=None,
            ))
    await engine.dispose()
    await migrate(vault_db_url)
    async with Vault.open(vault_db_url, KeyRing(new, (old,))) as vault:
        assert (await vault.key_status()).counts["users"] == {None: 2}
        assert await vault.resolve("a", {"email_1"}) == {"email_1": email("a")}
        assert (await vault.rotate_keys()).rewrapped["users"] == 2
    await assert_all_restore(vault_db_url, KeyRing(new), ["a", "b"])
