"""Leak rate: what would still reach the cloud if this extractor guarded the stream.

For every gold value whose level the policy masks or redacts (PL2-PL4 under DEFAULT_POLICY),
the message is masked exactly as `streamproc mask` does it, minus the vault:
`masking.plan(content, predictions, policy)`, then `masking.render(plan, placeholders)` with
placeholders from an in-memory counter per type. The value leaks when it still occurs verbatim
in the masked text. Gold values that are not substrings of their message cannot be checked
that way and are counted apart ("gold not in text"); values the policy keeps (PL1) never count.

Placeholders themselves are blanked before the check, so a short value like "1" is not taken
for a leak because it appears inside `<Email_1>`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from streamproc.core import masking, placeholders
from streamproc.core.policy import DEFAULT_POLICY, Action, Policy
from streamproc.core.spans import Detection
from streamproc.core.taxonomy import PrivacyLevel, type_name

_BLANK = "\x00"  # never occurs in a gold value, so nothing can match across a placeholder


class PlaceholderCounter:
    """Stand-in for the vault: the same value gets the same placeholder, `n` counts per type."""

    def __init__(self) -> None:
        self._assigned: dict[str, str] = {}
        self._next: dict[str, int] = {}

    def assign(self, requests: Sequence[masking.PlaceholderRequest]) -> dict[str, str]:
        for request in requests:
            if request.value not in self._assigned:
                name = type_name(request.privacy_type)
                n = self._next.get(name, 1)
                self._next[name] = n + 1
                self._assigned[request.value] = placeholders.format_placeholder(name, n)
        return {r.value: self._assigned[r.value] for r in requests}


def mask_content(
    content: str,
    detections: Sequence[Detection],
    counter: PlaceholderCounter,
    policy: Policy = DEFAULT_POLICY,
) -> tuple[str, frozenset[str]]:
    """The masked text and the placeholders put into it."""
    plan = masking.plan(content, detections, policy)
    assigned = counter.assign(plan.requests())
    result = masking.render(plan, assigned)
    return result.content, frozenset(e.placeholder for e in result.entities)


@dataclass(slots=True)
class LeakTally:
    checked: dict[PrivacyLevel, int] = field(default_factory=dict)
    leaked: dict[PrivacyLevel, int] = field(default_factory=dict)
    gold_not_in_text: int = 0
    kept_by_policy: int = 0  # gold the policy passes through (PL1): not a leak by definition

    @property
    def n_checked(self) -> int:
        return sum(self.checked.values())

    @property
    def n_leaked(self) -> int:
        return sum(self.leaked.values())

    @property
    def rate(self) -> float:
        return self.n_leaked / self.n_checked if self.n_checked else 0.0

    def rate_for(self, level: PrivacyLevel) -> float:
        checked = self.checked.get(level, 0)
        return self.leaked.get(level, 0) / checked if checked else 0.0

    def add(
        self,
        content: str,
        gold: Sequence[Detection],
        predictions: Sequence[Detection],
        counter: PlaceholderCounter,
        policy: Policy = DEFAULT_POLICY,
    ) -> None:
        """Mask one message with the predictions and count which protected gold values survive."""
        protected = [g for g in gold if policy.action_for(g.privacy_level) is not Action.KEEP]
        self.kept_by_policy += len(gold) - len(protected)
        checkable = [g for g in protected if g.original_text and g.original_text in content]
        self.gold_not_in_text += len(protected) - len(checkable)
        if not checkable:
            return
        masked, used = mask_content(content, predictions, counter, policy)
        for placeholder in used:
            masked = masked.replace(placeholder, _BLANK)  # placeholders end in '>': no prefix clash
        for item in checkable:
            level = item.privacy_level
            self.checked[level] = self.checked.get(level, 0) + 1
            if item.original_text in masked:
                self.leaked[level] = self.leaked.get(level, 0) + 1
