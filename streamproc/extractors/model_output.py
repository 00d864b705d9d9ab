"""Model output is untrusted: parse it, validate it, ground every span in the turn, clean it up.

All pure. Invalid or truncated JSON never reaches masking: it raises `BadModelOutput` (a
turn-specific, non-retriable ExtractionError; the extractors retry the turn a bounded number of
times first), and the flow's fail-closed policy decides. Spans the turn does not contain are
dropped and counted (the hallucination metric).

Two parsers:
- strict (the server constrains output by the JSON schema): `json.loads`, nothing else.
- tolerant (`structured_output=false`, for servers without structured output): a `<think>` block,
  code fences, text before the array and trailing text are cut away, then the well-kept
  `json-repair` library (MIT) closes what is left open. The result is validated exactly like
  strict output. Fail-closed rules: output cut at max_tokens is still a failure (spans may be
  missing); a repaired array whose last element lacks a field is a failure (we cannot know the
  whole value or its level); junk that "repairs" to an empty array is a failure (an honest `[]`
  parses without repair).
"""

from __future__ import annotations

import json
import unicodedata
from dataclasses import dataclass

import json_repair
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


class BadModelOutput(ExtractionError):
    """The model's answer for one turn is unusable (truncated, not JSON, not the schema): a
    turn-specific failure. `truncated` says a larger max_tokens may help."""

    def __init__(self, reason: str, *, truncated: bool = False) -> None:
        super().__init__(reason, retriable=False)
        self.truncated = truncated


def parse(text: str, *, truncated: bool, tolerant: bool = False) -> list[ModelSpan]:
    if truncated:
        raise BadModelOutput("model output hit max_tokens (truncated JSON)", truncated=True)
    raw = _tolerant_json(text) if tolerant else _strict_json(text)
    try:
        spans = _SPANS.validate_python(raw)
    except ValidationError as err:
        raise BadModelOutput(f"model output does not match the span schema ({err.error_count()} errors)") from None
    if len(spans) > MAX_SPANS:
        raise BadModelOutput("model output has too many spans")
    return spans


def _strict_json(text: str) -> object:
    try:
        return json.loads(text.strip(), strict=False)  # some grammars let raw control chars through
    except json.JSONDecodeError as err:
        raise BadModelOutput(f"model output is not JSON ({err.msg})") from None


def _tolerant_json(text: str) -> object:
    """The span array from free text: after any `<think>` block, from the first `[`; exact JSON
    first (trailing text ignored), else json-repair."""
    if "<think>" in text:
        end = text.rfind("</think>")
        if end < 0:
            raise BadModelOutput("model output is an unfinished <think> block")
        text = text[end + len("</think>") :]
    start = text.find("[")
    if start < 0:
        raise BadModelOutput("model output has no JSON array")
    body = text[start:]
    try:
        return json.JSONDecoder(strict=False).raw_decode(body)[0]
    except json.JSONDecodeError:
        pass
    # Cut a closing code fence: json-repair would otherwise read its backticks as a value.
    fence = body.find("```")
    repaired = json_repair.loads(body[:fence] if fence >= 0 else body, skip_json_loads=True)
    if not isinstance(repaired, list) or not repaired:
        raise BadModelOutput("model output is not a JSON array, even after repair")
    return repaired


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
