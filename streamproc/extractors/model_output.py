"""Model output is untrusted: parse it, validate it, ground every span in the turn, clean it up.

All pure. Invalid or truncated JSON never reaches masking: it raises ExtractionError, and the
flow's fail-closed policy decides (retry, or rules fallback marked degraded). Spans the turn does
not contain are dropped and counted (the hallucination metric).
"""

from __future__ import annotations

import json
import unicodedata
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from streamproc.core.errors import ExtractionError
from streamproc.core.spans import Detection
from streamproc.core.taxonomy import STANDARD_TYPES, PrivacyLevel, canonical_type
from streamproc.extractors.model_request import MAX_SPAN_CHARS, MAX_SPANS, MAX_TYPE_CHARS


class ModelSpan(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    original_text: str = Field(min_length=1, max_length=MAX_SPAN_CHARS)
    privacy_type: str = Field(min_length=1, max_length=MAX_TYPE_CHARS)
    privacy_level: PrivacyLevel


_SPANS = TypeAdapter(list[ModelSpan])


@dataclass(frozen=True, slots=True)
class Grounded:
    detections: list[Detection]
    dropped: int  # spans not found in the turn


def parse(text: str, *, truncated: bool) -> list[ModelSpan]:
    if truncated:
        raise ExtractionError("model output hit max_tokens (truncated JSON)", retriable=True)
    try:
        raw = json.loads(text.strip(), strict=False)  # some grammars let raw control chars through
    except json.JSONDecodeError as err:
        raise ExtractionError(f"model output is not JSON ({err.msg})", retriable=True) from None
    try:
        spans = _SPANS.validate_python(raw)
    except ValidationError as err:
        raise ExtractionError(f"model output does not match the span schema ({err.error_count()} errors)", retriable=True) from None
    if len(spans) > MAX_SPANS:
        raise ExtractionError("model output has too many spans", retriable=True)
    return spans


def _normalise(text: str) -> tuple[str, list[int]]:
    """NFKC (full-width -> ASCII), whitespace runs -> one space, casefold; with a map from each
    normalised character back to its offset in the original."""
    out: list[str] = []
    where: list[int] = []
    for i, ch in enumerate(text):
        for piece in unicodedata.normalize("NFKC", ch).casefold():
            if piece.isspace():
                if out and out[-1] == " ":
                    continue
                piece = " "
            out.append(piece)
            where.append(i)
    return "".join(out), where


def ground(content: str, spans: list[ModelSpan], *, source: str = "model") -> Grounded:
    """Keep spans that occur in the turn (exactly, else after width/space/case normalisation, in
    which case the turn's own text is used); map types onto standard tags; raise a level to its
    tag's standard level (when unsure, the higher); drop PL1, which is never masked."""
    detections: list[Detection] = []
    dropped = 0
    norm_content, where = _normalise(content)
    for span in spans:
        text = span.original_text
        if text not in content:
            norm_span = _normalise(text)[0].strip()
            at = norm_content.find(norm_span) if norm_span else -1
            if at < 0:
                dropped += 1
                continue
            start, end = where[at], where[at + len(norm_span) - 1] + 1
            text = content[start:end]
        privacy_type = canonical_type(span.privacy_type)
        level = span.privacy_level
        standard = STANDARD_TYPES.get(privacy_type)
        if standard is not None and standard.rank > level.rank:
            level = standard
        if level is PrivacyLevel.PL1:
            continue
        detections.append(Detection(text, privacy_type, level, source=source))
    return Grounded(detections, dropped)
