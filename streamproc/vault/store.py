"""The vault: placeholder <-> value mappings per user, encrypted at rest (see crypto.py).

    await migrate(url)                      # once per deploy/start; idempotent
    async with Vault.open(url, master_key) as vault:
        placeholders = await vault.assign([(user_id, requests, effective_policy), ...])
        values = await vault.resolve(user_id, {"email_1"})

Contract:
- The same value of the same user always gets the same placeholder (across turns, processes,
  restarts, replays) until `forget`; numbering is per (user, type) from 1, with possible gaps.
- `assign` commits before it returns, so the caller may then publish; replaying the batch
  returns the same placeholders.
- Every database failure surfaces as `VaultError` (retriable); a wrong master key as
  `MasterKeyError` (a VaultError subclass: fix configuration, retrying cannot help).
- No original value is ever logged, put in an exception message, or stored in clear.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager

from sqlalchemy import delete, func, select, text, update
from sqlalchemy.ext.asyncio import AsyncEngine

from streamproc.core.errors import UnknownUser
from streamproc.core.masking import PlaceholderRequest
from streamproc.core.policy import DEFAULT_POLICY, Action, Policy
from streamproc.vault import assign as _assign
from streamproc.vault import pseudonyms as _pseudonyms
from streamproc.vault import service_keys as _service_keys
from streamproc.vault.crypto import make_key_check, new_dek, verify_key_check, wrap_dek
from streamproc.vault.engine import dialect_insert, make_engine, transaction, wrap_db_errors
from streamproc.vault.tables import Counter, Mapping, Pseudonym, User, VaultMeta

log = logging.getLogger(__name__)
_KEY_CHECK = "master_key_check"
_IDENTITY = "vault_id"


class Vault:
    """Use through `Vault.open(...)`; one instance per process, safe to share between tasks."""

    def __init__(self, engine: AsyncEngine, master_key: bytes, clock: Callable[[], float]) -> None:
        self._engine = engine
        self._master_key = master_key
        self._clock = clock

    @classmethod
    @asynccontextmanager
    async def open(
        cls,
        url: str,
        master_key: bytes,
        *,
        clock: Callable[[], float] = time.time,
        pool_size: int = 5,
    ) -> AsyncIterator[Vault]:
        """Connect, verify the master key against this vault, and close the pool on exit.
        The schema must exist: run `streamproc.vault.migrate.migrate(url)` first."""
        engine = make_engine(url, pool_size=pool_size)
        try:
            vault = cls(engine, master_key, clock)
            await vault._check_master_key()
            yield vault
        finally:
            await engine.dispose()

    def _now(self) -> dt.datetime:
        return dt.datetime.fromtimestamp(self._clock(), dt.UTC)

    async def _check_master_key(self) -> None:
        """The first open stores a key check; every later open with another key fails here,
        before a single turn is processed, instead of at the first known user."""
        async with wrap_db_errors("open"), transaction(self._engine, write=True) as conn:
            insert = dialect_insert(conn)
            await conn.execute(
                insert(VaultMeta)
                .values(key=_KEY_CHECK, value=make_key_check(self._master_key))
                .on_conflict_do_nothing(index_elements=[VaultMeta.key])
            )
            stored = await conn.scalar(select(VaultMeta.value).where(VaultMeta.key == _KEY_CHECK))
        assert stored is not None
        verify_key_check(self._master_key, stored)

    async def identity(self) -> str:
        """This vault's identity: a random id created with the vault and stored in it, so every
        worker on the same database (Postgres) shares it and two embedded vaults never do."""
        async with wrap_db_errors("identity"), transaction(self._engine, write=True) as conn:
            insert = dialect_insert(conn)
            await conn.execute(
                insert(VaultMeta)
                .values(key=_IDENTITY, value=uuid.uuid4().hex.encode())
                .on_conflict_do_nothing(index_elements=[VaultMeta.key])
            )
            stored = await conn.scalar(select(VaultMeta.value).where(VaultMeta.key == _IDENTITY))
        assert stored is not None
        return bytes(stored).decode()

    async def assign(
        self, items: Sequence[tuple[str, Sequence[PlaceholderRequest], Policy]]
    ) -> list[dict[str, str]]:
        """For each (user_id, requests, effective policy) of a micro-batch, {value: placeholder}.
        One transaction for the whole batch; committed when this returns."""
        if not items:
            return []
        async with wrap_db_errors("assign"), transaction(self._engine, write=True) as conn:
            result = await _assign.assign_batch(conn, self._master_key, items, self._now())
        log.debug("vault assigned %d values for %d turns", sum(map(len, result)), len(items))
        return result

    async def resolve(self, user_id: str, keys: set[str]) -> dict[str, str]:
        """Canonical placeholder key -> original value, for this user's restorable mappings only
        (masked, not expired). Unknown keys are simply absent. Raises UnknownUser."""
        [values] = await self.resolve_many([(user_id, keys)])
        if values is None:
            raise UnknownUser()
        return values

    async def resolve_many(self, requests: Sequence[tuple[str, set[str]]]) -> list[dict[str, str] | None]:
        """`resolve` for a whole batch in one read transaction; None where the user is unknown."""
        now = self._now()
        users = sorted({user_id for user_id, _ in requests})
        wanted = sorted({key for _, keys in requests for key in keys})
        async with wrap_db_errors("resolve"), transaction(self._engine, write=False) as conn:
            user_keys = await _assign.user_keys(conn, self._master_key, users, now, create=False)
            rows = []
            for key_chunk in _assign.chunks(wanted):
                stmt = select(Mapping.user_id, Mapping.placeholder_key, Mapping.ciphertext).where(
                    Mapping.user_id.in_([u for u in users if u in user_keys]),
                    Mapping.placeholder_key.in_(key_chunk),
                    Mapping.action == Action.MASK.value,
                    Mapping.ciphertext.is_not(None),
                    (Mapping.expires_at.is_(None)) | (Mapping.expires_at > now),
                )
                rows.extend((await conn.execute(stmt)).all())
        found: dict[str, dict[str, bytes]] = {}
        for row in rows:
            found.setdefault(row.user_id, {})[row.placeholder_key] = row.ciphertext
        out: list[dict[str, str] | None] = []
        for user_id, keys in requests:
            if user_id not in user_keys:
                out.append(None)
                continue
            mine = found.get(user_id, {})
            out.append({k: user_keys[user_id].decrypt(k, mine[k]) for k in keys if k in mine})
        return out

    async def assign_with_pseudonyms(
        self, items: Sequence[tuple[str, Sequence[PlaceholderRequest], Policy]], pairs: Sequence[tuple[str, str]]
    ) -> tuple[list[dict[str, str]], list[tuple[str, str]]]:
        """`assign(items)` and `pseudonymize(pairs)` in one transaction: the mask flow's single
        vault write per micro-batch. Every user in `pairs` must also be in `items`."""
        if not items:
            return [], []
        now = self._now()
        async with wrap_db_errors("assign"), transaction(self._engine, write=True) as conn:
            keys = await _assign.user_keys(conn, self._master_key, (u for u, _, _ in items), now, create=True)
            placeholders = await _assign.assign_batch(conn, self._master_key, items, now, keys)
            pseudonyms = await _pseudonyms.pseudonymize(conn, keys, pairs)
        log.debug("vault assigned %d values and %d pseudonym pairs for %d turns", sum(map(len, placeholders)), len(pairs), len(items))
        return placeholders, pseudonyms

    async def pseudonymize(self, pairs: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
        """(user_id, session_id) -> keyed (user, session) pseudonyms for the cloud-bound topic,
        recorded so `reveal` can map them back; creates users seen for the first time. Committed
        when this returns; deterministic, so a replayed batch gets the same pseudonyms."""
        if not pairs:
            return []
        now = self._now()
        async with wrap_db_errors("pseudonymize"), transaction(self._engine, write=True) as conn:
            keys = await _assign.user_keys(conn, self._master_key, (u for u, _ in pairs), now, create=True)
            return await _pseudonyms.pseudonymize(conn, keys, pairs)

    async def reveal(self, pairs: Sequence[tuple[str, str]]) -> list[tuple[str, str] | None]:
        """(user pseudonym, session pseudonym) -> (user_id, session_id); None where unknown."""
        if not pairs:
            return []
        now = self._now()
        async with wrap_db_errors("reveal"), transaction(self._engine, write=False) as conn:
            rows = await _pseudonyms.owners(conn, pairs)
            users = {row.user_id for row in rows.values()}
            keys = await _assign.user_keys(conn, self._master_key, users, now, create=False)
        return _pseudonyms.reveal(rows, keys, pairs)

    async def service_key(self, name: str) -> bytes:
        """A vault-wide key that belongs to no user (e.g. the dead-letter key); created on first use."""
        async with wrap_db_errors("service_key"), transaction(self._engine, write=True) as conn:
            return await _service_keys.get_or_create(conn, self._master_key, name, self._now())

    async def get_policy(self, user_id: str) -> Policy:
        """The user's stored policy; DEFAULT_POLICY for unknown users and users who never set one."""
        async with wrap_db_errors("get_policy"), transaction(self._engine, write=False) as conn:
            raw = await conn.scalar(select(User.policy).where(User.user_id == user_id))
        return DEFAULT_POLICY if raw is None else Policy.from_dict(raw)

    async def get_policies(self, user_ids: Sequence[str]) -> dict[str, Policy]:
        """Stored policies of many users in one query (a micro-batch); DEFAULT_POLICY for the rest."""
        async with wrap_db_errors("get_policies"), transaction(self._engine, write=False) as conn:
            rows = (
                await conn.execute(select(User.user_id, User.policy).where(User.user_id.in_(list(user_ids))))
            ).all()
        stored = {row.user_id: Policy.from_dict(row.policy) for row in rows if row.policy is not None}
        return {user_id: stored.get(user_id, DEFAULT_POLICY) for user_id in user_ids}

    async def set_policy(self, user_id: str, policy: Policy) -> None:
        """Store a user's policy (creating the user if needed). Values already stored keep their
        state until they are seen again or expire; `forget` is the way to drop them now."""
        row = {
            "user_id": user_id,
            "wrapped_dek": wrap_dek(self._master_key, user_id, new_dek()),
            "policy": policy.to_dict(),
            "created_at": self._now(),
        }
        async with wrap_db_errors("set_policy"), transaction(self._engine, write=True) as conn:
            insert = dialect_insert(conn)
            stmt = insert(User).values(row)
            # On conflict only the policy changes: the existing DEK must survive.
            await conn.execute(
                stmt.on_conflict_do_update(
                    index_elements=[User.user_id], set_={"policy": stmt.excluded.policy}
                )
            )

    async def forget(self, user_id: str) -> bool:
        """Delete the user's data key, mappings, counters and pseudonyms (crypto-shredding: copies of old rows,
        e.g. in backups, can no longer be decrypted or matched). True if the user existed."""
        async with wrap_db_errors("forget"), transaction(self._engine, write=True) as conn:
            # Children first and explicitly, so the result does not hinge on FK enforcement.
            await conn.execute(delete(Mapping).where(Mapping.user_id == user_id))
            await conn.execute(delete(Counter).where(Counter.user_id == user_id))
            await conn.execute(delete(Pseudonym).where(Pseudonym.user_id == user_id))
            result = await conn.execute(delete(User).where(User.user_id == user_id))
        existed = bool(result.rowcount)
        log.info("vault forget: user existed=%s", existed)
        return existed

    async def purge_expired(self) -> int:
        """Drop the ciphertext of every expired mapping; placeholders stay (so numbering and
        'same value, same placeholder' survive). Returns how many values were dropped."""
        now = self._now()
        async with wrap_db_errors("purge_expired"), transaction(self._engine, write=True) as conn:
            result = await conn.execute(
                update(Mapping)
                .where(
                    Mapping.ciphertext.is_not(None),
                    Mapping.expires_at.is_not(None),
                    Mapping.expires_at <= now,
                )
                .values(ciphertext=None)
            )
        return int(result.rowcount)

    async def ping(self) -> None:
        """Readiness: raises VaultError if the database cannot answer."""
        async with wrap_db_errors("ping"), self._engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def stats(self) -> dict[str, int]:
        """Counts for metrics (no values, no user ids)."""
        now = self._now()
        stored = Mapping.ciphertext.is_not(None)
        expired = stored & Mapping.expires_at.is_not(None) & (Mapping.expires_at <= now)
        async with wrap_db_errors("stats"), transaction(self._engine, write=False) as conn:
            users = await conn.scalar(select(func.count()).select_from(User))
            row = (
                await conn.execute(
                    select(
                        func.count(),
                        func.count().filter(stored),
                        func.count().filter(Mapping.action == Action.REDACT.value),
                        func.count().filter(expired),
                    ).select_from(Mapping)
                )
            ).one()
        return {
            "users": int(users or 0),
            "mappings": int(row[0]),
            "stored_values": int(row[1]),
            "redacted": int(row[2]),
            "expired_unpurged": int(row[3]),
        }
