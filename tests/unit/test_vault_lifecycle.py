"""Pure parts of the key lifecycle, TLS settings and the purge schedule (no database)."""

from __future__ import annotations

import asyncio
import base64
import logging
import os
import ssl
from pathlib import Path

import pytest
from pydantic import SecretStr, ValidationError

from streamproc.core.errors import VaultError
from streamproc.ops.metrics import Metrics
from streamproc.ops.purge import run_purge
from streamproc.settings import Settings, VaultSettings
from streamproc.vault.connect import connect_args, ssl_context
from streamproc.vault.crypto import MasterKeyError, unwrap_dek, wrap_dek
from streamproc.vault.keyring import KeyRing, key_id, parse_previous_keys


def b64(key: bytes) -> str:
    return base64.b64encode(key).decode()


def test_key_id_is_a_stable_fingerprint_that_does_not_contain_the_key() -> None:
    key = os.urandom(32)
    assert key_id(key) == key_id(bytes(key)) and len(key_id(key)) == 16
    assert key_id(key) != key_id(os.urandom(32))
    assert key.hex()[:16] not in key_id(key) and b64(key) not in key_id(key)


def test_previous_keys_parse_from_commas_or_lines() -> None:
    a, b = os.urandom(32), os.urandom(32)
    assert parse_previous_keys(SecretStr(f"{b64(a)}, {b64(b)}")) == (a, b)
    assert parse_previous_keys(SecretStr(f"{b64(a)}\n{b64(b)}\n")) == (a, b)
    assert parse_previous_keys(None) == ()
    with pytest.raises(MasterKeyError):
        parse_previous_keys(SecretStr("not-a-key"))


def test_ring_opens_a_row_with_the_key_its_id_names_and_legacy_rows_by_trial() -> None:
    old, new = os.urandom(32), os.urandom(32)
    ring = KeyRing(new, (old,))
    dek = os.urandom(32)
    wrapped = wrap_dek(old, "u", dek)
    assert ring.unwrap(unwrap_dek, "u", wrapped, key_id(old)) == (dek, key_id(old))
    assert ring.unwrap(unwrap_dek, "u", wrapped, None) == (dek, key_id(old))
    with pytest.raises(MasterKeyError):
        ring.unwrap(unwrap_dek, "u", wrapped, key_id(new))  # the id says new: no silent fallback
    with pytest.raises(MasterKeyError, match="not configured"):
        KeyRing(new).unwrap(unwrap_dek, "u", wrapped, key_id(old))
    with pytest.raises(MasterKeyError):
        KeyRing(new, (new,))


def test_password_is_merged_into_the_url_and_never_shown(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STREAMPROC_VAULT__URL", "postgresql+asyncpg://streamproc@db:5432/streamproc")
    monkeypatch.setenv("STREAMPROC_VAULT__PASSWORD", "s3cr3t-pw")
    settings = Settings()
    assert settings.vault_url == "postgresql+asyncpg://streamproc:s3cr3t-pw@db:5432/streamproc"
    assert "s3cr3t-pw" not in repr(settings) and "s3cr3t-pw" not in str(settings.vault)


def test_password_in_both_places_is_refused() -> None:
    with pytest.raises(ValidationError, match="both"):
        VaultSettings(url="postgresql+asyncpg://u:p@db/x", password=SecretStr("q"))


def test_tls_settings_must_be_coherent(tmp_path: Path) -> None:
    with pytest.raises(ValidationError):
        VaultSettings(ssl_cert=tmp_path / "c.pem")
    with pytest.raises(ValidationError):
        VaultSettings(ssl_mode="disable", ssl_root_cert=tmp_path / "ca.pem")


def test_ssl_modes_map_to_asyncpg_arguments(tmp_path: Path) -> None:
    assert ssl_context("disable") is False
    assert ssl_context("prefer") is None
    required = ssl_context("require")
    assert isinstance(required, ssl.SSLContext) and required.verify_mode == ssl.CERT_NONE
    ca_verified = ssl_context("verify-ca")
    assert isinstance(ca_verified, ssl.SSLContext)
    assert ca_verified.verify_mode == ssl.CERT_REQUIRED and not ca_verified.check_hostname
    full = ssl_context("verify-full")
    assert isinstance(full, ssl.SSLContext) and full.check_hostname
    assert connect_args("sqlite+aiosqlite:///x.db", "verify-full") == {}
    with pytest.raises(VaultError, match="cannot load the vault's TLS files"):
        ssl_context("verify-full", root_cert=tmp_path / "missing-ca.pem")


class FlakyVault:
    def __init__(self, stop: asyncio.Event) -> None:
        self.calls = 0
        self.stop = stop

    async def purge_expired(self) -> int:
        self.calls += 1
        if self.calls == 1:
            raise VaultError("vault purge_expired failed: ConnectionRefusedError")
        if self.calls == 2:
            raise RuntimeError("secret-value-that-must-not-be-logged")
        self.stop.set()
        return 3


async def test_purge_loop_logs_failures_without_detail_and_retries(caplog: pytest.LogCaptureFixture) -> None:
    stop = asyncio.Event()
    vault = FlakyVault(stop)
    metrics = Metrics()
    with caplog.at_level(logging.INFO, logger="streamproc.ops.purge"):
        await asyncio.wait_for(run_purge(vault, 0.001, metrics, stop), timeout=30)  # type: ignore[arg-type]
    assert vault.calls == 3
    assert metrics.registry.get_sample_value("streamproc_vault_purged_rows_total") == 3
    text = caplog.text
    assert "ConnectionRefusedError" in text and "RuntimeError" in text
    assert "secret-value" not in text


def test_purge_interval_zero_disables_and_default_is_five_minutes() -> None:
    assert VaultSettings().purge_interval_s == 300
    assert VaultSettings(purge_interval_s=0).purge_interval_s == 0
    with pytest.raises(ValidationError):
        VaultSettings(purge_interval_s=-1)
