"""Envelope encryption for the vault: master key -> per-user data key -> values and value hashes.

    master key (32 bytes, settings or a 0600 key file)
      └─ wraps, AES-GCM, AAD = user_id ──► users.wrapped_dek
           DEK (32 random bytes per user)
             ├─ AES-GCM, fresh 96-bit nonce, AAD = (user_id, placeholder_key) ──► ciphertext
             └─ HKDF-SHA256 ──► hash key ──► HMAC-SHA256(value) ──► value_hash

Everything a user's rows mean hangs off their DEK: deleting the wrapped DEK (`forget`) leaves
ciphertexts that cannot be decrypted and hashes that cannot be recomputed (crypto-shredding).
A backup taken before the delete still holds the wrapped DEK: only destroying the master key
that wraps it (after `keys rotate`, see rotation.py) puts such a backup out of reach. Binding AAD to the row's identity means a ciphertext
copied into another row or another user's row fails authentication instead of restoring.

Nothing here logs or raises a private value or key material.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import logging
import os
import secrets
import struct
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from pydantic import SecretStr

from streamproc.core.errors import VaultError

log = logging.getLogger(__name__)

KEY_BYTES = 32
NONCE_BYTES = 12
KEY_FILE_NAME = "vault-master.key"
# A format byte in front of every sealed blob, so keys or algorithms can be rotated later
# without guessing what an old row holds.
_FORMAT_V1 = b"\x01"
_HASH_KEY_INFO = b"streamproc/vault/value-hash/v1"
_KEY_CHECK_AAD = b"streamproc/vault/master-key-check/v1"


class MasterKeyError(VaultError):
    """The master key is malformed or does not open this vault. Not retriable: fix the settings."""

    retriable = False


def _seal(key: bytes | AESGCM, plaintext: bytes, aad: bytes) -> bytes:
    """`key`: raw bytes, or an AESGCM already built from them (building one costs more than
    sealing a short value, so a user's keys keep theirs for the call)."""
    nonce = os.urandom(NONCE_BYTES)
    aead = key if isinstance(key, AESGCM) else AESGCM(key)
    return _FORMAT_V1 + nonce + aead.encrypt(nonce, plaintext, aad)


def _open(key: bytes | AESGCM, blob: bytes, aad: bytes) -> bytes:
    """Raises InvalidTag (wrong key, wrong row, tampering) or ValueError (unknown format)."""
    if blob[:1] != _FORMAT_V1 or len(blob) < 1 + NONCE_BYTES + 16:
        raise ValueError("unknown sealed-blob format")
    nonce, body = blob[1 : 1 + NONCE_BYTES], blob[1 + NONCE_BYTES :]
    aead = key if isinstance(key, AESGCM) else AESGCM(key)
    return aead.decrypt(nonce, body, aad)


_LENGTH = struct.Struct(">I").pack


def _frame(*parts: str) -> bytes:
    """Length-prefixed UTF-8 so ("ab", "c") and ("a", "bc") can never produce the same AAD."""
    out: list[bytes] = []
    for part in parts:
        raw = part.encode("utf-8")
        out.append(_LENGTH(len(raw)))
        out.append(raw)
    return b"".join(out)


def new_dek() -> bytes:
    return secrets.token_bytes(KEY_BYTES)


def wrap_dek(master_key: bytes, user_id: str, dek: bytes) -> bytes:
    return _seal(master_key, dek, _frame("dek", user_id))


def unwrap_dek(master_key: bytes, user_id: str, wrapped: bytes) -> bytes:
    try:
        return _open(master_key, wrapped, _frame("dek", user_id))
    except (InvalidTag, ValueError):
        raise MasterKeyError(
            "cannot unwrap a user's data key: wrong master key or tampered users row"
        ) from None


def make_key_check(master_key: bytes) -> bytes:
    """A blob stored once per vault so a wrong master key fails at open, not at the first user."""
    return _seal(master_key, b"ok", _KEY_CHECK_AAD)


def verify_key_check(master_key: bytes, blob: bytes) -> None:
    try:
        _open(master_key, blob, _KEY_CHECK_AAD)
    except (InvalidTag, ValueError):
        raise MasterKeyError("the master key does not match the one this vault was created with") from None


@dataclass(frozen=True, slots=True)
class UserKeys:
    """One user's unwrapped keys; lives only for the duration of a vault call."""

    user_id: str
    dek: bytes
    hash_key: bytes
    aead: AESGCM = field(repr=False, compare=False)  # AES-GCM under `dek`, built once per user per call

    @classmethod
    def from_dek(cls, user_id: str, dek: bytes) -> UserKeys:
        hkdf = HKDF(algorithm=hashes.SHA256(), length=KEY_BYTES, salt=None, info=_HASH_KEY_INFO)
        return cls(user_id, dek, hkdf.derive(dek), AESGCM(dek))

    def value_hash(self, value: str) -> bytes:
        # Exact bytes, no normalisation: masking replaces exact substrings, so two spellings
        # are two values.
        return hmac.new(self.hash_key, value.encode("utf-8"), hashlib.sha256).digest()

    def encrypt(self, placeholder_key: str, value: str) -> bytes:
        return _seal(self.aead, value.encode("utf-8"), _frame("value", self.user_id, placeholder_key))

    def decrypt(self, placeholder_key: str, blob: bytes) -> str:
        try:
            raw = _open(self.aead, blob, _frame("value", self.user_id, placeholder_key))
        except (InvalidTag, ValueError):
            raise VaultError(
                f"stored value for placeholder key {placeholder_key!r} failed authentication"
            ) from None
        return raw.decode("utf-8")


def decode_master_key(encoded: str) -> bytes:
    try:
        key = base64.b64decode(encoded.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise MasterKeyError("vault master key is not valid base64") from None
    if len(key) != KEY_BYTES:
        raise MasterKeyError(f"vault master key must be {KEY_BYTES} bytes, got {len(key)}")
    return key


def load_or_create_master_key(settings_master_key: SecretStr | None, state_dir: Path) -> bytes:
    """The master key from settings (base64) if set, else from `state_dir/vault-master.key`,
    created 0600 on first use. Losing the key file loses every stored value: back it up."""
    if settings_master_key is not None:
        return decode_master_key(settings_master_key.get_secret_value())
    path = state_dir / KEY_FILE_NAME
    if not path.exists():
        _create_key_file(path)
    mode = path.stat().st_mode & 0o777
    if mode & 0o077:
        log.warning("vault master key file %s is readable by others (mode %o)", path, mode)
    return decode_master_key(path.read_text(encoding="ascii"))


def _create_key_file(path: Path) -> None:
    """Write to a private temp file, then hard-link into place: link() fails if another process
    won the race, and nobody ever reads a half-written key."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="ascii") as fh:
            fh.write(base64.b64encode(new_dek()).decode("ascii") + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass  # another process created it first; use theirs
    finally:
        tmp.unlink(missing_ok=True)
