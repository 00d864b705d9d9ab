"""Credentials recognisable by their published shapes: API keys, tokens, private keys, DSNs.

Vendors prefix their secrets (AKIA, ghp_, xoxb-, sk_live_, AIza, eyJ...) precisely so scanners can
find them; a prefix match is near-certain. Connection strings and URLs that embed a password are
PL4 whole (a DSN without its password is still an intranet entry point). Other URLs with inline
credentials or tokens are urls.py's.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from streamproc.core.taxonomy import PrivacyLevel as PL

from .text import Hit, L, R, hit

# (detector, type, confidence, pattern)
_SHAPES: tuple[tuple[str, str, float, str], ...] = (
    ("aws_key", "Key", 0.97, r"(?:AKIA|ASIA|AGPA|AIDA|AROA)[0-9A-Z]{16}"),
    ("github_token", "Token", 0.97, r"(?:gh[pousr]_[A-Za-z0-9]{30,255}|github_pat_[A-Za-z0-9_]{22,255})"),
    ("gitlab_token", "Token", 0.95, r"glpat-[A-Za-z0-9_\-]{20,64}"),
    ("slack_token", "Token", 0.95, r"xox[abposr]-[A-Za-z0-9\-]{10,200}"),
    ("stripe_key", "Key", 0.95, r"(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{10,128}"),
    ("stripe_key", "Key", 0.6, r"pk_(?:live|test)_[A-Za-z0-9]{10,128}"),
    ("openai_key", "Key", 0.95, r"sk-(?:proj-|ant-(?:api\d\d-)?)?[A-Za-z0-9_\-]{20,200}"),
    ("google_key", "Key", 0.95, r"AIza[0-9A-Za-z_\-]{35}"),
    ("jwt", "Token", 0.95, r"eyJ[A-Za-z0-9_\-]{5,2000}\.eyJ[A-Za-z0-9_\-]{5,4000}\.[A-Za-z0-9_\-]{5,2000}"),
    ("npm_token", "Token", 0.9, r"npm_[A-Za-z0-9]{36}"),
    ("sendgrid_key", "Key", 0.95, r"SG\.[A-Za-z0-9_\-]{16,32}\.[A-Za-z0-9_\-]{16,64}"),
)
SHAPES = [(name, typ, conf, re.compile(L + pat + R)) for name, typ, conf, pat in _SHAPES]

BEARER = re.compile(r"(?i:\bbearer)\s+([A-Za-z0-9._~+/\-]{16,4000}=*)")
PEM = re.compile(
    r"-----BEGIN (?:[A-Z0-9]+ ){0,3}PRIVATE KEY(?: BLOCK)?-----"
    r"[\s\S]{0,10000}?(?:-----END (?:[A-Z0-9]+ ){0,3}PRIVATE KEY(?: BLOCK)?-----|$)"
)

_DB_SCHEMES = (
    r"postgres(?:ql)?|mysql|mariadb|mongodb(?:\+srv)?|redis|rediss|amqps?|mssql|sqlserver|"
    r"oracle|cockroachdb|clickhouse|neo4j(?:\+s)?|cassandra|couchdb|memcached|elasticsearch"
)
DB_URL = re.compile(
    r"(?<![A-Za-z0-9+])(?:jdbc:)?(?i:" + _DB_SCHEMES + r")(?:\+[a-z0-9]+)?://[^\s\"'<>，。；）)]{1,500}"
)
JDBC = re.compile(r"jdbc:[a-z0-9]+:[^\s\"'<>，。；]{3,500}")
# ODBC / ADO.NET: Key=Value; pairs that include a password.
ODBC = re.compile(
    r"(?i:(?:Server|Data Source|Host|Driver|Provider|Database|Initial Catalog|User ID|Uid)"
    r"\s*=[^;\n]{1,200};(?:\s*[A-Za-z ]{2,30}\s*=[^;\n]{0,200};?){1,15})"
)
ODBC_PASSWORD = re.compile(r"(?i)(?:password|pwd)\s*=")
def shaped_keys(text: str) -> Iterator[Hit | None]:
    for name, typ, conf, pattern in SHAPES:
        for m in pattern.finditer(text):
            yield hit(text, m.start(), m.end(), typ, PL.PL4, name, conf)
    for m in BEARER.finditer(text):
        value = m.group(1)
        if any(c.isdigit() for c in value) and any(c.isalpha() for c in value):
            yield hit(text, m.start(1), m.end(1), "Token", PL.PL4, "bearer", 0.9)


def private_keys(text: str) -> Iterator[Hit | None]:
    if "-----BEGIN" not in text:
        return
    for m in PEM.finditer(text):
        yield Hit(m.start(), m.end(), "Private Key", PL.PL4, "pem", 0.99)


def connection_strings(text: str) -> Iterator[Hit | None]:
    seen: set[int] = set()
    for m in DB_URL.finditer(text):
        has_creds = "@" in m.group()
        seen.add(m.start())
        yield hit(text, m.start(), m.end(), "Database Connection String", PL.PL4, "dsn",
                  0.95 if has_creds else 0.7)
    for m in JDBC.finditer(text):
        if m.start() not in seen:
            yield hit(text, m.start(), m.end(), "Database Connection String", PL.PL4, "dsn", 0.85)
    if "=" in text and ";" in text:
        for m in ODBC.finditer(text):
            if ODBC_PASSWORD.search(m.group()):
                yield hit(text, m.start(), m.end(), "Database Connection String", PL.PL4, "dsn", 0.9,
                          trail=" \t\r\n;")


DETECTORS = (shaped_keys, private_keys, connection_strings)
