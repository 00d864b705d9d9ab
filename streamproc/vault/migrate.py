"""Versioned schema migrations (alembic, files in `migrations/versions/`), run from code.

`migrate(url)` upgrades to head and is idempotent: a database already at head is left alone.
On Postgres a transaction-scoped advisory lock serialises workers that start together, and
because Postgres DDL is transactional a failed upgrade leaves no half-built schema.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from streamproc.vault.dialects import vault_sql
from streamproc.vault.engine import wrap_db_errors

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
# Not alembic's default `alembic_version`: other components may keep their own alembic history in
# the same database.
VERSION_TABLE = "vault_alembic_version"


def alembic_config(url: str | None = None) -> Config:
    """A Config built in code, pointing at the package's own migrations (works when installed)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    if url is not None:
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))  # configparser escaping
    return cfg


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def _upgrade(connection: Connection, cfg: Config) -> None:
    cfg.attributes["connection"] = connection
    command.upgrade(cfg, "head")


def _current(connection: Connection) -> str | None:
    return MigrationContext.configure(
        connection, opts={"version_table": VERSION_TABLE}
    ).get_current_revision()


async def migrate(engine_url: str, *, connect_args: dict[str, Any] | None = None) -> None:
    """Upgrade the vault at `engine_url` to the newest schema revision. `connect_args` go to the
    driver, as for `Vault.open` (TLS: see connect.py)."""
    engine = create_async_engine(engine_url, poolclass=NullPool, hide_parameters=True, connect_args=connect_args or {})
    try:
        async with wrap_db_errors("migration"), engine.begin() as conn:
            await vault_sql(engine).migration_lock(conn)
            await conn.run_sync(_upgrade, alembic_config(engine_url))
    finally:
        await engine.dispose()


async def current_revision(engine_url: str, *, connect_args: dict[str, Any] | None = None) -> str | None:
    """The revision the database is at (None: never migrated); for readiness checks and tests."""
    engine = create_async_engine(engine_url, poolclass=NullPool, hide_parameters=True, connect_args=connect_args or {})
    try:
        async with wrap_db_errors("revision check"), engine.connect() as conn:
            return await conn.run_sync(_current)
    finally:
        await engine.dispose()
