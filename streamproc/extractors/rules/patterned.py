"""Values recognisable by shape alone: emails and IP addresses.

Everything here is context-free, so it is the most precise family. Phone numbers (phones.py),
cards and IBANs (accounts.py) and national ids (national_ids.py) are validated by the libraries
built for them.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator

from streamproc.core.taxonomy import PrivacyLevel as PL

from . import digit_gate
from .text import Hit, R, hit

EMAIL = re.compile(
    r"(?<![A-Za-z0-9._%+-])[A-Za-z0-9][A-Za-z0-9._%+-]{0,63}@"
    r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.){1,8}[A-Za-z]{2,24}" + R
)

IPV4 = re.compile(r"(?<![0-9.])(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?![0-9]|\.\d)")
# Letters on either side mean code, not an address: `std::cout` is not the IPv6 address `d::c`.
IPV6 = re.compile(r"(?<![0-9A-Za-z:])(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}(?![0-9A-Za-z:])")


# "scheme://user:" right before: the "password@host" of a URL's userinfo, not an email address.
_USERINFO_BEFORE = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]{0,15}://[^\s/@:]{0,128}:$")


def emails(text: str) -> Iterator[Hit | None]:
    # A match starts with a letter or digit and ends with a letter, so `hit`'s trimming would
    # find nothing to trim: the Hit is built directly. On a turn of 4,571 addresses that is a
    # quarter of the detector (spans[same_email]: 5.4 -> 4.2 ms, same process); the rest is the
    # scan and the Hits themselves.
    for m in EMAIL.finditer(text):
        start, end = m.span()
        if start and text[start - 1] == ":" and _USERINFO_BEFORE.search(text, max(0, start - 160), start):
            continue
        yield Hit(start, end, "Email", PL.PL2, "email", 0.97)


# RFC 1918, carrier-grade NAT and IPv6 unique-local/link-local: addresses inside a network.
_INTERNAL = tuple(ipaddress.ip_network(n) for n in (
    "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "fc00::/7", "fe80::/10"))


def _private(addr: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    return any(addr.version == net.version and addr in net for net in _INTERNAL)


def ips(text: str) -> Iterator[Hit | None]:
    """IP addresses. Internal ranges are intranet entry points (system/attack surface), so PL4."""
    # Four dotted octets are one digit group of at least four digits and seven characters.
    digits = digit_gate.profile(text)
    for m in IPV4.finditer(text) if digits.group >= 4 and digits.longest >= 7 else ():
        addr = ipaddress.IPv4Address(m.group())
        if addr.is_loopback or addr.is_unspecified:
            continue
        level = PL.PL4 if _private(addr) else PL.PL2
        yield hit(text, m.start(), m.end(), "Network Identifier", level, "ip", 0.9)
    if "::" not in text and text.count(":") < 5:
        return
    for m in IPV6.finditer(text):
        raw = m.group()
        if raw.count(":") < 2 or not any(c.isdigit() for c in raw) or (
                not any(c.isalpha() for c in raw) and "::" not in raw):
            continue
        try:
            addr6 = ipaddress.IPv6Address(raw)
        except ValueError:
            continue
        if addr6.is_loopback or addr6.is_unspecified:
            continue
        level = PL.PL4 if _private(addr6) else PL.PL2
        yield hit(text, m.start(), m.end(), "Network Identifier", level, "ip", 0.85)


DETECTORS = (emails, ips)
