"""A catalogue of hostile turn contents: shapes an attacker (or a broken client) can send.

Each case is content of at most `MAX_CHARS` characters (the size of a long turn) and an optional
`real_name`. They target the rules detectors (long runs after cue words, long runs of every
character class a pattern repeats, repeated near-matches), the masking core (ten thousand spans
in one turn, thousands of placeholder look-alikes in every form restoration accepts) and evasion
(values laced with zero-width and bidi characters). The values are synthetic.

Used by `streamproc bench` (worst-case time next to the median), by the complexity test
(tests/unit/test_rules_linear_time.py) and by anyone who wants to push a hostile stream through
the CLI or the worker.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

MAX_CHARS = 32_000


@dataclass(frozen=True, slots=True)
class HostileCase:
    name: str
    content: str
    real_name: str | None = None


def _fill(unit: str, size: int = MAX_CHARS, head: str = "", tail: str = "") -> str:
    """`head`, then `unit` repeated, then `tail`, at most `size` characters in all."""
    room = size - len(head) - len(tail)
    body = unit * (room // len(unit)) if room > 0 else ""
    return (head + body + tail)[:size]


# Cue and label words followed by long separator runs (the 38-second shape on old code).
_LABELS = ("password", "Passport Number", "order", "account number", "username", "验证码", "密码",
           "订单号", "PIN", "CVV", "api key", "token", "Server=db;", "my colleague", "diagnosed with",
           "spent", "salary", "Dr.", "credit score", "room", "flight", "check-in at", "BEGIN")
_SEPARATORS = {"spaces": " ", "tabs": "\t", "newlines": "\n", "fullwidth_spaces": "\u3000",
               "colons": ":", "equals": "=", "dashes": "-", "dots": "."}
# Long runs of each character class a pattern repeats.
_RUNS = {"digits": "7", "letters": "a", "upper": "Q", "hex": "f3", "base64": "Ab9+/", "cjk": "号",
         "cjk_text": "浙江省杭州市", "at": "@", "dot": ".", "slash": "/", "percent": "%",
         "quotes": "\"'", "brackets": "([{<", "closing": ")]}>", "backslash": "\\", "underscore": "_",
         "hash": "#", "comma_digits": "1,", "spaces_only": " ", "mixed_case_symbols": "aB3!"}
# Repeated near-matches: almost a value, again and again.
_NEAR = {"email_tail": "a@a.", "email_local": "a.", "card_groups": "1234-", "phone_groups": "+1 ",
         "password_eq": "password=", "code_is": "code is ", "dsn_scheme": "postgres://",
         "jwt_head": "eyJ.", "amount": "$1,", "ip_octets": "1.", "ipv6": "a:", "iban": "DE12 ",
         "pem_head": "-----BEGIN ", "label_colon": "Passport Number: ", "zh_address": "路1",
         "name_tokens": "Ab ", "odbc_pairs": "Server=a;x=", "handle": "@a_", "placeholder_open": "<a_"}
# Placeholder look-alikes in every form restoration accepts.
_LOOKALIKES = ("<Email_1>", "<email_1>", "< Email _ 1 >", "&lt;Email_1&gt;", "<EMAIL_01>",
               "<\\Email_1>", "&lt; Real Name 12 &gt;")
# Invisible characters that must not hide a value.
ZERO_WIDTH = "\u200b\u200c\u200d\u2060\ufeff\u00ad"
BIDI = "\u200e\u200f\u061c\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"


def _cases() -> Iterator[HostileCase]:
    for label in _LABELS:
        for sep_name, sep in _SEPARATORS.items():
            yield HostileCase(f"label[{label}]+{sep_name}", _fill(sep, head=label, tail="x"))
    for run_name, unit in _RUNS.items():
        yield HostileCase(f"run[{run_name}]", _fill(unit))
    for near_name, unit in _NEAR.items():
        yield HostileCase(f"near[{near_name}]", _fill(unit))
    yield HostileCase("spans[same_email]", _fill("a@b.co "))
    yield HostileCase("spans[distinct_emails]", " ".join(f"u{i}@b.co" for i in range(3_500))[:MAX_CHARS])
    yield HostileCase("spans[distinct_pins]", " ".join(f"PIN {i:04d}" for i in range(3_600))[:MAX_CHARS])
    yield HostileCase("spans[10k_numbers]", _fill("1 2 "))
    yield HostileCase("spans[phones]", _fill("+44 20 7946 0958 "))
    yield HostileCase("spans[cue_codes]", _fill("code 603158 "))
    yield HostileCase("lookalikes[all_forms]", _fill(" ".join(_LOOKALIKES) + " "))
    yield HostileCase("lookalikes[emails_and_lookalikes]", _fill("<Email_1> a@b.co "))
    yield HostileCase("nested_brackets", _fill("(", size=MAX_CHARS // 2) + _fill(")", size=MAX_CHARS // 2))
    yield HostileCase("nested_lookalike_brackets", _fill("<", size=MAX_CHARS // 2, tail="Email_1")
                      + _fill(">", size=MAX_CHARS // 2))
    long_name = ("Alexandra " * 26)[:256]
    yield HostileCase("real_name[256]", _fill(long_name + " "), real_name=long_name)
    yield HostileCase("real_name[256_spaces]", _fill("a "), real_name=("a " * 128)[:256])
    yield HostileCase("evasion[zero_width_phone]", _fill("call +44\u200b20\u200b7946\u200b0958 "))
    yield HostileCase("evasion[bidi_email]", _fill("mail \u202ealice@example.org\u202c ok "))
    yield HostileCase("evasion[soft_hyphen_password]", _fill("password: Hu\u00adnter\u00ad42! "))
    yield HostileCase("evasion[invisible_run]", _fill(ZERO_WIDTH + BIDI))
    yield HostileCase("evasion[label_invisible_run]", _fill("\u200b", head="password", tail="Secret123!"))
    yield HostileCase("control_chars", _fill("".join(chr(c) for c in range(32)) + "\x7f"))
    yield HostileCase("pem_unterminated", _fill("A", head="-----BEGIN RSA PRIVATE KEY-----\n"))
    yield HostileCase("cjk_mixed", _fill("我住在浙江省杭州市西湖路12号 电话13800138000 "))


def hostile_cases() -> list[HostileCase]:
    """Every case, each `content` at most MAX_CHARS characters; names are unique."""
    cases = list(_cases())
    if len({c.name for c in cases}) != len(cases):
        raise RuntimeError("hostile case names must be unique")
    return cases
