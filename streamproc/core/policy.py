"""Per-level actions: keep (pass through), mask (reversible placeholder), redact (placeholder,
nothing stored). A turn may carry its own policy, which can only tighten the user's stored one.

TTLs are bounded: at least MIN_TTL_S (one minute: shorter would expire a value before a cloud
reply to its turn could be restored) and at most MAX_TTL_S (ten years: beyond that the arithmetic
on timestamps is what fails, not the intent). A Policy outside the bounds cannot be built."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field

from streamproc.core.taxonomy import PrivacyLevel


class Action(str, enum.Enum):
    KEEP = "keep"
    MASK = "mask"
    REDACT = "redact"

    @property
    def strictness(self) -> int:
        return _STRICTNESS[self]


_STRICTNESS = {Action.KEEP: 0, Action.MASK: 1, Action.REDACT: 2}
MIN_TTL_S = 60
MAX_TTL_S = 10 * 365 * 24 * 3600
MASKABLE_LEVELS = (PrivacyLevel.PL2, PrivacyLevel.PL3, PrivacyLevel.PL4)


@dataclass(frozen=True, slots=True)
class Policy:
    """Actions and optional time-to-live (seconds) of stored values, per level.

    PL1 is never extracted and therefore always kept; it is not configurable.
    """

    actions: Mapping[PrivacyLevel, Action] = field(
        default_factory=lambda: {
            PrivacyLevel.PL2: Action.MASK,
            PrivacyLevel.PL3: Action.MASK,
            PrivacyLevel.PL4: Action.REDACT,
        }
    )
    ttl_seconds: Mapping[PrivacyLevel, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for level, action in self.actions.items():
            if not isinstance(level, PrivacyLevel) or not isinstance(action, Action):
                raise ValueError("policy actions map privacy levels to actions")
        for level, ttl in self.ttl_seconds.items():
            if not isinstance(level, PrivacyLevel):
                raise ValueError("policy TTLs are keyed by privacy level")
            check_ttl(ttl)

    def action_for(self, level: PrivacyLevel) -> Action:
        if level is PrivacyLevel.PL1:
            return Action.KEEP
        return self.actions.get(level, Action.REDACT)

    def ttl_for(self, level: PrivacyLevel) -> int | None:
        return self.ttl_seconds.get(level)

    def tightened_by(self, other: Policy | None) -> Policy:
        """The stricter of both, level by level: a stricter action and the shorter TTL win."""
        if other is None:
            return self
        actions = {
            level: max(self.action_for(level), other.action_for(level), key=lambda a: a.strictness)
            for level in MASKABLE_LEVELS
        }
        ttls: dict[PrivacyLevel, int] = {}
        for level in MASKABLE_LEVELS:
            candidates = [t for t in (self.ttl_for(level), other.ttl_for(level)) if t is not None]
            if candidates:
                ttls[level] = min(candidates)
        return Policy(actions=actions, ttl_seconds=ttls)

    def to_dict(self) -> dict[str, dict[str, object]]:
        return {
            "actions": {lvl.value: self.action_for(lvl).value for lvl in MASKABLE_LEVELS},
            "ttl_seconds": {lvl.value: ttl for lvl, ttl in self.ttl_seconds.items()},
        }

    @classmethod
    def from_dict(cls, raw: Mapping[str, object]) -> Policy:
        """Inverse of to_dict; raises ValueError on unknown levels or actions."""
        actions_raw = raw.get("actions", {})
        ttl_raw = raw.get("ttl_seconds", {})
        if not isinstance(actions_raw, Mapping) or not isinstance(ttl_raw, Mapping):
            raise ValueError("policy needs 'actions' and 'ttl_seconds' objects")
        base = cls()
        actions = dict(base.actions)
        for level, action in actions_raw.items():
            actions[_maskable(level)] = Action(str(action))
        ttls = {}
        for level, ttl in ttl_raw.items():
            if ttl is not None:
                ttls[_maskable(level)] = _positive_int(ttl)
        return cls(actions=actions, ttl_seconds=ttls)


def _maskable(raw: object) -> PrivacyLevel:
    level = PrivacyLevel.parse(str(raw))
    if level is PrivacyLevel.PL1:
        raise ValueError("PL1 is never extracted; it has no action")
    return level


def _positive_int(raw: object) -> int:
    if isinstance(raw, bool) or not isinstance(raw, (int, str)) or (isinstance(raw, str) and not raw.isdigit()):
        raise ValueError("ttl must be a whole number of seconds")
    if isinstance(raw, str) and len(raw) > 12:
        raise ValueError(f"ttl must be between {MIN_TTL_S} and {MAX_TTL_S} seconds")
    return check_ttl(int(raw))


def check_ttl(seconds: object) -> int:
    """The TTL if it is a whole number of seconds within the documented bounds; else ValueError."""
    if isinstance(seconds, bool) or not isinstance(seconds, int) or not MIN_TTL_S <= seconds <= MAX_TTL_S:
        raise ValueError(f"ttl must be between {MIN_TTL_S} and {MAX_TTL_S} seconds")
    return seconds


DEFAULT_POLICY = Policy()
# What a stored policy that cannot be read becomes: nothing kept, nothing stored.
STRICTEST_POLICY = Policy(actions={level: Action.REDACT for level in MASKABLE_LEVELS})
