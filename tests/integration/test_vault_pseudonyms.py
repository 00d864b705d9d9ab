"""Pseudonyms and service keys in the vault, on both backends (SQLite file and real Postgres)."""

from __future__ import annotations

import os
import re

import pytest
from sqlalchemy import func, select, update

from streamproc.core.errors import VaultError
from streamproc.core.placeholders import canonical_key
from streamproc.core.policy import DEFAULT_POLICY
from streamproc.vault import MasterKeyError, Vault
from streamproc.vault.tables import Pseudonym

from .test_vault_store import req, table_rows

ANN = ("ann@example.org", "sess-ann@example.org-1")
BOB = ("+44 20 7946 0001", "sess-bob-1")


async def test_pseudonyms_are_stable_per_user_opaque_and_map_back(vault_url: str) -> None:
    key = os.urandom(32)
    async with Vault.open(vault_url, key) as vault:
        (ann_u, ann_s), (bob_u, bob_s), (ann_u2, ann_s2) = await vault.pseudonymize([ANN, BOB, (ANN[0], "other")])
    async with Vault.open(vault_url, key) as restarted:
        assert await restarted.pseudonymize([ANN]) == [(ann_u, ann_s)]  # stable across processes
        assert await restarted.reveal([(ann_u, ann_s), (bob_u, bob_s), (ann_u2, ann_s2)]) == [ANN, BOB, (ANN[0], "other")]
    assert ann_u == ann_u2 and ann_s != ann_s2 and ann_u != bob_u
    for pseudonym in (ann_u, ann_s, bob_u, bob_s):
        assert re.fullmatch(r"[us]-[0-9a-f]{32}", pseudonym)
        assert "ann" not in pseudonym and "bob" not in pseudonym


async def test_reveal_refuses_unknown_crossed_and_forgotten_pseudonyms(vault_url: str) -> None:
    async with Vault.open(vault_url, os.urandom(32)) as vault:
        (ann_u, ann_s), (bob_u, bob_s) = await vault.pseudonymize([ANN, BOB])
        assert await vault.reveal([("u-nobody", ann_s), (ann_u, "s-nothing"), (ann_u, bob_s), (ann_s, ann_u)]) == [None] * 4
        assert await vault.forget(ANN[0]) is True
        assert await table_rows(vault_url, select(func.count()).select_from(Pseudonym).where(Pseudonym.user_id == ANN[0])) == [(0,)]
        assert await vault.reveal([(ann_u, ann_s), (bob_u, bob_s)]) == [None, BOB]
        # The same user_id coming back gets a new data key, hence pseudonyms the cloud cannot link.
        [(new_u, new_s)] = await vault.pseudonymize([ANN])
        assert new_u != ann_u and new_s != ann_s
        assert await vault.reveal([(new_u, new_s)]) == [ANN]


async def test_a_pseudonym_row_pointed_at_another_user_is_detected(vault_url: str) -> None:
    async with Vault.open(vault_url, os.urandom(32)) as vault:
        (ann_u, ann_s), _ = await vault.pseudonymize([ANN, BOB])
        from sqlalchemy.ext.asyncio import create_async_engine

        engine = create_async_engine(vault_url)
        async with engine.begin() as conn:
            await conn.execute(update(Pseudonym).where(Pseudonym.user_id == ANN[0]).values(user_id=BOB[0]))
        await engine.dispose()
        with pytest.raises(VaultError):
            await vault.reveal([(ann_u, ann_s)])


async def test_service_key_is_created_once_and_needs_the_master_key(vault_url: str) -> None:
    key = os.urandom(32)
    async with Vault.open(vault_url, key) as a, Vault.open(vault_url, key) as b:
        first = await a.service_key("dead-letter")
        assert await b.service_key("dead-letter") == first and len(first) == 32
        assert await a.service_key("other") != first
    async with Vault.open(vault_url, key) as vault:
        assert await vault.service_key("dead-letter") == first
        # The wrapped row is bound to its name: copied under another name it does not open.
        from streamproc.vault.service_keys import unwrap_service_key
        from streamproc.vault.tables import ServiceKey

        [(wrapped,)] = await table_rows(vault_url, select(ServiceKey.wrapped_key).where(ServiceKey.name == "dead-letter"))
        assert first not in bytes(wrapped)  # type: ignore[arg-type]
        with pytest.raises(MasterKeyError):
            unwrap_service_key(key, "other", bytes(wrapped))  # type: ignore[arg-type]
        with pytest.raises(MasterKeyError):
            unwrap_service_key(os.urandom(32), "dead-letter", bytes(wrapped))  # type: ignore[arg-type]


async def test_reveal_and_resolve_is_reveal_then_resolve_in_one_read(vault_url: str) -> None:
    """The restore flow's one vault read per batch answers exactly as its two parts would."""
    async with Vault.open(vault_url, os.urandom(32)) as vault:
        [ann_map, bob_map], [(ann_u, ann_s), (bob_u, bob_s)] = await vault.assign_with_pseudonyms(
            [(ANN[0], [req("ann@example.org")], DEFAULT_POLICY), (BOB[0], [req("+44 20 7946 0001", "Phone_Number")], DEFAULT_POLICY)],
            [ANN, BOB],
        )
        ann_key, bob_key = canonical_key(ann_map["ann@example.org"]), canonical_key(bob_map["+44 20 7946 0001"])
        requests = [
            (ann_u, ann_s, {ann_key, "email_99"}),  # one known key, one never minted
            (bob_u, bob_s, {bob_key}),
            (ann_u, bob_s, {ann_key}),  # crossed pseudonyms
            ("u-nobody", ann_s, {ann_key}),
            (bob_u, bob_s, set()),
        ]
        combined = await vault.reveal_and_resolve(requests)
        real = await vault.reveal([(u, s) for u, s, _ in requests])
        values = await vault.resolve_many([(ids[0], keys) for ids, (_, _, keys) in zip(real, requests) if ids is not None])
        assert combined == [
            (ANN, {ann_key: "ann@example.org"}),
            (BOB, {bob_key: "+44 20 7946 0001"}),
            None,
            None,
            (BOB, {}),
        ]
        assert [c[1] for c in combined if c is not None] == values
        assert await vault.forget(ANN[0]) is True
        assert await vault.reveal_and_resolve(requests[:2]) == [None, (BOB, {bob_key: "+44 20 7946 0001"})]
        assert await vault.reveal_and_resolve([]) == []
