"""The vault's SQL where Postgres and SQLite differ, chosen once per engine (`vault_sql`).

The one real difference is how a statement receives a set of keys:
- Postgres: arrays, joined with `unnest()` or tested with `= ANY()`. One SQL text for every batch
  size, so SQLAlchemy compiles each statement once and asyncpg prepares it once per connection
  (an IN over N values is new SQL, compiled and prepared again, for every N).
- SQLite: `IN (...)` lists and multi-row VALUES, in chunks well under its bind-parameter limit.

Everything else is the same SQL on both (`INSERT ... ON CONFLICT`, RETURNING: SQLite >= 3.35).
`insert_ignore` writes its statement as constant text because SQLAlchemy never caches the
compiled form of an `on_conflict_*` insert: it would be compiled again on every batch.
Statements are built once, in the constructor; callers hold one `VaultSQL` per engine.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from collections.abc import Mapping as MappingT
from typing import Any

from sqlalchemy import (
    LargeBinary,
    Select,
    String,
    Table,
    Text,
    TextClause,
    and_,
    any_,
    bindparam,
    cast,
    func,
    select,
    text,
    tuple_,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from streamproc.core.policy import Action
from streamproc.vault.tables import Base, Mapping, Pseudonym, User

Key = tuple[str, bytes]  # (user_id, value_hash)
_CHUNK = 400  # values per IN (...) list: well under SQLite's and asyncpg's bind-parameter limits
_ROWS = 300  # rows per multi-row VALUES of three columns: under SQLite's old 999-parameter limit
# Arbitrary constant shared by every streamproc process: "the vault schema is being migrated".
_MIGRATION_LOCK_ID = 0x5354_5250_5641_554C & 0x7FFF_FFFF_FFFF_FFFF

_MAPPING_COLS = (
    Mapping.user_id,
    Mapping.value_hash,
    Mapping.placeholder,
    Mapping.placeholder_key,
    Mapping.action,
    Mapping.ciphertext.is_not(None).label("stored"),
    Mapping.expires_at,
)
_PSEUDONYM_COLS = (Pseudonym.pseudonym, Pseudonym.user_id, Pseudonym.kind, Pseudonym.sealed_id)
_USER_COLS = (User.user_id, User.wrapped_dek, User.key_id)
# Reserve a block of k numbers per (user, type); `next_n` is then one past the block's end.
_RESERVE_TAIL = (
    " ON CONFLICT (user_id, type_key) DO UPDATE SET next_n = counters.next_n + excluded.next_n - 1"
    " RETURNING user_id, type_key, next_n"
)


def _restorable(*where: Any) -> Select[Any]:
    """(user_id, placeholder_key, ciphertext) of masked values still within their TTL at `:now`."""
    return select(Mapping.user_id, Mapping.placeholder_key, Mapping.ciphertext).where(
        *where,
        Mapping.action == Action.MASK.value,
        Mapping.ciphertext.is_not(None),
        Mapping.expires_at.is_(None) | (Mapping.expires_at > bindparam("now", type_=Mapping.expires_at.type)),
    )


def chunks(seq: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for i in range(0, len(seq), _CHUNK):
        yield seq[i : i + _CHUNK]


class VaultSQL:
    """SQLite's way, which is also the portable one; `PostgresSQL` overrides the set-valued reads."""

    # The ON CONFLICT-capable insert builder, for the rare statements (policy upsert) that are
    # not worth constant text.
    insert: Any = staticmethod(sqlite.insert)

    def __init__(self) -> None:
        self._inserts: dict[tuple[str, tuple[str, ...], tuple[str, ...]], TextClause] = {}

    async def migration_lock(self, conn: AsyncConnection) -> None:
        """Serialise concurrent migrations (SQLite's write lock already does)."""

    async def read_users(self, conn: AsyncConnection, user_ids: Sequence[str]) -> list[Row[Any]]:
        """(user_id, wrapped_dek, key_id) of those users that exist."""
        return await self._in_chunks(conn, select(*_USER_COLS), User.user_id, user_ids)

    async def read_policies(self, conn: AsyncConnection, user_ids: Sequence[str]) -> list[Row[Any]]:
        return await self._in_chunks(conn, select(User.user_id, User.policy), User.user_id, user_ids)

    async def read_pseudonyms(self, conn: AsyncConnection, pseudonyms: Sequence[str]) -> list[Row[Any]]:
        return await self._in_chunks(conn, select(*_PSEUDONYM_COLS), Pseudonym.pseudonym, pseudonyms)

    async def read_mappings(self, conn: AsyncConnection, keys: Sequence[Key]) -> list[Row[Any]]:
        """user_id, value_hash, placeholder, placeholder_key, action, stored, expires_at."""
        pair = tuple_(Mapping.user_id, Mapping.value_hash)
        return await self._in_chunks(conn, select(*_MAPPING_COLS), pair, keys)

    async def read_restorable(self, conn: AsyncConnection, pairs: Sequence[tuple[str, str]], now: Any) -> list[Row[Any]]:
        """(user_id, placeholder_key, ciphertext) of these (user_id, placeholder_key) pairs that are
        masked and unexpired. By pair, not users x keys: one user's key never reads another's row."""
        out: list[Row[Any]] = []
        for chunk in chunks(pairs):
            stmt = _restorable(tuple_(Mapping.user_id, Mapping.placeholder_key).in_(chunk))
            out.extend(await conn.execute(stmt, {"now": now}))
        return out

    async def lock_mappings(self, conn: AsyncConnection, keys: Sequence[Key]) -> None:
        """Lock these rows (on SQLite the transaction's write lock already covers them)."""
        stmt = select(Mapping.user_id).order_by(Mapping.user_id, Mapping.value_hash).with_for_update()
        await self._in_chunks(conn, stmt, tuple_(Mapping.user_id, Mapping.value_hash), keys)

    async def reserve_numbers(self, conn: AsyncConnection, blocks: Sequence[tuple[str, str, int]]) -> dict[tuple[str, str], int]:
        """(user_id, type_key, k) -> one past the end of a fresh block of k numbers, per (user, type)."""
        out: dict[tuple[str, str], int] = {}
        for chunk in (blocks[i : i + _ROWS] for i in range(0, len(blocks), _ROWS)):
            values = ", ".join(f"(:u{i}, :t{i}, :n{i})" for i in range(len(chunk)))
            params = {f"{name}{i}": v for i, (u, t, k) in enumerate(chunk) for name, v in (("u", u), ("t", t), ("n", k + 1))}
            stmt = text(f"INSERT INTO counters (user_id, type_key, next_n) VALUES {values}{_RESERVE_TAIL}")
            out.update({(r.user_id, r.type_key): r.next_n for r in await conn.execute(stmt, params)})
        return out

    async def insert_ignore(
        self, conn: AsyncConnection, model: type[Base], conflict: Sequence[str], rows: Sequence[MappingT[str, Any]]
    ) -> None:
        """`INSERT ... ON CONFLICT (conflict) DO NOTHING` of these rows (all with the same columns)."""
        if not rows:
            return
        table = model.__table__
        assert isinstance(table, Table)
        cols = tuple(rows[0])
        key = (table.name, cols, tuple(conflict))
        stmt = self._inserts.get(key)
        if stmt is None:
            # Names come from our own table metadata, never from input; typed binds keep each
            # column's conversion (UtcDateTime, JSON) as the ORM would apply it.
            sql = (
                f"INSERT INTO {table.name} ({', '.join(cols)}) VALUES ({', '.join(':' + c for c in cols)})"
                f" ON CONFLICT ({', '.join(conflict)}) DO NOTHING"
            )
            stmt = self._inserts[key] = text(sql).bindparams(*(bindparam(c, type_=table.c[c].type) for c in cols))
        await conn.execute(stmt, list(rows))

    @staticmethod
    async def _in_chunks(conn: AsyncConnection, stmt: Select[Any], col: Any, values: Sequence[Any]) -> list[Row[Any]]:
        out: list[Row[Any]] = []
        for chunk in chunks(values):
            out.extend(await conn.execute(stmt.where(col.in_(chunk))))
        return out


class PostgresSQL(VaultSQL):
    insert = staticmethod(postgresql.insert)

    def __init__(self) -> None:
        super().__init__()
        any_user = User.user_id == any_(bindparam("ids", type_=ARRAY(String)))
        self._users = select(*_USER_COLS).where(any_user)
        self._policies = select(User.user_id, User.policy).where(any_user)
        self._pseudonyms = select(*_PSEUDONYM_COLS).where(Pseudonym.pseudonym == any_(bindparam("ids", type_=ARRAY(String))))
        wanted = select(
            func.unnest(cast(bindparam("users"), ARRAY(Text))).label("u"),
            func.unnest(cast(bindparam("hashes"), ARRAY(LargeBinary))).label("h"),
        ).subquery("wanted")
        on_wanted = and_(Mapping.user_id == wanted.c.u, Mapping.value_hash == wanted.c.h)
        self._mappings = select(*_MAPPING_COLS).join_from(Mapping, wanted, on_wanted)
        wanted_keys = select(
            func.unnest(cast(bindparam("users"), ARRAY(Text))).label("u"),
            func.unnest(cast(bindparam("keys"), ARRAY(Text))).label("k"),
        ).subquery("wanted_keys")
        on_keys = and_(Mapping.user_id == wanted_keys.c.u, Mapping.placeholder_key == wanted_keys.c.k)
        self._restorable = _restorable().join_from(Mapping, wanted_keys, on_keys)
        # Locked in key order: Postgres sorts below the lock, so two batches cannot deadlock.
        self._lock = (
            select(Mapping.user_id).join_from(Mapping, wanted, on_wanted)
            .order_by(Mapping.user_id, Mapping.value_hash).with_for_update(of=Mapping)
        )
        self._reserve = text(
            "INSERT INTO counters (user_id, type_key, next_n)"
            " SELECT * FROM unnest(CAST(:users AS TEXT[]), CAST(:types AS TEXT[]), CAST(:next AS BIGINT[]))"
            + _RESERVE_TAIL
        )

    async def migration_lock(self, conn: AsyncConnection) -> None:
        await conn.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": _MIGRATION_LOCK_ID})

    async def read_users(self, conn: AsyncConnection, user_ids: Sequence[str]) -> list[Row[Any]]:
        return list(await conn.execute(self._users, {"ids": list(user_ids)}))

    async def read_policies(self, conn: AsyncConnection, user_ids: Sequence[str]) -> list[Row[Any]]:
        return list(await conn.execute(self._policies, {"ids": list(user_ids)}))

    async def read_pseudonyms(self, conn: AsyncConnection, pseudonyms: Sequence[str]) -> list[Row[Any]]:
        return list(await conn.execute(self._pseudonyms, {"ids": list(pseudonyms)}))

    async def read_mappings(self, conn: AsyncConnection, keys: Sequence[Key]) -> list[Row[Any]]:
        return list(await conn.execute(self._mappings, _arrays(keys)))

    async def read_restorable(self, conn: AsyncConnection, pairs: Sequence[tuple[str, str]], now: Any) -> list[Row[Any]]:
        params = {"users": [u for u, _ in pairs], "keys": [k for _, k in pairs], "now": now}
        return list(await conn.execute(self._restorable, params))

    async def lock_mappings(self, conn: AsyncConnection, keys: Sequence[Key]) -> None:
        await conn.execute(self._lock, _arrays(keys))

    async def reserve_numbers(self, conn: AsyncConnection, blocks: Sequence[tuple[str, str, int]]) -> dict[tuple[str, str], int]:
        params = {"users": [u for u, _, _ in blocks], "types": [t for _, t, _ in blocks], "next": [k + 1 for _, _, k in blocks]}
        return {(r.user_id, r.type_key): r.next_n for r in await conn.execute(self._reserve, params)}


def _arrays(keys: Sequence[Key]) -> dict[str, list[Any]]:
    return {"users": [k[0] for k in keys], "hashes": [k[1] for k in keys]}


def vault_sql(engine: AsyncEngine) -> VaultSQL:
    """The statements for this engine's backend; build once and keep beside the engine."""
    return PostgresSQL() if engine.dialect.name == "postgresql" else VaultSQL()
