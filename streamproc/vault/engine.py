"""Engine construction, transactions and error mapping; Postgres and SQLite differ in how the
engine is set up (below) and in a few statements (dialects.py).

- SQLite: foreign keys on (for ON DELETE CASCADE), WAL so readers never block the writer, a busy
  timeout, and write transactions opened with `BEGIN IMMEDIATE`. pysqlite's default deferred
  BEGIN takes the write lock only at the first write, and two such transactions that both read
  first fail with "database is locked" instead of waiting.
- Postgres (asyncpg): pre-ping so a connection the server dropped is replaced instead of failing
  the next batch. Behind pgbouncer in transaction mode, add `prepared_statement_cache_size=0`
  to the URL: asyncpg's statement cache assumes one server session per connection.
- Both: `hide_parameters` keeps bound values out of error messages and logs. We only ever bind
  hashes, ciphertexts, placeholders and ids, but defence in depth costs nothing here.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from streamproc.core.errors import VaultError

SQLITE_BUSY_TIMEOUT_S = 30.0
_SQLITE_BEGIN = "streamproc_sqlite_begin"


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def make_engine(url: str, *, pool_size: int = 5, connect_args: dict[str, Any] | None = None) -> AsyncEngine:
    if not is_sqlite(url):
        return create_async_engine(
            url, pool_size=pool_size, pool_pre_ping=True, hide_parameters=True, connect_args=connect_args or {}
        )
    if ":memory:" in url or url.rstrip("/").endswith("sqlite+aiosqlite:"):
        # Each pooled connection would see its own empty database, and migrations run on a
        # separate engine; a temp file is the embedded answer.
        raise VaultError("an in-memory SQLite vault is not supported; use a file path")
    engine = create_async_engine(url, hide_parameters=True, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S})

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we emit BEGIN ourselves (see module docstring)
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql(f"BEGIN {conn.get_execution_options().get(_SQLITE_BEGIN, 'IMMEDIATE')}")

    return engine


@asynccontextmanager
async def transaction(engine: AsyncEngine, *, write: bool) -> AsyncIterator[AsyncConnection]:
    """One transaction; read-only ones skip SQLite's write lock."""
    async with engine.connect() as conn:
        if not write:
            conn = await conn.execution_options(**{_SQLITE_BEGIN: "DEFERRED"})
        async with conn.begin():
            yield conn


def _driver_errors() -> tuple[type[BaseException], ...]:
    """asyncpg raises its own errors while connecting (SQLAlchemy wraps only later ones): "the
    database system is shutting down" during a Postgres restart must be an outage, not a crash."""
    try:
        import asyncpg  # type: ignore[import-untyped]
    except ImportError:
        return ()
    return (asyncpg.PostgresError, asyncpg.InterfaceError)


_DRIVER_ERRORS = _driver_errors()


class wrap_db_errors:
    """Turn driver failures (connection lost, lock timeout, deadlock...) into VaultError, which the
    stream treats as retriable. The message names the operation and the error class only."""

    def __init__(self, operation: str) -> None:
        self.operation = operation

    async def __aenter__(self) -> None:
        return None

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, _tb: object
    ) -> None:
        # Returns None (never suppresses): mypy then knows code after the block is reachable.
        if exc is None or isinstance(exc, VaultError):
            return
        if isinstance(exc, (SQLAlchemyError, OSError, asyncio.TimeoutError, ssl.SSLError, *_DRIVER_ERRORS)):
            orig = getattr(exc, "orig", None)
            code = getattr(orig, "sqlstate", None)
            suffix = f", sqlstate {code}" if code else ""
            tls = _tls_failure(exc)
            if tls is not None:
                raise VaultError(f"vault {self.operation} failed: {tls}") from exc
            if code == "42P01" or "no such table" in str(orig):
                suffix += " (schema missing: run streamproc.vault.migrate.migrate(url) first)"
            raise VaultError(f"vault {self.operation} failed: {type(orig or exc).__name__}{suffix}") from exc


def _tls_failure(exc: BaseException) -> str | None:
    """A one-line reason when the server's certificate was refused (wrong CA, wrong host name).
    The verifier's message names only the certificate problem and the host we dialled."""
    seen: BaseException | None = exc
    for _ in range(5):  # SQLAlchemy wraps the driver error, which may wrap the ssl one
        if seen is None:
            return None
        if isinstance(seen, ssl.SSLCertVerificationError):
            return f"TLS certificate of the database server not accepted: {seen.verify_message}"
        if isinstance(seen, ssl.SSLError):
            return f"TLS handshake with the database server failed: {seen.reason or type(seen).__name__}"
        seen = getattr(seen, "orig", None) or seen.__cause__ or seen.__context__
    return None
