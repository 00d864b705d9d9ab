"""Which privacy types count as "the same" when scoring, and which get partial text credit.

Gold annotations and extractors do not share one vocabulary: the benchmarks' gold uses tags
outside the standard list (`IP Address`, `Debt/Loan Info`, `Third-Party Identifiable Info`,
`Passport Number`, ...) while our extractors emit the standard tags of `core.taxonomy`. Every
type is therefore mapped onto a *family*: the set of standard tags it may stand for. Two types
are similar when their families intersect. Unknown types form a family of their own name, so
they still match themselves exactly (after `canonical_type` normalisation of case and
punctuation).

This is the one place that decides type similarity and the descriptive set; change it here.
"""

from __future__ import annotations

from collections.abc import Mapping

from streamproc.core.taxonomy import STANDARD_TYPES, canonical_type, type_name

# Types whose values are free-form descriptions ("a follow-up for the knee surgery on Friday")
# rather than identifiers. Annotators and models cut such spans at different words, so they get
# partial credit by token overlap; identifiers (a phone number) are right or wrong.
DESCRIPTIVE_TYPES: frozenset[str] = frozenset(
    {
        "Medical Health",
        "Transaction Record",
        "Assets/Income",
        "Itinerary/Trajectory",
        "Communication Content",
        "Judicial Record",
        "Business Secret",
        "Vulnerability Details",
        "Identity Background",
        "Sensitive Identity",
    }
)

# Non-standard type strings -> the standard tags they may stand for. Keys are written as people
# write them; lookup normalises case and punctuation. Chosen from the type names the public
# MemPrivacy-Bench / PersonaMem-v2 gold uses plus common model spellings. A type mapped to
# several tags (Third-Party Identifiable Info) is similar to each of them.
TYPE_SYNONYMS: Mapping[str, tuple[str, ...]] = {
    # PL2 identifiers
    "Third-Party Identifiable Info": ("Relationship Info", "Real Name"),
    "Name": ("Real Name",),
    "Full Name": ("Real Name",),
    "Person Name": ("Real Name",),
    "Phone": ("Phone Number",),
    "Mobile Number": ("Phone Number",),
    "Email Address": ("Email",),
    "Address": ("Detailed Address",),
    "Home Address": ("Detailed Address",),
    "Zip Code": ("Detailed Address",),
    "Postal Code": ("Detailed Address",),
    "Username": ("Account ID/Username",),
    "Account ID": ("Account ID/Username",),
    "User ID": ("Account ID/Username",),
    "IP Address": ("Network Identifier",),
    "Internal IP": ("Network Identifier",),
    "MAC Address": ("Network Identifier",),
    "Device ID": ("Network Identifier",),
    "URL": ("Network Identifier",),
    "Job Title/Rank": ("Identity Background",),
    "Employer/Company Name": ("Identity Background",),
    "Company/Organization Info": ("Identity Background",),
    "School": ("Identity Background",),
    "Specific Date of Birth": ("Identity Background",),
    "Date of Birth": ("Identity Background",),
    "Specific Age": ("Identity Background",),
    "Gender": ("Identity Background",),
    "Occupation": ("Identity Background",),
    # PL3
    "Passport Number": ("ID Number",),
    "Driver's License Number": ("ID Number",),
    "License Plate": ("ID Number",),  # no standard tag; an identifier at the same level (PL3)
    "National ID": ("ID Number",),
    "Social Security Number": ("ID Number",),
    "SSN": ("ID Number",),
    "Bank/Payment Card Number": ("Financial Account",),
    "Bank Card Number": ("Financial Account",),
    "Credit Card Number": ("Financial Account",),
    "Bank Account": ("Financial Account",),
    "IBAN": ("Financial Account",),
    "Debt/Loan Info": ("Assets/Income",),
    "Assets/Net Worth": ("Assets/Income",),
    "Credit Score": ("Assets/Income",),
    "Income": ("Assets/Income",),
    "Salary": ("Assets/Income",),
    "Medical Record": ("Medical Health",),
    "Health Condition": ("Medical Health",),
    "Location": ("Precise Location",),
    "GPS Coordinates": ("Precise Location",),
    "Itinerary": ("Itinerary/Trajectory",),
    "Religious Beliefs": ("Sensitive Identity",),
    "Political Views/Stance": ("Sensitive Identity",),
    "Minor Information": ("Sensitive Identity",),
    "Sexual Orientation": ("Sensitive Identity",),
    "Criminal Record": ("Judicial Record",),
    # PL4
    "Session Token": ("Token",),
    "Access Token": ("Token",),
    "API Key": ("Key", "Token"),
    "Secret Key": ("Key",),
    "Recovery Code": ("Verification Code", "Password"),
    "One-Time Password": ("Verification Code",),
    "OTP": ("Verification Code",),
    "Security Question Answer": ("Password",),
    "Security Question": ("Password",),
    "CVV": ("Payment Security Code",),
    "Connection String": ("Database Connection String",),
    "System/Attack": ("Vulnerability Details",),
    "Project/Task ID": ("Business Secret",),  # gold files it under PL4, a work secret
}

# Synonyms of a descriptive tag whose values are nevertheless identifiers: exact text only.
IDENTIFIER_SYNONYMS: frozenset[str] = frozenset({"Project/Task ID"})


def _key(privacy_type: str) -> str:
    return type_name(privacy_type).casefold()


_SYNONYMS_BY_KEY = {_key(name): frozenset(tags) for name, tags in TYPE_SYNONYMS.items()}
_IDENTIFIER_KEYS = frozenset(_key(name) for name in IDENTIFIER_SYNONYMS)


def type_key(privacy_type: str) -> str:
    """The name a type is reported under: standard spelling when it is one, else as written."""
    return canonical_type(privacy_type)


def type_family(privacy_type: str) -> frozenset[str]:
    """The standard tags a type may stand for; an unknown type is its own one-member family."""
    canonical = canonical_type(privacy_type)
    if canonical in STANDARD_TYPES:
        return frozenset({canonical})
    return _SYNONYMS_BY_KEY.get(_key(privacy_type), frozenset({_key(privacy_type)}))


def types_similar(a: str, b: str) -> bool:
    return not type_family(a).isdisjoint(type_family(b))


def is_descriptive(privacy_type: str) -> bool:
    """Whether a (gold) type gets partial text credit: its family touches DESCRIPTIVE_TYPES."""
    if _key(privacy_type) in _IDENTIFIER_KEYS:
        return False
    return not type_family(privacy_type).isdisjoint(DESCRIPTIVE_TYPES)
