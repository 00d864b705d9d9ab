"""What an attacker with the database (a dump, a backup, the SQLite file) sees: no original value."""

from __future__ import annotations

import asyncio
import os
import shutil
from asyncio.subprocess import PIPE
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from streamproc.core.masking import PlaceholderRequest
from streamproc.core.policy import DEFAULT_POLICY
from streamproc.core.taxonomy import PrivacyLevel
from streamproc.vault import Vault, migrate

SECRETS = {
    "zq-distinctive-mail@nowhere-7f3a.example": ("Email", PrivacyLevel.PL2),
    "Xylophone Quixotic-Marmalade": ("Real Name", PrivacyLevel.PL2),
    "CN110105199001011234Q": ("ID Number", PrivacyLevel.PL3),
    "sk_live_ZZ9plural-Z-alpha-84hq": ("Token", PrivacyLevel.PL4),
    "独特的秘密值甲乙丙": ("Medical Health", PrivacyLevel.PL3),
}


async def _use_vault(url: str) -> None:
    reqs = [PlaceholderRequest(v, t, lvl, DEFAULT_POLICY.action_for(lvl)) for v, (t, lvl) in SECRETS.items()]
    async with Vault.open(url, os.urandom(32)) as vault:
        await vault.assign([("user-1", reqs, DEFAULT_POLICY), ("user-2", reqs[:2], DEFAULT_POLICY)])
        await vault.assign([("user-1", reqs, DEFAULT_POLICY)])
        assert await vault.resolve("user-1", {"email_1"}) == {"email_1": next(iter(SECRETS))}
        await vault.forget("user-2")


def _assert_no_value_in(blob: bytes, where: str) -> None:
    for value in SECRETS:
        raw = value.encode("utf-8")
        # bytea dumps as hex and SQLite may hold UTF-16: look for every plausible encoding.
        for needle in (raw, raw.hex().encode(), value.encode("utf-16-le")):
            assert needle not in blob, f"an original value ({SECRETS[value][0]}) is readable in {where}"


async def test_sqlite_file_holds_no_original_value(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'vault.db'}"
    await migrate(url)
    await _use_vault(url)
    files = sorted(tmp_path.glob("vault.db*"))
    assert b"<Email_1>" in b"".join(f.read_bytes() for f in files)  # we are looking at real rows
    for f in files:
        _assert_no_value_in(f.read_bytes(), f.name)


@pytest.mark.integration
async def test_pg_dump_of_a_used_vault_holds_no_original_value(fresh_pg_url: str) -> None:
    vault_url = fresh_pg_url
    await migrate(vault_url)
    pg_dump = shutil.which("pg_dump")
    assert pg_dump, "pg_dump not installed"
    await _use_vault(vault_url)
    url = make_url(vault_url)
    env = {**os.environ, "PGPASSWORD": url.password or ""}
    cmd = [
        pg_dump,
        "--no-owner",
        "-h",
        url.host or "127.0.0.1",
        "-p",
        str(url.port or 5432),
        "-U",
        url.username or "postgres",
        "-d",
        url.database or "postgres",
    ]
    proc = await asyncio.create_subprocess_exec(*cmd, env=env, stdout=PIPE, stderr=PIPE)
    stdout, stderr = await asyncio.wait_for(proc.communicate(), timeout=120)
    assert proc.returncode == 0, stderr.decode(errors="replace")[-2000:]
    assert b"<Email_1>" in stdout  # the dump really holds the vault's rows
    _assert_no_value_in(stdout, "pg_dump output")
