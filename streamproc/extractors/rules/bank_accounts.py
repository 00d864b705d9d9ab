"""Accounts named by a Chinese or English bank cue (8-19 digits, checksum or not), or by brand (PL3).

accounts.py (phones/IBAN work) covers 13-19 digit numbers after English bank words; this module
adds Chinese bank names and 账号/卡号 cues, shorter account numbers, and "my Amex Platinum card".

A 16-19 digit salary-card number after "工商银行", or "account 0123456789" after "Barclays", is a
financial account whether or not it passes Luhn: many real account numbers carry no Luhn digit,
and synthetic data rarely does. The cue (a bank name from lexicons/banks.txt, a Chinese "…银行",
or account/card/卡号/账号/账户/routing/IBAN words) must come at most ~24 characters before the
number. Bounded repeats only.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import cache

from streamproc.core.taxonomy import PrivacyLevel as PL

from . import lexicons
from .text import LNUM, RNUM, Hit, hit, word_alternation

_NUMBER = r"(?P<num>\d{4}(?:[ \-]?\d{2,6}){1,4}|\d{6,19})"


@cache
def _pattern() -> re.Pattern[str]:
    banks = word_alternation(lexicons.load("banks"))
    cue = (r"(?:" + banks + r"|[A-Z][A-Za-z]{1,20}(?:\s[A-Z][A-Za-z]{1,20}){0,2}\sBank|[\u4e00-\u9fff]{2,6}银行|工行|建行|农行|中行|招行|交行|"
           r"(?i:\b(?:account|acct|a/c|card|routing|sort\scode|IBAN|BSB|checking|savings|debit|credit)\b)|"
           r"卡号|账号|帐号|账户|帐户|银行卡|储蓄卡|信用卡|借记卡|工资卡|收款账户)")
    return re.compile(cue + r"(?P<gap>[^\d\n。.!?]{0,24}?)" + LNUM + _NUMBER + RNUM)


def bank_numbers(text: str) -> Iterator[Hit | None]:
    if not re.search(r"\d{6}", text.replace(" ", "").replace("-", "")):
        return
    for m in _pattern().finditer(text):
        value = m.group("num")
        digits = sum(map(str.isdigit, value))
        if digits < 8 or digits > 19:
            continue
        if re.fullmatch(r"(?:19|20)\d{6}", value):
            continue  # a date written 20240315
        yield hit(text, m.start("num"), m.end("num"), "Financial Account", PL.PL3, "bank_number", 0.7)


@cache
def _named_account() -> re.Pattern[str]:
    brands = word_alternation(lexicons.load("banks") | lexicons.load("card_brands"))
    return re.compile(r"(?P<v>" + brands + r"(?:\s\(?[A-Z][A-Za-z]{1,15}\)?){0,2}\s(?:credit\s|debit\s)?(?:card|account))\b")


def named_accounts(text: str) -> Iterator[Hit | None]:
    """"my Amex Platinum card", "the Chase account": which account, without its number."""
    if "card" not in text and "account" not in text:
        return
    for m in _named_account().finditer(text):
        yield hit(text, m.start("v"), m.end("v"), "Financial Account", PL.PL3, "named_account", 0.55)


DETECTORS = (bank_numbers, named_accounts)
