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
from stdnum import luhn

from streamproc.core.taxonomy import PrivacyLevel as PL

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


def _cue_before(cue: re.Pattern[str], text: str, start: int, end: int, window: int = 48) -> bool:
    return cue.search(text, max(0, start - window), min(len(text), end + 8)) is not None


def cards(text: str) -> Iterator[Hit | None]:
    for m in CARD.finditer(text):
        digits = re.sub(r"\D", "", m.group())
        if not 13 <= len(digits) <= 19 or len(set(digits)) == 1:
            continue
        if luhn.is_valid(digits):
            yield hit(text, m.start(), m.end(), "Financial Account", PL.PL3, "card", 0.95)
        elif _cue_before(CARD_CUE, text, m.start(), m.end()):
            yield hit(text, m.start(), m.end(), "Financial Account", PL.PL3, "card_cue", 0.7)


def _iban_span(text: str, start: int, end: int) -> int:
    """The longest prefix of text[start:end] that is a valid IBAN, else 0.

    The shape may swallow a following word of four capitals ("… 00 THEN"), so shorter prefixes
    ending at a group boundary are tried too (at most eight).
    """
    while end > start + 15:
        if std_iban.is_valid(text[start:end]):
            return end
        cut = max(text.rfind(" ", start, end), text.rfind("-", start, end))
        if cut <= start:
            return 0
        end = cut
    return 0


def warm_up() -> None:
    """Load stdnum's IBAN registry file before the first message needs it."""
    std_iban.is_valid("GB82WEST12345698765432")


def ibans(text: str) -> Iterator[Hit | None]:
    for m in IBAN.finditer(text):
        end = _iban_span(text, m.start(), m.end())
        if end:
            yield hit(text, m.start(), end, "Financial Account", PL.PL3, "iban", 0.97)
        elif sum(c.isdigit() for c in m.group()) >= 8 and _cue_before(IBAN_CUE, text, m.start(), m.end()):
            yield hit(text, m.start(), m.end(), "Financial Account", PL.PL3, "iban_cue", 0.7)


DETECTORS = (cards, ibans)
