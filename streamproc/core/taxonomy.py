"""The MemPrivacy four-level taxonomy and the standard type tags.

Levels order by harm: PL1 (preferences, never extracted) < PL2 (identifiable) < PL3 (highly
sensitive) < PL4 (immediately exploitable secrets). Extractors may emit type strings outside the
standard list; every function here accepts any string.
"""

from __future__ import annotations

import enum
import re


class PrivacyLevel(str, enum.Enum):
    PL1 = "PL1"
    PL2 = "PL2"
    PL3 = "PL3"
    PL4 = "PL4"

    @property
    def rank(self) -> int:
        return int(self.value[2])

    @classmethod
    def parse(cls, raw: str) -> PrivacyLevel:
        """Accept 'PL3', 'pl3', ' PL3 ' or '3'; raise ValueError on anything else."""
        text = raw.strip().upper()
        if text.isdigit():
            text = f"PL{text}"
        return cls(text)


STANDARD_TYPES: dict[str, PrivacyLevel] = {
    **dict.fromkeys(
        [
            "Password",
            "Verification Code",
            "Token",
            "Key",
            "Private Key",
            "Payment Security Code",
            "Database Connection String",
            "Vulnerability Details",
            "Business Secret",
        ],
        PrivacyLevel.PL4,
    ),
    **dict.fromkeys(
        [
            "ID Number",
            "Financial Account",
            "Transaction Record",
            "Assets/Income",
            "Medical Health",
            "Precise Location",
            "Itinerary/Trajectory",
            "Biometrics",
            "Communication Content",
            "Sensitive Identity",
            "Judicial Record",
        ],
        PrivacyLevel.PL3,
    ),
    **dict.fromkeys(
        [
            "Real Name",
            "Phone Number",
            "Email",
            "Detailed Address",
            "Account ID/Username",
            "Network Identifier",
            "Identity Background",
            "Relationship Info",
        ],
        PrivacyLevel.PL2,
    ),
}

_NON_NAME = re.compile(r"[^A-Za-z0-9]+")
# A type written only in other scripts (e.g. "医疗健康") has no ASCII letters left; it still needs
# a name a cloud model will copy back verbatim.
FALLBACK_TYPE_NAME = "Private_Info"
MAX_TYPE_NAME = 48


def type_name(privacy_type: str) -> str:
    """The placeholder name for a privacy type: `Account ID/Username` -> `Account_ID_Username`.

    Every character outside [A-Za-z0-9] becomes `_`, runs collapse, edges are trimmed. The result
    always matches `[A-Za-z0-9]+(_[A-Za-z0-9]+)*`, so it is restorable whatever the input.
    """
    name = _NON_NAME.sub("_", privacy_type).strip("_")[:MAX_TYPE_NAME].strip("_")
    return name or FALLBACK_TYPE_NAME


_CANONICAL_TYPES = {type_name(t).casefold(): t for t in STANDARD_TYPES}


def canonical_type(privacy_type: str) -> str:
    """Map a free-form type onto the standard tag it spells (`email` -> `Email`), else keep it."""
    return _CANONICAL_TYPES.get(type_name(privacy_type).casefold(), privacy_type.strip())
