"""Schema migrations are versioned, idempotent, and produce exactly what tables.py declares."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from streamproc.vault.migrate import VERSION_TABLE, current_revision, head_revision, migrate
from streamproc.vault.tables import Base


def _diff(conn: Connection) -> list[Any]:
    ctx = MigrationContext.configure(conn, opts={"compare_type": True, "version_table": VERSION_TABLE})
    return list(compare_metadata(ctx, Base.metadata))


def _tables(conn: Connection) -> set[str]:
    return set(inspect(conn).get_table_names())


async def test_upgrade_from_empty_is_idempotent_and_matches_the_models(vault_db_url: str) -> None:
    assert await current_revision(vault_db_url) is None
    await migrate(vault_db_url)
    await migrate(vault_db_url)  # a second start must be a no-op, not an error
    assert await current_revision(vault_db_url) == head_revision() == "0003"
    engine = create_async_engine(vault_db_url)
    try:
        async with engine.connect() as conn:
            assert await conn.run_sync(_tables) == {
                "vault_meta",
                "users",
                "mappings",
                "counters",
                "service_keys",
                "pseudonyms",
                VERSION_TABLE,
            }
            assert await conn.run_sync(_diff) == []
    finally:
        await engine.dispose()


async def test_migration_files_ship_inside_the_package() -> None:
    from importlib.resources import files

    pkg = files("streamproc.vault.migrations")
    assert pkg.joinpath("env.py").is_file()
    assert pkg.joinpath("script.py.mako").is_file()
    assert pkg.joinpath("versions", "0001_initial.py").is_file()
    assert pkg.joinpath("versions", "0002_key_ids.py").is_file()
    assert pkg.joinpath("versions", "0003_dead_letters_pseudonyms.py").is_file()
