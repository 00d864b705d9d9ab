"""Identifiers people announce with a label: "Passport Number: X", "订单号是 Y", "my username is z".

A label fixes both the type and the level of whatever value follows it, so one table drives all
of them. Forms and letters in chat ("Name: … • Driver License Number: …") make this the most
common way documents, accounts and bookings appear. Licence plates also come by shape (Chinese
plates are unambiguous) or in brackets after a car make.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import cache

from streamproc.core.taxonomy import PrivacyLevel as PL

from . import lexicons
from .firstpass import may_match
from .gate import compile_gated
from .text import Hit, L, R, hit, word_alternation

# (detector, type, level, label regex, value kind). Order matters: specific labels first.
_LABELS: tuple[tuple[str, str, PL, str, str], ...] = (
    ("passport", "ID Number", PL.PL3, r"(?i:passport(?:[ _](?:number|no\.?|num|#))?)|护照号码?|护照", "doc"),
    ("driver_license", "ID Number", PL.PL3,
     r"(?i:driver[’']?s?[ _]licen[cs]e(?:[ _](?:number|no\.?|#))?|DL (?:number|no\.?|#))|驾驶证号?|驾照号?码?", "doc"),
    ("national_id", "ID Number", PL.PL3,
     r"(?i:(?:real[ _])?ID[ _](?:number|no\.?|card(?: number)?)|national (?:id|identity)(?: number| card)?|"
     r"identity card(?: number)?|tax (?:id|file number)|TFN|NINO|national insurance number|"
     r"medicare (?:number|card)|health card number|SIN)|身份证号码?|身份证|证件号码?", "doc"),
    ("license_plate", "ID Number", PL.PL3,
     r"(?i:licen[cs]e plate(?: number)?|plate(?: number)?|number plate|registration(?: number)?|rego)|车牌号?码?", "doc"),
    ("bank_account", "Financial Account", PL.PL3,
     r"(?i:(?:bank |checking |savings |routing )?account (?:number|no\.?|#)|acct\.? ?(?:no\.?|#)?|"
     r"routing number|sort code|BSB|policy (?:number|no\.?)|insurance policy)|银行账号|银行卡号|卡号|账号|保单号", "account"),
    ("username", "Account ID/Username", PL.PL2,
     r"(?i:user[ _-]?name|user[ _-]?id|login(?: id| name)?|handle|screen name|gamertag|"
     r"member(?:ship)? (?:id|number|no\.?)|wechat(?: id)?|skype(?: id)?|discord|telegram|customer (?:id|number|no\.?)|employee (?:id|number|no\.?)|"
     r"staff (?:id|number)|student (?:id|number)|patient (?:id|number)|UID)|用户名|用户ID|会员号|工号|学号|账户名|微信号|QQ号|抖音号|微博账号|登录名", "handle"),
    ("order_ref", "Transaction Record", PL.PL3,
     r"(?i:order(?: number| no\.?| id| #)?|booking(?: reference| ref\.?| number| code| id)?|"
     r"reservation(?: number| code| id)?|confirmation(?: number| code| no\.?)|receipt(?: number| no\.?)?|"
     r"invoice(?: number| no\.?)?|transaction(?: id| number| reference| ref\.?)|txn(?: id)?|"
     r"tracking(?: number| no\.?| code)?|refund(?: reference| id)|claim(?: number| id))|"
     r"预订参考号|预订号|订单号|订单编号|订单|流水号|交易号|交易编号|快递单号|运单号|单号|发票号|确认号", "ref"),
    ("work_ref", "Business Secret", PL.PL4,
     r"(?i:project(?: id| code| number)|ticket(?: number| id| #)?|case(?: number| id| #)|"
     r"report(?: id| number)?|reference(?: number| code| id)?|ref(?:\.|erence)? ?(?:no\.?|#)|listing(?: id)?|"
     r"grant(?: number| id)?|contract(?: number| no\.?)|work order|task id)|参考号|系统参考号|工单号|项目编号|合同编号", "ref"),
)

# The gap between a label and its separator never ends in whitespace: the separator's `\s*+` takes
# that whitespace anyway, so a gap that ended in it would reach the same position as a shorter gap
# already tried (and failed) before it. Excluding those ends changes no match, but a label followed
# by 32,000 spaces is no longer rescanned once per gap length (25 times): 10.3 -> 0.9 ms on
# label[订单号]+fullwidth_spaces.
_GAP = r"(?:\s*+\((?:[^()\n]{0,20})\))?(?:[^\d\n。！？!?；;，,:：]{0,23}?[^\s\d。！？!?；;，,:：])??"
_SEP = r"\s*+(?:[:：=]|#(?![A-Za-z0-9])|(?i:\bis\b|\bwas\b|\bas\b|\bof\b)|是|为|為)?\s*+[(（\"'“‘]?\s*+"
_VALUES = {
    "doc": r"(?P<value>[A-Z0-9](?:[A-Z0-9]|[- ](?=[A-Z0-9])){4,24})",
    "account": r"(?P<value>[0-9](?:[0-9]|[- ](?=[0-9])){5,30})",
    "handle": r"(?P<value>@?[A-Za-z0-9][A-Za-z0-9._\-]{2,40})",
    "ref": r"(?P<value>#?[A-Za-z0-9](?:[A-Za-z0-9]|[-_/.](?=[A-Za-z0-9])){3,40})",
}
_PATTERNS = [
    (name, typ, level, kind, compile_gated(r"(?P<cue>" + L + "(?:" + label + r"))" + R + _GAP + _SEP + _VALUES[kind] + R))
    for name, typ, level, label, kind in _LABELS
]
_COMMON = frozenset({"number", "please", "details", "below", "here", "the", "this", "that", "your",
                     "my", "and", "with", "from", "for", "was", "has", "been", "will", "attached",
                     "confirmed", "pending", "cancelled", "shipped", "request"})


def _value_confidence(kind: str, value: str, explicit: bool) -> float:
    digits = sum(map(str.isdigit, value))
    if value.casefold() in _COMMON:
        return 0.0
    if kind == "handle":
        # "handle"/"login" are verbs too: a plain word needs "is"/":" in front of it.
        if digits or any(c in value for c in "_.@") or "-" in value.strip("-"):
            return 0.8
        return 0.6 if explicit and len(value) >= 4 else 0.0
    if digits < 2 or re.fullmatch(r"(?:19|20)\d\d", value):
        return 0.0
    letters = any(c.isalpha() for c in value)
    if kind == "ref" and not (letters or digits >= 5 or value.startswith("#")):
        return 0.0  # "report of 2453 cases"
    if kind == "ref" and re.fullmatch(r"\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4}|\d{4}[-/.]\d{1,2}[-/.]\d{1,2}", value):
        return 0.0  # a date, not a reference
    return 0.85


def labelled_identifiers(text: str) -> Iterator[Hit | None]:
    """One hit per value: the label closest to it wins, then the longest ("预订参考号" > "参考号")."""
    best: dict[int, tuple[tuple[int, int], Hit | None]] = {}
    for name, typ, level, kind, pattern in _PATTERNS:
        if not may_match(pattern, text):
            continue
        for m in pattern.finditer(text):
            if text[m.end("cue"):m.end("cue") + 1] in ("-", "_", "/"):
                continue  # the "TXN" of "ORD-55102-KX" is part of a code, not a label
            value = m.group("value").rstrip(" -")
            explicit = bool(re.search(r"[:：#=是为]|\bis\b|\bas\b", text[m.end("cue"):m.start("value")]))
            confidence = _value_confidence(kind, value, explicit)
            if not confidence:
                continue
            start = m.start("value")
            rank = (m.end("cue"), m.end("cue") - m.start("cue"))
            if start not in best or rank > best[start][0]:
                best[start] = (rank, hit(text, start, start + len(value), typ, level, name, confidence))
    for _rank, h in best.values():
        yield h


_CN_PLATE = re.compile(
    r"[京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼使领][A-HJ-NP-Z]·?[A-HJ-NP-Z0-9]{5,6}" + R
)
_PLATE_IN_BRACKETS = r"\s*+[(（]\s*+(?P<plate>[A-Z0-9]{2,4}[- ]?[A-Z0-9]{2,5})\s*+[)）]"


@cache
def _plate_after_make() -> re.Pattern[str]:
    makes = word_alternation(lexicons.load("vehicle_makes"))
    return compile_gated(makes + r"(?:\s++[A-Za-z0-9\-]{1,12}){0,2}?" + _PLATE_IN_BRACKETS)


def licence_plates(text: str) -> Iterator[Hit | None]:
    for m in _CN_PLATE.finditer(text):
        yield hit(text, m.start(), m.end(), "ID Number", PL.PL3, "license_plate", 0.9)
    if "(" not in text and "（" not in text:
        return
    for m in _plate_after_make().finditer(text):
        plate = m.group("plate")
        if any(c.isdigit() for c in plate) and any(c.isalpha() for c in plate):
            yield hit(text, m.start("plate"), m.end("plate"), "ID Number", PL.PL3, "license_plate", 0.8)


# "@handle" not preceded by an email local part.
_AT_HANDLE = re.compile(r"(?<![A-Za-z0-9._%+\-])@[A-Za-z0-9_](?:[A-Za-z0-9_.]{1,29}[A-Za-z0-9_])" + R)


def at_handles(text: str) -> Iterator[Hit | None]:
    for m in _AT_HANDLE.finditer(text):
        yield hit(text, m.start(), m.end(), "Account ID/Username", PL.PL2, "handle", 0.6)


DETECTORS = (labelled_identifiers, licence_plates, at_handles)
