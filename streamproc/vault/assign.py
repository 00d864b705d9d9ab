"""Placeholder assignment for a whole micro-batch in one transaction and a handful of statements.

Steps (each is one statement on Postgres; on SQLite one per chunk of keys). The statements
themselves, where the backends differ, are in dialects.py; this module is the logic only.
1. users: read wrapped DEKs; create missing users (`ON CONFLICT DO NOTHING`) and re-read, so a
   user created concurrently by another worker ends up with exactly one DEK.
2. mappings: look up every (user, keyed hash) of the batch.
3. counters: for the values nobody has seen, reserve a block of k numbers per (user, type) with
   one multi-row `INSERT ... ON CONFLICT DO UPDATE SET next_n = next_n + k RETURNING next_n`.
   Needs SQLite >= 3.35 (RETURNING); Postgres has had it since 9.5.
4. mappings: `INSERT ... ON CONFLICT (user_id, value_hash) DO NOTHING`, then re-read. If another
   worker inserted the same value first, its placeholder wins and our number is wasted: gaps are
   fine, two placeholders for one value are not.
5. reconcile each row with what this batch wants (one executemany per kind of change): a policy
   that now says redact wipes a stored ciphertext; an expired masked row gets a fresh ciphertext
   and keeps its placeholder; a redacted row never gains a ciphertext again.

Rows are always inserted and locked in (user_id, key) order so that concurrent batches take row
locks in the same order on Postgres and cannot deadlock each other.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, update
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from streamproc.core.errors import VaultError
from streamproc.core.masking import PlaceholderRequest
from streamproc.core.placeholders import canonical_key, format_placeholder
from streamproc.core.policy import Action, Policy
from streamproc.core.taxonomy import PrivacyLevel, canonical_type, type_name
from streamproc.vault.crypto import UserKeys, new_dek, unwrap_dek, wrap_dek
from streamproc.vault.dialects import Key, VaultSQL
from streamproc.vault.keyring import KeyRing
from streamproc.vault.tables import Mapping, User

Item = tuple[str, Sequence[PlaceholderRequest], Policy]

# The reconcile updates, built once (executemany over `u`, `h`). `action = 'mask'` is re-checked
# under the row lock, so a concurrent wipe is never undone.
_SAME_ROW = (Mapping.user_id == bindparam("u")) & (Mapping.value_hash == bindparam("h"))
_STILL_MASKED = Mapping.action == Action.MASK.value
_WIPE = update(Mapping).where(_SAME_ROW).values(action=Action.REDACT.value, ciphertext=None, expires_at=None)
_REFRESH = update(Mapping).where(_SAME_ROW & _STILL_MASKED).values(ciphertext=bindparam("ct"), expires_at=bindparam("exp"))
_RESTAMP = (
    update(Mapping).where(_SAME_ROW & _STILL_MASKED & Mapping.ciphertext.is_not(None)).values(expires_at=bindparam("exp"))
)


@dataclass(slots=True)
class _Want:
    """What the batch asks for one (user, value). Several turns may name the same value: the
    first sighting picks the type, the strictest action wins, the shortest TTL wins."""

    keys: UserKeys
    value: str
    privacy_type: str
    level: PrivacyLevel
    action: Action
    ttl: int | None

    def merge(self, action: Action, ttl: int | None) -> None:
        if action.strictness > self.action.strictness:
            self.action = action
        if ttl is not None:
            self.ttl = ttl if self.ttl is None else min(self.ttl, ttl)


async def user_keys(
    conn: AsyncConnection, sql: VaultSQL, keys: KeyRing, user_ids: Iterable[str], now: dt.datetime, *, create: bool
) -> dict[str, UserKeys]:
    """Unwrapped keys of these users; with `create`, users seen for the first time get a DEK,
    wrapped by the current master key and stamped with its id."""
    wanted = sorted(set(user_ids))
    wrapped = await _read_users(conn, sql, wanted)
    missing = [u for u in wanted if u not in wrapped]
    if create and missing:
        rows = [
            {"user_id": u, "wrapped_dek": wrap_dek(keys.current, u, new_dek()), "key_id": keys.current_id, "created_at": now}
            for u in missing
        ]
        await sql.insert_ignore(conn, User, ["user_id"], rows)
        wrapped.update(await _read_users(conn, sql, missing))  # a concurrent creator may have won
    # wrapped_dek and key_id come from one row read, so a concurrent rewrap (keys rotate) is
    # seen whole or not at all; either way the DEK inside is the same.
    return {u: UserKeys.from_dek(u, keys.unwrap(unwrap_dek, u, w, kid)[0]) for u, (w, kid) in wrapped.items()}


async def _read_users(conn: AsyncConnection, sql: VaultSQL, user_ids: list[str]) -> dict[str, tuple[bytes, str | None]]:
    return {row.user_id: (row.wrapped_dek, row.key_id) for row in await sql.read_users(conn, user_ids)}


async def assign_batch(
    conn: AsyncConnection, sql: VaultSQL, ring: KeyRing, items: Sequence[Item], now: dt.datetime,
    keys: dict[str, UserKeys] | None = None,
) -> list[dict[str, str]]:
    """`keys`: the batch's users' keys when the caller already holds them (same transaction)."""
    if keys is None:
        keys = await user_keys(conn, sql, ring, (user for user, _, _ in items), now, create=True)
    wants: dict[Key, _Want] = {}
    per_item: list[list[tuple[str, Key]]] = []
    for user_id, requests, policy in items:
        refs = []
        for req in requests:
            if req.action is Action.KEEP:
                raise ValueError("a kept value needs no placeholder")
            ttl = policy.ttl_for(req.privacy_level) if req.action is Action.MASK else None
            key = (user_id, keys[user_id].value_hash(req.value))
            if key in wants:
                wants[key].merge(req.action, ttl)
            else:
                wants[key] = _Want(
                    keys[user_id], req.value, req.privacy_type, req.privacy_level, req.action, ttl
                )
            refs.append((req.value, key))
        per_item.append(refs)

    rows = await _read_mappings(conn, sql, sorted(wants))
    new = [k for k in wants if k not in rows]  # order of first appearance: numbers follow it
    if new:
        await _insert_new(conn, sql, {k: wants[k] for k in new}, now)
        rows.update(await _read_mappings(conn, sql, new))
        if len(rows) != len(wants):
            raise VaultError("mapping vanished during assignment (concurrent forget?)")
    await _reconcile(conn, sql, wants, rows, now)
    return [{value: rows[key].placeholder for value, key in refs} for refs in per_item]


async def _read_mappings(conn: AsyncConnection, sql: VaultSQL, keys: list[Key]) -> dict[Key, Row[Any]]:
    return {(r.user_id, r.value_hash): r for r in await sql.read_mappings(conn, keys)}


async def _insert_new(conn: AsyncConnection, sql: VaultSQL, new: dict[Key, _Want], now: dt.datetime) -> None:
    """Reserve numbers for all new values of the batch at once, then insert their mappings."""
    names = {k: type_name(canonical_type(w.privacy_type)) for k, w in new.items()}
    blocks: dict[tuple[str, str], int] = {}
    for (user_id, _), name in names.items():
        blocks[(user_id, name.casefold())] = blocks.get((user_id, name.casefold()), 0) + 1
    next_free = await sql.reserve_numbers(conn, [(u, t, k) for (u, t), k in sorted(blocks.items())])
    # Hand out each block in key order; next_n is now one past the block's end.
    cursor = {ut: next_free[ut] - k for ut, k in blocks.items()}

    mappings = []
    for key, want in new.items():
        name = names[key]
        n = cursor[(key[0], name.casefold())]
        cursor[(key[0], name.casefold())] = n + 1
        placeholder = format_placeholder(name, n)
        pkey = canonical_key(placeholder)
        masked = want.action is Action.MASK
        mappings.append(
            {
                "user_id": key[0],
                "value_hash": key[1],
                "placeholder": placeholder,
                "placeholder_key": pkey,
                "type_key": name.casefold(),
                "privacy_type": want.privacy_type,
                "privacy_level": want.level.value,
                "action": want.action.value,
                "ciphertext": want.keys.encrypt(pkey, want.value) if masked else None,
                "created_at": now,
                "expires_at": _expiry(now, want.ttl) if masked else None,
            }
        )
    mappings.sort(key=lambda m: (m["user_id"], m["value_hash"]))  # lock order, see module doc
    await sql.insert_ignore(conn, Mapping, ["user_id", "value_hash"], mappings)


async def _reconcile(
    conn: AsyncConnection, sql: VaultSQL, wants: dict[Key, _Want], rows: dict[Key, Row[Any]], now: dt.datetime
) -> None:
    wipe: list[dict[str, Any]] = []
    refresh: list[dict[str, Any]] = []
    restamp: list[dict[str, Any]] = []
    for key in sorted(wants):
        want, row = wants[key], rows[key]
        if row.action != Action.MASK.value:
            continue  # redacted once, redacted for good: the cloud was told it is unrecoverable
        where = {"u": key[0], "h": key[1]}
        if want.action is Action.REDACT:
            wipe.append(where)
            continue
        expires = _expiry(now, want.ttl)
        expired = not row.stored or (row.expires_at is not None and row.expires_at <= now)
        if expired:
            ct = want.keys.encrypt(row.placeholder_key, want.value)
            refresh.append({**where, "ct": ct, "exp": expires})
        elif row.expires_at != expires:
            # Sliding retention under the current policy: a reply to this turn must restore.
            restamp.append({**where, "exp": expires})

    changing = sorted((p["u"], p["h"]) for p in (*wipe, *refresh, *restamp))
    if changing:
        # Three UPDATE statements would lock rows in three separate orders; lock them all first,
        # in key order, so two batches cannot deadlock.
        await sql.lock_mappings(conn, changing)
    for stmt, params in ((_WIPE, wipe), (_REFRESH, refresh), (_RESTAMP, restamp)):
        if params:
            await conn.execute(stmt, params)


def _expiry(now: dt.datetime, ttl: int | None) -> dt.datetime | None:
    return None if ttl is None else now + dt.timedelta(seconds=ttl)
