"""prompt_file in either style: ours ({real_name}, {turn}) and Python str.format
({real_name}, {input_dialogue_content}, doubled braces), detected at load. The str.format template
here is written for this test (not the upstream prompt)."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from streamproc.core.errors import ConfigurationError
from streamproc.extractors.model_request import build_request
from streamproc.extractors.prompt import PromptTemplate
from streamproc.extractors.base import TurnText
from streamproc.extractors.vllm_common import load_template

FORMAT_STYLE = (
    "Find the private facts in one chat message and answer with a JSON array.\n"
    'Example answer: [{{"original_text": "Li Lei", "privacy_type": "Real Name", "privacy_level": "PL2"}}]\n'
    "An empty answer is [].\n"
    "The writer's own name: {real_name}\n"
    "The message:\n"
    "{input_dialogue_content}\n"
)
TURN = TurnText("t1", "user", 'Call me on 13712345670 {real_name} {{x}} {input_dialogue_content}', "Ann Lee")


def turn_json(turn: TurnText) -> str:
    return json.dumps({"role": turn.role, "content": turn.content}, ensure_ascii=False, indent=2)


def written(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "prompt.txt"
    path.write_text(text, "utf-8")
    return path


def test_str_format_template_renders_exactly_as_python_format_would(tmp_path: Path) -> None:
    template = PromptTemplate.load(written(tmp_path, FORMAT_STYLE))
    assert template.style == "str.format" and not template.turn_appended
    expected = FORMAT_STYLE.rstrip().format(real_name=TURN.real_name, input_dialogue_content=turn_json(TURN))
    assert template.render(TURN.real_name, TURN.role, TURN.content) == expected
    assert '[{"original_text": "Li Lei"' in expected, "doubled braces are unescaped"


def test_values_are_never_scanned_for_fields_or_escapes() -> None:
    rendered = PromptTemplate.parse(FORMAT_STYLE).render("{input_dialogue_content}", "user", "{{a}} {real_name}")
    assert rendered.count("{input_dialogue_content}") == 1 and '"{{a}} {real_name}"' in rendered


def test_our_style_keeps_json_braces_verbatim() -> None:
    template = PromptTemplate.parse('Answer like [{"a": 1}] or {{ }}? Name {real_name}.\n{turn}')
    assert template.style == "streamproc"
    assert template.render("Ann", "user", "hi").startswith('Answer like [{"a": 1}] or {{ }}? Name Ann.\n{')


def test_a_format_template_with_only_the_name_gets_the_turn_appended_as_the_card_does() -> None:
    template = PromptTemplate.parse('Return [{{"original_text": "..."}}]\nName: {real_name}\nDialogue:\n')
    assert template.style == "str.format" and template.turn_appended
    assert template.render("Ann", "user", "hi") == 'Return [{"original_text": "..."}]\nName: Ann\nDialogue:\n' + turn_json(
        TurnText("x", "user", "hi")
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("plain words only", "no turn field"),
        ("{real_name} {turn} {user_id}", r"unknown fields \{user_id\}"),
        ("{name} {input_dialogue_content}", r"unknown field \{name\}"),
        ("{real_name!r} {input_dialogue_content}", r"unknown field \{real_name!r\}"),
        ("{real_name:>9} {input_dialogue_content}", r"unknown field \{real_name:>9\}"),
        ("{real_name.upper} {input_dialogue_content}", "unknown field"),
        ("{0} {real_name} {input_dialogue_content}", r"unknown field \{0\}"),
        ("{real_name} {input_dialogue_content} a single { brace", "malformed"),
        ("{real_name} {turn} {input_dialogue_content}", "mixes"),
        ("{turn} only", r"lacks \{real_name\}"),
        ("{input_dialogue_content} only", r"lacks \{real_name\}"),
    ],
)
def test_unknown_fields_or_no_style_is_a_clear_startup_error(text: str, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message) as info:
        PromptTemplate.parse(text)
    assert not info.value.retriable


def test_the_detected_style_is_logged_at_start(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = written(tmp_path, FORMAT_STYLE)
    with caplog.at_level(logging.INFO, logger="streamproc.extractors.vllm_common"):
        load_template(path, "vllm-http")
        load_template(None, "vllm-http")
    lines = [r.getMessage() for r in caplog.records]
    assert lines == [f"vllm-http prompt template: str.format style ({path})", "vllm-http prompt template: streamproc style (built-in)"]


def test_an_unreadable_prompt_file_is_a_startup_error(tmp_path: Path) -> None:
    path = tmp_path / "latin1.txt"
    path.write_bytes(b"caf\xe9 {real_name} {turn}")
    with pytest.raises(ConfigurationError, match="not UTF-8"):
        PromptTemplate.load(path)
    with pytest.raises(ConfigurationError, match="cannot read"):
        PromptTemplate.load(tmp_path / "missing.txt")


def test_the_request_carries_the_rendered_template_as_the_one_user_message() -> None:
    template = PromptTemplate.parse(FORMAT_STYLE)
    request = build_request(template, TURN, max_tokens=64, request_id="r")
    assert request.messages == [{"role": "user", "content": template.render(TURN.real_name, TURN.role, TURN.content)}]
