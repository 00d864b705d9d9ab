"""The vault: per-user placeholder mappings, encrypted at rest, schema migrations versioned.

Public surface: `Vault` (store.py), `migrate` (migrate.py), `KeyRing` (keyring.py: the current
and previous master keys), `load_or_create_master_key` and `MasterKeyError` (crypto.py).
"""

from streamproc.vault.crypto import MasterKeyError, load_or_create_master_key
from streamproc.vault.keyring import KeyRing
from streamproc.vault.migrate import migrate
from streamproc.vault.store import Vault

__all__ = ["KeyRing", "MasterKeyError", "Vault", "load_or_create_master_key", "migrate"]
