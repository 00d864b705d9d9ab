"""The families added for issue #12, on hand-written sentences (none from the dev files)."""

from __future__ import annotations

import re
import time

import pytest

from streamproc.core.taxonomy import PrivacyLevel
from streamproc.extractors.rules import RulesExtractor

from .rules_support import found
from streamproc.extractors.rules import extractor as rules_extractor




@pytest.mark.parametrize(("text", "value", "typ"), [
    ("I work as a senior data engineer at Northwind Logistics.", "senior data engineer", "Job Title/Rank"),
    ("I work as a senior data engineer at Northwind Logistics.", "Northwind Logistics", "Employer/Company Name"),
    ("My employer, Quantix Solutions Corp, pays late.", "Quantix Solutions Corp", "Employer/Company Name"),
    ("I graduated from Whitman College in 2009.", "Whitman College", "School"),
    ("She studied at the University of Leeds.", "University of Leeds", "School"),
    ("我在杭州云栖数据科技有限公司当前端开发工程师。", "杭州云栖数据科技有限公司", "Employer/Company Name"),
    ("我在杭州云栖数据科技有限公司当前端开发工程师。", "前端开发工程师", "Job Title/Rank"),
    ("孩子考上了华中科技大学。", "华中科技大学", "School"),
])
def test_work_and_school_families(text: str, value: str, typ: str) -> None:
    assert found(text)[value] == (typ, PrivacyLevel.PL2)


@pytest.mark.parametrize(("text", "value", "typ", "level"), [
    ("I'm 43 years old and new to running.", "43", "Specific Age", PrivacyLevel.PL2),
    ("我今年29岁。", "29", "Specific Age", PrivacyLevel.PL2),
    ("I was born on March 4, 1987 in Cork.", "March 4, 1987", "Specific Date of Birth", PrivacyLevel.PL2),
    ("我的出生日期是1991年7月23日。", "1991年7月23日", "Specific Date of Birth", PrivacyLevel.PL2),
    ("I'm a military veteran.", "military veteran", "Identity Background", PrivacyLevel.PL2),
    ("我是退役军人。", "退役军人", "Identity Background", PrivacyLevel.PL2),
    ("I always vote for the Green Party.", "the Green Party", "Political Views/Stance", PrivacyLevel.PL3),
    ("我是中共党员。", "中共党员", "Political Views/Stance", PrivacyLevel.PL3),
])
def test_demographics(text: str, value: str, typ: str, level: PrivacyLevel) -> None:
    assert found(text)[value] == (typ, level)


@pytest.mark.parametrize(("text", "value", "typ", "level"), [
    ("Mother's maiden name: Abernathy.", "Abernathy", "Security Question Answer", PrivacyLevel.PL4),
    ("密保问题是我妈妈的名字，答案是张美华。", "张美华", "Security Question Answer", PrivacyLevel.PL4),
    ("The laptop serial number is C02Z83621LQT.", "C02Z83621LQT", "Device ID", PrivacyLevel.PL2),
    ("Open http://wiki.corp.local:8443/admin from the VPN.", "http://wiki.corp.local:8443/admin", "Internal IP",
     PrivacyLevel.PL4),
    ("The box is at 10.4.22.9:9000 now.", "10.4.22.9:9000", "Internal IP", PrivacyLevel.PL4),
    ("My current location is 35.6895, 139.6917 today.", "35.6895, 139.6917", "Precise Location", PrivacyLevel.PL3),
    ("我现在在地铁2号线龙华站C出口，你快来。", "地铁2号线龙华站C出口", "Precise Location", PrivacyLevel.PL3),
    ("工资卡是农业银行的，卡号6228480402564890011。", "6228480402564890011", "Financial Account", PrivacyLevel.PL3),
    ("My Barclays account number is 3049581726.", "3049581726", "Financial Account", PrivacyLevel.PL3),
])
def test_secrets_places_devices_accounts(text: str, value: str, typ: str, level: PrivacyLevel) -> None:
    assert found(text)[value] == (typ, level)


@pytest.mark.parametrize(("text", "value"), [
    ("My name is Ingrid Solberg and I need a cover letter.", "Ingrid Solberg"),
    ("Hey there, Darnell Whitfield speaking.", "Darnell Whitfield"),
    ("你好，我叫周子涵，第一次用。", "周子涵"),
    ("本人孙浩然，想写辞职信。", "孙浩然"),
])
def test_self_introductions_without_real_name(text: str, value: str) -> None:
    assert found(text)[value] == ("Real Name", PrivacyLevel.PL2)


def test_third_party_named_by_an_action() -> None:
    assert found("昨天赵一鸣跟我说他要辞职了。")["赵一鸣"][0] == "Third-Party Identifiable Info"
    assert found("Camille Moreau asked me for the receipts.")["Camille Moreau"][0] == "Third-Party Identifiable Info"


@pytest.mark.parametrize("text", ["my address is &lt;Email_1&gt; ok", "it's <Password_2>, see &lt;Real_Name_1&gt;",
                                  "password: &lt;Email_1&gt;"])
def test_typed_placeholder_look_alikes_are_never_secrets(text: str) -> None:
    assert found(text) == {}
    assert found(text, preset="strict") == {}


def test_strict_preset_adds_low_tier_names() -> None:
    text = "Greta Lindqvist will bring the cake."
    assert "Greta Lindqvist" not in found(text)
    assert found(text, preset="strict")["Greta Lindqvist"][1] == PrivacyLevel.PL2


def test_unknown_preset_is_rejected() -> None:
    with pytest.raises(ValueError):
        RulesExtractor(preset="lenient")


def test_plain_text_yields_nothing() -> None:
    assert found("Can you explain how compound interest works with an example?") == {}
    assert found("今天天气真好，适合去爬山。") == {}


def test_new_detectors_stay_linear_on_adversarial_input() -> None:
    # Ratio within one run (no wall-clock threshold): 4x the input must cost well under 16x.
    def cost(n: int) -> float:
        samples = ["A" * n, "Aa " * n, "1-" * n, "I'm a " * n, "在" * n + "公司", "room " * n, "Bank " * n]
        t = time.perf_counter()
        for s in samples:
            for d in rules_extractor.TEXT_DETECTORS:
                list(d(s))
            for nd in rules_extractor.NAME_DETECTORS + rules_extractor.STRICT_DETECTORS:
                list(nd(s, None))
        return time.perf_counter() - t
    cost(50)
    small, big = cost(1_000), cost(4_000)
    assert big < small * 12


def test_ticket_codes_and_stays() -> None:
    assert found("I'm blocked on ticket OPS-4471 again.")["OPS-4471"][1] == PrivacyLevel.PL4
    stays = found("We're staying at the Pinecrest Lodge, room 27, until Friday.")
    assert any("Pinecrest Lodge" in v and t == "Itinerary/Trajectory" for v, (t, _) in stays.items())


def test_trips_to_known_places_and_named_facilities() -> None:
    trips = found("We're flying from Lisbon to Osaka next week.")
    assert any(t == "Itinerary/Trajectory" and "Osaka" in v for v, (t, _) in trips.items())
    assert found("I'm stationed at the Halley Station near the coast.")["Halley Station"][0] == \
        "Precise Location"


def test_account_named_by_brand_and_third_party_with() -> None:
    assert found("I paid with my Amex Platinum card.")["Amex Platinum card"][0] == "Financial Account"
    assert found("Greta and I finished the report.")["Greta"][0] == "Third-Party Identifiable Info"


def test_ticket_codes_take_the_type_of_their_cue() -> None:
    assert found("Your order XQP-55120 has shipped.")["XQP-55120"] == ("Transaction Record", PrivacyLevel.PL3)


def test_security_answer_mentioned_again_later() -> None:
    assert found("Remember the security answer 'Pickles' for the call.")["Pickles"] == (
        "Security Question Answer", PrivacyLevel.PL4)


def test_at_cues_equals_finditer_for_cue_led_patterns() -> None:
    from streamproc.extractors.rules.cues import at_cues

    pattern = re.compile(r"(?i:\b(?:flying|trip)\s(?:to\s)?)(?P<v>[A-Z][a-z]+)")
    text = "A trip to Porto, then flying Osaka; no trip here, TRIP to Cork. Straße trip to Bonn"
    assert [m.span() for m in at_cues(pattern, text, ("flying", "trip"))] == [m.span() for m in pattern.finditer(text)]
