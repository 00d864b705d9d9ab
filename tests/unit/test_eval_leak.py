"""Leak rate: masking with the predictions, then looking for protected gold values verbatim."""

from __future__ import annotations

from streamproc.core.policy import Action, Policy
from streamproc.core.spans import Detection
from streamproc.core.taxonomy import PrivacyLevel
from streamproc.eval.leak import LeakTally, PlaceholderCounter, mask_content

PL1, PL2, PL3, PL4 = PrivacyLevel.PL1, PrivacyLevel.PL2, PrivacyLevel.PL3, PrivacyLevel.PL4
CONTENT = "Mail ana@example.org, code 482913, and I like jazz."
EMAIL = Detection("ana@example.org", "Email", PL2)
CODE = Detection("482913", "Verification Code", PL4)


def tally(
    gold: list[Detection], preds: list[Detection], content: str = CONTENT, policy: Policy | None = None
) -> LeakTally:
    leak = LeakTally()
    if policy is None:
        leak.add(content, gold, preds, PlaceholderCounter())
    else:
        leak.add(content, gold, preds, PlaceholderCounter(), policy)
    return leak


def test_masked_value_does_not_leak() -> None:
    leak = tally([EMAIL, CODE], [EMAIL, CODE])
    assert leak.n_checked == 2 and leak.n_leaked == 0 and leak.rate == 0.0


def test_unmasked_value_leaks() -> None:
    leak = tally([EMAIL, CODE], [EMAIL])
    assert leak.n_leaked == 1
    assert leak.leaked == {PL4: 1}
    assert leak.rate == 0.5 and leak.rate_for(PL4) == 1.0 and leak.rate_for(PL2) == 0.0


def test_pl1_gold_never_counts() -> None:
    leak = tally([Detection("jazz", "Preference", PL1)], [])
    assert leak.n_checked == 0 and leak.kept_by_policy == 1 and leak.rate == 0.0


def test_level_kept_by_policy_is_not_a_leak() -> None:
    keep_pl2 = Policy(actions={PL2: Action.KEEP, PL3: Action.MASK, PL4: Action.REDACT})
    leak = tally([EMAIL], [], policy=keep_pl2)
    assert leak.n_checked == 0 and leak.kept_by_policy == 1


def test_gold_not_in_text_is_counted_apart() -> None:
    leak = tally([Detection("ana@example.com", "Email", PL2)], [EMAIL])
    assert leak.n_checked == 0 and leak.gold_not_in_text == 1


def test_value_inside_a_longer_masked_span_does_not_leak() -> None:
    gold = [Detection("example.org", "Network Identifier", PL2)]
    assert tally(gold, [EMAIL]).n_leaked == 0


def test_digits_inside_a_placeholder_are_not_a_leak() -> None:
    content = "pin 1 and mail ana@example.org"
    gold = [Detection("1", "Password", PL4), EMAIL]
    leak = tally(gold, [EMAIL, Detection("1", "Password", PL4)], content=content)
    assert leak.n_leaked == 0


def test_placeholders_are_stable_per_value_and_counted_per_type() -> None:
    counter = PlaceholderCounter()
    a, b = Detection("a@x.io", "Email", PL2), Detection("b@x.io", "Email", PL2)
    first, _ = mask_content("a@x.io and b@x.io", [a, b], counter)
    second, _ = mask_content("again b@x.io", [b], counter)
    assert first == "<Email_1> and <Email_2>"
    assert second == "again <Email_2>"
