from pathlib import Path

import pytest
from pydantic import ValidationError

from streamproc.schemas import render_schemas
from streamproc.wire import MAX_CONTENT_CHARS, RawTurn

SCHEMAS = Path(__file__).resolve().parents[2] / "schemas"


def test_checked_in_schemas_match_the_models() -> None:
    rendered = render_schemas()
    on_disk = {p.name: p.read_text(encoding="utf-8") for p in SCHEMAS.glob("*.schema.json")}
    assert on_disk == rendered, "schemas/ drifted from streamproc/wire.py: run `streamproc schemas`"


def raw(**over: object) -> dict[str, object]:
    base: dict[str, object] = {"turn_id": "t1", "user_id": "u1", "session_id": "s1", "role": "user", "content": "hi", "ts": "2026-11-23T10:00:00Z"}
    base.update(over)
    return base


def test_raw_turn_accepts_a_minimal_record() -> None:
    assert RawTurn.model_validate(raw()).real_name is None


@pytest.mark.parametrize(
    "bad",
    [
        {"role": "system"},
        {"turn_id": ""},
        {"content": "x" * (MAX_CONTENT_CHARS + 1)},
        {"policy": {"PL1": "mask"}},
        {"policy": {"PL2": "shred"}},
        {"unexpected": 1},
    ],
)
def test_raw_turn_rejects_bad_records(bad: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        RawTurn.model_validate(raw(**bad))


def test_missing_field_is_rejected() -> None:
    record = raw()
    del record["content"]
    with pytest.raises(ValidationError):
        RawTurn.model_validate(record)
