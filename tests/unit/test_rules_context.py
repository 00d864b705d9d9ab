"""Context detectors (issue #7): names, identifiers, money, health, addresses, trips."""

from __future__ import annotations

from streamproc.core.taxonomy import PrivacyLevel

from .rules_support import found


def test_users_own_name_is_real_name_including_variant_without_middle_name():
    result = found("Hi, Tomasz Nowak here; please file it as Tomasz K. Nowak.", "Tomasz Karol Nowak")
    assert result["Tomasz Nowak"] == ("Real Name", PrivacyLevel.PL2)


def test_title_on_real_name_is_not_part_of_the_variant():
    assert "Ines Duarte" in found("Ines Duarte speaking", "Dr. Ines Duarte")


def test_third_party_name_after_relationship_word_is_pl2():
    result = found("My sister, Priya Nair, will pick it up.", "Tomasz Nowak")
    assert result["Priya Nair"] == ("Third-Party Identifiable Info", PrivacyLevel.PL2)
    assert result["My sister, Priya Nair"][0] == "Relationship Info"


def test_chinese_relationship_with_name_and_surname_title():
    result = found("我老婆Chloe说王医生明天出诊")
    assert result["Chloe"][0] == "Third-Party Identifiable Info"
    assert "王医生" in result


def test_labelled_passport_and_booking_reference():
    result = found("Passport Number: K8812034 • booking reference QF-5521-ZT")
    assert result["K8812034"] == ("ID Number", PrivacyLevel.PL3)
    assert result["QF-5521-ZT"] == ("Transaction Record", PrivacyLevel.PL3)


def test_chinese_order_number_after_cue_words():
    assert found("订单号我记得是 JD-77120，还没到")["JD-77120"][0] == "Transaction Record"


def test_username_by_cue_and_plate_after_car_make():
    result = found("my username is quill_fox88 and the Mazda (KTW-4471) is outside")
    assert result["quill_fox88"] == ("Account ID/Username", PrivacyLevel.PL2)
    assert result["KTW-4471"][1] == PrivacyLevel.PL3


def test_chinese_license_plate_by_shape():
    assert "粤B8K2M7" in found("车停在楼下，粤B8K2M7")


def test_card_tail_with_brand_is_financial_account():
    assert found("charge my Visa ending in 4417")["Visa ending in 4417"][0] == "Financial Account"
    assert "工行卡（尾号3309）" in found("用工行卡（尾号3309）付")


def test_amount_with_debt_purpose_is_minimal_phrase():
    result = found("We still owe a $212,000 mortgage on the flat.")
    assert result["$212,000 mortgage"] == ("Assets/Income", PrivacyLevel.PL3)


def test_bare_price_without_purpose_is_not_reported():
    assert found("The mug costs $12.") == {}


def test_condition_with_severity_and_vitals_are_medical():
    result = found("I was told I have moderate asthma; my BP 150/95 and weight 84kg.")
    assert result["moderate asthma"][0] == "Medical Health"
    assert "BP 150/95" in result and "84kg" in result


def test_encyclopedic_condition_mention_is_not_reported():
    assert found("Rates of asthma rise with air pollution.") == {}


def test_chinese_medication_verb_takes_minimal_fact():
    assert "二甲双胍" in found("我每天服用二甲双胍，血糖还行")


def test_western_address_with_postcode_is_one_span():
    text = "Send it to 9 Kelvin Grove, Carlton, VIC 3053."
    assert found(text)["9 Kelvin Grove, Carlton, VIC 3053"] == ("Detailed Address", PrivacyLevel.PL2)


def test_chinese_address_drops_lead_in_verb():
    assert "上海市徐汇区漕溪北路 200 号 5 栋 1702 室" in found("寄到上海市徐汇区漕溪北路 200 号 5 栋 1702 室")


def test_flight_needs_a_travel_word_and_train_needs_train_word():
    assert "CZ 3101" in found("my flight CZ 3101 lands at 9")
    assert found("model CZ 3101 is broken") == {}
    assert "D301" in found("坐D301次动车")
