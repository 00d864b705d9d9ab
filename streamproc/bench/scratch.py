"""Scratch Postgres databases, for the bench (an empty vault per pass) and the tests (one per test)."""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import AsyncIterator

import asyncpg
from sqlalchemy.engine import make_url


def asyncpg_dsn(url: str) -> str:
    """`postgresql+asyncpg://...` -> `postgresql://...`, for asyncpg and libpq tools (pg_dump)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@contextlib.asynccontextmanager
async def scratch_database(pg_url: str, prefix: str = "streamproc_scratch") -> AsyncIterator[str]:
    """A brand-new empty database on the server of `pg_url`, dropped on exit (needs CREATEDB)."""
    name = f"{prefix}_{secrets.token_hex(5)}"
    admin = await asyncpg.connect(asyncpg_dsn(pg_url), timeout=10)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    try:
        yield make_url(pg_url).set(database=name).render_as_string(hide_password=False)
    finally:
        admin = await asyncpg.connect(asyncpg_dsn(pg_url), timeout=10)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()
