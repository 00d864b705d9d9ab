"""Bytes <-> wire models. Every failure becomes `InvalidRecord` with a reason that names the field
and the rule but never quotes the input (pydantic's default messages do; they could hold a value)."""

from __future__ import annotations

import json
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from streamproc.core.errors import InvalidRecord

M = TypeVar("M", bound=BaseModel)


def decode(raw: bytes | None, model: type[M], *, max_bytes: int) -> M:
    if raw is None:
        raise InvalidRecord("empty record (tombstone)", "EmptyRecord")
    if len(raw) > max_bytes:
        raise InvalidRecord(f"record is {len(raw)} bytes, limit {max_bytes}", "OversizedRecord")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise InvalidRecord(f"invalid UTF-8 at byte {err.start}", "InvalidUtf8") from None
    try:
        payload = json.loads(text)
    except json.JSONDecodeError as err:
        raise InvalidRecord(f"invalid JSON: {err.msg} at line {err.lineno} column {err.colno}", "InvalidJson") from None
    try:
        return model.model_validate(payload)
    except ValidationError as err:
        raise InvalidRecord(f"{model.__name__}: {describe(err, model)}", "SchemaError") from None


def _field_names(model: type[BaseModel]) -> set[str]:
    return set(model.model_fields) | {"[key]"}


def describe(err: ValidationError, model: type[BaseModel] | None = None) -> str:
    """The first few problems as `field: rule`, without the offending input. A location that is
    not one of the model's own field names came from the input (an unknown field's name, a dict
    key) and could be a secret typed in the wrong place: it is shown as `?`."""
    known = _field_names(model) if model is not None else None
    parts = []
    for problem in err.errors(include_input=False, include_url=False, include_context=False)[:5]:
        loc = [p if isinstance(p, int) or known is None or p in known else "?" for p in problem["loc"]]
        where = ".".join(str(p) for p in loc) or "record"
        parts.append(f"{where}: {problem['msg']}")
    more = err.error_count() - len(parts)
    return "; ".join(parts) + (f" (+{more} more)" if more > 0 else "")


def encode(record: BaseModel) -> bytes:
    return record.model_dump_json().encode("utf-8")
