"""Names without `real_name`: self-introductions, and people named by what they do to the user.

- Self-introductions: "My name is …", "I'm <First Last>", "<First Last> here", "call me …",
  "sign it as …"; 我叫/我是/本人/名字是/落款 + a Chinese name. The speaker's own name is Real Name.
- Third parties named by an action towards the user ("Ana Ruiz asked me", "Tom from accounting",
  "赵一鸣跟我说") are Third-Party Identifiable Info.
English names must start with a first name from the US census lists shipped by the `names`
package (MIT); Chinese names must start with a surname (lexicons/cn_surnames.txt), and when the
end of the name is ambiguous (a CJK character follows), jieba's POS tagger (`nr`) decides on a
short window only, so jieba never runs on whole messages.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import cache
from importlib import resources

from streamproc.core.taxonomy import PrivacyLevel as PL

from . import lexicons
from .cues import at_cues
from .text import Hit, L, R, hit

_TOKEN = r"[A-Z][a-zà-ÿ]{1,20}(?:[-'’][A-Z][a-zà-ÿ]{1,20})?"
_FULL = _TOKEN + r"(?:\s" + _TOKEN + r"){0,2}"


@cache
def first_names() -> frozenset[str]:
    """Census first names (upper-cased) from the `names` package's data files."""
    out: set[str] = set()
    for fname in ("dist.male.first", "dist.female.first"):
        raw = resources.files("names").joinpath(fname).read_text(encoding="utf-8")
        out.update(line.split(" ", 1)[0] for line in raw.splitlines() if line.strip())
    return frozenset(out)


_SELF_CUES = ("my ", "name's", "call me", "sign", "this is", "i'm ", "i am ", "it's ")
_SELF_EN = re.compile(
    r"(?i:\bmy\s(?:full\s|real\s|legal\s)?name(?:'s|\sis)|\bname's|\bcall\sme|\bsign(?:ed)?\s(?:it|this|the\s\w{2,10}|off)?\s?(?:as|with)"
    r"|\bthis\sis|\bI'm|\bI\sam|\bit's)\s(?P<name>" + _FULL + r")" + R
    + r"|(?P<name2>(?!))"
)
# "[^\S\n]*+", not "\s*": "^" is every line start, and "\s*" would rescan a run of newlines
# from each of them (quadratic).
_HERE_SPEAKING = re.compile(r"(?m:^[^\S\n]*+(?:(?:Hi|Hello|Hey)(?:\sthere)?,?\s)?(?P<name2>" + _TOKEN + r"\s" + _TOKEN
                            + r")(?:\shere|\sspeaking)\b)|(?P<name>(?!))")
_STRONG_SELF = re.compile(r"(?i)name|call me|sign")
_WITH_CUES = ("with ", "replying to", "reply to", "told ", "asked ", "called ", "texted ", "emailed ", "met ", "visited ",
              "tell ", "ask ", "call ", "text ", "email ", "meet ", "visit ")
_WITH_EN = re.compile(
    r"(?i:\b(?:with|replying\sto|reply\sto|told|asked|called|texted|emailed|met|visited|tell|ask|call|text|email|meet|visit)\s)"
    r"(?P<name>" + _TOKEN + r"\s" + _TOKEN + r")" + R + r"|(?P<name2>(?!))|(?P<name3>(?!))"
)
_AND_I = re.compile(L + r"(?P<name2>" + _TOKEN + r"(?:\s" + _TOKEN + r")?)\sand\s(?:I|me)\b|\bme\sand\s(?P<name3>" + _TOKEN
                    + r"(?:\s" + _TOKEN + r")?)" + R + r"|(?P<name>(?!))")
_ACTOR_EN = re.compile(
    L + r"(?P<name>" + _TOKEN + r"(?:\s" + _TOKEN + r")?)\s(?:from\s(?:accounting|finance|HR|IT|legal|sales|marketing|"
    r"the\s\w{2,15}\steam|work|school|church|the\soffice)|(?:told|asked|texted|emailed|called|messaged|invited|helped|sent)\sme)\b"
)
_NOT_FIRST = frozenset({"MAY", "JUNE", "APRIL", "AUGUST", "JANUARY", "SUMMER", "AUTUMN", "WINTER", "CHRISTIAN", "BILL",
                        "WILL", "HOPE", "JOY", "FAITH", "GRACE", "SUNNY", "MARCH", "HUNTER", "DEAN", "BUCK", "DALE",
                        "WORK", "HI", "HELLO", "SURE", "SO", "OK"})


def _name_ok(name: str) -> bool:
    first = name.split()[0].split("-")[0].upper()
    return first in first_names() and first not in _NOT_FIRST


_SELF_GATE = ("name", "call me", "sign", "this is", "i'm ", "i am ", "it's ", " here", "speaking")
_ACTOR_GATE = (" me", " from ")


def names_en(text: str, real_name: str | None) -> Iterator[Hit | None]:
    if not re.search(r"[A-Z][a-z]", text):
        return
    low = text.lower()
    speaking = _HERE_SPEAKING.finditer(text) if (" here" in low or " speaking" in low) else iter(())
    for m in (*at_cues(_SELF_EN, text, _SELF_CUES, low), *speaking):
        group = "name" if m.group("name") else "name2"
        name = m.group(group)
        strong = group == "name" and _STRONG_SELF.search(m.group(0)[:12]) is not None
        if not strong and (not _name_ok(name) or (group == "name" and " " not in name)):
            continue  # "I'm Sure", "I'm Happy": a first name from the census and a surname
        if strong and name.split()[0] in ("A", "An", "The", "Not", "Just"):
            continue
        yield hit(text, m.start(group), m.end(group), "Real Name", PL.PL2, "self_intro", 0.75 if strong else 0.6)
    and_i = _AND_I.finditer(text) if (" and i" in low or " and me" in low or "me and " in low) else iter(())
    for m in (*at_cues(_WITH_EN, text, _WITH_CUES, low), *and_i):
        group = next(g for g in ("name", "name2", "name3") if m.group(g))
        name = m.group(group)
        if _name_ok(name) and not (real_name and name in real_name):
            yield hit(text, m.start(group), m.end(group), "Third-Party Identifiable Info", PL.PL2, "actor", 0.55)
    for m in _ACTOR_EN.finditer(text) if any(w in low for w in _ACTOR_GATE) else ():
        name = m.group("name")
        if _name_ok(name) and not (real_name and name in real_name):
            yield hit(text, m.start("name"), m.end("name"), "Third-Party Identifiable Info", PL.PL2, "actor", 0.6)


@cache
def _surnames() -> str:
    names = lexicons.load("cn_surnames")
    return ("(?:" + "|".join(sorted((n for n in names if len(n) > 1), key=len, reverse=True))
            + "|[" + "".join(sorted(n for n in names if len(n) == 1)) + "])")


@cache
def _zh() -> tuple[re.Pattern[str], re.Pattern[str]]:
    name = r"(?P<name>" + _surnames() + r"[\u4e00-\u9fff]{1,2})"
    self_intro = re.compile(r"(?:我叫|我是|本人|我的名字(?:是|叫)|名字(?:是|叫)|落款(?:写|是)?|署名(?:写|是)?|签名(?:写|是)?)" + name)
    actor = re.compile(name + r"(?=(?:跟|对|和|给|告诉|让|问|叫|帮|找)我|说|打电话|发消息)")
    return self_intro, actor


def _zh_name_end(text: str, start: int, end: int, verify: bool = False) -> int | None:
    """Where the name starting at `start` ends: by punctuation, else (or with `verify`) by jieba's `nr` tag."""
    if not verify and (end >= len(text) or not ("\u4e00" <= text[end] <= "\u9fff")):
        return end
    import jieba.posseg  # slow to import and to run: only on an ambiguous short window

    for piece in jieba.posseg.cut(text[start:min(len(text), start + 6)]):
        if piece.flag == "nr" and len(piece.word) >= 2:
            return start + len(piece.word)
        return None
    return None


def names_zh(text: str, real_name: str | None) -> Iterator[Hit | None]:
    if not re.search(r"[\u4e00-\u9fff]", text):
        return
    self_intro, actor = _zh()
    for pattern, typ, conf in ((self_intro, "Real Name", 0.7), (actor, "Third-Party Identifiable Info", 0.6)):
        for m in pattern.finditer(text):
            s = m.start("name")
            e = _zh_name_end(text, s, m.end("name"), verify=typ != "Real Name")
            if e is None:
                continue
            if typ != "Real Name" and real_name and text[s:e] in real_name:
                typ = "Real Name"
            yield hit(text, s, e, typ, PL.PL2, "name_zh", conf)


_ANY_NAME = re.compile(L + r"(?P<name>" + _TOKEN + r"\s" + _TOKEN + r")" + R)


def capitalised_names(text: str, real_name: str | None) -> Iterator[Hit | None]:
    """Recall-first (strict preset): any census first name followed by a capitalised word."""
    if not re.search(r"[A-Z][a-z]+\s[A-Z]", text):
        return
    for m in _ANY_NAME.finditer(text):
        name = m.group("name")
        if not _name_ok(name):
            continue
        typ = "Real Name" if real_name and name in real_name else "Third-Party Identifiable Info"
        yield hit(text, m.start("name"), m.end("name"), typ, PL.PL2, "capitalised_name", 0.4)


NAME_DETECTORS = (names_en, names_zh)
STRICT_DETECTORS = (capitalised_names,)
