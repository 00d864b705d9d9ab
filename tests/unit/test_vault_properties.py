"""Property test on the embedded (SQLite) vault: any sequence of batches keeps the invariants.

- one (user, value) -> one placeholder, forever (until forget);
- within a user, one placeholder -> one value;
- numbers per (user, type) are 1..k without gaps when nobody races;
- a value resolves iff it was never redacted.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
from collections import defaultdict
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from streamproc.core.masking import PlaceholderRequest
from streamproc.core.placeholders import canonical_key
from streamproc.core.policy import DEFAULT_POLICY, Action
from streamproc.core.taxonomy import PrivacyLevel, canonical_type, type_name
from streamproc.vault import Vault, migrate

_TEMPLATE_DIR = Path(tempfile.mkdtemp(prefix="vault-template-"))
_TEMPLATE = _TEMPLATE_DIR / "vault.db"
asyncio.run(migrate(f"sqlite+aiosqlite:///{_TEMPLATE}"))  # migrate once, copy per example

VALUES = ["a@x.org", "b@x.org", "Ann Lee", "ÄÖÜ", "<Email_1>", "x"]
TYPES = ["Email", "email", "Real Name", "Account ID/Username", "医疗"]
request = st.tuples(
    st.sampled_from(VALUES), st.sampled_from(TYPES), st.sampled_from([Action.MASK, Action.REDACT])
)
turn = st.tuples(st.sampled_from(["u1", "u2"]), st.lists(request, max_size=4))
batches = st.lists(st.lists(turn, min_size=1, max_size=3), min_size=1, max_size=4)


async def _run(url: str, plan: list[list[tuple[str, list[tuple[str, str, Action]]]]]) -> None:
    first: dict[tuple[str, str], str] = {}
    first_type: dict[tuple[str, str], str] = {}
    redacted: set[tuple[str, str]] = set()
    async with Vault.open(url, os.urandom(32)) as vault:
        for batch in plan:
            items = []
            for user, reqs in batch:
                deduped: dict[str, PlaceholderRequest] = {}  # one request per value, as a MaskPlan gives
                for v, t, a in reqs:
                    deduped.setdefault(v, PlaceholderRequest(v, t, PrivacyLevel.PL2, a))
                items.append((user, list(deduped.values()), DEFAULT_POLICY))
                for r in deduped.values():
                    first_type.setdefault((user, r.value), r.privacy_type)
                    if r.action is Action.REDACT:
                        redacted.add((user, r.value))
            for (user, reqs_, _), out in zip(items, await vault.assign(items), strict=True):
                assert set(out) == {r.value for r in reqs_}
                for value, placeholder in out.items():
                    assert first.setdefault((user, value), placeholder) == placeholder
        per_user: dict[str, dict[str, str]] = defaultdict(dict)
        for (user, value), placeholder in first.items():
            assert per_user[user].setdefault(placeholder, value) == value
            assert placeholder.startswith(f"<{type_name(canonical_type(first_type[(user, value)]))}_")
        for user, mapping in per_user.items():
            numbers: dict[str, list[int]] = defaultdict(list)
            for placeholder in mapping:
                name, n = canonical_key(placeholder).rsplit("_", 1)
                numbers[name].append(int(n))
            assert all(sorted(ns) == list(range(1, len(ns) + 1)) for ns in numbers.values())
            resolved = await vault.resolve(user, {canonical_key(p) for p in mapping})
            assert resolved == {canonical_key(p): v for p, v in mapping.items() if (user, v) not in redacted}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(plan=batches)
def test_any_sequence_of_batches_keeps_the_vault_invariants(
    plan: list[list[tuple[str, list[tuple[str, str, Action]]]]],
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "vault.db"
        shutil.copyfile(_TEMPLATE, db)
        asyncio.run(_run(f"sqlite+aiosqlite:///{db}", plan))
