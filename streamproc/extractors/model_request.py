"""What every vLLM engine is asked, built purely from a turn and the settings.

The model contract (from the MemPrivacy card): the chat template with thinking disabled, one user
message, temperature 0.1, top_p 0.1, repetition penalty 1.05, and output constrained by the JSON
schema of a span array. The schema is bounded (maxItems, maxLength) so a degenerate model cannot
loop until max_tokens.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from streamproc.extractors.base import TurnText
from streamproc.extractors.prompt import PromptTemplate

MAX_SPANS = 48
MAX_SPAN_CHARS = 512
MAX_TYPE_CHARS = 64

SPAN_ARRAY_SCHEMA: dict[str, Any] = {
    "type": "array",
    "maxItems": MAX_SPANS,
    "items": {
        "type": "object",
        "properties": {
            "original_text": {"type": "string", "minLength": 1, "maxLength": MAX_SPAN_CHARS},
            "privacy_type": {"type": "string", "minLength": 1, "maxLength": MAX_TYPE_CHARS},
            "privacy_level": {"type": "string", "enum": ["PL1", "PL2", "PL3", "PL4"]},
        },
        "required": ["original_text", "privacy_type", "privacy_level"],
        "additionalProperties": False,
    },
}


@dataclass(frozen=True, slots=True)
class Sampling:
    temperature: float = 0.1
    top_p: float = 0.1
    repetition_penalty: float = 1.05
    max_tokens: int = 1024


@dataclass(frozen=True, slots=True)
class ModelRequest:
    request_id: str
    messages: list[dict[str, str]]
    sampling: Sampling
    # None: no constraint (servers without structured output); the output is parsed tolerantly.
    schema: dict[str, Any] | None = field(default_factory=lambda: SPAN_ARRAY_SCHEMA)
    chat_template_kwargs: dict[str, Any] = field(default_factory=lambda: {"enable_thinking": False})

    def chat_completions_body(self, model: str) -> dict[str, Any]:
        """The body for a vLLM server's /v1/chat/completions (OpenAI-compatible plus vLLM extras)."""
        body: dict[str, Any] = {
            "model": model,
            "messages": self.messages,
            "temperature": self.sampling.temperature,
            "top_p": self.sampling.top_p,
            "repetition_penalty": self.sampling.repetition_penalty,
            "max_tokens": self.sampling.max_tokens,
            "chat_template_kwargs": self.chat_template_kwargs,
        }
        if self.schema is not None:
            body["response_format"] = {"type": "json_schema", "json_schema": {"name": "privacy_spans", "schema": self.schema, "strict": True}}
        return body

    def retry(self, request_id: str, *, more_tokens: bool) -> ModelRequest:
        """The same request under a new id, with twice the max_tokens when the output was cut."""
        sampling = replace(self.sampling, max_tokens=self.sampling.max_tokens * 2) if more_tokens else self.sampling
        return replace(self, request_id=request_id, sampling=sampling)


def build_request(
    template: PromptTemplate, turn: TurnText, *, max_tokens: int, request_id: str, structured: bool = True
) -> ModelRequest:
    """`request_id` must be unique among requests in flight (the engine keys on it)."""
    content = template.render(turn.real_name, turn.role, turn.content)
    return ModelRequest(
        request_id=request_id,
        messages=[{"role": "user", "content": content}],
        sampling=Sampling(max_tokens=max_tokens),
        schema=SPAN_ARRAY_SCHEMA if structured else None,
    )
