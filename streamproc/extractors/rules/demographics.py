"""Who the user is: specific age, date of birth, identity background, political views.

Age and birth date come from unit and date grammar next to a self-reference ("I'm 34 years
old", "a 52-year-old woman", "我今年34岁", "born on 3 May 1988", "出生日期1990年5月12日").
Identity background and political stance come from short lexicons of identity nouns and
party/stance words after a self-reference ("I'm a military veteran", "我是退役军人",
"I always vote for X", "我是中共党员"). Spans are the value only (the number, the date, the
identity phrase); bounded repeats only.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from streamproc.core.taxonomy import PrivacyLevel as PL

from .text import Hit, R, hit

_MONTH = (r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|Sep(?:t(?:ember)?)?|"
          r"Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?")
_YEAR = r"(?:19|20)\d{2}"
DATE = (r"(?:" + _MONTH + r"\s\d{1,2}(?:st|nd|rd|th)?,?\s" + _YEAR
        + r"|\d{1,2}(?:st|nd|rd|th)?\s(?:of\s)?" + _MONTH + r",?\s" + _YEAR
        + r"|" + _YEAR + r"[-/.]\d{1,2}[-/.]\d{1,2}"
        + r"|\d{1,2}[/.\-]\d{1,2}[/.\-]" + _YEAR
        + r"|" + _YEAR + r"年\d{1,2}月\d{1,2}[日号]?)")

_AGE = re.compile(
    r"(?i:\b(?:I'm|I\sam|I\sturned|I'll\sbe|I\swill\sbe|I'm\sturning|turning|aged?|age:?|as\sa)\s(?P<a1>\d{1,3})"
    r"(?=(?:\s|-)years?(?:\s|-)old|\syrs?\b|\s?(?:,|\.|!|$)|\slast\b|\snext\b|\sthis\b)"
    + r"|\b(?:I'm|I\sam|as|me,?)\sa\s(?P<a2>\d{1,3})-year-old)"
    + r"|(?:我今年|我现在|我已经|我|今年|本人|年龄|年纪)(?:已经|刚|才|都)?(?:满)?(?P<a3>\d{1,3})(?:周岁|岁)"
)
_DOB = re.compile(
    r"(?i:\b(?:born\s(?:on\s)?|date\sof\sbirth(?:\sis|:)?\s?|DOB:?\s?|birthday(?:\sis|:)?\s?|birth\sdate(?:\sis|:)?\s?))(?P<d1>" + DATE + r")"
    + r"|(?:出生日期|出生年月日?|生日|出生于|出生在|生于)(?:是|为|：|:)?\s?(?P<d2>" + DATE + r")"
)

_IDENTITY_EN = re.compile(
    r"(?i:\b(?:I'm|I\sam|I\swas|as|being)\s(?:a|an)\s(?:proud\s|former\s)?)(?P<id>(?:military\s|army\s|navy\s|disabled\s)?veteran|"
    r"first[- ]generation\s(?:college\sstudent|immigrant|student|American)|refugee(?:\sfrom\s[A-Z][a-z]{2,15})?|"
    r"immigrant\sfrom\s[A-Z][a-z]{2,15}|single\s(?:mother|father|mom|dad|parent)|widow(?:er)?|orphan|"
    r"wheelchair\suser|foster\skid|(?:recovering|former)\s(?:alcoholic|addict)|convert\sto\s[A-Z][a-z]{2,12})"
    r"|(?P<id2>\b(?:military\sveteran|first-generation\scollege\sstudent)\b)"
    r"|(?P<id3>\bI\sgrew\sup\s(?:as\s(?:the\s|a\s)?|in\s(?:a\s|an\s)?)[a-z][a-z\-]{1,20}(?:\s[a-z\-]{1,20}){0,5}"
    r"(?:family|household|kid|child\sof\s[a-z\-]{1,20}(?:\s[a-z\-]{1,20}){0,3})(?=[\s,.;]))"
)
_IDENTITY_ZH = re.compile(
    r"(?P<id>退役军人|军人家属|少数民族|留守儿童|单亲妈妈|单亲爸爸|单亲家庭|农民工|下岗职工|独生子女|残疾人|低保户|孤儿|"
    r"[\u4e00-\u9fff]{0,4}族人|(?:农村|城市|工人|军人|知识分子)(?:家庭|留守儿童)出身|农村[\u4e00-\u9fff]{2,6}出身|华侨|归国留学生|烈士子女)"
)
_POLITICAL = re.compile(
    r"(?i:\b(?:vote[sd]?|voting)\s(?:for\s)?|\bmember\sof\s|\bsupporter\sof\s|\bcanvass(?:ing)?\sfor\s)"
    r"(?P<p1>the\s[A-Z][a-z]{2,15}(?:\s[A-Z][a-z]{2,15})?\sParty|(?:the\s)?(?:Labour|Tories|Conservatives|Democrats|Republicans|"
    r"Greens|Lib\sDems|Liberals|Greens|GOP|SNP)|[A-Z][a-z]{2,15}\sParty)"
    r"|(?i:\bI'm\sa\s|\bI\sam\sa\s|\bas\sa\s)(?P<p2>(?:lifelong\s|staunch\s|proud\s|committed\s|registered\s)?(?:conservative|liberal|progressive|"
    r"socialist|communist|libertarian|Republican|Democrat|Labour\svoter|Tory|anarchist|centrist))" + R
    + r"|(?P<p3>中共党员|共产党员|预备党员|共青团员|民盟盟员|民建会员|民革党员|九三学社社员|无党派人士)"
)


_AGE_GATE = ("year", "age", "turn", "岁", "yrs")
_DOB_GATE = ("born", "birth", "dob", "生日", "出生", "生于")
_ID_GATE = ("veteran", "first-generation", "first generation", "refugee", "immigrant", "single ", "widow", "orphan",
            "wheelchair", "foster", "recovering", "former", "convert", "grew up", "军人", "民族", "留守", "单亲", "农民工",
            "下岗", "独生", "残疾", "低保", "孤儿", "族人", "出身", "华侨", "留学生", "烈士")
_POL_GATE = ("vot", "member of", "supporter", "canvass", "conservative", "liberal", "progressive", "socialist",
             "communist", "libertarian", "republican", "democrat", "labour", "tory", "anarchist", "centrist", "党", "团员",
             "盟员", "会员", "社员")


def _any(words: tuple[str, ...], low: str) -> bool:
    return any(w in low for w in words)


def demographics(text: str) -> Iterator[Hit | None]:
    low = text.casefold()
    if _any(_AGE_GATE, low) and re.search(r"\d", text):
        for m in _AGE.finditer(text):
            group = next(g for g in ("a1", "a2", "a3") if m.group(g))
            if 1 <= int(m.group(group)) <= 120:
                yield hit(text, m.start(group), m.end(group), "Specific Age", PL.PL2, "age", 0.65)
    if _any(_DOB_GATE, low) and re.search(r"\d", text):
        for m in _DOB.finditer(text):
            group = "d1" if m.group("d1") else "d2"
            yield hit(text, m.start(group), m.end(group), "Specific Date of Birth", PL.PL2, "birth_date", 0.8)
    for pattern in (_IDENTITY_EN, _IDENTITY_ZH) if _any(_ID_GATE, low) else ():
        for m in pattern.finditer(text):
            group = next(g for g in ("id", "id2", "id3") if g in pattern.groupindex and m.group(g))
            yield hit(text, m.start(group), m.end(group), "Identity Background", PL.PL2, "identity", 0.55)
    for m in _POLITICAL.finditer(text) if _any(_POL_GATE, low) else ():
        group = next(g for g in ("p1", "p2", "p3") if m.group(g))
        yield hit(text, m.start(group), m.end(group), "Political Views/Stance", PL.PL3, "political", 0.6)


DETECTORS = (demographics,)
