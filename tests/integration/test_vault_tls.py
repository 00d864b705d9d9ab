"""Postgres over TLS with `verify-full`, against the local server infra/postgres.sh starts (a
locally generated CA; the server certificate names localhost and 127.0.0.1). The password comes
from `vault.password`, never from the URL."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from pydantic import SecretStr
from sqlalchemy import text
from sqlalchemy.engine import make_url

from streamproc.app import open_vault
from streamproc.core.errors import VaultError
from streamproc.settings import Settings
from streamproc.vault.connect import connect_args
from streamproc.vault.engine import make_engine
from tests.conftest import service_missing

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.integration


@pytest.fixture(scope="session")
def pg_ca(pg_url: str) -> Path:
    """The CA that signed the test server's certificate: STREAMPROC_TEST_PG_CA, else
    `infra/postgres.sh ca` for the server's port."""
    explicit = os.environ.get("STREAMPROC_TEST_PG_CA", "").strip()
    if explicit:
        return Path(explicit)
    port = str(make_url(pg_url).port or 5432)
    out = subprocess.run(
        [str(ROOT / "infra" / "postgres.sh"), "ca"],
        capture_output=True, text=True, timeout=60, env={**os.environ, "STREAMPROC_PG_PORT": port},
    )
    if out.returncode != 0 or not out.stdout.strip():
        service_missing("Postgres with TLS (its CA file)", "infra/postgres.sh start")
    return Path(out.stdout.strip().splitlines()[-1])


def tls_settings(url: str, tmp_path: Path, **vault: object) -> Settings:
    """Settings as an operator writes them: password apart from the URL, TLS by settings."""
    parsed = make_url(url)
    assert parsed.password
    base = Settings(state_dir=tmp_path)
    update = {
        "url": parsed.set(password=None).render_as_string(hide_password=False),
        "password": SecretStr(parsed.password),
        **vault,
    }
    return base.model_copy(update={"vault": base.vault.model_copy(update=update)})


def other_ca(path: Path) -> Path:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "not the server's CA")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return path


async def test_verify_full_with_the_right_ca_connects_over_tls(fresh_pg_url: str, pg_ca: Path, tmp_path: Path) -> None:
    settings = tls_settings(fresh_pg_url, tmp_path, ssl_mode="verify-full", ssl_root_cert=pg_ca)
    async with open_vault(settings) as vault:  # migrations and the vault both go over TLS
        await vault.ping()
        await vault.set_policy("u", await vault.get_policy("u"))
    v = settings.vault
    engine = make_engine(settings.vault_url, connect_args=connect_args(settings.vault_url, v.ssl_mode, v.ssl_root_cert))
    try:
        async with engine.connect() as conn:
            on_tls = await conn.scalar(text("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()"))
    finally:
        await engine.dispose()
    assert on_tls is True


@pytest.mark.parametrize("problem", ["wrong CA", "wrong host"])
async def test_verify_full_refuses_a_server_it_cannot_verify_with_a_one_line_error(
    fresh_pg_url: str, pg_ca: Path, tmp_path: Path, problem: str
) -> None:
    if problem == "wrong CA":
        settings = tls_settings(fresh_pg_url, tmp_path, ssl_mode="verify-full", ssl_root_cert=other_ca(tmp_path / "ca.pem"))
        expected = "unable to get local issuer certificate"
    else:
        # Same server and address, but a name its certificate does not carry.
        url = make_url(fresh_pg_url).set(host="127.1").render_as_string(hide_password=False)
        settings = tls_settings(url, tmp_path, ssl_mode="verify-full", ssl_root_cert=pg_ca)
        expected = "Hostname mismatch"
    with pytest.raises(VaultError) as caught:
        async with open_vault(settings):
            pass
    message = str(caught.value)
    assert "\n" not in message and "TLS certificate of the database server not accepted" in message
    assert expected in message
    assert settings.vault.password is not None
    assert settings.vault.password.get_secret_value() not in message


async def test_ssl_mode_disable_connects_in_plaintext(fresh_pg_url: str, tmp_path: Path) -> None:
    settings = tls_settings(fresh_pg_url, tmp_path, ssl_mode="disable")
    engine = make_engine(settings.vault_url, connect_args=connect_args(settings.vault_url, "disable"))
    try:
        async with engine.connect() as conn:
            on_tls = await conn.scalar(text("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()"))
    finally:
        await engine.dispose()
    assert on_tls is False
