"""Vault identity fencing on the real broker: one consumer group, one vault."""

from __future__ import annotations

import asyncio
import base64
import os
from pathlib import Path

import pytest
from pydantic import SecretStr

from streamproc.app import open_vault
from streamproc.kafka.fencing import VaultIdentityMismatch, bind_group_to_vault, claim_group, group_vault
from streamproc.settings import Settings
from tests.integration.streams import WorkerProcess, unique_settings


def embedded(settings: Settings, state: Path) -> Settings:
    """The same group, with its own embedded SQLite vault and key under `state`."""
    state.mkdir(parents=True, exist_ok=True)
    key = SecretStr(base64.b64encode(os.urandom(32)).decode())
    vault = settings.vault.model_copy(update={"url": f"sqlite+aiosqlite:///{state / 'vault.db'}", "master_key": key})
    return settings.model_copy(update={"state_dir": state, "vault": vault})


async def identity(settings: Settings) -> str:
    async with open_vault(settings) as vault:
        return await vault.identity()


async def test_a_vault_keeps_its_identity_and_a_second_database_has_another(tmp_path: Path, kafka_bootstrap: str) -> None:
    base = unique_settings(kafka_bootstrap, "unused", tmp_path)
    a, b = embedded(base, tmp_path / "a"), embedded(base, tmp_path / "b")
    first = await identity(a)
    assert await identity(a) == first  # stored with the vault, not made up per open
    assert await identity(b) != first


async def test_workers_sharing_one_postgres_vault_share_its_identity(tmp_path: Path, kafka_bootstrap: str, fresh_pg_url: str) -> None:
    settings = unique_settings(kafka_bootstrap, fresh_pg_url, tmp_path)
    one, two = await asyncio.gather(identity(settings), identity(settings))
    assert one == two
    assert await claim_group(settings.kafka, one) == await claim_group(settings.kafka, two) == one


async def test_a_worker_with_another_embedded_vault_refuses_to_start_even_alone(tmp_path: Path, kafka_bootstrap: str) -> None:
    base = unique_settings(kafka_bootstrap, "unused", tmp_path)
    a, b = embedded(base, tmp_path / "a"), embedded(base, tmp_path / "b")
    vault_a = await identity(a)
    await claim_group(a.kafka, vault_a)  # worker A ran once with this group, then stopped

    worker_b = WorkerProcess(b, tmp_path / "b.log").start()
    assert worker_b.proc is not None
    assert worker_b.proc.wait(timeout=300) == 1  # exits by itself, before taking a partition
    lines = [line for line in (tmp_path / "b.log").read_text().splitlines() if line.startswith("streamproc: error:")]
    assert len(lines) == 1
    assert vault_a in lines[0] and await identity(b) in lines[0] and base.kafka.group_id in lines[0]


async def test_two_vaults_claiming_a_new_group_at_once_bind_it_to_exactly_one(tmp_path: Path, kafka_bootstrap: str) -> None:
    base = unique_settings(kafka_bootstrap, "unused", tmp_path)
    ids = [f"vault-{n}" for n in range(4)]
    outcomes = await asyncio.gather(*(claim_group(base.kafka, v) for v in ids), return_exceptions=True)
    winners = [v for v, o in zip(ids, outcomes, strict=True) if o == v]
    assert len(winners) == 1
    assert all(isinstance(o, VaultIdentityMismatch) for o in outcomes if o != winners[0])
    assert await group_vault(base.kafka) == winners[0]


async def test_moving_a_group_to_a_new_vault_is_deliberate_and_fences_the_old_one(tmp_path: Path, kafka_bootstrap: str) -> None:
    base = unique_settings(kafka_bootstrap, "unused", tmp_path)
    await claim_group(base.kafka, "old-vault")
    assert await bind_group_to_vault(base.kafka, "new-vault") == "old-vault"
    assert await claim_group(base.kafka, "new-vault") == "new-vault"
    with pytest.raises(VaultIdentityMismatch):
        await claim_group(base.kafka, "old-vault")
