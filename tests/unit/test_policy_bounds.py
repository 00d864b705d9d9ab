"""Policy input is validated: TTLs within documented bounds, a bad policy cannot be built."""

from __future__ import annotations

import pytest

from streamproc.cli import main
from streamproc.core.policy import MAX_TTL_S, MIN_TTL_S, STRICTEST_POLICY, Action, Policy
from streamproc.core.taxonomy import PrivacyLevel


@pytest.mark.parametrize("ttl", [-5, 0, MIN_TTL_S - 1, MAX_TTL_S + 1, 999_999_999_999, 10**400, True, 1.5, "60"])
def test_a_policy_with_a_ttl_outside_the_bounds_cannot_be_built(ttl: object) -> None:
    with pytest.raises(ValueError):
        Policy(ttl_seconds={PrivacyLevel.PL3: ttl})  # type: ignore[dict-item]


@pytest.mark.parametrize("raw", [{"ttl_seconds": {"PL3": -5}}, {"ttl_seconds": {"PL3": "9" * 5000}}, {"ttl_seconds": {"PL3": [1]}},
                                 {"actions": {"PL2": "shred"}}, {"actions": {"PL1": "mask"}}, {"actions": "mask"}, {"ttl_seconds": {"PL3": "1e9"}}])
def test_a_stored_policy_that_breaks_the_rules_is_refused_with_a_value_error(raw: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        Policy.from_dict(raw)


def test_bounds_are_inclusive_and_round_trip() -> None:
    policy = Policy(ttl_seconds={PrivacyLevel.PL2: MIN_TTL_S, PrivacyLevel.PL3: MAX_TTL_S})
    assert Policy.from_dict(policy.to_dict()) == policy
    assert all(STRICTEST_POLICY.action_for(level) is Action.REDACT for level in (PrivacyLevel.PL2, PrivacyLevel.PL3, PrivacyLevel.PL4))


@pytest.mark.parametrize("ttl", ["-5", "999999999999", "59"])
def test_policy_set_refuses_a_ttl_out_of_bounds_in_one_line_with_exit_2(ttl: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["policy", "set", "u1", "--pl3-ttl", ttl]) == 2  # refused before the vault is opened
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--pl3-ttl" in err[0] and str(MIN_TTL_S) in err[0]
