"""Health facts: named conditions and medicines, clinical verbs, and measured body values.

The taxonomy wants the minimal fact ("mild depression", "服用二甲双胍片", "140/90 mmHg"), not
the sentence. Body metrics count only with a value and unit ("weight 80kg", "BMI 27.4"); a
qualitative "my blood pressure is high" is left alone.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import cache

from streamproc.core.taxonomy import PrivacyLevel as PL

from . import lexicons
from .firstpass import may_match
from .gate import compile_gated
from .text import Hit, L, R, hit, word_trie

_SEVERITY = (r"(?:(?i:mild|moderate|severe|chronic|acute|early[- ]stage|stage [1-4IV]++|primary|"
             r"seasonal|recurrent|diagnosed)\s++|轻度|中度|重度|慢性|急性|原发性|继发性|早期|晚期)?")

# Measured values. Each alternative carries its own unit so a bare number is never taken.
_VITALS = re.compile(
    L + r"(?:\d{2,3}\s?/\s?\d{2,3}\s?(?i:mmHg)"                                  # 140/90 mmHg
    r"|(?i:blood pressure|BP)\s*+(?:of|is|was|at|:)?\s*+\d{2,3}\s?/\s?\d{2,3}"        # BP 140/90
    r"|(?i:BMI)\s*+(?:of|is|was|:|是|为)?\s*+\d{2}(?:\.\d)?"                          # BMI 27.4
    r"|\d{2,3}(?:\.\d)?\s?(?i:kg|kgs|lbs?|pounds|公斤|斤)(?![A-Za-z])"               # 80kg
    r"|\d{3}(?:\.\d)?\s?(?:cm|厘米)(?![A-Za-z])"                                   # 172 cm
    r"|\d{2,3}\s?(?i:bpm)"                                                         # 88 bpm
    r"|\d{1,2}(?:\.\d)?\s?(?i:mmol/L|mg/dL)"                                       # 7.8 mmol/L
    r"|(?i:A1C|HbA1c)\s*+(?:of|is|was|:)?\s*+\d{1,2}(?:\.\d)?\s?%"                   # A1C 6.8%
    r"|(?i:blood type)\s*+(?:is|:)?\s*+(?:AB|A|B|O)[+-]?(?![A-Za-z])"                # blood type O+
    r"|血型\s*+(?:是|为)?\s*+(?:AB|A|B|O)型?"
    r"|(?:血压|高压|低压)\s*+(?:是|为|到了|达到)?\s*+\d{2,3}\s?/\s?\d{2,3}"
    r"|(?:血糖|空腹血糖)\s*+(?:是|为)?\s*+\d{1,2}(?:\.\d)?"
    r"|(?<=体重)\s*+(?:是|为|降到了?|涨到了?)?\s*+\d{2,3}(?:\.\d)?\s?(?:kg|公斤|斤)"
    r"|(?<=身高)\s*+(?:是|为)?\s*+\d{3}(?:\.\d)?\s?(?:cm|厘米)"
    r"|(?i:SpO2|blood oxygen)\s*+(?:of|is|:)?\s*+\d{2,3}\s?%"
    r")" + R
)

# Clinical verbs in Chinese take the fact that follows: 确诊为胃食管反流病, 服用二甲双胍, 去XX医院复查.
_ZH_CLINICAL = compile_gated(
    r"(?:确诊(?:为|了|患有)?|诊断为|被诊断出|患有|患上了?|得了|服用(?:了)?|在吃|开了|做了|接受了?)"
    r"(?P<fact>[\u4e00-\u9fffA-Za-z0-9（）()]{2,12}?)(?=[，。,；;！!？?、\s]|$|后|的|是|和|并|来|以|，)"
)
_EN_CLINICAL = compile_gated(
    L + r"(?i:diagnosed with|suffer(?:s|ing)? from|prescribed|on medication for|"
    r"being treated for|in treatment for|recovering from|had (?:a |an )?(?:surgery|operation) (?:on|for))\s++"
    r"(?:(?:a|an|the|my)\s++)?(?P<fact>[A-Za-z0-9'\-]++(?:\s++[A-Za-z0-9'\-]++){0,3}?)(?=[,.;:!?)]|\s+(?:and|but|which|so|since|after|last|this|because)\b|$)"
)
_CLINIC = re.compile(
    r"(?:[\u4e00-\u9fff]{2,8}?(?:医院|诊所|门诊|卫生院|专科医院)|(?:挂了?|去看了?)[\u4e00-\u9fff]{1,6}?科(?:的号)?)"
    r"|" + L + r"(?:[A-Z][a-z]++\s){1,4}(?:Hospital|Clinic|Medical Center|Health Centre|Health Center)" + R
)


@cache
def _lexicon_pattern() -> re.Pattern[str]:
    terms = lexicons.load("conditions") | lexicons.load("medications")
    return compile_gated(_SEVERITY + word_trie(terms), re.IGNORECASE)


# A condition named in an article ("rates of type 2 diabetes") is not anyone's health record;
# one named next to I/my/you/我/您 in the same sentence is.
_PERSONAL = re.compile(r"(?i:\b(?:I|I'm|I've|I'd|my|me|mine|you|your|you're|you've|he|she|his|her|"
                       r"husband|wife|son|daughter|mother|father|mom|dad)\b)|我|您|你|他|她")
_SENTENCE_END = re.compile(r"[.!?。！？\n]")


def _personal(text: str, start: int, end: int) -> bool:
    left = start
    while left > 0 and left > start - 160 and not _SENTENCE_END.match(text[left - 1]):
        left -= 1
    right = _SENTENCE_END.search(text, end, min(len(text), end + 80))
    return _PERSONAL.search(text, left, right.start() if right else min(len(text), end + 80)) is not None


def health_terms(text: str) -> Iterator[Hit | None]:
    for m in _lexicon_pattern().finditer(text):
        confidence = 0.65 if _personal(text, m.start(), m.end()) else 0.4
        yield hit(text, m.start(), m.end(), "Medical Health", PL.PL3, "health_term", confidence)


def vitals(text: str) -> Iterator[Hit | None]:
    if not re.search(r"\d", text):
        return
    for m in _VITALS.finditer(text):
        start = m.start()
        lead = re.match(r"\s*(?:是|为|降到了?|涨到了?)?\s*", text[start:m.end()])
        start += lead.end() if lead else 0
        yield hit(text, start, m.end(), "Medical Health", PL.PL3, "vital_sign", 0.75)


def clinical_phrases(text: str) -> Iterator[Hit | None]:
    for pattern, conf in ((_ZH_CLINICAL, 0.6), (_EN_CLINICAL, 0.6)):
        if not may_match(pattern, text):
            continue
        for m in pattern.finditer(text):
            yield hit(text, m.start("fact"), m.end("fact"), "Medical Health", PL.PL3, "clinical", conf)
    for m in _CLINIC.finditer(text) if may_match(_CLINIC, text) else ():
        yield hit(text, m.start(), m.end(), "Medical Health", PL.PL3, "clinic", 0.55)


DETECTORS = (health_terms, vitals, clinical_phrases)
