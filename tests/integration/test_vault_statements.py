"""The vault's statements: on Postgres one SQL text per statement whatever the batch size (so
SQLAlchemy compiles it and asyncpg prepares it once per connection), and no dialect branches
outside the dialect module."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine

from streamproc.core.masking import PlaceholderRequest
from streamproc.core.placeholders import canonical_key
from streamproc.core.policy import Action, Policy
from streamproc.core.taxonomy import PrivacyLevel
from streamproc.vault import Vault
from streamproc.vault.migrate import migrate

VAULT_PKG = Path(__file__).resolve().parents[2] / "streamproc" / "vault"


class Clock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


def _batch(users: int, tag: str) -> tuple[list[Any], list[tuple[str, str]]]:
    """Two values per user: one seen in every round (restamped), one new to this round."""
    items = [
        (f"u{i}", [PlaceholderRequest(f"kept{i}@example.invalid", "Email", PrivacyLevel.PL3, Action.MASK),
                   PlaceholderRequest(f"{tag}{i}@example.invalid", "Email", PrivacyLevel.PL3, Action.MASK)],
         Policy(ttl_seconds={PrivacyLevel.PL3: 3600}))
        for i in range(users)
    ]
    return items, [(f"u{i}", f"s{i}") for i in range(users)]


@pytest.mark.integration
async def test_postgres_batches_of_any_size_reuse_the_same_sql_texts(fresh_pg_url: str) -> None:
    await migrate(fresh_pg_url)
    seen: list[set[str]] = [set()]  # [0]: opening the vault

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen[-1].add(statement)

    clock = Clock()
    event.listen(Engine, "before_cursor_execute", record)
    try:
        async with Vault.open(fresh_pg_url, os.urandom(32), clock=clock) as vault:
            for round_, users in enumerate((3, 3, 17, 64, 5)):  # the first two warm every path
                seen.append(set())
                clock.now += 60
                items, pairs = _batch(users, f"r{round_}-")
                await vault.get_policies([u for u, _, _ in items])
                placeholders, pseudonyms = await vault.assign_with_pseudonyms(items, pairs)
                wanted = [{canonical_key(p) for p in mine.values()} for mine in placeholders]
                restored = await vault.reveal_and_resolve([(u, s, keys) for (u, s), keys in zip(pseudonyms, wanted)])
                assert all(r is not None and len(r[1]) == 2 for r in restored)  # the restore path too
    finally:
        event.remove(Engine, "before_cursor_execute", record)
    warm = seen[1] | seen[2]
    assert all(texts <= warm for texts in seen[3:]), "a batch size produced new SQL text"


def test_no_vault_module_but_the_engine_and_dialects_branches_on_the_backend() -> None:
    allowed = {"dialects.py", "engine.py", "tables.py"}  # tables: the UtcDateTime type's binding
    offenders = [
        path.name for path in VAULT_PKG.glob("*.py")
        if path.name not in allowed
        and any(s in path.read_text() for s in ("dialect.name", "sqlalchemy.dialects", "dialect_insert"))
    ]
    assert offenders == []


async def test_restore_reads_only_the_user_and_key_pairs_asked_for(vault_url: str) -> None:
    """Every user of the batch holds `email_1` and `email_2`; each asks for one: the read returns
    those rows only, not every user's copy of every key named in the batch."""
    from streamproc.vault.engine import transaction

    clock = Clock()
    async with Vault.open(vault_url, os.urandom(32), clock=clock) as vault:
        items, _ = _batch(4, "r-")
        await vault.assign(items)
        wanted = [(f"u{i}", f"email_{1 + i % 2}") for i in range(4)]
        async with transaction(vault._engine, write=False) as conn:  # noqa: SLF001
            rows = await vault._sql.read_restorable(conn, wanted, vault._now())  # noqa: SLF001
    assert sorted((r.user_id, r.placeholder_key) for r in rows) == sorted(wanted)
