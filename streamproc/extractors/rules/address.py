"""Detailed addresses: street-level, deliverable ones (PL2). A city or country alone is not one.

Western: house number + capitalised street name + a street type from the lexicon, then optional
unit ("Apt 5B"), suburb/city parts, a state/region code and a postcode ("14 Harbour Road,
Lakeside, Ballarat, VIC 3350"). Chinese: administrative units in order (省/市/区/县/镇/街道)
followed by a road and a number (路/街/大道/巷/弄 … 号/栋/单元/室), "X路12号3栋".
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import cache

from streamproc.core.taxonomy import PrivacyLevel as PL

from . import digit_gate, lexicons
from .text import Hit, L, R, hit

# A capitalised word with lower case in it: "VIC" in "Ballarat, VIC 3350" is the region code.
_CAP = r"[A-Z][a-zà-ÿ'’\-][A-Za-zà-ÿ'’\-]{0,19}"
_UNIT = r"(?:,?\s+(?:Apt|Apartment|Unit|Suite|Ste|Flat|Fl|Floor|#)\.?\s?#?[A-Za-z0-9\-]{1,6})"
_PLACE = r"(?:,\s*|\n\s*)" + _CAP + r"(?:\s" + _CAP + r"){0,2}"
# "VIC 3350", "OR 97205-1234", a bare postcode, or a UK postcode "M20 6RT".
_REGION = (r"(?:,?\s+[A-Z]{2,3}\s+\d{4,5}(?:-\d{4})?|,?\s+\d{4,5}(?=\s|,|$)"
           r"|,?\s+[A-Z]{1,2}\d[A-Z\d]?\s\d[A-Z]{2})")
_COUNTRY = r"(?:,\s*(?:USA|US|United States|Australia|UK|United Kingdom|Canada|New Zealand|Ireland|France|Germany|Ghana|Singapore))"

_ZH_ADMIN = r"(?:[\u4e00-\u9fff]{2,7}?(?:省|自治区|市|区|县|镇|乡|街道)){0,4}"
_ZH_ROAD = r"[\u4e00-\u9fff]{1,8}?(?:路|街|大道|大街|巷|弄|胡同|道)"
_ZH_NUMBER = r"\s?\d{1,5}\s?(?:号|號)(?:院)?(?:\s?\d{1,3}\s?(?:栋|幢|号楼|座))?(?:\s?\d{1,2}\s?单元)?(?:\s?\d{1,5}\s?(?:室|房|号房))?"
_ZH_ADDRESS = re.compile(_ZH_ADMIN + _ZH_ROAD + _ZH_NUMBER + r"(?:[\u4e00-\u9fff]{0,4}?(?:公寓|小区|大厦|花园|顶层公寓))?")
# Every address holds a house number ("12号"). Its prefix (administrative units and road) spans at
# most 51 characters before that anchor and its tail at most 38 after it, so the expensive pattern
# only runs in windows around anchors: attempts at every character of a long CJK run would cost
# hundreds of steps each.
_ZH_ANCHOR = re.compile(r"(?<!\d)\d{1,5}\s?[号號]")
_ZH_BEFORE, _ZH_AFTER = 56, 44
# The anchor's tail. A pattern that opens with a character class is scanned for in C, where the
# anchor's lookbehind is tried at every position: 0.2 instead of 0.7 ms on a turn of 号 and dots
# without one digit (label[订单号]+dots).
_ZH_ANCHOR_TAIL = re.compile(r"\d\s?[号號]")


@cache
def _western() -> re.Pattern[str]:
    types = "|".join(re.escape(t) for t in sorted(lexicons.load("street_types"), key=len, reverse=True))
    street = L + r"\d{1,5}[A-Za-z]?\s+(?:" + _CAP + r"\s+){1,3}(?:" + types + r")\.?(?:\s+[NSEW]{1,2})?" + R
    return re.compile(street + _UNIT + "?" + r"(?:" + _PLACE + r"){0,3}" + _REGION + "?" + _COUNTRY + "?")


def western_addresses(text: str) -> Iterator[Hit | None]:
    if not re.search(r"\d", text):
        return
    for m in _western().finditer(text):
        tail = text[m.start():m.end()]
        # A postcode or a second place name makes it deliverable; a bare "12 Main Street" still is.
        confidence = 0.8 if re.search(r"\d{4,5}|,", tail[4:]) else 0.7
        yield hit(text, m.start(), m.end(), "Detailed Address", PL.PL2, "address", confidence)


# Lead-in words the lazy CJK prefix can swallow ("寄到浙江省…", "我住在…"). Used with
# `match(text, start, end)`, which anchors it at the address without copying the address out.
_ZH_LEAD = re.compile(r".{0,6}?(?:寄到|送到|发到|搬到|住在|位于|地址是|地址为|地址：|地址:)|(?:我|你|您|他|她)?家?(?:在|到|是|为)")


def _anchor_windows(text: str) -> Iterator[tuple[int, int]]:
    """Merged [start, end) windows around house numbers; every address lies inside one."""
    lo = hi = -1
    size = len(text)
    for a in _ZH_ANCHOR.finditer(text):
        start, end = a.span()
        start, end = max(0, start - _ZH_BEFORE), min(size, end + _ZH_AFTER)
        if start > hi:
            if hi > lo:
                yield lo, hi
            lo = start
        hi = end
    if hi > lo:
        yield lo, hi


def chinese_addresses(text: str) -> Iterator[Hit | None]:
    # No number sign, no anchor: two `in` tests instead of trying the anchor at every position
    # (0.7-1.9 ms on a 32,000-character turn of digits or CJK: near[zh_address], run[cjk_text]).
    if ("号" not in text and "號" not in text) or not _ZH_ANCHOR_TAIL.search(text):
        return
    for lo, hi in _anchor_windows(text):
        yield from _chinese_addresses_in(text, lo, hi)


def _chinese_addresses_in(text: str, lo: int, hi: int) -> Iterator[Hit | None]:
    for m in _ZH_ADDRESS.finditer(text, lo, hi):
        start, end = m.span()
        lead = _ZH_LEAD.match(text, start, end)
        if lead:
            start = lead.end()
        if end - start >= 5:
            yield hit(text, start, end, "Detailed Address", PL.PL2, "address_zh", 0.75)


_COORDS = re.compile(
    r"(?<![\d.])-?\d{1,2}\.\d{3,8}°?\s?[NS]?\s?,\s?-?\d{1,3}\.\d{3,8}°?\s?[EW]?(?![\d.])"
    r"|\d{1,2}°\s?\d{1,2}[′']\s?(?:\d{1,2}(?:\.\d+)?[″\"])?\s?[NS],?\s?\d{1,3}°\s?\d{1,2}[′']\s?(?:\d{1,2}(?:\.\d+)?[″\"])?\s?[EW]"
)


def coordinates(text: str) -> Iterator[Hit | None]:
    digits = digit_gate.profile(text)
    if "°" not in text and (digits.group < 4 or digits.longest < 5):
        return  # decimal degrees ("48.8584") are a digit group of 4+ digits and 5+ characters
    for m in _COORDS.finditer(text):
        yield hit(text, m.start(), m.end(), "Precise Location", PL.PL3, "coordinates", 0.8)


DETECTORS = (western_addresses, chinese_addresses, coordinates)
