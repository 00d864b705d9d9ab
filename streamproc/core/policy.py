"""Per-level actions: keep (pass through), mask (reversible placeholder), redact (placeholder,
nothing stored). A turn may carry its own policy, which can only tighten the user's stored one."""

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
    value = int(str(raw))
    if value <= 0:
        raise ValueError("ttl must be a positive number of seconds")
    return value


DEFAULT_POLICY = Policy()
