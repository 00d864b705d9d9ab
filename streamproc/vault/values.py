"""Reading restorable values: the one query restoration needs, shared by `resolve_many` and
the restore flow's combined `reveal_and_resolve`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncConnection

from streamproc.vault.crypto import UserKeys
from streamproc.vault.dialects import VaultSQL


async def read_values(
    conn: AsyncConnection, sql: VaultSQL, user_keys: dict[str, UserKeys], requests: Sequence[tuple[str, set[str]]], now: dt.datetime
) -> list[dict[str, str] | None]:
    """Each request's restorable values (masked, not expired), decrypted; None for a user
    without a key (unknown or forgotten)."""
    # Exactly the (user, key) pairs asked for: a users x keys read would fetch (and a batch of
    # many users, decrypt) every user's copy of every key anyone in the batch mentioned.
    wanted = sorted({(user_id, key) for user_id, keys in requests if user_id in user_keys for key in keys})
    rows = await sql.read_restorable(conn, wanted, now) if wanted else []
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
