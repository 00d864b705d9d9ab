"""Vault-wide data keys that belong to no user; today the key that seals dead letters.

    master key ──wraps, AES-GCM, AAD = ("service-key", name)──► service_keys.wrapped_key
      key (32 random bytes, created on first use by whichever process asks first)

Like a user's data key, the key never leaves the vault in clear and is useless without the
master key; unlike one, `forget` never deletes it (it belongs to the deployment). Each row
records its master key id, and `keys rotate` rewraps these rows with the users' keys.
"""

from __future__ import annotations

import datetime as dt
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from streamproc.vault.crypto import KEY_BYTES, NONCE_BYTES, MasterKeyError, new_dek
from streamproc.vault.dialects import VaultSQL
from streamproc.vault.keyring import KeyRing
from streamproc.vault.tables import ServiceKey

DEAD_LETTER_KEY = "dead-letter"
_FORMAT_V1 = b"\x01"


def _aad(name: str) -> bytes:
    raw = name.encode("utf-8")
    return b"streamproc/vault/service-key/v1" + len(raw).to_bytes(4, "big") + raw


def wrap_service_key(master_key: bytes, name: str, key: bytes) -> bytes:
    nonce = os.urandom(NONCE_BYTES)
    return _FORMAT_V1 + nonce + AESGCM(master_key).encrypt(nonce, key, _aad(name))


def unwrap_service_key(master_key: bytes, name: str, wrapped: bytes) -> bytes:
    if wrapped[:1] != _FORMAT_V1 or len(wrapped) < 1 + NONCE_BYTES + 16:
        raise MasterKeyError(f"service key {name!r} has an unknown format")
    try:
        key = AESGCM(master_key).decrypt(wrapped[1 : 1 + NONCE_BYTES], wrapped[1 + NONCE_BYTES :], _aad(name))
    except InvalidTag:
        raise MasterKeyError(f"cannot unwrap service key {name!r}: wrong master key or tampered row") from None
    if len(key) != KEY_BYTES:
        raise MasterKeyError(f"service key {name!r} has the wrong length")
    return key


async def get_or_create(conn: AsyncConnection, sql: VaultSQL, keys: KeyRing, name: str, now: dt.datetime) -> bytes:
    """The named key, created on first use. `ON CONFLICT DO NOTHING` then re-read: two processes
    asking at once end up with the same key. New keys are wrapped by the ring's current master
    key and stamped with its id; `keys rotate` rewraps older ones (rotation.WRAPPED_KEYS)."""
    row = {
        "name": name,
        "wrapped_key": wrap_service_key(keys.current, name, new_dek()),
        "key_id": keys.current_id,
        "created_at": now,
    }
    await sql.insert_ignore(conn, ServiceKey, ["name"], [row])
    stored = (await conn.execute(select(ServiceKey.wrapped_key, ServiceKey.key_id).where(ServiceKey.name == name))).one()
    return keys.unwrap(unwrap_service_key, name, stored.wrapped_key, stored.key_id)[0]
