"""Bounded hold-back: any chunking restores exactly like the whole text, and holds back little."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from streamproc.core import placeholders
from streamproc.core.holdback import HOLDBACK_BOUND, split
from streamproc.core.restore import RestoreResult, restore

VALUES = {"real_name_1": "Ada", "email_2": "a@x.io", "phone_number_10": "+1 555"}

# Every form restoration accepts, plus ones it must leave alone.
FORMS = [
    "<Real_Name_1>",
    "<real_name_1>",
    "< Real Name 1 >",
    "<Real_Name _01>",
    "&lt;Email_2&gt;",
    "&LT;EMAIL_2&gt;",
    "&lt; email 2 &GT;",
    "<\\Email_2>",
    "&lt;\\\\Real_Name_1&gt;",
    "<Phone_Number_10>",
    "<Unknown_Type_7>",
    "<\tReal\tName\t1\t>",
    "<b>bold</b>",
    "a < b > c",
    "&amp; &lt; &gt;",
    "<Email>",
]


def streamed(chunks: list[str], values: dict[str, str]) -> RestoreResult:
    """What a device sees: each emitted piece restored on its own, unresolved merged in order."""
    held = ""
    out: list[str] = []
    unresolved: list[str] = []
    restored = 0
    for i, chunk in enumerate(chunks):
        piece = split(held, chunk, final=i == len(chunks) - 1)
        assert len(piece.held) <= HOLDBACK_BOUND
        held = piece.held
        result = restore(piece.ready, values)
        out.append(result.content)
        restored += result.restored
        unresolved.extend(u for u in result.unresolved if u not in unresolved)
    assert held == ""
    return RestoreResult("".join(out), restored, tuple(unresolved))


def cut(text: str, cuts: list[int]) -> list[str]:
    bounds = sorted({c % (len(text) + 1) for c in cuts} | {0, len(text)})
    return [text[a:b] for a, b in zip(bounds, bounds[1:])] or [""]


@pytest.mark.parametrize("form", FORMS)
def test_every_cut_inside_every_placeholder_form_restores_like_the_whole(form: str) -> None:
    text = f"Hi {form}, again {form}."
    whole = restore(text, VALUES)
    for i in range(len(text) + 1):
        for j in range(i, len(text) + 1):
            assert streamed([text[:i], text[i:j], text[j:]], VALUES) == whole


def test_one_character_chunks_restore_like_the_whole() -> None:
    text = "Dear <Real_Name_1>, mail &lt;email_2&gt; or <\\Email_2> or <Nope_3>; x<y>z & <Email_2"
    assert streamed(list(text), VALUES) == restore(text, VALUES)


def test_a_split_placeholder_is_held_then_restored_whole() -> None:
    first = split("", "Hello <Real_Na", final=False)
    assert (first.ready, first.held) == ("Hello ", "<Real_Na")
    second = split(first.held, "me_1> how are you", final=False)
    assert second.ready == "<Real_Name_1> how are you" and second.held == ""
    assert restore(second.ready, VALUES).content == "Ada how are you"


@pytest.mark.parametrize(("tail", "held"), [("&", "&"), ("&l", "&l"), ("&LT", "&LT"), ("<", "<"), ("<\\", "<\\"),
                                           ("<Email_2 &g", "<Email_2 &g"), ("< ", "< ")])
def test_only_the_shortest_suffix_that_could_become_a_placeholder_is_held(tail: str, held: str) -> None:
    assert split("", "text " + tail, final=False).held == held


@pytest.mark.parametrize("tail", ["<b>", "a <> b", "a <b>c", "&amp;", "<Email>", "x > y", "<Email_2>", "&lt;b&gt;"])
def test_text_that_can_no_longer_become_a_placeholder_is_not_held(tail: str) -> None:
    assert split("", "text " + tail + " ", final=False).held == ""


def test_the_final_chunk_flushes_everything() -> None:
    assert split("<Real_Na", "me", final=True) == split("", "<Real_Name", final=True)
    assert split("<Real_Na", "me", final=True).held == ""


def test_hold_back_never_exceeds_the_bound_even_for_endless_padding() -> None:
    held = ""
    for chunk in ["<", *[" " * 50] * 10, "Email", *["\t" * 40] * 10]:
        held = split(held, chunk, final=False).held
        assert len(held) <= HOLDBACK_BOUND


def test_the_longest_run_within_the_bound_is_still_restored() -> None:
    longest = "&lt;" + "\\" * 0 + " " * 8 + "R" * 81 + "_" * 8 + "9" * 9 + " " * 8 + "&gt;"
    assert len(longest) <= HOLDBACK_BOUND
    key = placeholders.canonical_key(longest)
    text = f"x {longest} y"
    values = {key: "V"}
    assert streamed(list(text), values) == restore(text, values) == RestoreResult("x V y", 1, ())


pieces = st.sampled_from([*FORMS, "<", "&", "&lt;", "&gt;", ">", "\\", " ", "_", "1", "Real", "Name", "\t", "é", "x"])


@settings(max_examples=400, deadline=None)
@given(parts=st.lists(pieces | st.text(max_size=6), max_size=25), cuts=st.lists(st.integers(0, 10_000), max_size=12))
def test_any_chunking_restores_to_the_non_streamed_restoration(parts: list[str], cuts: list[int]) -> None:
    text = "".join(parts)
    assert streamed(cut(text, cuts), VALUES) == restore(text, VALUES)
