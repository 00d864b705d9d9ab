"""People: the user's own name, and third parties marked by a relationship word or a title.

Real Name is only the user's own full name, recognised through `real_name` and its variants
(without titles, without middle names). Any other name needs a cue to be trusted: a relationship
word ("my colleague Priya Nair", "我同事小王", "妻子Anna"), a title ("Dr. Okafor", "王医生"),
or a salutation ("Dear Tom,"). Bare capitalised words are not names here: that is a model's job.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import cache, lru_cache

from streamproc.core.taxonomy import PrivacyLevel as PL

from . import lexicons
from .firstpass import may_match
from .gate import compile_gated
from .text import Hit, L, R, hit, word_alternation

_NAME_TOKEN = r"[A-Z][a-zà-ÿ]++(?:[-'’][A-Z]?[a-zà-ÿ]++)?"
_NAME = _NAME_TOKEN + r"(?: (?:[A-Z]\. )?" + _NAME_TOKEN + r"){0,2}"
# Capitalised words that follow "my colleague" but are not names.
_NOT_NAMES = frozenset({"I", "The", "And", "But", "So", "He", "She", "They", "We", "You", "It", "His",
                        "Her", "My", "Our", "Your", "This", "That", "Today", "Yesterday", "Tomorrow",
                        "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday",
                        "When", "After", "Before", "Also", "Thanks", "Thank", "Please", "Hi", "Hello",
                        "Dear", "Yes", "No", "Just", "If", "In", "On", "At", "For", "With", "From"})
_TITLE_STRIP = re.compile(r"^(?:(?:Dr|Prof|Mr|Mrs|Ms|Miss|Mx|Rev|Capt|Col|Lt|Sgt|Gen)\.?\s+|"
                          r"(?:Doctor|Professor|Lieutenant Colonel|Colonel|Captain|Major|General|Sir|Dame)\s+)+")
# Starts at the first space of a run (a scan never restarts inside one); "III" needs a space before.
_SUFFIX_STRIP = re.compile(r"(?<!\s)\s*+(?:\((?:Ret|ret)\.?\)|,?\s*+(?:Jr|Sr|PhD|MD|Esq)\.?|(?<=\s)I{2,3})$")


@lru_cache(maxsize=4096)  # bounded: real names come from the stream, one per user
def name_variants(real_name: str) -> tuple[str, ...]:
    """The user's name as people write it: full, without titles/suffixes, first + last."""
    full = real_name.strip()
    core = _SUFFIX_STRIP.sub("", _TITLE_STRIP.sub("", full)).strip()
    variants = {full, core}
    parts = core.split()
    if len(parts) >= 3:
        variants.add(f"{parts[0]} {parts[-1]}")
        variants.add(" ".join(parts[1:]))
    if len(parts) == 2 and "-" in parts[1]:
        variants.add(f"{parts[0]} {parts[1].split('-')[0]}")
    return tuple(sorted((v for v in variants if len(v) >= 2), key=len, reverse=True))


@lru_cache(maxsize=4096)
def _real_name_pattern(real_name: str) -> re.Pattern[str]:
    alts = "|".join(re.escape(v).replace(r"\ ", r"[\s\u00a0]++") for v in name_variants(real_name))
    return compile_gated(L + "(?:" + alts + ")" + R, re.IGNORECASE)


def real_names(text: str, real_name: str | None) -> Iterator[Hit | None]:
    if not real_name or not real_name.strip():
        return
    for m in _real_name_pattern(real_name).finditer(text):
        yield hit(text, m.start(), m.end(), "Real Name", PL.PL2, "real_name", 0.95)


@cache
def _patterns() -> dict[str, re.Pattern[str]]:
    rel_en = word_alternation(lexicons.load("relations_en"))
    rel_zh = "(?:" + "|".join(sorted(lexicons.load("relations_zh"), key=len, reverse=True)) + ")"
    titles = "(?:" + "|".join(re.escape(t) for t in sorted(lexicons.load("titles"), key=len, reverse=True)) + ")"
    names = lexicons.load("cn_surnames")
    surnames = ("(?:" + "|".join(sorted((n for n in names if len(n) > 1), key=len, reverse=True))
                + "|[" + "".join(sorted(n for n in names if len(n) == 1)) + "])")
    return {
        # "my (late) colleague, Priya Nair" -> relationship phrase + the name.
        "rel_en": compile_gated(
            r"(?P<rel>" + L + r"(?i:my|our|your)\s++(?:(?i:late|dear|older|younger|little|big|best|old|former|new)\s++)?"
            + rel_en + r")(?:,?\s++(?P<name>(?:" + titles + r"\s++)?" + _NAME + r"))?" + R),
        # "我同事小王", "妻子Anna", "我老婆王丽"
        "rel_zh": compile_gated(
            r"(?:我的?|我们的?)?(?P<rel>" + rel_zh + r")\s?(?P<name>[A-Z][a-zà-ÿ]+(?:\s[A-Z][a-zà-ÿ]+)?|"
            r"小[\u4e00-\u9fff]|老[\u4e00-\u9fff](?![\u4e00-\u9fff])|" + surnames + r"[\u4e00-\u9fff]{1,2}(?=[，。,、\s的说也和]))?"),
        # "Dr. Ingrid Halvorsen", "Prof. Lee"
        "title": compile_gated(L + r"(?P<name>" + titles + r"\s++" + _NAME + r")" + R),
        # "王医生", "李老师", "Anna女士"
        "title_zh": compile_gated(
            r"(?P<name>(?:" + surnames + r"|(?<![A-Za-zà-ÿ])[A-Z][a-zà-ÿ]++)(?:医生|大夫|老师|教授|律师|先生|女士|小姐|经理|主任|护士|阿姨|师傅))"),
        # "Dear Tom," / "Hi Dr. Moreno," at the start of a line.
        # "^" is every line start: "[^\S\n]*" keeps each attempt on its own line (a run of
        # newlines would otherwise be rescanned from every one of them).
        "salutation": re.compile(r"(?m)^[^\S\n]*+(?:Dear|Hi|Hello|Hey)\s++(?P<name>(?:" + titles + r"\s++)?" + _NAME
                                 + r")\s*+[,!:]"),
    }


def _is_user(name: str, real_name: str | None) -> bool:
    if not real_name:
        return False
    core = _TITLE_STRIP.sub("", name).casefold()
    return any(part.casefold() in core for part in name_variants(real_name)) or \
        core in real_name.casefold()


def third_parties(text: str, real_name: str | None) -> Iterator[Hit | None]:
    pats = _patterns()
    for key in ("rel_en", "rel_zh"):
        for m in pats[key].finditer(text) if may_match(pats[key], text) else ():
            name = m.group("name")
            if name and name.split()[0] not in _NOT_NAMES and not _is_user(name, real_name):
                yield hit(text, m.start("name"), m.end("name"), "Third-Party Identifiable Info", PL.PL2,
                          "third_party", 0.7)
                start = m.start() if key == "rel_en" else m.start("rel")
                yield hit(text, start, m.end(), "Relationship Info", PL.PL2, "relationship", 0.6)
            elif key == "rel_en":
                # "my friend" alone links the user to someone but names nobody: lowest tier.
                yield hit(text, m.start("rel"), m.end("rel"), "Relationship Info", PL.PL2, "relationship", 0.4)
    for key in ("title", "title_zh", "salutation"):
        for m in pats[key].finditer(text) if may_match(pats[key], text) else ():
            name = m.group("name")
            if key == "title_zh" and real_name and name[0] == real_name.strip()[:1]:
                continue  # "王女士" addressing 王雨桐 is the user, not a third party
            if not _is_user(name, real_name):
                yield hit(text, m.start("name"), m.end("name"), "Third-Party Identifiable Info", PL.PL2,
                          "third_party", 0.65)


NAME_DETECTORS = (real_names, third_parties)
