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

from .firstpass import may_match
from .gate import compile_gated
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
    # The guard keeps a failed scan from restarting at every "eyJ" of one long "eyJ-eyJ-…" run.
    ("jwt", "Token", 0.95, r"(?<![_\-])eyJ[A-Za-z0-9_\-]{5,2000}+\.eyJ[A-Za-z0-9_\-]{5,4000}+\.[A-Za-z0-9_\-]{5,2000}"),
    ("npm_token", "Token", 0.9, r"npm_[A-Za-z0-9]{36}"),
    ("sendgrid_key", "Key", 0.95, r"SG\.[A-Za-z0-9_\-]{16,32}\.[A-Za-z0-9_\-]{16,64}"),
)
SHAPES = [(name, typ, conf, compile_gated(L + pat + R)) for name, typ, conf, pat in _SHAPES]

BEARER = compile_gated(r"(?i:\bbearer)\s++([A-Za-z0-9._~+/\-]{16,4000}=*)")
# A block is its BEGIN line, at most PEM_BODY characters, then the nearest END line (or the end of
# the text: a key cut off mid-paste is still a key). Found by two scans, not one lazy regex: a
# lazy body retried after every BEGIN of a text full of BEGIN lines is quadratic.
PEM_BEGIN = re.compile(r"-----BEGIN (?:[A-Z0-9]++ ){0,3}PRIVATE KEY(?: BLOCK)?-----")
PEM_END = re.compile(r"-----END (?:[A-Z0-9]++ ){0,3}PRIVATE KEY(?: BLOCK)?-----")
PEM_BODY = 10_000

_DB_SCHEMES = (
    r"postgres(?:ql)?|mysql|mariadb|mongodb(?:\+srv)?|redis|rediss|amqps?|mssql|sqlserver|"
    r"oracle|cockroachdb|clickhouse|neo4j(?:\+s)?|cassandra|couchdb|memcached|elasticsearch"
)
DB_URL = compile_gated(
    r"(?<![A-Za-z0-9+])(?:jdbc:)?(?i:" + _DB_SCHEMES + r")(?:\+[a-z0-9]++)?://[^\s\"'<>，。；）)]{1,500}"
)
JDBC = compile_gated(r"jdbc:[a-z0-9]++:[^\s\"'<>，。；]{3,500}")
# ODBC / ADO.NET: Key=Value; pairs that include a password.
ODBC = compile_gated(
    r"(?i:(?:Server|Data Source|Host|Driver|Provider|Database|Initial Catalog|User ID|Uid)"
    r"\s*+=[^;\n]{1,200};(?:\s*+[A-Za-z ]{2,30}\s*+=[^;\n]{0,200};?){1,15})"
)
ODBC_PASSWORD = re.compile(r"(?i)(?:password|pwd)\s*=")
def shaped_keys(text: str) -> Iterator[Hit | None]:
    for name, typ, conf, pattern in SHAPES:
        if not may_match(pattern, text):
            continue
        for m in pattern.finditer(text):
            yield hit(text, m.start(), m.end(), typ, PL.PL4, name, conf)
    for m in BEARER.finditer(text) if may_match(BEARER, text) else ():
        value = m.group(1)
        if any(c.isdigit() for c in value) and any(c.isalpha() for c in value):
            yield hit(text, m.start(1), m.end(1), "Token", PL.PL4, "bearer", 0.9)


def private_keys(text: str) -> Iterator[Hit | None]:
    if "-----BEGIN" not in text:
        return
    pos = 0
    while (begin := PEM_BEGIN.search(text, pos)) is not None:
        end = PEM_END.search(text, begin.end(), begin.end() + PEM_BODY + 64)
        if end is not None and end.start() <= begin.end() + PEM_BODY:
            stop = end.end()
        elif len(text) - begin.end() <= PEM_BODY:
            stop = len(text) - 1 if text.endswith("\n") else len(text)  # where "$" would match
        else:
            pos = begin.start() + 1
            continue
        yield Hit(begin.start(), stop, "Private Key", PL.PL4, "pem", 0.99)
        pos = max(stop, begin.start() + 1)


def connection_strings(text: str) -> Iterator[Hit | None]:
    seen: set[int] = set()
    for m in DB_URL.finditer(text) if may_match(DB_URL, text) else ():
        has_creds = "@" in m.group()
        seen.add(m.start())
        yield hit(text, m.start(), m.end(), "Database Connection String", PL.PL4, "dsn",
                  0.95 if has_creds else 0.7)
    for m in JDBC.finditer(text) if may_match(JDBC, text) else ():
        if m.start() not in seen:
            yield hit(text, m.start(), m.end(), "Database Connection String", PL.PL4, "dsn", 0.85)
    if "=" in text and ";" in text and may_match(ODBC, text):
        for m in ODBC.finditer(text):
            if ODBC_PASSWORD.search(m.group()):
                yield hit(text, m.start(), m.end(), "Database Connection String", PL.PL4, "dsn", 0.9,
                          trail=" \t\r\n;")


DETECTORS = (shaped_keys, private_keys, connection_strings)
