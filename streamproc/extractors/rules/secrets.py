"""Secrets found by the words in front of them: passwords, one-time codes, PINs, CVVs, tokens.

A cue ("verification code", "密码", "PIN") may be followed by a few words and a separator ("is",
":", "：", "是", "为", quotes) before the value: "the 6-digit code I just got is 603158". Only the
value is reported. The gap between cue and value holds no digits and no sentence end, so the
first code-shaped token after the cue is taken and nothing beyond the sentence.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from re._parser import parse  # the widest cue, as re itself measures it (stable since 3.11)

from streamproc.core.taxonomy import PrivacyLevel as PL

from .firstpass import may_match
from .gate import compile_gated
from .text import SECRET_TRAIL, Hit, L, R, hit

# family -> (privacy type, cue alternation). Longer, more specific cues come first in the
# alternation so "one-time password" is a code, not a password. Bare "code" comes first of all:
# no other cue starts with it, so no order changes what matches, and `re` tries the alternatives
# one by one ("code 603158" repeated: 2,666 matches, 0.5 ms less with it first).
_CUES: dict[str, tuple[str, str]] = {
    "otp": ("Verification Code", (
        r"(?i:code|one[- ]time (?:pass)?(?:code|password|pin)|verification code|verify code|"
        r"confirmation code|security code sent|auth(?:entication|orization)? code|"
        r"(?:sms|email|e-mail|text|login|access|activation|2fa|mfa|otp|totp) code|"
        r"[0-9]-digit (?:sms |text |email )?code|otp|2fa|mfa|"
        r"recovery (?:code|key)|backup codes?)"
        r"|验证码|驗證碼|校验码|校驗碼|动态码|动态密码|一次性密码|激活码|短信码|确认码|授权码|"
        r"恢复码|备用码|恢复密钥"
    )),
    "cvv": ("Payment Security Code", (
        r"CVV2?|CVC2?|(?i:card security code|security code|card verification (?:value|code))"
        r"|安全码|卡验证码|信用卡背面的?三位数"
    )),
    "pin": ("Password", r"PIN(?: code| number)?|(?i:pin code)|PIN码|取款密码|支付密码|交易密码"),
    "password": ("Password", (
        r"(?i:pass(?:word|code|phrase)|passwd|pwd|wi-?fi key)|密码|密碼|口令"
    )),
    "token": ("Token", (
        r"(?i:(?:auth(?:entication)?|access|session|refresh|bearer|security|secure|api|csrf|sso)"
        r"[- _]?token|token|session[- _]?id|cookie)|会话ID|会话 ID|令牌|访问令牌|安全令牌"
    )),
    "key": ("Key", (
        r"(?i:api[- _]?key|secret[- _]?key|access[- _]?key(?: id)?|client[- _]secret|"
        r"signing key|encryption key|master key|seed phrase|mnemonic)|密钥|秘钥|私钥|助记词"
    )),
}

# Words between cue and value: no digits (the value is the first digit-bearing token), no
# sentence end, at most 40 characters.
_GAP = r"(?P<gap>[^\d\n。！？!?；;，]{0,40}?)"
_SEP = r"(?P<sep>\s*+(?:[:：=]|(?i:\bis\b|\bwas\b|\bare\b)|就是|是|为|為|:)\s*+|\s*+)"
_QUOTE_OPEN = r"[\"'“‘「『]"
_QUOTED = _QUOTE_OPEN + r"(?P<quoted>[^\"'”’」』\n]{3,64})[\"'”’」』]"
# One-time codes and tokens: alnum groups joined by single dashes, with at least one digit.
_CODE_BEFORE = r"(?<![A-Za-z0-9+\-_.@/#])"
_CODE_DIGIT = r"(?=[A-Za-z\-]{0,30}\d)"
_CODE = (_CODE_BEFORE + r"(?P<code>" + _CODE_DIGIT + r"(?:[A-Za-z0-9]{1,16}-){0,3}[A-Za-z0-9]{2,64})"
         r"(?![A-Za-z0-9@]|-\w|\.\d)")
# Passwords/keys: printable ASCII without spaces holding a digit or symbol.
_SECRET_BEFORE = r"(?<![!-~])"
_SECRET = _SECRET_BEFORE + r"(?P<secret>(?=[!-~]{0,63}[0-9!@#$%^&*_+=~?])[!-~]{4,64})"

_VALUE = {"otp": _CODE, "cvv": _CODE, "pin": _CODE, "token": _CODE, "password": _SECRET, "key": _SECRET}

_CUE = {family: r"(?P<cue>" + (L if family not in ("cvv", "pin") else "") + r"(?:" + cues + r"))" + R
        for family, (_type, cues) in _CUES.items()}
_PATTERNS = {family: compile_gated(_CUE[family] + _GAP + _SEP + r"(?:" + _QUOTED + "|" + _VALUE[family] + ")")
             for family in _CUES}


# A cue no value can follow used to cost the whole pattern: the lazy 40-character gap times the
# separators times the values ("password=" repeated: 3,555 cues, 17 ms). A match needs a value
# start within reach: the gap ends at most 40 characters after the cue, and the separator is
# whitespace around at most 3 other characters ("was", "就是"). `_SCANS` are the patterns with that
# as a lookahead after the cue (the same matches); `_cue_matches` passes over such cues unmatched.
def _reachable(value_start: str) -> str:
    return (r"(?=[\s\S]{0,43}?(?:" + value_start + r")|[\s\S]{40}(?:\s*+\S){0,3}?\s*+(?:"
            + value_start + "))")


# Where a value can start: its opening quote, or the first character of a code or of a password.
_VALUE_START = {family: _QUOTE_OPEN + "|" + (_CODE_BEFORE + _CODE_DIGIT + "[A-Za-z0-9]" if _VALUE[family] is _CODE
                                              else _SECRET_BEFORE + "[!-~]") for family in _CUES}
_SCANS = {family: compile_gated(_CUE[family] + _reachable(_VALUE_START[family]) + _GAP + _SEP
                                + r"(?:" + _QUOTED + "|" + _VALUE[family] + ")") for family in _CUES}
_CODE_STARTS = compile_gated(_VALUE_START["otp"])
# A password starts after a non-printable character: past the printable run, then the other run (at
# C speed; a search tests each of the 32,000 "=" of "password====...": 1.5 ms).
_SECRET_SKIP = re.compile(r"(?<![!-~])(?=[!-~“‘「『])|[!#-&(-~]*+[^!-~“‘「『]*+")  # quotes stop it
_CUES_ALONE = {family: compile_gated(cue) for family, cue in _CUE.items()}
_REACH = {family: parse(cues).getwidth()[1] + 40 for family, (_type, cues) in _CUES.items()}
_FOUR_NON_SPACE = re.compile(r"(?:\s{0,64}+\S){4}")  # looked for in 64 characters at most


def _value_start(is_code: bool, text: str, q: int) -> int:
    """Where the first value at or after q can start (or a quote), len(text) if nowhere."""
    if is_code:
        return found.start() if (found := _CODE_STARTS.search(text, q)) else len(text)
    return _SECRET_SKIP.match(text, q).end()  # type: ignore[union-attr]  # it matches "" too


def _cue_matches(family: str, text: str) -> list[re.Match[str]]:
    """`list(_SCANS[family].finditer(text))`: non-overlapping, left to right."""
    scan, cue, reach, is_code = _SCANS[family], _CUES_ALONE[family], _REACH[family], _VALUE[family] is _CODE
    found: list[re.Match[str]] = []  # a list, not a generator: no resume per match
    pos, v = 0, -1  # v: the first possible value start after the last cue looked at
    while (c := cue.search(text, pos)) is not None:
        # Cue by cue: one value-start search serves all the cues before that start (the searches
        # cover the text about once), and a cue too far before it is passed over ("password="
        # repeated: 1 ms). Past the gap only the separator, whitespace and at most 3 other
        # characters, may come before the value: four of them (a bounded look) rule the cue out.
        p = c.start()
        if v <= p and (v := _value_start(is_code, text, p + 1)) == len(text):
            break  # no value after this cue, nor after any later one
        far = v > p + reach + 3 and _FOUR_NON_SPACE.match(text, p + reach, min(v, p + reach + 64))
        if far or (m := scan.match(text, p)) is None:
            pos = p + 1
            continue
        found.append(m)
        pos = m.end()  # never empty
        # Then match by match, as finditer, while matches follow each other closely ("PIN 0000
        # PIN 0001 ...": one scanner, no call per match); after a long stretch without one, cue
        # by cue again. finditer from `pos` finds what `scan.search(text, pos)` would, in turn.
        for m in scan.finditer(text, pos):
            found.append(m)
            start, end = m.span()
            if start - pos > 256:
                pos = end
                break
            pos = end
        else:
            break
    return found


# A hit built as the tuple it is: `Hit(...)` runs the named tuple's Python `__new__`, and
# `PL.PL4` is an enum look-up; thousands of hits a turn pay both (0.6 against 0.3 µs a hit).
_new_hit = tuple.__new__
_PL4 = PL.PL4
_UNJUDGED = ""  # not a privacy type: a value not judged yet


_NOT_A_CODE_WORDS = (r"(?i)(?:zip|postal|post|area|country|promo|discount|coupon|"
                     r"dress|source|error|status|qr|bar|tax|product|course)")
_NOT_A_CODE_BEFORE = re.compile(_NOT_A_CODE_WORDS + r"\s*$")
_DATE_OR_TIME = re.compile(r"^(?:\d{4}-\d{1,2}-\d{1,2}|\d{1,2}-\d{1,2}-\d{2,4}|\d{1,2}:\d{2})$")
_TAIL_WORDS = r"(?:尾号|尾數|尾数|后四位|末四位|(?i:ending in|ends in|last (?:4|four)(?: digits)?))"
_CARD_OR_PHONE_TAIL = re.compile(_TAIL_WORDS + r"\s*+(?:是|为|:|：)?\s*+$")
# The windows above are searched once per candidate value; a text that holds none of their words
# anywhere (one search each) cannot match in any window, so thousands of codes skip both searches.
_ANY_NOT_A_CODE = re.compile(_NOT_A_CODE_WORDS)
_ANY_TAIL = re.compile(_TAIL_WORDS)
_YEAR = re.compile(r"^(?:19|20)\d\d$")
_STOP_VALUES = frozenset({"none", "null", "empty", "same", "wrong", "correct", "incorrect", "weak",
                          "strong", "expired", "changed", "invalid", "required", "here", "below"})
_TRAIL_PUNCT = ".,;:)]}'\"”’，。；：）"


# CVVs and PINs are judged on the value alone: (fewest digits, most digits, confidence). An
# all-digit value is neither a stop word nor a date, so no other check applies to them.
_DIGITS_ONLY = {"cvv": (3, 4, 0.9), "pin": (4, 8, 0.85)}


def _digits_only_ok(family: str, value: str) -> float:
    low, high, confidence = _DIGITS_ONLY[family]
    return confidence if value.isdigit() and low <= len(value) <= high else 0.0


def _value_ok(family: str, value: str, quoted: bool, cue: str, gap: str, sep: str) -> float:
    """Confidence for this value, 0 to reject."""
    if family in _DIGITS_ONLY:
        return _digits_only_ok(family, value)
    digits = sum(map(str.isdigit, value))
    if value.casefold() in _STOP_VALUES or _DATE_OR_TIME.match(value):
        return 0.0
    explicit = bool(sep.strip()) or quoted
    if family in ("otp", "token"):
        if digits < 3 and family == "otp" or digits > 12 and "-" not in value:
            return 0.0
        if family == "token" and (digits < 2 or len(value) < 5 or value.upper() in ("2FA", "MFA")):
            return 0.0
        if _YEAR.match(value) and not explicit:
            return 0.0
        if family == "otp" and cue.casefold() == "code":
            # Bare "code" is common ("code 404", "the code review"): a code-looking value, at most
            # two words between ("the code like B-514-377"), lower tier.
            if digits >= 4 and len(gap.split()) <= 2 and ("-" in value or digits >= 5 or not gap.strip()):
                return 0.7
            return 0.0
        return 0.9 if not gap.strip() or explicit else 0.75
    # password / key: several words between cue and value need an explicit "is"/":"/"是".
    if gap.strip() and not explicit:
        return 0.0
    if len(value.rstrip("?!")) < 4 or value.startswith(("http://", "https://")):
        return 0.0
    core = value.rstrip("?!")  # "...or does it just unlock?" ends a sentence, not a password
    strong = digits and any(c.isalpha() for c in core) or any(not c.isalnum() for c in core)
    if not (strong or quoted or explicit and len(value) >= 8):
        return 0.0
    return 0.9 if explicit else 0.7


# A value of each family holds one of these characters (a code or token a digit, a password or key
# a digit or symbol, a quoted value its quote): a text without any skips the family's scan, which
# on a long run of cue words ("code is code is ...") costs a 40-character gap search per cue.
_QUOTES = "\"'“‘「『"
_CODE_CHAR = re.compile(r"[\d" + _QUOTES + "]")
_SECRET_CHAR = re.compile(r"[\d!@#$%^&*_+=~?" + _QUOTES + "]")
_VALUE_CHAR = {"otp": _CODE_CHAR, "cvv": _CODE_CHAR, "pin": _CODE_CHAR, "token": _CODE_CHAR,
               "password": _SECRET_CHAR, "key": _SECRET_CHAR}


def cue_secrets(text: str) -> Iterator[Hit | None]:
    # Hits are gathered in a list, not yielded: thousands of matches ("PIN 0000 PIN 0001 ...":
    # 3,555) would each resume this frame once more.
    out: list[Hit | None] = []
    not_a_code = may_match(_ANY_NOT_A_CODE, text) and _ANY_NOT_A_CODE.search(text) is not None
    tail = may_match(_ANY_TAIL, text) and _ANY_TAIL.search(text) is not None
    for family, pattern in _PATTERNS.items():
        if not _VALUE_CHAR[family].search(text) or not may_match(pattern, text):
            continue
        privacy_type, detector = _CUES[family][0], f"cue_{family}"
        is_code = _VALUE[family] is _CODE
        group = _SCANS[family].groupindex
        quoted_at, words_at = group["quoted"], (group["cue"], group["gap"], group["sep"])
        not_a_code_here = family == "otp" and not_a_code
        matches = _cue_matches(family, text)
        if family in _DIGITS_ONLY:  # CVVs and PINs: the value alone decides (_digits_only_ok)
            low, high, confidence = _DIGITS_ONLY[family]
            for m in matches:
                # The last group to close is the value's: the quoted one or the code.
                start, end = m.span(at := m.lastindex)  # type: ignore[arg-type]  # a match has a value
                if (low <= end - start <= high and text[start:end].isdigit()
                        and not (tail and _CARD_OR_PHONE_TAIL.search(text, max(0, start - 14), start))):
                    out.append(_new_hit(Hit, (start, end, privacy_type, _PL4, detector, confidence)) if at != quoted_at
                               else hit(text, start, end, privacy_type, _PL4, detector, confidence, trail=SECRET_TRAIL))
            continue
        # Otherwise a value repeated after the same words is judged once.
        judged: dict[tuple[str, int, bool], float] = {}
        for m in matches:
            quoted = (at := m.lastindex) == quoted_at
            start, end = m.span(at)  # type: ignore[arg-type]
            cue_at = m.start()
            if not_a_code_here and _NOT_A_CODE_BEFORE.search(text, max(0, cue_at - 12), cue_at):
                continue
            if tail and _CARD_OR_PHONE_TAIL.search(text, max(0, start - 14), start):
                continue  # "尾号为0780的手机", "card ending in 8831": an account, not a code
            if not (quoted or is_code):  # a code ends in a letter or digit, a password may not
                while end > start and text[end - 1] in _TRAIL_PUNCT:
                    end -= 1
            # From cue to value, where the value starts: that fixes the cue, gap and separator.
            key = (text[cue_at:end], start - cue_at, quoted)
            if (confidence := judged.get(key)) is None:
                value, words = key[0][key[1]:], m.group(*words_at)
                confidence = judged[key] = _value_ok(family, value, quoted, *words)
            if not confidence:
                continue
            if is_code and not quoted:  # starts and ends in a letter or digit: nothing to trim
                out.append(_new_hit(Hit, (start, end, privacy_type, _PL4, detector, confidence)))
            else:
                out.append(hit(text, start, end, privacy_type, _PL4, detector, confidence, trail=SECRET_TRAIL))
    return iter(out)


# The value can come first: "that 316-508 code", "the KLM-4471 2FA code", "QWZ-518-TP 令牌",
# "通过 603158 验证".
_POSTFIX = compile_gated(
    _CODE + r"\s*+(?P<cue>(?i:(?:(?:sms|2fa|mfa|otp|one-time|verification|auth|login|recovery|backup)\s+)?code|otp|"
    r"(?:auth[- ]?|access |session |security )?token)" + R + r"|验证码|校验码|动态码|令牌|验证(?!码))"
)


def _postfix_type(value: str, cue: str) -> str | None:
    """The value's privacy type, None to reject it."""
    digits = sum(map(str.isdigit, value))
    if digits < 3 or digits > 12 or _DATE_OR_TIME.match(value) or _YEAR.match(value):
        return None
    if cue == "code" and not ("-" in value or digits >= 5):
        return None  # "error 404 code", "the 2024 code of conduct"
    return "Token" if "token" in cue or "令牌" in cue else "Verification Code"


def postfix_codes(text: str) -> Iterator[Hit | None]:
    out: list[Hit | None] = []  # gathered, not yielded (as cue_secrets)
    tail = may_match(_ANY_TAIL, text) and _ANY_TAIL.search(text) is not None
    code_at, cue_at = _POSTFIX.groupindex["code"], _POSTFIX.groupindex["cue"]
    # "603158 code" repeated: ~2,700 matches (8 ms), so the same value and cue are judged once,
    # keyed by the two strings as written (one group call), the cue folded only when judged.
    judged: dict[tuple[str, str], str | None] = {}
    for m in _POSTFIX.finditer(text):
        key = m.group(code_at, cue_at)
        if (typ := judged.get(key, _UNJUDGED)) is _UNJUDGED:
            typ = judged[key] = _postfix_type(key[0], key[1].casefold())
        if typ is None:
            continue
        start = m.start()  # the match starts with the code
        if tail and _CARD_OR_PHONE_TAIL.search(text, max(0, start - 14), start):
            continue
        # A code starts and ends in a letter or digit: nothing for hit() to trim.
        out.append(_new_hit(Hit, (start, start + len(key[0]), typ, _PL4, "cue_postfix", 0.75)))
    return iter(out)


# A password pasted without a cue still looks like one: long, no spaces, and mixing upper,
# lower, digits and symbols. Emails, URLs and paths are excluded by shape.
_STRONG = re.compile(
    r"(?<![!-~])(?=[!-~]{10,64}(?![!-~]))(?=[!-~]{0,63}[A-Z])(?=[!-~]{0,63}[a-z])"
    r"(?=[!-~]{0,63}[0-9])(?=[!-~]{0,63}[!@#$%^&*+=~?])[!-~]{10,64}"
)


# URLs, paths and LaTeX/maths ("\\frac{a}{b}", "x^{2}=4") mix character classes too.
_NOT_A_PASSWORD = re.compile(r"://|/|\\|[{}^]|=.*=|[<>]=")


def strong_passwords(text: str) -> Iterator[Hit | None]:
    for m in _STRONG.finditer(text):
        value = m.group().rstrip(_TRAIL_PUNCT)
        if _NOT_A_PASSWORD.search(value) or re.search(r"@[A-Za-z0-9-]+\.[A-Za-z]{2,}", value):
            continue
        yield hit(text, m.start(), m.start() + len(value), "Password", PL.PL4, "strong_password",
                  0.6, trail=SECRET_TRAIL)


DETECTORS = (cue_secrets, postfix_codes, strong_passwords)
