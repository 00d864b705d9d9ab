"""Fixtures for integration tests against real services (owned by the vault work for now).

Postgres: the URL comes from `STREAMPROC_TEST_PG_URL`, else from `infra/postgres.sh url`.
If Postgres cannot be reached the test is skipped locally but FAILS in CI (`CI=true`): an
integration suite that silently skips proves nothing.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg  # type: ignore[import-untyped]
import pytest

from streamproc.bench.scratch import asyncpg_dsn, scratch_database
from streamproc.vault.migrate import migrate
from tests.conftest import _script_output, service_missing



def _unavailable(reason: str) -> None:
    service_missing(f"Postgres ({reason})", "infra/postgres.sh start")


def _discover_pg_url() -> str | None:
    return os.environ.get("STREAMPROC_TEST_PG_URL", "").strip() or _script_output("infra/postgres.sh", "url")


@pytest.fixture(scope="session")
async def pg_url() -> str:
    """URL of the shared test Postgres (SQLAlchemy form), verified reachable."""
    url = _discover_pg_url()
    if url is None:
        _unavailable("no STREAMPROC_TEST_PG_URL and no infra/postgres.sh url")
        raise AssertionError("unreachable")
    try:
        conn = await asyncpg.connect(asyncpg_dsn(url), timeout=10)
    except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
        _unavailable(f"cannot connect: {type(exc).__name__}")
        raise AssertionError("unreachable") from exc
    await conn.close()
    return url


@pytest.fixture
async def fresh_pg_url(pg_url: str) -> AsyncIterator[str]:
    """A brand-new, empty database on the test server for one test, dropped afterwards."""
    async with scratch_database(pg_url, prefix="streamproc_t") as url:
        yield url


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.integration)])
def vault_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database on each backend: a SQLite file, then a fresh real Postgres database.
    (Sync on purpose: getfixturevalue cannot drive an async fixture from inside a running loop.)"""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'vault.db'}"
    url: str = request.getfixturevalue("fresh_pg_url")
    return url


@pytest.fixture
async def vault_url(vault_db_url: str) -> str:
    """`vault_db_url`, migrated to the newest schema."""
    await migrate(vault_db_url)
    return vault_db_url
