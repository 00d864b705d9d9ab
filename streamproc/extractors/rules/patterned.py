"""Values recognisable by shape alone, confirmed by a checksum where one exists.

Emails, phone numbers, payment cards (Luhn), IBANs (mod 97), Chinese resident IDs (ISO 7064),
US SSNs, IP addresses. Everything here is context-free, so it is the most precise family; shapes
that collide with ordinary numbers (bare 11-digit runs, dash-less SSNs) need a cue word nearby.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator

from streamproc.core.taxonomy import PrivacyLevel as PL

from .checksums import cn_resident_id_ok, iban_ok, luhn_ok
from .text import LNUM, RNUM, Hit, L, R, hit

EMAIL = re.compile(
    r"(?<![A-Za-z0-9._%+-])[A-Za-z0-9][A-Za-z0-9._%+-]{0,63}@"
    r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.){1,8}[A-Za-z]{2,24}" + R
)

# +CC then 6-14 more digits in groups; separators space . - and (0) style area codes.
PHONE_INTL = re.compile(LNUM + r"\+\d{1,3}(?:[ .\-]?\(?\d{1,5}\)?){1,6}" + RNUM)
# Mainland mobile: 1[3-9] + 9 digits, optionally grouped 3-4-4.
PHONE_CN = re.compile(LNUM + r"1[3-9]\d(?:[ \-]?\d{4}){2}" + RNUM)
# North American with mandatory separators: (206) 555-0134, 206-555-0134, 206.555.0134.
PHONE_NANP = re.compile(LNUM + r"(?:\(\d{3}\)\s?|\d{3}[\-. ])\d{3}[\-. ]\d{4}" + RNUM)
# European national forms: FR 06 12 34 56 78, UK 07700 900123 / 020 7946 0958, DE 030 1234567.
PHONE_EU = re.compile(
    LNUM + r"(?:0\d(?:[ .]\d{2}){4}|0\d{4}[ ]\d{6}|0\d{2,3}[ ]\d{3,4}[ ]?\d{4}|0\d{2,4}[ /]\d{6,8})" + RNUM
)
PHONE_CUE = re.compile(
    r"(?i:phone|mobile|cell|tel|telephone|whatsapp|call me|text me|contact number|landline|"
    r"电话|手机|手機|座机|联系方式|号码|致电|拨打)"
)

CARD = re.compile(LNUM + r"\d{4}(?:[ \-]?\d{3,4}){2,3}(?:[ \-]?\d{1,3})?" + RNUM)
IBAN = re.compile(L + r"[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?" + R)
CN_ID = re.compile(LNUM + r"\d{17}[\dXx]" + R)
SSN = re.compile(LNUM + r"(?!000|666|9\d\d)\d{3}-(?!00)\d{2}-(?!0000)\d{4}" + RNUM)
SSN_BARE = re.compile(LNUM + r"(?!000|666|9\d\d)\d{3} ?(?!00)\d{2} ?(?!0000)\d{4}" + RNUM)
SSN_CUE = re.compile(r"(?i:\bSSN\b|social security(?: number| no\.?)?|社会安全号|社保号)")

IPV4 = re.compile(r"(?<![0-9.])(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?![0-9]|\.\d)")
IPV6 = re.compile(r"(?<![0-9A-Fa-f:])(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}(?![0-9A-Fa-f:])")


def _cue_near(cue: re.Pattern[str], text: str, start: int, end: int, window: int = 40) -> bool:
    return cue.search(text, max(0, start - window), min(len(text), end + 12)) is not None


def emails(text: str) -> Iterator[Hit | None]:
    for m in EMAIL.finditer(text):
        yield hit(text, m.start(), m.end(), "Email", PL.PL2, "email", 0.97)


def phones(text: str) -> Iterator[Hit | None]:
    for m in PHONE_INTL.finditer(text):
        digits = sum(c.isdigit() for c in m.group())
        if 8 <= digits <= 15:
            yield hit(text, m.start(), m.end(), "Phone Number", PL.PL2, "phone", 0.9)
    for m in PHONE_CN.finditer(text):
        cue = _cue_near(PHONE_CUE, text, m.start(), m.end())
        yield hit(text, m.start(), m.end(), "Phone Number", PL.PL2, "phone", 0.9 if cue else 0.7)
    for pattern in (PHONE_NANP, PHONE_EU):
        for m in pattern.finditer(text):
            if _inside_digit_groups(text, m.start(), m.end()):
                continue  # "0044 0532 0130" inside an IBAN or card number
            cue = _cue_near(PHONE_CUE, text, m.start(), m.end())
            # Built directly: the leading "(" of "(415) 555-0199" belongs to the number.
            yield Hit(m.start(), m.end(), "Phone Number", PL.PL2, "phone", 0.85 if cue else 0.6)


def _inside_digit_groups(text: str, start: int, end: int) -> bool:
    return bool(re.search(r"[A-Z0-9][ \-]$", text[max(0, start - 2):start])) or bool(
        re.match(r"[ \-]\d", text[end:end + 2]))


def cards(text: str) -> Iterator[Hit | None]:
    for m in CARD.finditer(text):
        digits = re.sub(r"\D", "", m.group())
        if 13 <= len(digits) <= 19 and luhn_ok(digits) and len(set(digits)) > 1:
            yield hit(text, m.start(), m.end(), "Financial Account", PL.PL3, "card", 0.95)


def ibans(text: str) -> Iterator[Hit | None]:
    for m in IBAN.finditer(text):
        if iban_ok(m.group()):
            yield hit(text, m.start(), m.end(), "Financial Account", PL.PL3, "iban", 0.97)


def resident_ids(text: str) -> Iterator[Hit | None]:
    for m in CN_ID.finditer(text):
        if cn_resident_id_ok(m.group()):
            yield hit(text, m.start(), m.end(), "ID Number", PL.PL3, "cn_id", 0.97)


def ssns(text: str) -> Iterator[Hit | None]:
    for m in SSN.finditer(text):
        yield hit(text, m.start(), m.end(), "ID Number", PL.PL3, "ssn", 0.85)
    if SSN_CUE.search(text):
        for m in SSN_BARE.finditer(text):
            if _cue_near(SSN_CUE, text, m.start(), m.end()):
                yield hit(text, m.start(), m.end(), "ID Number", PL.PL3, "ssn", 0.8)


# RFC 1918, carrier-grade NAT and IPv6 unique-local/link-local: addresses inside a network.
_INTERNAL = tuple(ipaddress.ip_network(n) for n in (
    "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "fc00::/7", "fe80::/10"))


def _private(addr: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    return any(addr.version == net.version and addr in net for net in _INTERNAL)


def ips(text: str) -> Iterator[Hit | None]:
    """IP addresses. Internal ranges are intranet entry points (system/attack surface), so PL4."""
    for m in IPV4.finditer(text):
        addr = ipaddress.IPv4Address(m.group())
        if addr.is_loopback or addr.is_unspecified:
            continue
        level = PL.PL4 if _private(addr) else PL.PL2
        yield hit(text, m.start(), m.end(), "Network Identifier", level, "ip", 0.9)
    if "::" not in text and text.count(":") < 5:
        return
    for m in IPV6.finditer(text):
        raw = m.group()
        if raw.count(":") < 2 or not any(c.isalpha() for c in raw) and "::" not in raw:
            continue
        try:
            addr6 = ipaddress.IPv6Address(raw)
        except ValueError:
            continue
        if addr6.is_loopback or addr6.is_unspecified:
            continue
        level = PL.PL4 if _private(addr6) else PL.PL2
        yield hit(text, m.start(), m.end(), "Network Identifier", level, "ip", 0.85)


DETECTORS = (emails, phones, cards, ibans, resident_ids, ssns, ips)
