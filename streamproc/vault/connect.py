"""Driver arguments for the vault's database connection: TLS to Postgres.

asyncpg takes an `ssl.SSLContext` through SQLAlchemy's `connect_args`, which is documented
and typed, unlike `?ssl=...` options in the URL. The modes follow libpq's `sslmode`:

    disable      plaintext
    prefer       TLS if the server offers it, unverified (asyncpg's own default)
    require      TLS, certificate not checked; with a root cert given, checked like verify-ca
                 (libpq does the same)
    verify-ca    TLS, certificate chains to the root cert (or the system's CAs)
    verify-full  verify-ca, and the certificate names the host we dialled

A client certificate and key (mutual TLS) may be added to any TLS mode. SQLite ignores all this.
"""

from __future__ import annotations

import ssl
from pathlib import Path
from typing import Any

from streamproc.core.errors import VaultError
from streamproc.vault.engine import is_sqlite


def ssl_context(
    mode: str, root_cert: Path | None = None, cert: Path | None = None, key: Path | None = None
) -> ssl.SSLContext | bool | None:
    """What asyncpg's `ssl` argument should be: False (disable), None (its default, prefer) or a context."""
    if mode == "disable":
        return False
    if mode == "prefer" and cert is None:
        return None
    verify = mode in ("verify-ca", "verify-full") or (mode == "require" and root_cert is not None)
    try:
        ctx = ssl.create_default_context(cafile=str(root_cert) if root_cert and verify else None)
        ctx.check_hostname = mode == "verify-full"
        if not verify:
            ctx.verify_mode = ssl.CERT_NONE
        if cert is not None:
            ctx.load_cert_chain(str(cert), str(key) if key else None)
    except (OSError, ssl.SSLError) as exc:
        # The file names are configuration, not secrets; the reason is the loader's.
        raise VaultError(f"cannot load the vault's TLS files ({type(exc).__name__}: {exc.strerror or exc})") from None
    return ctx


def connect_args(
    url: str, mode: str, root_cert: Path | None = None, cert: Path | None = None, key: Path | None = None
) -> dict[str, Any]:
    """`connect_args` for `Vault.open` / `migrate` on this URL."""
    if is_sqlite(url):
        return {}
    ctx = ssl_context(mode, root_cert, cert, key)
    return {} if ctx is None else {"ssl": ctx}
