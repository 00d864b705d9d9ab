"""Reading restorable values: the one query restoration needs, shared by `resolve_many` and
the restore flow's combined `reveal_and_resolve`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from streamproc.core.policy import Action
from streamproc.vault.assign import chunks
from streamproc.vault.crypto import UserKeys
from streamproc.vault.tables import Mapping


async def read_values(
    conn: AsyncConnection, user_keys: dict[str, UserKeys], requests: Sequence[tuple[str, set[str]]], now: dt.datetime
) -> list[dict[str, str] | None]:
    """Each request's restorable values (masked, not expired), decrypted; None for a user
    without a key (unknown or forgotten)."""
    users = sorted({user_id for user_id, _ in requests if user_id in user_keys})
    wanted = sorted({key for _, keys in requests for key in keys})
    rows = []
    for key_chunk in chunks(wanted) if users else ():
        stmt = select(Mapping.user_id, Mapping.placeholder_key, Mapping.ciphertext).where(
            Mapping.user_id.in_(users),
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
