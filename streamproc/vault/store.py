"""The vault: placeholder <-> value mappings per user, encrypted at rest (see crypto.py).

    await migrate(url)                      # once per deploy/start; idempotent
    async with Vault.open(url, KeyRing(current, previous)) as vault:   # or one raw key
        placeholders = await vault.assign([(user_id, requests, effective_policy), ...])
        values = await vault.resolve(user_id, {"email_1"})

Contract:
- The same value of the same user always gets the same placeholder (across turns, processes,
  restarts, replays) until `forget`; numbering is per (user, type) from 1, with possible gaps.
- `assign` commits before it returns, so the caller may then publish; replaying the batch
  returns the same placeholders.
- Every database failure surfaces as `VaultError` (retriable); a wrong master key as
  `MasterKeyError` (a VaultError subclass: fix configuration, retrying cannot help).
- New data keys are wrapped by the ring's current master key; rows under a previous key stay
  readable until `rotate_keys` (rotation.py) has rewrapped them.
- No original value is ever logged, put in an exception message, or stored in clear.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import delete, func, select, text, tuple_, update
from sqlalchemy.ext.asyncio import AsyncEngine

from streamproc.core.errors import UnknownUser
from streamproc.core.masking import PlaceholderRequest
from streamproc.core.policy import DEFAULT_POLICY, STRICTEST_POLICY, Action, Policy
from streamproc.vault import assign as _assign
from streamproc.vault import pseudonyms as _pseudonyms
from streamproc.vault import rotation
from streamproc.vault import service_keys as _service_keys
from streamproc.vault.crypto import MasterKeyError, make_key_check, new_dek, verify_key_check, wrap_dek
from streamproc.vault.engine import dialect_insert, make_engine, transaction, wrap_db_errors
from streamproc.vault.keyring import KeyRing
from streamproc.vault.tables import Counter, Mapping, Pseudonym, User, VaultMeta
from streamproc.vault.values import read_values

log = logging.getLogger(__name__)
_KEY_CHECK = rotation.KEY_CHECK
_PURGE_BATCH = 1_000
_IDENTITY = "vault_id"


class Vault:
    """Use through `Vault.open(...)`; one instance per process, safe to share between tasks."""

    def __init__(
        self, engine: AsyncEngine, keys: KeyRing, clock: Callable[[], float], on_unreadable_policy: Callable[[], object] | None = None
    ) -> None:
        self._engine = engine
        self._keys = keys
        self._clock = clock
        self._on_unreadable_policy = on_unreadable_policy

    @classmethod
    @asynccontextmanager
    async def open(
        cls,
        url: str,
        master_key: bytes | KeyRing,
        *,
        clock: Callable[[], float] = time.time,
        pool_size: int = 5,
        connect_args: dict[str, Any] | None = None,
        on_unreadable_policy: Callable[[], object] | None = None,
    ) -> AsyncIterator[Vault]:
        """Connect, verify the master key against this vault, and close the pool on exit.
        The schema must exist: run `streamproc.vault.migrate.migrate(url)` first.
        `connect_args` go to the driver (TLS for asyncpg: see connect.py)."""
        engine = make_engine(url, pool_size=pool_size, connect_args=connect_args)
        try:
            vault = cls(engine, KeyRing.of(master_key), clock, on_unreadable_policy)
            await vault._check_master_key()
            yield vault
        finally:
            await engine.dispose()

    def _now(self) -> dt.datetime:
        return dt.datetime.fromtimestamp(self._clock(), dt.UTC)

    async def _check_master_key(self) -> None:
        """The first open stores a key check; every later open whose keys (current or previous)
        all differ from it fails here, before a single turn is processed, instead of at the first
        known user. `rotate_keys` moves the check to the current key."""
        async with wrap_db_errors("open"), transaction(self._engine, write=True) as conn:
            insert = dialect_insert(conn)
            await conn.execute(
                insert(VaultMeta)
                .values(key=_KEY_CHECK, value=make_key_check(self._keys.current))
                .on_conflict_do_nothing(index_elements=[VaultMeta.key])
            )
            stored = await conn.scalar(select(VaultMeta.value).where(VaultMeta.key == _KEY_CHECK))
        assert stored is not None
        for position, key in enumerate(self._keys.all()):
            try:
                verify_key_check(key, stored)
            except MasterKeyError:
                continue
            if position:
                log.info("vault opened with a previous master key's check: run `streamproc keys rotate`")
            return
        raise MasterKeyError(
            "no configured master key (current or previous) matches this vault's key check "
            "(wrong key, or a key that a rotation has already retired)"
        )

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
            result = await _assign.assign_batch(conn, self._keys, items, self._now())
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
        async with wrap_db_errors("resolve"), transaction(self._engine, write=False) as conn:
            user_keys = await _assign.user_keys(conn, self._keys, {u for u, _ in requests}, now, create=False)
            return await read_values(conn, user_keys, requests, now)

    async def reveal_and_resolve(
        self, requests: Sequence[tuple[str, str, set[str]]]
    ) -> list[tuple[tuple[str, str], dict[str, str]] | None]:
        """The restore flow's single vault read per batch: (user pseudonym, session pseudonym,
        placeholder keys) -> ((user_id, session_id), key -> value), or None where the vault does
        not know the pseudonyms. `reveal` then `resolve_many`, in one transaction and with each
        user's key unwrapped once."""
        if not requests:
            return []
        now = self._now()
        pairs = [(up, sp) for up, sp, _ in requests]
        async with wrap_db_errors("restore"), transaction(self._engine, write=False) as conn:
            rows = await _pseudonyms.owners(conn, pairs)
            keys = await _assign.user_keys(conn, self._keys, {row.user_id for row in rows.values()}, now, create=False)
            real = _pseudonyms.reveal(rows, keys, pairs)
            known = [(ids[0], wanted) for ids, (_, _, wanted) in zip(real, requests, strict=True) if ids is not None]
            values = iter(await read_values(conn, keys, known, now))
        out: list[tuple[tuple[str, str], dict[str, str]] | None] = []
        for ids in real:
            found = None if ids is None else next(values)
            out.append(None if ids is None or found is None else (ids, found))
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
            keys = await _assign.user_keys(conn, self._keys, (u for u, _, _ in items), now, create=True)
            placeholders = await _assign.assign_batch(conn, self._keys, items, now, keys)
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
            keys = await _assign.user_keys(conn, self._keys, (u for u, _ in pairs), now, create=True)
            return await _pseudonyms.pseudonymize(conn, keys, pairs)

    async def reveal(self, pairs: Sequence[tuple[str, str]]) -> list[tuple[str, str] | None]:
        """(user pseudonym, session pseudonym) -> (user_id, session_id); None where unknown."""
        if not pairs:
            return []
        now = self._now()
        async with wrap_db_errors("reveal"), transaction(self._engine, write=False) as conn:
            rows = await _pseudonyms.owners(conn, pairs)
            users = {row.user_id for row in rows.values()}
            keys = await _assign.user_keys(conn, self._keys, users, now, create=False)
        return _pseudonyms.reveal(rows, keys, pairs)

    async def service_key(self, name: str) -> bytes:
        """A vault-wide key that belongs to no user (e.g. the dead-letter key); created on first use."""
        async with wrap_db_errors("service_key"), transaction(self._engine, write=True) as conn:
            return await _service_keys.get_or_create(conn, self._keys, name, self._now())

    async def get_policy(self, user_id: str) -> Policy:
        """The user's stored policy; DEFAULT_POLICY for unknown users and users who never set one."""
        async with wrap_db_errors("get_policy"), transaction(self._engine, write=False) as conn:
            raw = await conn.scalar(select(User.policy).where(User.user_id == user_id))
        return DEFAULT_POLICY if raw is None else self._read_policy(raw)

    async def get_policies(self, user_ids: Sequence[str]) -> dict[str, Policy]:
        """Stored policies of many users in one query (a micro-batch); DEFAULT_POLICY for the rest."""
        async with wrap_db_errors("get_policies"), transaction(self._engine, write=False) as conn:
            rows = (
                await conn.execute(select(User.user_id, User.policy).where(User.user_id.in_(list(user_ids))))
            ).all()
        stored = {row.user_id: self._read_policy(row.policy) for row in rows if row.policy is not None}
        return {user_id: stored.get(user_id, DEFAULT_POLICY) for user_id in user_ids}

    def _read_policy(self, raw: object) -> Policy:
        """A stored policy that cannot be read (edited by hand, written by an older version with
        other bounds) is applied as the strictest one: fail closed, never crash the batch. The
        log line names the problem's class only; `policy set` for the user repairs it."""
        try:
            if not isinstance(raw, dict):
                raise ValueError("stored policy is not an object")
            return Policy.from_dict(raw)
        except (ValueError, TypeError, KeyError, AttributeError, OverflowError) as err:
            log.warning("a stored policy could not be read (%s); applying redact-all for its user", type(err).__name__)
            if self._on_unreadable_policy is not None:
                self._on_unreadable_policy()
            return STRICTEST_POLICY

    async def set_policy(self, user_id: str, policy: Policy) -> None:
        """Store a user's policy (creating the user if needed). Values already stored keep their
        state until they are seen again or expire; `forget` is the way to drop them now."""
        row = {
            "user_id": user_id,
            "wrapped_dek": wrap_dek(self._keys.current, user_id, new_dek()),
            "key_id": self._keys.current_id,
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
        """Delete the user's data key, mappings, counters and pseudonyms (crypto-shredding: stray
        copies of the rows can no longer be decrypted or matched). A backup from before this call
        still holds the wrapped key; it is out of reach only once its master key is rotated away
        and destroyed. True if the user existed."""
        async with wrap_db_errors("forget"), transaction(self._engine, write=True) as conn:
            # Children first and explicitly, so the result does not hinge on FK enforcement.
            await conn.execute(delete(Mapping).where(Mapping.user_id == user_id))
            await conn.execute(delete(Counter).where(Counter.user_id == user_id))
            await conn.execute(delete(Pseudonym).where(Pseudonym.user_id == user_id))
            result = await conn.execute(delete(User).where(User.user_id == user_id))
        existed = bool(result.rowcount)
        log.info("vault forget: user existed=%s", existed)
        return existed

    async def purge_expired(self, batch: int = _PURGE_BATCH) -> int:
        """Drop the ciphertext of every expired mapping; placeholders stay (so numbering and
        'same value, same placeholder' survive). Returns how many values were dropped.

        Small transactions of `batch` rows, locked in key order with SKIP LOCKED (Postgres): a row
        a mask batch holds is left for the next run instead of risking a deadlock with it, and
        a long purge never holds SQLite's write lock for long."""
        total = 0
        while True:
            now = self._now()
            expired = (
                Mapping.ciphertext.is_not(None) & Mapping.expires_at.is_not(None) & (Mapping.expires_at <= now)
            )
            async with wrap_db_errors("purge_expired"), transaction(self._engine, write=True) as conn:
                keys = (
                    await conn.execute(
                        select(Mapping.user_id, Mapping.value_hash)
                        .where(expired)
                        .order_by(Mapping.user_id, Mapping.value_hash)
                        .limit(batch)
                        .with_for_update(skip_locked=True)
                    )
                ).all()
                if keys:
                    # `expired` again: re-checked under the lock, so a value refreshed since stays.
                    result = await conn.execute(
                        update(Mapping)
                        .where(tuple_(Mapping.user_id, Mapping.value_hash).in_([tuple(k) for k in keys]), expired)
                        .values(ciphertext=None)
                    )
                    total += int(result.rowcount)
            if len(keys) < batch:
                return total

    async def key_status(self) -> rotation.KeyStatus:
        """How many wrapped keys sit under which master key id (fingerprints, never keys)."""
        async with wrap_db_errors("key status"), transaction(self._engine, write=False) as conn:
            return await rotation.key_status(conn, self._keys)

    async def rotate_keys(
        self, *, batch: int = rotation.DEFAULT_BATCH, pause_s: float = 0.0,
        on_progress: Callable[[rotation.RotationReport], None] | None = None,
    ) -> rotation.RotationReport:
        """Rewrap every data key under the current master key (see rotation.py)."""
        return await rotation.rotate(self._engine, self._keys, batch=batch, pause_s=pause_s, on_progress=on_progress)

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

