"""Bytes <-> wire models. Decoding is total: every byte string becomes a model or `InvalidRecord`
with a reason that names the field and the rule but never quotes the input (pydantic's and the
parser's default messages can; they could hold a value).

The parser is jiter (pydantic's own JSON parser, in Rust): a bounded nesting depth instead of
Python's recursion, no huge-integer conversion, and it can refuse what the standard library
accepts silently:
- duplicate keys (`{"content": "benign", "content": "secret"}`): a validator and a consumer that
  pick different copies is an evasion, so the record is rejected;
- NaN / Infinity (not JSON), lone surrogates (`"\\ud800"`, a string no encoder can write back)
  and raw control characters inside strings.
A leading UTF-8 byte-order mark is ignored (RFC 8259 allows it; editors on Windows write it).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any, TypeVar

import jiter
from pydantic import BaseModel, ValidationError

from streamproc.core.errors import InvalidRecord

M = TypeVar("M", bound=BaseModel)

BOM = b"\xef\xbb\xbf"
# jiter's messages end with the position; the rest may quote the input (a duplicate key's name).
_POSITION = re.compile(r"at line (\d{1,9}) column (\d{1,9})$")
# (fragment of the parser's message, our error class, our wording): first match wins.
_PARSE_ERRORS = (
    ("recursion limit", "NestingTooDeep", "nesting deeper than the parser's limit"),
    ("number out of range", "NumberOutOfRange", "a number too large to represent"),
    ("duplicate key", "DuplicateKey", "an object with a duplicate key"),
    ("surrogate", "InvalidJson", "a lone UTF-16 surrogate escape"),
    ("control character", "InvalidJson", "a raw control character inside a string"),
)


def decode(raw: bytes | None, model: type[M], *, max_bytes: int) -> M:
    """The model, or `InvalidRecord`; never any other exception, whatever `raw` holds."""
    if raw is None:
        raise InvalidRecord("empty record (tombstone)", "EmptyRecord")
    if len(raw) > max_bytes:
        raise InvalidRecord(f"record is {len(raw)} bytes, limit {max_bytes}", "OversizedRecord")
    if raw.startswith(BOM):
        raw = raw[len(BOM):]
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise InvalidRecord(f"invalid UTF-8 at byte {err.start}", "InvalidUtf8") from None
    payload = parse_json(raw)
    try:
        return model.model_validate(payload)
    except ValidationError as err:
        raise InvalidRecord(f"{model.__name__}: {describe(err, model)}", "SchemaError") from None
    except (ValueError, TypeError, RecursionError, OverflowError) as err:  # belt and braces
        raise InvalidRecord(f"{model.__name__}: {type(err).__name__} while validating", "SchemaError") from None


def decode_each(values: Iterable[bytes | None], model: type[M], *, max_bytes: int) -> list[M | InvalidRecord]:
    """`decode` for a batch: each value's model, or the `InvalidRecord` that stands in its place
    (so a stage can keep record order and dead-letter exactly the bad ones)."""
    out: list[M | InvalidRecord] = []
    for raw in values:
        try:
            out.append(decode(raw, model, max_bytes=max_bytes))
        except InvalidRecord as err:
            out.append(err)
    return out


def parse_json(raw: bytes) -> Any:
    """JSON with the refusals above; raises only InvalidRecord."""
    try:
        return jiter.from_json(raw, allow_inf_nan=False, catch_duplicate_keys=True, cache_mode="keys")
    except ValueError as err:
        message = str(err)
        where = _POSITION.search(message)
        at = f" at line {where.group(1)} column {where.group(2)}" if where else ""
        for fragment, error_class, wording in _PARSE_ERRORS:
            if fragment in message:
                raise InvalidRecord(f"invalid JSON: {wording}{at}", error_class) from None
        raise InvalidRecord(f"invalid JSON{at}", "InvalidJson") from None
    except RecursionError:  # not expected from jiter; keeps the function total regardless
        raise InvalidRecord("invalid JSON: nesting too deep", "NestingTooDeep") from None


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
