"""The master keys a vault process holds: the current one (wraps every new data key) and zero or
more previous ones (still accepted for unwrapping until `streamproc keys rotate` has rewrapped
everything under the current key).

Each key is known to the database only by its key id, a fingerprint: the first 64 bits of
SHA-256 over a domain tag and the key. Stored next to every wrapped key, it says which master key
opens the row (no trial decryption on the hot path) and lets `keys status` count what still
depends on an old key. A 256-bit random key cannot be recovered from its hash, and the domain tag
keeps the fingerprint from matching any other hash of the same bytes.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from pydantic import SecretStr

from streamproc.vault.crypto import MasterKeyError, decode_master_key

_KEY_ID_TAG = b"streamproc/vault/master-key-id/v1\x00"
# base64 never contains commas or whitespace, so either separates keys in one setting or file.
_SEPARATORS = re.compile(r"[\s,]+")

Unwrap = Callable[[bytes, str, bytes], bytes]  # (master key, row id, wrapped) -> data key


def key_id(master_key: bytes) -> str:
    return hashlib.sha256(_KEY_ID_TAG + master_key).hexdigest()[:16]


def parse_previous_keys(secret: SecretStr | None) -> tuple[bytes, ...]:
    """`vault.previous_master_keys`: base64 keys separated by commas or whitespace (newlines in a file)."""
    if secret is None:
        return ()
    return tuple(decode_master_key(part) for part in _SEPARATORS.split(secret.get_secret_value()) if part)


@dataclass(frozen=True, slots=True)
class KeyRing:
    current: bytes
    previous: tuple[bytes, ...] = ()

    def __post_init__(self) -> None:
        ids = [key_id(k) for k in self.all()]
        if len(set(ids)) != len(ids):
            raise MasterKeyError("the same master key is configured twice (current and previous)")

    @classmethod
    def of(cls, keys: bytes | KeyRing) -> KeyRing:
        """Callers that hold one raw key (tests, the bench) keep working: a ring of one."""
        return keys if isinstance(keys, KeyRing) else cls(keys)

    @property
    def current_id(self) -> str:
        return key_id(self.current)

    @property
    def previous_ids(self) -> tuple[str, ...]:
        return tuple(key_id(k) for k in self.previous)

    def all(self) -> Iterator[bytes]:
        yield self.current
        yield from self.previous

    def get(self, wanted_id: str) -> bytes | None:
        return next((k for k in self.all() if key_id(k) == wanted_id), None)

    def unwrap(self, unwrap: Unwrap, row_id: str, wrapped: bytes, stored_id: str | None) -> tuple[bytes, str]:
        """The data key and the id of the master key that opened it. A row with a recorded id
        is opened by that key only; a row from before key ids (NULL) by whichever key works."""
        if stored_id is not None:
            master = self.get(stored_id)
            if master is None:
                raise MasterKeyError(
                    f"a data key is wrapped by master key id {stored_id}, which is not configured "
                    "(add it to vault.previous_master_keys)"
                )
            return unwrap(master, row_id, wrapped), stored_id
        for master in self.all():
            try:
                return unwrap(master, row_id, wrapped), key_id(master)
            except MasterKeyError:
                continue
        raise MasterKeyError("cannot unwrap a data key with any configured master key")
