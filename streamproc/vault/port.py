"""The vault's port: what the rest of streamproc may ask of a vault. `streamproc.vault.store.Vault`
implements it on SQLAlchemy (Postgres, SQLite); stages and the worker depend on these protocols,
so they can be read, and unit-tested with an in-memory fake, without a database.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from streamproc.core.masking import PlaceholderRequest
from streamproc.core.policy import Policy


class PlaceholderStore(Protocol):
    """What masking and restoration need: policies, placeholders, pseudonyms."""

    async def get_policies(self, user_ids: Sequence[str]) -> dict[str, Policy]: ...

    async def assign(self, items: Sequence[tuple[str, Sequence[PlaceholderRequest], Policy]]) -> list[dict[str, str]]: ...

    async def resolve(self, user_id: str, keys: set[str]) -> dict[str, str]: ...

    async def resolve_many(self, requests: Sequence[tuple[str, set[str]]]) -> list[dict[str, str] | None]: ...

    async def assign_with_pseudonyms(
        self, items: Sequence[tuple[str, Sequence[PlaceholderRequest], Policy]], pairs: Sequence[tuple[str, str]]
    ) -> tuple[list[dict[str, str]], list[tuple[str, str]]]: ...

    async def reveal(self, pairs: Sequence[tuple[str, str]]) -> list[tuple[str, str] | None]: ...

    async def reveal_and_resolve(
        self, requests: Sequence[tuple[str, str, set[str]]]
    ) -> list[tuple[tuple[str, str], dict[str, str]] | None]: ...


class WorkerVault(PlaceholderStore, Protocol):
    """Everything the worker uses: the store, plus readiness, identity (fencing), the dead-letter
    key and the scheduled purge."""

    async def ping(self) -> None: ...

    async def identity(self) -> str: ...

    async def service_key(self, name: str) -> bytes: ...

    async def purge_expired(self, batch: int = ...) -> int: ...
