"""The extraction prompt: a template with two fields, `{real_name}` and `{turn}`.

The default template (prompts/memprivacy.txt) is written for this project from the facts of the
MemPrivacy-4B-RL card: the levels, the standard type tags, the own-name rule, exact copying, the
minimal-span rule and "when unsure, the higher level". An operator can point
`extraction.prompt_file` at another template with the same two fields. Only those two exact
tokens are substituted, so a template may contain JSON braces freely.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from streamproc.core.errors import ExtractionError

FIELDS = ("{real_name}", "{turn}")
UNKNOWN_NAME = "(not given)"


@dataclass(frozen=True, slots=True)
class PromptTemplate:
    text: str

    @classmethod
    def load(cls, path: Path | None = None) -> PromptTemplate:
        if path is None:
            text = resources.files("streamproc.extractors").joinpath("prompts/memprivacy.txt").read_text("utf-8")
        else:
            try:
                text = path.read_text("utf-8")
            except OSError as err:
                raise ExtractionError(f"cannot read prompt_file {path}: {err.strerror}", retriable=False) from None
        text = text.rstrip()  # the card's usage ends the message with the turn itself
        missing = [f for f in FIELDS if f not in text]
        if missing:
            raise ExtractionError(f"prompt template lacks {', '.join(missing)}", retriable=False)
        return cls(text)

    def render(self, real_name: str | None, role: str, content: str) -> str:
        """The one user message: the prompt with the name, then the turn as indented JSON."""
        turn = json.dumps({"role": role, "content": content}, ensure_ascii=False, indent=2)
        # Substitute the name first and the turn last, so text inside the turn is never scanned.
        head, _, tail = self.text.partition("{turn}")
        return head.replace("{real_name}", real_name or UNKNOWN_NAME) + turn + tail.replace("{real_name}", real_name or UNKNOWN_NAME)
