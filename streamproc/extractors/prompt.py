"""The extraction prompt: a template in one of two styles, detected when it is loaded.

- `streamproc` (ours, the built-in prompts/memprivacy.txt): the fields `{real_name}` and `{turn}`
  are replaced as plain tokens, so the template may contain JSON braces freely.
- `str.format` (the style the MemPrivacy project distributes its prompt in): Python format fields
  `{real_name}` and `{input_dialogue_content}`, literal braces doubled (`{{`, `}}`) and unescaped
  when rendered. A template with only `{real_name}` gets the turn appended, as the model card's
  own code does (`prompt.format(real_name=...) + turn`).

Either way the turn is rendered as the card does, `json.dumps({"role", "content"},
ensure_ascii=False, indent=2)`, and values are inserted in one pass: text inside the turn or the
name is never scanned for fields. A template with an unknown field, or with neither style's turn
field, is a startup error that names what it found.
"""

from __future__ import annotations

import json
import re
import string
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Literal

from streamproc.core.errors import ConfigurationError

Style = Literal["streamproc", "str.format"]
UNKNOWN_NAME = "(not given)"
NAME, TURN, UPSTREAM_TURN = "real_name", "turn", "input_dialogue_content"
# A `{word}` token in our style: an identifier of bounded length (linear-time, no nested repeats).
_OUR_FIELD = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]{0,63})\}")

# A template is a sequence of literal text and field names (NAME or TURN after normalising).
Piece = tuple[Literal["text", "field"], str]


@dataclass(frozen=True, slots=True)
class PromptTemplate:
    pieces: tuple[Piece, ...]
    style: Style
    source: str = "built-in"
    turn_appended: bool = False  # str.format style without {input_dialogue_content}

    @classmethod
    def load(cls, path: Path | None = None) -> PromptTemplate:
        if path is None:
            text = resources.files("streamproc.extractors").joinpath("prompts/memprivacy.txt").read_text("utf-8")
            return cls.parse(text, source="built-in")
        try:
            text = path.read_text("utf-8")
        except (OSError, UnicodeDecodeError) as err:
            reason = err.strerror if isinstance(err, OSError) else "not UTF-8"
            raise ConfigurationError(f"cannot read prompt_file {path}: {reason}") from None
        return cls.parse(text, source=str(path))

    @classmethod
    def parse(cls, text: str, *, source: str = "inline") -> PromptTemplate:
        text = text.rstrip()  # the card's usage ends the message with the turn itself
        ours = {m.group(1) for m in _OUR_FIELD.finditer(text)}
        if f"{{{UPSTREAM_TURN}}}" in text or (TURN not in ours and ("{{" in text or "}}" in text)):
            if TURN in ours:
                raise ConfigurationError(f"prompt template {source} mixes {{turn}} with the str.format style")
            pieces = _format_pieces(text, source)
            appended = ("field", TURN) not in pieces
            if appended:  # the card's code: prompt.format(real_name=...) + turn, after the prompt's last line
                pieces += (("text", "\n"), ("field", TURN))
            return cls._checked(pieces, "str.format", source, appended)
        if TURN in ours:
            unknown = sorted(ours - {NAME, TURN})
            if unknown:
                raise ConfigurationError(
                    f"prompt template {source} (streamproc style) has unknown fields {', '.join('{' + u + '}' for u in unknown)}; "
                    "only {real_name} and {turn}")
            return cls._checked(_our_pieces(text), "streamproc", source, False)
        raise ConfigurationError(
            f"prompt template {source} has no turn field: neither {{turn}} (streamproc style) nor "
            "{input_dialogue_content} / doubled braces (str.format style)")

    @classmethod
    def _checked(cls, pieces: tuple[Piece, ...], style: Style, source: str, appended: bool) -> PromptTemplate:
        if ("field", NAME) not in pieces:  # the own-name rule needs it
            raise ConfigurationError(f"prompt template {source} ({style} style) lacks {{real_name}}")
        return cls(pieces, style, source, appended)

    @property
    def description(self) -> str:
        """For the start-up log line."""
        return f"{self.style} style{', turn appended' if self.turn_appended else ''} ({self.source})"

    def render(self, real_name: str | None, role: str, content: str) -> str:
        """The one user message: the prompt with the name, and the turn as indented JSON."""
        values = {
            NAME: real_name or UNKNOWN_NAME,
            TURN: json.dumps({"role": role, "content": content}, ensure_ascii=False, indent=2),
        }
        return "".join(values[v] if kind == "field" else v for kind, v in self.pieces)


def _our_pieces(text: str) -> tuple[Piece, ...]:
    """Plain tokens: split at every exact `{real_name}` / `{turn}`, leave every other brace alone."""
    pieces: list[Piece] = []
    at = 0
    for match in _OUR_FIELD.finditer(text):
        pieces.append(("text", text[at : match.start()]))
        pieces.append(("field", match.group(1)))
        at = match.end()
    pieces.append(("text", text[at:]))
    return tuple(p for p in pieces if p[1])


def _format_pieces(text: str, source: str) -> tuple[Piece, ...]:
    """Python's own format-string parser (so `{{ }}` unescape exactly as `str.format` does); only
    the two bare field names are allowed: no positional fields, attributes, indexes, conversions or
    format specs (a template must not reach into the values)."""
    pieces: list[Piece] = []
    try:
        parsed = list(string.Formatter().parse(text))
    except ValueError as err:
        raise ConfigurationError(f"prompt template {source} (str.format style) is malformed: {err}") from None
    for literal, field, spec, conversion in parsed:
        if literal:
            pieces.append(("text", literal))
        if field is None:
            continue
        if field not in (NAME, UPSTREAM_TURN) or spec or conversion:
            shown = "{" + field + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "") + "}"
            raise ConfigurationError(
                f"prompt template {source} (str.format style) has an unknown field {shown}; "
                "only {real_name} and {input_dialogue_content}")
        pieces.append(("field", TURN if field == UPSTREAM_TURN else NAME))
    return tuple(pieces)
