"""Masking and restoration on the pure core, with hand-made and property-based cases."""

from __future__ import annotations

import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from streamproc.core import masking, placeholders, restore
from streamproc.core.policy import DEFAULT_POLICY, Action, Policy
from streamproc.core.spans import Detection
from streamproc.core.taxonomy import PrivacyLevel, type_name

L = PrivacyLevel
MASK_ALL = Policy(actions={L.PL2: Action.MASK, L.PL3: Action.MASK, L.PL4: Action.MASK})


class CountingAllocator:
    """An in-memory stand-in for the vault: same value, same placeholder; numbering per type."""

    def __init__(self) -> None:
        self.by_value: dict[str, str] = {}
        self.counters: dict[str, itertools.count[int]] = {}

    def assign(self, mask_plan: masking.MaskPlan) -> dict[str, str]:
        for req in mask_plan.requests():
            if req.value not in self.by_value:
                name = type_name(req.privacy_type)
                n = next(self.counters.setdefault(name.casefold(), itertools.count(1)))
                self.by_value[req.value] = placeholders.format_placeholder(name, n)
        return {r.value: self.by_value[r.value] for r in mask_plan.requests()}

    def values(self) -> dict[str, str]:
        return {placeholders.canonical_key(p): v for v, p in self.by_value.items()}


def mask(text: str, detections: list[Detection], policy: Policy = MASK_ALL) -> tuple[masking.MaskResult, CountingAllocator]:
    alloc = CountingAllocator()
    mask_plan = masking.plan(text, detections, policy)
    return masking.render(mask_plan, alloc.assign(mask_plan)), alloc


def det(value: str, privacy_type: str = "Real Name", level: L = L.PL2) -> Detection:
    return Detection(value, privacy_type, level)


def test_every_occurrence_of_a_value_is_masked() -> None:
    result, _ = mask("Ann met Ann", [det("Ann")])
    assert result.content == "<Real_Name_1> met <Real_Name_1>"
    assert [e.placeholder for e in result.entities] == ["<Real_Name_1>"]


def test_short_value_inside_a_longer_one_cannot_corrupt_it() -> None:
    text = "mail ann@x.io or ann@x.io.cn"
    result, alloc = mask(text, [det("ann@x.io", "Email"), det("ann@x.io.cn", "Email")])
    assert result.content == "mail <Email_1> or <Email_2>"
    assert restore.restore(result.content, alloc.values()).content == text


def test_higher_level_value_inside_a_longer_one_takes_the_whole_cluster() -> None:
    text = "card 4111 1111 1111 1111 pin 1111"
    result, _ = mask(text, [det("4111 1111 1111 1111", "Financial Account", L.PL3), det("1111", "Password", L.PL4)])
    assert result.content == "card <Password_1> pin <Password_2>"


def test_overlap_goes_to_the_higher_level_then_the_longer_span() -> None:
    text = "I paid 500 yuan at the fertility clinic"
    spans = masking.resolve_overlaps(
        masking.locate(
            text,
            [det("500 yuan", "Transaction Record", L.PL3), det("paid 500 yuan at the fertility clinic", "Medical Health", L.PL3), det("fertility", "Identity Background", L.PL2)],
        )
    )
    assert [(s.start, s.end, s.privacy_type) for s in spans] == [(2, len(text), "Medical Health")]


def test_default_policy_keeps_nothing_of_pl4_but_its_placeholder() -> None:
    result, alloc = mask("my code is 603158", [det("603158", "Verification Code", L.PL4)], DEFAULT_POLICY)
    assert result.content == "my code is <Verification_Code_1>"
    assert masking.plan("x 603158", [det("603158", "Verification Code", L.PL4)], DEFAULT_POLICY).spans[0].action is Action.REDACT


def test_keep_action_passes_the_value_through() -> None:
    keep_pl2 = Policy(actions={L.PL2: Action.KEEP, L.PL3: Action.MASK, L.PL4: Action.REDACT})
    result, _ = mask("Ann has asthma", [det("Ann"), det("asthma", "Medical Health", L.PL3)], keep_pl2)
    assert result.content == "Ann has <Medical_Health_1>"


def test_pl1_is_never_masked() -> None:
    result, _ = mask("I like tea", [det("like tea", "Preference", L.PL1)])
    assert result.content == "I like tea"


def test_user_typed_placeholder_never_restores_to_a_real_value() -> None:
    text = "Ann wrote <Real_Name_1> and &lt;real name 1&gt; literally"
    result, alloc = mask(text, [det("Ann")])
    assert result.content.count("<Real_Name_1>") == 1  # only the real one
    restored = restore.restore(result.content, alloc.values())
    assert restored.content == text


def test_placeholder_of_another_user_stays_verbatim_and_is_reported() -> None:
    restored = restore.restore("Hello <Real_Name_1>, mail <Email_4>", {"real_name_1": "Ann"})
    assert restored.content == "Hello Ann, mail <Email_4>"
    assert restored.unresolved == ("<Email_4>",)


def test_restore_tolerates_case_spaces_and_html_escaping() -> None:
    restored = restore.restore("Hi < real name 1 >, &lt;REAL_NAME_1&gt;!", {"real_name_1": "Ann"})
    assert restored.content == "Hi Ann, Ann!"
    assert restored.restored == 2


def test_restored_value_that_looks_like_a_placeholder_is_not_scanned_again() -> None:
    restored = restore.restore("<Key_1>", {"key_1": "<Key_1>", "x_1": "boom"})
    assert restored.content == "<Key_1>"


def test_span_cutting_into_a_lookalike_is_widened_over_it() -> None:
    text = "token <Key_12> end"
    result, alloc = mask(text, [det("12> end", "Token", L.PL4)])
    assert "<\\" not in result.content or result.content.count("<") == 1
    assert restore.restore(result.content, alloc.values()).content == text


def test_chinese_text_masks_on_character_offsets() -> None:
    text = "我叫张三，手机13712345670，验证码603158。"
    result, alloc = mask(text, [det("张三"), det("13712345670", "Phone Number"), det("603158", "Verification Code", L.PL4)])
    assert result.content == "我叫<Real_Name_1>，手机<Phone_Number_1>，验证码<Verification_Code_1>。"
    assert restore.restore(result.content, alloc.values()).content == text


# ---------------------------------------------------------------- properties

ALPHABET = st.sampled_from(list("abcAB _-<>&;lgt\\0123456789\n中文") + ["<Email_1>", "&lt;", "&gt;", "<Real_Name_2>", "_1"])
TEXTS = st.lists(ALPHABET, max_size=60).map("".join)
TYPES = st.sampled_from(["Real Name", "Email", "Account ID/Username", "Third-Party Identifiable Info", "医疗", "Key", "x'y-z"])
LEVELS = st.sampled_from([L.PL2, L.PL3, L.PL4])


@st.composite
def text_and_detections(draw: st.DrawFn) -> tuple[str, list[Detection]]:
    text = draw(TEXTS)
    detections = []
    for _ in range(draw(st.integers(0, 6))):
        if text and draw(st.booleans()):
            start = draw(st.integers(0, len(text) - 1))
            end = draw(st.integers(start + 1, min(len(text), start + 12)))
            value = text[start:end]
        else:
            value = draw(st.text(min_size=1, max_size=6))
        detections.append(Detection(value, draw(TYPES), draw(LEVELS)))
    return text, detections


@settings(max_examples=600, deadline=None)
@given(text_and_detections())
def test_round_trip_is_exact_when_every_level_is_masked(case: tuple[str, list[Detection]]) -> None:
    text, detections = case
    result, alloc = mask(text, detections)
    assert restore.restore(result.content, alloc.values()).content == text


@settings(max_examples=400, deadline=None)
@given(text_and_detections())
def test_every_occurrence_of_every_acting_value_is_covered_by_a_replaced_span(case: tuple[str, list[Detection]]) -> None:
    text, detections = case
    chosen = masking.plan(text, detections, MASK_ALL).spans
    for occurrence in masking.locate(text, detections):
        covering = [p.span for p in chosen if p.span.start <= occurrence.start and occurrence.end <= p.span.end]
        assert covering, "an occurrence was left (partly) in clear"


@settings(max_examples=300, deadline=None)
@given(TEXTS)
def test_text_without_detections_round_trips_through_escaping(text: str) -> None:
    result, _ = mask(text, [])
    assert restore.restore(result.content, {}).content == text
