"""Hostile RECORDS: raw bytes as a broken client or an attacker could put them on raw-dialogue.

Record-level shapes (encoding, JSON, schema, size) are defined here; turn-content shapes come from
`streamproc.bench.hostile` (the rules' own catalogue) and are wrapped into valid records. Every
record must end masked or dead-lettered, never stop the CLI or the worker. Benign turns, each with
planted secrets, are interleaved to prove the others are unaffected. All values are synthetic.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Literal

Outcome = Literal["masked", "dead-letter", "either"]
TS = "2026-11-23T10:00:00Z"
BOM = b"\xef\xbb\xbf"


@dataclass(frozen=True, slots=True)
class HostileRecord:
    name: str
    value: bytes | None  # None: a tombstone (only the broker can carry one)
    outcome: Outcome
    turn_id: str | None = None  # set when the record decodes to a turn


@dataclass(frozen=True, slots=True)
class BenignTurn:
    value: bytes
    turn_id: str
    secrets: tuple[str, ...]


def _turn(turn_id: str, content: object = "hello", **extra: object) -> dict[str, object]:
    return {"turn_id": turn_id, "user_id": f"user-{turn_id}", "session_id": "s-hostile", "role": "user",
            "content": content, "ts": TS, **extra}


def _raw(record: dict[str, object]) -> bytes:
    return json.dumps(record, ensure_ascii=False).encode()


def record_cases(max_record_bytes: int = 256_000) -> list[HostileRecord]:
    good = _raw(_turn("h-good-shape"))
    big = 32_000
    cases = [
        HostileRecord("invalid_utf8", b'{"turn_id": "h1", "content": "\xff\xfe secret"}', "dead-letter"),
        HostileRecord("truncated_utf8", _raw(_turn("h2", "caf\u00e9"))[:-3] + b"\xc3", "dead-letter"),
        HostileRecord("bom_then_valid_turn", BOM + _raw(_turn("h-bom", "mail bom.user@example.net")), "masked", "h-bom"),
        HostileRecord("deep_nesting", b'{"turn_id": "h3", "content": ' + b"[" * 50_000 + b"]" * 50_000 + b"}", "dead-letter"),
        HostileRecord("huge_integer", b'{"turn_id": ' + b"9" * 200_000 + b"}", "dead-letter"),
        HostileRecord("huge_float", _raw(_turn("h4"))[:-1] + b', "x": 1e999}', "dead-letter"),
        HostileRecord("duplicate_content_key", _raw(_turn("h5", "benign"))[:-1] + b', "content": "mail dup.user@example.net"}', "dead-letter"),
        HostileRecord("nan", _raw(_turn("h6"))[:-1] + b', "x": NaN}', "dead-letter"),
        HostileRecord("infinity", b'{"turn_id": Infinity}', "dead-letter"),
        HostileRecord("lone_high_surrogate", _raw(_turn("h7", "x")).replace(b'"x"', b'"\\ud800 pin 4821"'), "dead-letter"),
        HostileRecord("lone_low_surrogate", _raw(_turn("h8", "x")).replace(b'"x"', b'"\\udfff"'), "dead-letter"),
        HostileRecord("raw_control_char_in_string", _raw(_turn("h9", "x")).replace(b'"x"', b'"a\x01b"'), "dead-letter"),
        HostileRecord("escaped_controls_in_content", _raw(_turn("h-ctl", "".join(chr(c) for c in range(32)) * 10)), "masked", "h-ctl"),
        HostileRecord("nul_in_user_id", _raw({**_turn("h10"), "user_id": "u\u0000x"}), "dead-letter"),
        HostileRecord("oversized", _raw(_turn("h11", "a" * (max_record_bytes + 10))), "dead-letter"),
        HostileRecord("content_too_long", _raw(_turn("h12", "a" * (big + 1))), "dead-letter"),
        HostileRecord("content_wrong_type", _raw(_turn("h13", 12345)), "dead-letter"),
        HostileRecord("content_list", _raw(_turn("h14", ["a", "b"])), "dead-letter"),
        HostileRecord("role_system", _raw({**_turn("h15"), "role": "system"}), "dead-letter"),
        HostileRecord("missing_fields", b'{"turn_id": "h16"}', "dead-letter"),
        HostileRecord("unknown_field_named_like_a_secret", _raw({**_turn("h17"), "sk-live-00000000": 1}), "dead-letter"),
        HostileRecord("policy_unknown_action", _raw(_turn("h18", policy={"PL2": "shred"})), "dead-letter"),
        HostileRecord("policy_level_pl1", _raw(_turn("h19", policy={"PL1": "keep"})), "dead-letter"),
        HostileRecord("policy_tightening_ok", _raw(_turn("h-pol", "mail pol.user@example.net", policy={"PL2": "redact"})), "masked", "h-pol"),
        HostileRecord("real_name_too_long", _raw(_turn("h20", real_name="A" * 10_000)), "dead-letter"),
        HostileRecord("real_name_256", _raw(_turn("h-name", "Alexandra wrote", real_name="Alexandra " * 25 + "Lee")), "masked", "h-name"),
        HostileRecord("turn_id_too_long", _raw(_turn("x" * 129)), "dead-letter"),
        HostileRecord("empty_object", b"{}", "dead-letter"),
        HostileRecord("json_array", b"[" + good + b"]", "dead-letter"),
        HostileRecord("bare_string", b'"hello"', "dead-letter"),
        HostileRecord("empty_bytes", b"", "dead-letter"),
        HostileRecord("whitespace_only", b" \t ", "dead-letter"),
        HostileRecord("trailing_garbage", good + b" {}", "dead-letter"),
        HostileRecord("two_documents", good + b"\n" + good, "dead-letter"),
        HostileRecord("ts_not_a_date", _raw({**_turn("h21"), "ts": "yesterday"}), "dead-letter"),
        HostileRecord("lookalikes_32k", _raw(_turn("h-look", ("<Email_1> &lt;Phone_Number_2&gt; " * 1000)[:big])), "masked", "h-look"),
        HostileRecord("ten_thousand_spans", _raw(_turn("h-spans", " ".join(f"PIN {i % 10_000:04d}" for i in range(4_000))[:big])), "either", "h-spans"),
        HostileRecord("many_emails", _raw(_turn("h-mails", " ".join(f"u{i}@b.co" for i in range(4_000))[:big])), "either", "h-mails"),
    ]
    return cases


def content_cases() -> list[HostileRecord]:
    """The rules' content catalogue as valid records: masked, or dead-lettered at a deadline
    (ExtractionTimeout) or for an output too large to send (OutputTooLarge)."""
    try:
        from streamproc.bench.hostile import hostile_cases
    except ImportError:  # the content catalogue lands with the linear-time rules work
        return []
    out = []
    for i, case in enumerate(hostile_cases()):
        turn_id = f"hc-{i}"
        extra = {"real_name": case.real_name} if case.real_name else {}
        out.append(HostileRecord(f"content:{case.name}", _raw(_turn(turn_id, case.content, **extra)), "either", turn_id))
    return out


def benign_turns(count: int, tag: str) -> list[BenignTurn]:
    """Ordinary turns, each with an email and a phone number that must not survive masking."""
    out = []
    for i in range(count):
        email = f"benign.{tag}.{i}@example.com"
        phone = f"+1 415 555 {i % 10_000:04d}"
        turn_id = f"b-{tag}-{i}"
        content = f"Hi, this is turn {i}. Write to {email} or call {phone} after lunch."
        out.append(BenignTurn(_raw({**_turn(turn_id, content), "user_id": f"benign-{i % 7}"}), turn_id, (email, phone)))
    return out
