"""URLs that carry a secret: credentials in the userinfo, tokens in the query or path, signed URLs,
webhook URLs. Ordinary links stay.

Whoever holds such a URL can use it at once, so the whole URL is PL4 (the model card's "keys":
"connection strings containing credentials"; "admin portal URLs"), not just the secret inside
it: masking only `hunter22` of `https://dan:hunter22@intranet.example.com/admin` would still
publish the intranet entry point and the user name. Types:
- credentials in the userinfo (`scheme://user:password@host`): Database Connection String, the
  taxonomy's tag for a connection string that embeds credentials, whatever the scheme (database
  schemes are handled by keys.py with the same tag);
- bearer capabilities (signed URLs, webhooks, `?token=`/`access_token=`/`sig=` and tokens in the
  path after /reset/, /invite/, …): Token.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import parse_qsl, urlsplit

from streamproc.core.taxonomy import PrivacyLevel as PL

from .text import SECRET_TRAIL, Hit, hit

# A URL runs to the first space, quote, angle bracket or full-width punctuation; bounded length.
URL = re.compile(r"(?<![A-Za-z0-9+.\-])[A-Za-z][A-Za-z0-9+.\-]{1,15}+://[^\s\"'<>`，。；）」】]{1,2000}+")
_DB_SCHEME = re.compile(
    r"(?i)(?:jdbc:)?(?:postgres(?:ql)?|mysql|mariadb|mongodb(?:\+srv)?|redis|rediss|amqps?|mssql|sqlserver|"
    r"oracle|cockroachdb|clickhouse|neo4j(?:\+s)?|cassandra|couchdb|memcached|elasticsearch)(?:\+[a-z0-9]+)?://"
)
# Query parameters whose value is a credential (lower-cased names).
SECRET_PARAMS = frozenset({
    "token", "access_token", "id_token", "refresh_token", "auth", "auth_token", "authtoken", "api_key",
    "apikey", "api-key", "key", "secret", "client_secret", "password", "pass", "pwd", "passwd", "sig",
    "signature", "session", "sessionid", "session_id", "sid", "code", "otp", "jwt", "bearer", "ticket",
    "x-amz-signature", "x-amz-credential", "x-amz-security-token", "x-goog-signature", "x-goog-credential",
    "googleaccessid", "awsaccesskeyid", "private_token", "invite", "magic", "reset_token",
})
# Path segments after which the next segment is a capability token.
_TOKEN_PATH = re.compile(
    r"(?i)/(?:reset(?:[-_]password)?|password[-_]reset|invite|invitation|magic(?:[-_]link)?|verify|"
    r"confirm(?:ation)?|activate|activation|token|auth|login|unsubscribe|share|s|d|join)/"
    r"(?P<tok>[A-Za-z0-9_\-]{16,512}+)"
)
WEBHOOK = re.compile(
    r"(?i)^https?://(?:hooks\.slack\.com/(?:services|workflows|triggers)/|"
    r"(?:ptb\.|canary\.)?discord(?:app)?\.com/api/webhooks/\d|[a-z0-9\-]+\.webhook\.office\.com/webhookb2/|"
    r"outlook\.office(?:365)?\.com/webhook/|[a-z0-9\-]+\.logic\.azure\.com/workflows/|"
    r"api\.telegram\.org/bot\d)"
)


def _token_like(value: str) -> bool:
    """Long enough and mixed enough to be a credential, not a word or a plain number."""
    return len(value) >= 8 and any(c.isdigit() for c in value) and any(c.isalpha() for c in value) or len(value) >= 20


def _classify(url: str) -> tuple[str, str, float] | None:
    """(type, detector, confidence) for a secret-bearing URL, or None for an ordinary link."""
    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError:
        return None
    if password:
        return "Database Connection String", "url_credentials", 0.95
    if WEBHOOK.match(url):
        return "Token", "webhook_url", 0.95
    for name, value in parse_qsl(parts.query, keep_blank_values=False):
        if name.lower() in SECRET_PARAMS and _token_like(value):
            return "Token", "url_token", 0.9
    tok = _TOKEN_PATH.search(parts.path)
    if tok and _token_like(tok.group("tok")) and not re.fullmatch(r"[0-9a-f\-]{32,40}", tok.group("tok")):
        return "Token", "url_path_token", 0.8
    return None


def secret_urls(text: str) -> Iterator[Hit | None]:
    if "://" not in text:
        return
    for m in URL.finditer(text):
        if _DB_SCHEME.match(m.group()):
            continue  # keys.connection_strings reports database URLs, with or without credentials
        end = m.end()
        while end > m.start() and text[end - 1] in SECRET_TRAIL + ")]}!?":
            if text[end - 1] == ")" and "(" in text[m.start():end]:
                break
            end -= 1
        found = _classify(text[m.start():end])
        if found:
            typ, detector, confidence = found
            yield hit(text, m.start(), end, typ, PL.PL4, detector, confidence, trail=SECRET_TRAIL)


DETECTORS = (secret_urls,)
