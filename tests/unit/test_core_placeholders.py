import pytest

from streamproc.core import placeholders
from streamproc.core.taxonomy import FALLBACK_TYPE_NAME, STANDARD_TYPES, canonical_type, type_name


@pytest.mark.parametrize(
    ("privacy_type", "expected"),
    [
        ("Real Name", "Real_Name"),
        ("Third-Party Identifiable Info", "Third_Party_Identifiable_Info"),
        ("Account ID/Username", "Account_ID_Username"),
        ("Assets/Income", "Assets_Income"),
        ("Driver's License", "Driver_s_License"),
        ("  --Email--  ", "Email"),
        ("医疗健康", FALLBACK_TYPE_NAME),
        ("医疗 Health 信息", "Health"),
        ("", FALLBACK_TYPE_NAME),
    ],
)
def test_type_name_turns_any_type_string_into_a_restorable_name(privacy_type: str, expected: str) -> None:
    assert type_name(privacy_type) == expected


def test_every_standard_type_gives_a_placeholder_that_parses_back() -> None:
    for privacy_type in STANDARD_TYPES:
        placeholder = placeholders.format_placeholder(type_name(privacy_type), 7)
        assert placeholders.canonical_key(placeholder) == f"{type_name(privacy_type).casefold()}_7"


def test_canonical_type_maps_free_form_spellings_onto_standard_tags() -> None:
    assert canonical_type("email") == "Email"
    assert canonical_type("account id / username") == "Account ID/Username"
    assert canonical_type("Debt Info") == "Debt Info"


@pytest.mark.parametrize(
    "written",
    ["<Real_Name_1>", "<real_name_1>", "< Real Name 1 >", "<Real_Name _01>", "&lt;Real_Name_1&gt;", "&LT;REAL_NAME_1&gt;"],
)
def test_canonical_key_tolerates_what_cloud_models_do_to_placeholders(written: str) -> None:
    assert placeholders.canonical_key(written) == "real_name_1"


def test_escape_adds_exactly_one_backslash_and_unescape_removes_it() -> None:
    text = "see <Email_1> and &lt;Phone_Number_2&gt; and <\\Email_3>"
    escaped = placeholders.escape(text)
    assert escaped == "see <\\Email_1> and &lt;\\Phone_Number_2&gt; and <\\\\Email_3>"
    found = list(placeholders.scan(escaped))
    assert all(f.key is None for f in found)
    assert [placeholders.unescape_one(f.text) for f in found] == ["<Email_1>", "&lt;Phone_Number_2&gt;", "<\\Email_3>"]


def test_text_without_a_number_is_not_a_placeholder() -> None:
    assert list(placeholders.scan("<b>bold</b> <Email> a < b > c")) == []
