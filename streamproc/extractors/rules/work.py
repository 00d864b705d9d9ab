"""Work and study: job titles, employers, organisations and schools (PL2 identity facts).

Built from how people say these things, not from lists of employers:
- an employer is a capitalised name after a work cue ("I work at", "employed by", "joined",
  "my employer,") or a name ending in a legal form (Inc, Ltd, GmbH, ... from `cleanco`'s table of
  company types, MIT);
- a school is a capitalised name around a school head word ("University of X", "X High School");
- an organisation is a capitalised name ending in an institutional head word (Division,
  Association, Club, Foundation, ...);
- a job title is a short noun phrase ending in an occupational head noun (lexicons/job_heads.txt)
  after a role cue ("work as a", "I'm a ... at", "promoted to", "当", "担任", "是...的").
Chinese uses the same grammar with its own suffixes (有限公司/集团/大学/中学/经理/工程师...).
All repeats are bounded, so every pattern is linear in the text.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from functools import cache

from streamproc.core.taxonomy import PrivacyLevel as PL

from . import lexicons
from .cues import at_cues
from .text import Hit, L, R, hit, word_alternation

_CAP = r"[A-Z][A-Za-z0-9'’&\-]{0,24}"
_CAPS = _CAP + r"(?:(?:\s(?:of|and|for|de|&|the|on))?\s" + _CAP + r"){0,5}"
_STOP_FIRST = frozenset({"I", "The", "My", "Our", "Your", "His", "Her", "Their", "This", "That", "A", "An",
                         "It", "We", "He", "She", "They", "And", "But", "So", "Hi", "Hello", "Thanks", "Yes"})
_SCHOOL_HEAD = r"(?:University|College|School|Academy|Institute|Polytechnic|Elementary|Kindergarten|Conservatory|Seminary)"
_ORG_HEAD = (r"(?:Division|Department|Agency|Foundation|Association|Society|Club|Council|Committee|Ministry|"
             r"Commission|Authority|Hospital|Clinic|Trust|Charity|Union|Federation|Bureau|Institute|Laboratory|"
             r"Labs|Center|Centre|Shelter|Bank|Partners|Group|Holdings|Technologies|Solutions|Analytics|Logistics|"
             r"Consulting|Capital|Insurance|Robotics|Software|Studios|Pharmaceuticals)")
_WORK_CUE = re.compile(r"(?i:\b(?:work(?:s|ed|ing)?|job|employ(?:ed|er|s)?|hired|joined|join(?:ing)?|intern(?:ing|ed|ship)?|"
                       r"position|role|career|office|colleagues?|boss|manager|promoted|contract(?:or)?|staff)\b)")


@cache
def _legal_forms() -> str:
    from cleanco import termdata  # company legal forms by type, MIT

    terms = {t.strip() for t in itertools.chain.from_iterable(termdata.terms_by_type.values())}
    keep = sorted((t for t in terms if len(t) >= 3 or "." in t), key=len, reverse=True)
    return "(?i:" + "|".join(re.escape(t) for t in keep) + r")(?![A-Za-z])"


@cache
def _en() -> dict[str, re.Pattern[str]]:
    heads = word_alternation(lexicons.load("job_heads"))
    org = r"(?P<org>(?:the\s)?" + _CAPS + r"(?:,?\s" + _legal_forms() + r")?)"
    job = (r"(?P<job>(?:[A-Za-z][a-z\-]{1,20}\s){0,3}?(?:(?i:" + heads + r")|(?i:head|chief|director|vice president|VP) of [a-z]{3,20}"
           r")(?:\s(?:of|for|in)\s[a-z]{3,20}(?:\s[a-z]{3,20})?(?=[\s,.;!?]|$))?)")
    return {
        "employer": re.compile(
            r"(?i:\b(?:work(?:s|ed|ing)?|intern(?:s|ed|ing)?|volunteer(?:s|ed|ing)?)\s(?:(?:as|remotely|full-time|part-time|"
            r"there|now|still|currently)\s)?(?:[a-z\-]{1,20}\s){0,4}?(?:at|for|with)|\bemployed\s(?:by|at)|\bjoined|"
            r"\bmy\s(?:employer|company|firm)(?:,|\sis)?|\bhired\s(?:by|at)|\b(?:job|position|role)\s(?:at|with))\s" + org),
        "legal": re.compile(L + r"(?P<org>" + _CAP + r"(?:(?:\s(?:&|and))?\s" + _CAP + r"){0,4},?\s" + _legal_forms() + ")"),
        "school": re.compile(
            r"(?P<org>(?:" + _CAP + r"(?:\s(?:" + _CAP + r"|of|de)){0,4}\s" + _SCHOOL_HEAD + r"(?:\s(?:School|of\s" + _CAP
            + r"(?:\s" + _CAP + r"){0,2}))?|(?:" + _SCHOOL_HEAD + r")\sof\s" + _CAP + r"(?:\s(?:" + _CAP + r"|and|at)){0,2}))" + R),
        "org": re.compile(r"(?P<org>" + _CAP + r"(?:\s(?:" + _CAP + r"|of|for|and|&)){0,4}\s" + _ORG_HEAD + ")" + R),
        "job": re.compile(
            r"(?i:\b(?:work(?:s|ed|ing)?\sas|I'm|I\sam|I\swas|I've\sbeen|been|became|become|promoted\sto|hired\sas|"
            r"role\sas|position\sas|job\sas|career\sas|as|title\sis)\s(?:(?:a|an|the)\s)?(?:(?:new|current|former)\s)?)" + job),
    }


def _trim_org(text: str, start: int, end: int) -> tuple[int, int]:
    value = text[start:end]
    if value.startswith("the "):
        start += 4
    if value.endswith(("'s", "’s")):
        end -= 2
    return start, end


def _school_like(value: str) -> bool:
    return re.search(_SCHOOL_HEAD, value) is not None


_JOB_CUES = ("work", "i'm ", "i am ", "i was ", "i've been", "been ", "became ", "become ", "promoted to", "hired as",
             "role as", "position as", "job as", "career as", "as ", "title is")
_EMPLOYER_CUES = ("work", "intern", "volunteer", "employed", "joined", "my ", "hired", "job ", "position ", "role ")
_SCHOOL_WORDS = ("University", "College", "School", "Academy", "Institute", "Polytechnic", "Elementary",
                 "Kindergarten", "Conservatory", "Seminary")
_EMPLOYER_GATE = ("work", "intern", "volunteer", "employ", "joined", "my company", "my firm", "hired", "job ", "position ",
                  "role ")


@cache
def _legal_words() -> frozenset[str]:
    from cleanco import termdata

    terms = {t.strip().casefold() for t in itertools.chain.from_iterable(termdata.terms_by_type.values())}
    return frozenset(t.rstrip(".") for t in terms if (len(t) >= 3 or "." in t) and " " not in t)


@cache
def _org_words() -> frozenset[str]:
    return frozenset(_ORG_HEAD[3:-1].split("|"))


@cache
def _job_words() -> frozenset[str]:
    return frozenset(w.casefold() for w in lexicons.load("job_heads")) | {"head", "chief", "director", "president"}


_WORD = re.compile(r"[A-Za-z][A-Za-z.&\-]*+")


def _gates(text: str) -> dict[str, bool]:
    """Cheap pre-checks on the set of words: each pattern runs only if its head word is present."""
    low = text.casefold()
    words = {w.rstrip(".") for w in _WORD.findall(text)}
    folded = {w.casefold() for w in words}
    return {
        "school": not words.isdisjoint(_SCHOOL_WORDS),
        "employer": any(w in low for w in _EMPLOYER_GATE),
        "legal": not folded.isdisjoint(_legal_words()),
        "org": not words.isdisjoint(_org_words()),
        "job": not folded.isdisjoint(_job_words()),
    }


def work_en(text: str) -> Iterator[Hit | None]:
    if not re.search(r"[A-Z]", text):
        return
    pats = _en()
    gates = _gates(text)
    for key in ("school", "employer", "legal", "org"):
        if not gates[key]:
            continue
        found = at_cues(pats[key], text, _EMPLOYER_CUES) if key == "employer" else pats[key].finditer(text)
        for m in found:
            start, end = _trim_org(text, m.start("org"), m.end("org"))
            first = text[start:end].split(" ", 1)[0]
            if first in _STOP_FIRST or text[start:end] in lexicons.load("card_brands"):
                continue
            value = text[start:end]
            if key == "school" or _school_like(value):
                yield hit(text, start, end, "School", PL.PL2, "school", 0.7)
            elif key == "employer":
                typ = "Company/Organization Info" if "volunteer" in m.group(0).casefold() else "Employer/Company Name"
                yield hit(text, start, end, typ, PL.PL2, "employer", 0.65)
            elif key == "legal":
                yield hit(text, start, end, "Employer/Company Name", PL.PL2, "legal_form", 0.65)
            elif value.endswith(" Bank"):
                after = re.match(r"\s(?:app|account|savings|checking|card|credit card|debit card)\b", text[end:end + 14])
                if after:
                    yield hit(text, start, end + after.end(), "Financial Account", PL.PL3, "bank_account", 0.55)

            else:
                typ = "Employer/Company Name" if _WORK_CUE.search(text, max(0, start - 60), start) else \
                    "Company/Organization Info"
                yield hit(text, start, end, typ, PL.PL2, "organisation", 0.6)
    for m in at_cues(pats["job"], text, _JOB_CUES) if gates["job"] else ():
        yield hit(text, m.start("job"), m.end("job"), "Job Title/Rank", PL.PL2, "job_title", 0.6)


_ZH_ORG_SUFFIX = r"(?:股份有限公司|有限责任公司|有限公司|集团|公司|银行|研究院|研究所|医院|事务所|工作室|科技|实业|协会|基金会|委员会|红十字会|商会)"
_ZH_SCHOOL = r"(?:大学|学院|中学|小学|学校|幼儿园|附中|职高|技校)"
_ZH_JOB = ("(?:经理|总监|工程师|医师|医生|老师|教师|教授|主管|专员|顾问|主任|护士长|护士|律师|会计师?|设计师|程序员|总裁|"
           "总经理|董事长|店长|厨师|研究员|分析师|助理|秘书|主编|编辑|记者|院长|校长|处长|科长|局长|部长|组长|架构师|"
           "产品经理|运营|公务员|警察|司机|快递员|销售|客服|CEO|CTO|CFO|HR)")
_ZH_WORK_CUE = r"(?:在|就职于|任职于|供职于|入职|加入了?|跳槽到|单位是|公司是|我们单位是?|我们公司是?|来自)"
_ZH = {
    "employer": re.compile(_ZH_WORK_CUE + r"(?P<org>[\u4e00-\u9fffA-Za-z（）()]{2,16}" + _ZH_ORG_SUFFIX + r")(?![\u4e00-\u9fff]{0,1}(?:路|街|店|楼))"),
    "org_of": re.compile(r"(?:是|在)(?P<org>[\u4e00-\u9fff]{2,14}?" + _ZH_ORG_SUFFIX + r")(?=的)"),
    "school": re.compile(r"(?:毕业于|就读于|考上了?|考入|考进|在|读|上|进了?|来自|是)(?P<org>[\u4e00-\u9fff]{2,12}?" + _ZH_SCHOOL + r")"),
    "job": re.compile(r"(?:当|做|担任|任职?|是|升职成了?|升为|升任|作为|干)(?:一名|一个|一位)?(?P<job>[\u4e00-\u9fffA-Z]{0,6}?" + _ZH_JOB + r")"
                      r"|的(?P<job2>[\u4e00-\u9fff]{0,4}?" + _ZH_JOB + r")(?=[，。,！!？?\s]|$|想|了|压力)"),
}
_ZH_NOT_JOB_LEAD = ("我", "你", "他", "她", "这", "那", "哪", "个", "位", "名")


def work_zh(text: str) -> Iterator[Hit | None]:
    if not re.search(r"[\u4e00-\u9fff]", text):
        return
    for key in ("employer", "org_of"):
        for m in _ZH[key].finditer(text):
            yield hit(text, m.start("org"), m.end("org"), "Employer/Company Name", PL.PL2, "employer_zh", 0.65)
    for m in _ZH["school"].finditer(text):
        value = m.group("org")
        if value.startswith(_ZH_NOT_JOB_LEAD) or len(value) < 4:
            continue
        yield hit(text, m.start("org"), m.end("org"), "School", PL.PL2, "school_zh", 0.65)
    for m in _ZH["job"].finditer(text):
        group = "job" if m.group("job") is not None else "job2"
        value = m.group(group)
        if value.startswith(_ZH_NOT_JOB_LEAD) or len(value) < 2:
            continue
        yield hit(text, m.start(group), m.end(group), "Job Title/Rank", PL.PL2, "job_title_zh", 0.6)


DETECTORS = (work_en, work_zh)
