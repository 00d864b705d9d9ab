"""Payment cards and IBANs, validated by `python-stdnum` (LGPL-2.1+).

Shape plus checksum is near-certain (0.95+). For a firewall a cue word is enough on its own: a
card-length number after "my credit card number is" or an IBAN-shaped value after "IBAN" is
masked whole (country and bank prefix included) at a lower tier even when its checksum fails, a
typo'd number being just as private as a correct one. So is a 13-19 digit account number next to
a bank or account word (a salary card after a bank's name), card or not.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from stdnum import iban as std_iban
from stdnum import luhn, numdb

from streamproc.core.taxonomy import PrivacyLevel as PL

from . import digit_gate
from .cues import CueIndex
from .text import LNUM, RNUM, Hit, L, R, hit

# Groups of four (Visa, Mastercard, UnionPay up to 19 digits) or Amex's 4-6-5.
CARD = re.compile(LNUM + r"(?:\d{4}[ \-]?\d{6}[ \-]?\d{4,5}|\d{4}(?>[ \-]?\d{4}){2,3}+(?>[ \-]?\d{1,3})?+)" + RNUM)
# Country, check digits, then groups of four (spaces or dashes), a shorter last group.
IBAN = re.compile(L + r"[A-Z]{2}\d{2}(?>[ \-]?+[A-Z0-9]{4}){2,7}+(?>[ \-]?+[A-Z0-9]{1,4})?+" + R)
CARD_CUE = re.compile(
    r"(?i:credit[ -]?card|debit[ -]?card|card (?:number|no\.?|#)|card num|visa|master ?card|amex|"
    r"american express|discover|unionpay|maestro|\bcc\b|carte bancaire|tarjeta|kreditkarte|karte|"
    r"\bbank\b|account|acct|salary)"
    r"|信用卡|借记卡|储蓄卡|银行卡|工资卡|卡号|银联|银行|账户|账号|帐号"
)
IBAN_CUE = re.compile(
    r"(?i:iban|bank account|account (?:number|no\.?|#)|acct|wire|transfer|bank details|sepa|"
    r"kontonummer|numéro de compte|rib|cuenta|conto)|账号|账户|帳號"
)


# Country -> IBAN length, from stdnum's copy of the registry (its BBAN specs such as "8!n10!n").
# stdnum's validation costs ~0.2 ms; the length picks the one prefix worth validating.
IBAN_LENGTHS: dict[str, int] = {
    low: 4 + sum(int(n) for n in re.findall(r"(\d+)!", props.get("bban", "")))
    for _length, low, high, props, _children in numdb.get("iban").prefixes
    if low == high and "bban" in props
}


def cards(text: str) -> Iterator[Hit | None]:
    if digit_gate.profile(text).group < 13:
        return  # a card's 13-19 digits are one digit group: a turn of phone numbers has none
    cues = CueIndex(CARD_CUE, text)
    for m in CARD.finditer(text):
        digits = re.sub(r"\D", "", m.group())
        if not 13 <= len(digits) <= 19 or len(set(digits)) == 1:
            continue
        if luhn.is_valid(digits):
            yield hit(text, m.start(), m.end(), "Financial Account", PL.PL3, "card", 0.95)
        elif cues.near(m.start(), m.end(), 48, 8):
            yield hit(text, m.start(), m.end(), "Financial Account", PL.PL3, "card_cue", 0.7)


# IBAN letters as ISO 7064's base-10 digits (A=10 .. Z=35), for the checksum pre-check below.
_BASE10 = str.maketrans({chr(c): str(c - ord("A") + 10) for c in range(ord("A"), ord("Z") + 1)})
_ASCII_ALNUM = re.compile(r"[A-Z0-9]++")


def _checksum_fails(compact: str) -> bool:
    """True only when stdnum would reject `compact` (an IBAN without separators) on its checksum.

    stdnum's `is_valid` costs about 15 µs; a turn of 32,000 characters of "DE12 " holds 700
    IBAN shapes (near[iban]: 10 ms). The mod-97 check alone, done the way stdnum does it, rejects
    almost every such shape for a fraction of that. Non-ASCII digits go to stdnum unchecked."""
    if not _ASCII_ALNUM.fullmatch(compact):
        return False
    return int((compact[4:] + compact[:4]).translate(_BASE10)) % 97 != 1


def _iban_span(text: str, start: int, end: int) -> int:
    """The end of the valid IBAN starting at `start` within text[start:end], else 0.

    The shape may swallow a following word of four capitals ("… 00 THEN"): the country's
    registered length says where the IBAN ends, and only that prefix is validated.
    """
    want = IBAN_LENGTHS.get(text[start:start + 2])
    if want is None:
        return 0
    compact = text[start:end].replace(" ", "").replace("-", "")
    if len(compact) < want or _checksum_fails(compact[:want]):
        return 0
    seen = 0
    for i in range(start, end):
        if text[i].isalnum():
            seen += 1
            if seen == want:
                return i + 1 if std_iban.is_valid(text[start:i + 1]) else 0
    return 0


def warm_up() -> None:
    """Load stdnum's IBAN registry file before the first message needs it."""
    std_iban.is_valid("GB82WEST12345698765432")


def ibans(text: str) -> Iterator[Hit | None]:
    cues = CueIndex(IBAN_CUE, text)
    for m in IBAN.finditer(text):
        end = _iban_span(text, m.start(), m.end())
        if end:
            yield hit(text, m.start(), end, "Financial Account", PL.PL3, "iban", 0.97)
        # The cue look-up first: a binary search, where counting digits costs 1.8 µs a shape.
        elif cues.near(m.start(), m.end(), 48, 8) and sum(map(str.isdigit, m.group())) >= 8:
            yield hit(text, m.start(), m.end(), "Financial Account", PL.PL3, "iban_cue", 0.7)


DETECTORS = (cards, ibans)
