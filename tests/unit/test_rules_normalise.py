"""Evasion: zero-width and bidi characters, and full-width letters, do not hide a value.

Detection reads a normalised view; the reported value is the original substring, invisible
characters included, and masking removes all of it. Values here are synthetic.
"""

from __future__ import annotations

import itertools

from hypothesis import given
from hypothesis import strategies as st

from streamproc.core import masking, placeholders
from streamproc.core.policy import Action, Policy
from streamproc.core.taxonomy import PrivacyLevel, type_name
from streamproc.extractors.base import TurnText
from streamproc.extractors.rules import RulesExtractor
from streamproc.extractors.rules.normalise import INVISIBLE, view_of

MASK_ALL = Policy(actions={level: Action.MASK for level in PrivacyLevel if level is not PrivacyLevel.PL1})


def detect(content: str, real_name: str | None = None) -> dict[str, str]:
    return {d.original_text: d.privacy_type
            for d in RulesExtractor().detect(TurnText("t", "user", content, real_name))}


def masked(content: str) -> str:
    plan = masking.plan(content, RulesExtractor().detect(TurnText("t", "user", content)), MASK_ALL)
    counter = itertools.count(1)
    assigned = {r.value: placeholders.format_placeholder(type_name(r.privacy_type), next(counter))
                for r in plan.requests()}
    return masking.render(plan, assigned).content


def test_a_view_without_invisible_characters_is_the_text_itself() -> None:
    view = view_of("call me at +44 20 7946 0958")
    assert view.text == "call me at +44 20 7946 0958"
    assert view.to_original(3, 7) == (3, 7)


def test_the_offset_map_spans_inner_invisibles_but_not_outer_ones() -> None:
    text = "x\u202eab\u200bcd\u202cy"
    view = view_of(text)
    assert view.text == "xabcdy"
    start, end = view.to_original(1, 5)  # "abcd"
    assert text[start:end] == "ab\u200bcd"


@given(st.text(st.sampled_from("ab1@. " + INVISIBLE + "１Ａｚ＠"), max_size=60), st.data())
def test_every_view_character_maps_back_to_its_original(text: str, data: st.DataObject) -> None:
    view = view_of(text)
    assert len(view.text) == len(text) - sum(c in INVISIBLE for c in text)
    for i, ch in enumerate(view.text):
        original = text[view.original_offset(i)]
        assert original == ch or ord(original) - 0xFEE0 == ord(ch)
    if view.text:
        start = data.draw(st.integers(0, len(view.text) - 1))
        end = data.draw(st.integers(start + 1, len(view.text)))
        o_start, o_end = view.to_original(start, end)
        assert "".join(c for c in text[o_start:o_end] if c not in INVISIBLE).translate(
            {c: c - 0xFEE0 for c in range(0xFF01, 0xFF5F)}) == view.text[start:end]


def test_a_phone_number_with_zero_width_spaces_is_found_and_masked_whole() -> None:
    phone = "+44\u200b20\u200b7946\u200b0958"
    text = f"call me on {phone} tonight"
    assert detect(text).get(phone) == "Phone Number"
    out = masked(text)
    assert "7946" not in out and "\u200b" not in out


def test_an_email_wrapped_in_a_right_to_left_override_is_found() -> None:
    text = "write to \u202ealice.w@example.org\u202c please"
    assert detect(text).get("alice.w@example.org") == "Email"
    assert "example.org" not in masked(text)


def test_a_password_with_soft_hyphens_is_found_with_them() -> None:
    secret = "Hu\u00adnter\u00ad42!x"
    text = f"my password: {secret}"
    assert detect(text).get(secret) == "Password"
    assert "nter" not in masked(text)


def test_bidi_isolates_and_marks_inside_a_card_number_do_not_hide_it() -> None:
    card = "4111\u20661111\u2069 1111\u200e1111"
    text = f"card {card} thanks"
    assert detect(text).get(card) == "Financial Account"
    assert "1111" not in masked(text)


def test_full_width_digits_and_at_sign_are_read_as_ascii() -> None:
    email = "ｂｏｂ＠ｅｘａｍｐｌｅ．ｃｏｍ"
    assert detect(f"邮箱 {email} 谢谢").get(email) == "Email"
    phone = "１３８００１３８０００"
    assert detect(f"手机号 {phone}").get(phone) == "Phone Number"


def test_the_users_own_name_with_a_zero_width_joiner_is_still_theirs() -> None:
    assert detect("I am Jane\u200d Doe.", real_name="Jane Doe").get("Jane\u200d Doe") == "Real Name"
