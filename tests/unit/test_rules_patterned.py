"""Shape + checksum detectors of the rules extractor (issue #3 baseline)."""

from __future__ import annotations

import pytest

from streamproc.core.taxonomy import PrivacyLevel
from streamproc.extractors.base import TurnText
from streamproc.extractors.rules import RulesExtractor

from .rules_support import found


def test_email_glued_to_chinese_text_is_found_without_the_chinese():
    assert found("邮箱是abc@x.com吗")["abc@x.com"] == ("Email", PrivacyLevel.PL2)


def test_email_in_english_sentence_drops_trailing_period():
    assert "wei.zhou+news@mail.example.org" in found("Write to wei.zhou+news@mail.example.org.")


@pytest.mark.parametrize("phone", ["+49 151 2345 6789", "+1-415-555-0199", "+86 139 1234 5678", "+33 6 12 34 56 78"])
def test_international_phone_numbers_are_found(phone):
    assert found(f"call me on {phone} tomorrow")[phone] == ("Phone Number", PrivacyLevel.PL2)


def test_chinese_mobile_glued_to_chinese_text_is_found():
    assert "13912345678" in found("我的手机13912345678，晚上打")


def test_us_phone_with_separators_is_found():
    assert "(415) 555-0199" in found("office line (415) 555-0199")


def test_random_eleven_digit_run_without_cue_is_not_a_phone():
    assert found("we ran 12345678901 iterations") == {}


def test_digit_run_inside_longer_number_is_not_a_chinese_mobile():
    assert found("value 9913912345678123 overflowed") == {}


def test_luhn_valid_card_with_spaces_is_a_financial_account():
    assert found("card 4539 1488 0343 6467 please")["4539 1488 0343 6467"] == (
        "Financial Account", PrivacyLevel.PL3)


def test_luhn_valid_amex_with_dashes_is_found():
    assert "3782-822463-10005" in found("amex 3782-822463-10005")


def test_card_with_bad_luhn_is_not_reported_without_a_cue():
    assert found("the order 4111 1111 1111 1112 shipped") == {}


def test_card_with_bad_luhn_after_a_card_cue_is_an_account():
    # Issue #12: numbers next to a bank/card cue are accounts whether or not they pass Luhn.
    assert found("card 4111 1111 1111 1112")["4111 1111 1111 1112"] == ("Financial Account", PrivacyLevel.PL3)


def test_iban_with_valid_checksum_is_found_with_spaces():
    assert found("IBAN: GB82 WEST 1234 5698 7654 32.")["GB82 WEST 1234 5698 7654 32"][0] == "Financial Account"


def test_iban_with_bad_checksum_after_a_cue_is_masked_whole_at_a_lower_tier():
    detections = RulesExtractor().detect(TurnText("t1", "user", "IBAN DE89370400440532013001"))
    assert [(d.original_text, d.confidence) for d in detections] == [("DE89370400440532013001", 0.7)]


def test_iban_shape_with_bad_checksum_and_no_cue_is_not_reported():
    assert found("ref DE89370400440532013001") == {}


def test_chinese_resident_id_with_valid_checksum_and_date_is_found():
    assert found("身份证号11010519491231002X。")["11010519491231002X"] == ("ID Number", PrivacyLevel.PL3)


def test_chinese_resident_id_with_bad_check_digit_is_not_reported():
    assert "110105194912310021" not in found("数字110105194912310021")


def test_chinese_resident_id_with_future_birth_date_is_not_reported():
    assert "11010520991231002X" not in found("数字 11010520991231002X")


def test_ssn_shape_is_found():
    assert found("SSN 512-44-3187")["512-44-3187"] == ("ID Number", PrivacyLevel.PL3)


@pytest.mark.parametrize("bad", ["000-12-3456", "666-12-3456", "912-12-3456", "512-00-3187"])
def test_ssn_with_invalid_area_or_group_is_not_reported(bad):
    assert bad not in found(f"number {bad}")


def test_public_ipv4_is_a_pl2_network_identifier():
    assert found("from 203.0.113.77 today")["203.0.113.77"] == ("Network Identifier", PrivacyLevel.PL2)


def test_private_ipv4_is_an_internal_entry_point_at_pl4():
    assert found("NAS at 10.20.30.40")["10.20.30.40"][1] == PrivacyLevel.PL4


def test_version_numbers_and_out_of_range_octets_are_not_ips():
    assert found("version 1.2.3 and 300.1.1.1") == {}


def test_ipv6_is_found_and_clock_times_are_not():
    result = found("addr 2001:db8:85a3::8a2e:370:7334 at 10:15:00")
    assert "2001:db8:85a3::8a2e:370:7334" in result
    assert "10:15:00" not in result
