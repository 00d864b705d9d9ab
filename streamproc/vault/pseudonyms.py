"""Keyed pseudonyms of user and session ids for the cloud-bound topic, and the way back.

    user's data key ──HKDF──► pseudonym key
      user pseudonym    = "u-" + hex(HMAC-SHA256(pseudonym key, ("user", user_id)))[:32]
      session pseudonym = "s-" + hex(HMAC-SHA256(pseudonym key, ("session", user_id, session_id)))[:32]

128 bits each. Stable for a user (across turns, restarts, replays and master-key rotations,
which rewrap but never change a data key), so the cloud's memory can still group by user, and
unlinkable to the real id without the vault. After `forget` the user's data key is gone: if the
same user_id comes back it gets a new data key and therefore new pseudonyms, and the cloud
cannot link the new turns to what it remembers of the old ones.

The way back is the `pseudonyms` table (an HMAC cannot be inverted): user pseudonym -> user_id;
session pseudonym -> user_id and the session id sealed under the user's data key.
"""

from __future__ import annotations

import hmac
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy.ext.asyncio import AsyncConnection

from streamproc.core.errors import VaultError
from streamproc.vault.crypto import KEY_BYTES, UserKeys, _frame
from streamproc.vault.dialects import VaultSQL
from streamproc.vault.tables import Pseudonym

_INFO = b"streamproc/vault/pseudonym/v1"
_CHARS = 32  # hex characters: 128 bits


@dataclass(frozen=True, slots=True)
class Pseudonymizer:
    """One user's pseudonym function; derived from their data key for the length of a call."""

    keys: UserKeys
    key: bytes

    @classmethod
    def of(cls, keys: UserKeys) -> Pseudonymizer:
        hkdf = HKDF(algorithm=hashes.SHA256(), length=KEY_BYTES, salt=None, info=_INFO)
        return cls(keys, hkdf.derive(keys.dek))

    def _mac(self, prefix: str, *parts: str) -> str:
        return prefix + hmac.digest(self.key, _frame(*parts), "sha256").hex()[:_CHARS]

    def user(self) -> str:
        return self._mac("u-", "user", self.keys.user_id)

    def session(self, session_id: str) -> str:
        return self._mac("s-", "session", self.keys.user_id, session_id)

    def seal_session(self, pseudonym: str, session_id: str) -> bytes:
        # The AAD names the pseudonym: a sealed id copied into another row fails to open.
        return self.keys.encrypt("session:" + pseudonym, session_id)

    def open_session(self, pseudonym: str, sealed: bytes) -> str:
        return self.keys.decrypt("session:" + pseudonym, sealed)


async def pseudonymize(
    conn: AsyncConnection, sql: VaultSQL, keys: dict[str, UserKeys], pairs: Sequence[tuple[str, str]]
) -> list[tuple[str, str]]:
    """(user_id, session_id) -> (user pseudonym, session pseudonym), recording the new ones."""
    makers = {u: Pseudonymizer.of(k) for u, k in keys.items()}
    out: list[tuple[str, str]] = []
    wanted: dict[str, tuple[str, str | None]] = {}  # pseudonym -> (user_id, session_id or None)
    users: dict[str, str] = {}
    sessions: dict[tuple[str, str], str] = {}
    for user_id, session_id in pairs:
        if user_id not in users:
            users[user_id] = makers[user_id].user()
            wanted[users[user_id]] = (user_id, None)
        if (user_id, session_id) not in sessions:
            sessions[(user_id, session_id)] = makers[user_id].session(session_id)
            wanted[sessions[(user_id, session_id)]] = (user_id, session_id)
        out.append((users[user_id], sessions[(user_id, session_id)]))
    known = await _read(conn, sql, list(wanted))
    rows = []
    for pseudonym in sorted(set(wanted) - set(known)):  # sorted: a stable lock order on Postgres
        user_id, session_id = wanted[pseudonym]
        sealed = None if session_id is None else makers[user_id].seal_session(pseudonym, session_id)
        kind = "user" if session_id is None else "session"
        rows.append({"pseudonym": pseudonym, "user_id": user_id, "kind": kind, "sealed_id": sealed})
    await sql.insert_ignore(conn, Pseudonym, ["pseudonym"], rows)
    return out


async def owners(conn: AsyncConnection, sql: VaultSQL, pairs: Sequence[tuple[str, str]]) -> dict[str, Any]:
    """The stored rows of these pseudonyms (read before the users' keys are unwrapped)."""
    return await _read(conn, sql, sorted({p for pair in pairs for p in pair}))


def reveal(
    rows: dict[str, Any], keys: dict[str, UserKeys], pairs: Sequence[tuple[str, str]]
) -> list[tuple[str, str] | None]:
    """(user pseudonym, session pseudonym) -> (user_id, session_id); None when either is unknown,
    forgotten, or does not belong to that user. Each user's pseudonym key is derived, and their
    user pseudonym checked, once per call; a pair repeated in the batch is revealed once."""
    makers: dict[str, tuple[Pseudonymizer, str]] = {}  # user_id -> (maker, their user pseudonym)
    revealed: dict[tuple[str, str], tuple[str, str] | None] = {}
    out: list[tuple[str, str] | None] = []
    for up, sp in pairs:
        if (up, sp) not in revealed:
            revealed[(up, sp)] = _reveal_pair(rows, keys, makers, up, sp)
        out.append(revealed[(up, sp)])
    return out


def _reveal_pair(
    rows: dict[str, Any], keys: dict[str, UserKeys], makers: dict[str, tuple[Pseudonymizer, str]], up: str, sp: str
) -> tuple[str, str] | None:
    user_row, session_row = rows.get(up), rows.get(sp)
    if user_row is None or session_row is None or user_row.kind != "user" or session_row.kind != "session":
        return None
    user_id = user_row.user_id
    if session_row.user_id != user_id or user_id not in keys or session_row.sealed_id is None:
        return None
    if user_id not in makers:
        maker = Pseudonymizer.of(keys[user_id])
        makers[user_id] = (maker, maker.user())
    maker, user_pseudonym = makers[user_id]
    if user_pseudonym != up:
        # A row pointing a pseudonym at another user: tampering, not a cloud mistake.
        raise VaultError("pseudonym row does not match its user's key (tampered vault?)")
    session_id = maker.open_session(sp, session_row.sealed_id)
    if maker.session(session_id) != sp:
        raise VaultError("session pseudonym row does not match its user's key (tampered vault?)")
    return user_id, session_id


async def _read(conn: AsyncConnection, sql: VaultSQL, pseudonyms: list[str]) -> dict[str, Any]:
    return {row.pseudonym: row for row in await sql.read_pseudonyms(conn, pseudonyms)}
