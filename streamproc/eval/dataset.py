"""Reading MemPrivacy-Bench JSONL into messages with their gold spans.

Format (one user per line): `{"uuid", "metadata": {"user_name", ...}, "dialogues": [{"role",
"content", "privacy_info": [{"original_text", "privacy_type", "privacy_level"}]}], ...}`.
`metadata.user_name` is the user's real name; the extractor gets it as `real_name`.

Selection, in this order: keep the requested roles and (`users`) the users whose uuid starts
with one of the given prefixes (develop on one user, validate on the others); `sample` draws that many *messages* (not
users: the dev files hold 2 and 10 users, too few to sample) uniformly with `random.Random(seed)`
and keeps them in file order; `limit` then keeps the first N. Messages are independent for the
extractor (each carries its user's real name), so sampling messages loses nothing.

Malformed input raises `DatasetError` naming the file, the line and the field; messages never
quote dialogue content or span values, which are private by construction.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, get_args

from streamproc.core.spans import Detection
from streamproc.core.taxonomy import PrivacyLevel
from streamproc.extractors.base import TurnText

Roles = Literal["both", "user", "assistant"]
ROLE_CHOICES: tuple[str, ...] = get_args(Roles)
GOLD_SOURCE = "gold"


class DatasetError(ValueError):
    """The eval file is not in MemPrivacy-Bench format; the message says where."""


@dataclass(frozen=True, slots=True)
class EvalMessage:
    turn_id: str  # "<user uuid or line>:<dialogue index>", stable across runs
    user_id: str
    line_no: int
    role: str
    content: str
    real_name: str | None
    gold: tuple[Detection, ...]

    def turn_text(self) -> TurnText:
        return TurnText(self.turn_id, self.role, self.content, self.real_name)


def _require(value: Any, kind: type | tuple[type, ...], where: str) -> Any:
    if not isinstance(value, kind):
        names = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        raise DatasetError(f"{where}: expected {names}, got {type(value).__name__}")
    return value


def _parse_span(raw: Any, where: str) -> Detection:
    _require(raw, dict, where)
    text = _require(raw.get("original_text"), str, f"{where}.original_text")
    privacy_type = _require(raw.get("privacy_type"), str, f"{where}.privacy_type")
    level_raw = _require(raw.get("privacy_level"), str, f"{where}.privacy_level")
    try:
        level = PrivacyLevel.parse(level_raw)
    except ValueError:
        raise DatasetError(f"{where}.privacy_level: expected PL1..PL4, got {level_raw[:16]!r}") from None
    if not text.strip():
        raise DatasetError(f"{where}.original_text: empty")
    return Detection(text, privacy_type, level, source=GOLD_SOURCE)


def _parse_user(record: Any, where: str, line_no: int) -> Iterator[EvalMessage]:
    _require(record, dict, where)
    metadata = _require(record.get("metadata", {}), dict, f"{where}: metadata")
    real_name = metadata.get("user_name")
    if real_name is not None:
        _require(real_name, str, f"{where}: metadata.user_name")
    user_id = str(record.get("uuid") or f"line{line_no}")
    dialogues = _require(record.get("dialogues"), list, f"{where}: dialogues")
    for index, turn in enumerate(dialogues):
        at = f"{where}: dialogues[{index}]"
        _require(turn, dict, at)
        role = _require(turn.get("role"), str, f"{at}.role")
        if role not in ("user", "assistant"):
            raise DatasetError(f"{at}.role: expected 'user' or 'assistant', got {role[:16]!r}")
        content = _require(turn.get("content"), str, f"{at}.content")
        spans = _require(turn.get("privacy_info", []), list, f"{at}.privacy_info")
        gold = tuple(_parse_span(s, f"{at}.privacy_info[{i}]") for i, s in enumerate(spans))
        yield EvalMessage(f"{user_id}:{index}", user_id, line_no, role, content, real_name or None, gold)


def read_messages(path: Path, *, roles: Roles = "both") -> list[EvalMessage]:
    """Every message of the file in order, restricted to `roles`."""
    if roles not in ROLE_CHOICES:
        raise ValueError(f"roles must be one of {ROLE_CHOICES}, got {roles!r}")
    messages: list[EvalMessage] = []
    with path.open("rb") as lines:
        for line_no, raw in enumerate(lines, start=1):
            where = f"{path}:{line_no}"
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise DatasetError(f"{where}: not UTF-8 (byte {exc.start})") from None
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                raise DatasetError(f"{where}: invalid JSON ({exc.msg} at column {exc.colno})") from None
            for message in _parse_user(record, where, line_no):
                if roles == "both" or message.role == roles:
                    messages.append(message)
    return messages


def select_messages(
    messages: Sequence[EvalMessage], *, sample: int | None = None, seed: int = 0, limit: int | None = None
) -> list[EvalMessage]:
    """Sample `sample` messages with `seed` (kept in file order), then keep the first `limit`."""
    for name, value in (("sample", sample), ("limit", limit)):
        if value is not None and value < 0:
            raise ValueError(f"{name} must be >= 0, got {value}")
    chosen = list(messages)
    if sample is not None and sample < len(chosen):
        keep = sorted(random.Random(seed).sample(range(len(chosen)), sample))
        chosen = [chosen[i] for i in keep]
    if limit is not None:
        chosen = chosen[:limit]
    return chosen


def load_messages(
    path: Path,
    *,
    roles: Roles = "both",
    sample: int | None = None,
    seed: int = 0,
    limit: int | None = None,
    users: Sequence[str] | None = None,
) -> list[EvalMessage]:
    messages = read_messages(path, roles=roles)
    if users:
        prefixes = tuple(users)
        messages = [m for m in messages if m.user_id.startswith(prefixes)]
    return select_messages(messages, sample=sample, seed=seed, limit=limit)
