"""Security-question answers (PL4): the answer to "mother's maiden name", "first pet", 密保问题.

The answer is the value right after a recovery-question cue and a separator ("…: Halloran",
"…, which was Biscuit", "答案是李秀英"), quoted or a short run of capitalised words / CJK chars.
It is a password in effect, so it is masked at PL4. Bounded repeats only.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from streamproc.core.taxonomy import PrivacyLevel as PL

from .text import Hit, hit

_Q_EN = (r"(?i:mother'?s\s(?:maiden|first)\sname|maiden\sname|(?:first|childhood)\s(?:pet|car|school|teacher|best\sfriend)(?:'s\sname)?|"
         r"pet'?s\sname|street\syou\sgrew\sup\son|city\s(?:you\swere|I\swas)\sborn\sin|favou?rite\s(?:teacher|food|book)|"
         r"security\s(?:question|answer)|recovery\s(?:question|answer)|secret\s(?:question|answer))")
_SEP_EN = (r"(?:[^.\n?!]{0,40}?(?:\bis\b|\bwas\b|:|\bI\sput\b|\bI\sused\b|\banswer\b)\s{0,2}|'?\s?[:,]?\s(?:which\swas|it's|it\swas)\s|\s?:\s?)")
_VALUE_EN = r"(?:[\"'‘“](?P<q>[^\"'’”\n]{1,40})[\"'’”]|(?P<v>[A-Z][A-Za-z'\-]{1,20}(?:\s[A-Z][A-Za-z'\-]{1,20}){0,3}))"
_EN = re.compile(_Q_EN + _SEP_EN + _VALUE_EN)
# A later mention of the answer: "the security answer 'X'", "I would answer 'X'", "the response 'X'".
_QUOTED_ANSWER = re.compile(r"(?i:\b(?:answer(?:ed)?|response|reply)(?:\s(?:is|was|of))?,?\s)[\"'‘“](?P<q>[^\"'’”\n]{1,40})[\"'’”]")
_QUESTION = re.compile(r"(?P<q>(?:What|Which|Where|Who|In\swhat)\s[^?\n]{0,60}?" + _Q_EN + r"[^?\n]{0,30}\?)")
_ZH = re.compile(
    r"(?:密保|安全问题|验证问题|密码提示)[^。\n]{0,30}?(?:答案|回答)(?:是|为|：|:)\s?(?P<v>[\u4e00-\u9fffA-Za-z0-9]{1,12})"
    r"|(?:密保答案|安全答案)(?:我)?(?:设的是|是|为|：|:)\s?(?P<v2>[\u4e00-\u9fffA-Za-z0-9]{1,12}?)(?=[，。,！!\s]|$)"
)
_NOT_ANSWER = frozenset({"The", "My", "It", "I", "What", "Which", "Is", "Was", "Question", "Answer", "Security", "A"})


_GATE = ("maiden", "pet", "security", "recovery", "secret", "grew up", "first car", "first school", "teacher",
         "favorite", "favourite", "born in", "best friend", "密保", "安全问题", "验证问题", "密码提示", "安全答案")


def security_answers(text: str) -> Iterator[Hit | None]:
    low = text.casefold()
    if not any(w in low for w in _GATE):
        return
    for m in _EN.finditer(text):
        group = "q" if m.group("q") else "v"
        value = m.group(group)
        if value.split()[0] in _NOT_ANSWER or value.endswith("?"):
            continue
        yield hit(text, m.start(group), m.end(group), "Security Question Answer", PL.PL4, "security_answer", 0.7)
    for m in _QUOTED_ANSWER.finditer(text):
        yield hit(text, m.start("q"), m.end("q"), "Security Question Answer", PL.PL4, "security_answer", 0.65)
    for m in _QUESTION.finditer(text):
        yield hit(text, m.start("q"), m.end("q"), "Security Question", PL.PL4, "security_question", 0.6)
    for m in _ZH.finditer(text):
        group = "v" if m.group("v") else "v2"
        yield hit(text, m.start(group), m.end(group), "Security Question Answer", PL.PL4, "security_answer_zh", 0.75)


DETECTORS = (security_answers,)
