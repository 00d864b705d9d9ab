"""Vault behaviour, run on both backends (SQLite file and real Postgres) via `vault_url`."""

from __future__ import annotations

import os
from collections.abc import Sequence

import pytest
from sqlalchemy import Executable, func, select, text, update
from sqlalchemy.ext.asyncio import create_async_engine

from streamproc.core.errors import UnknownUser, VaultError
from streamproc.core.masking import PlaceholderRequest
from streamproc.core.placeholders import canonical_key
from streamproc.core.policy import DEFAULT_POLICY, Action, Policy
from streamproc.core.taxonomy import PrivacyLevel
from streamproc.vault import MasterKeyError, Vault
from streamproc.vault.tables import Counter, Mapping, User

PL2, PL3, PL4 = PrivacyLevel.PL2, PrivacyLevel.PL3, PrivacyLevel.PL4
MASK_ALL = Policy(actions={PL2: Action.MASK, PL3: Action.MASK, PL4: Action.MASK})
REDACT_ALL = Policy(actions={PL2: Action.REDACT, PL3: Action.REDACT, PL4: Action.REDACT})
T0 = 1_700_000_000.0


def req(
    value: str, type_: str = "Email", level: PrivacyLevel = PL2, policy: Policy = DEFAULT_POLICY
) -> PlaceholderRequest:
    return PlaceholderRequest(value, type_, level, policy.action_for(level))


class Clock:
    def __init__(self, now: float = T0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


async def one(
    vault: Vault, user: str, reqs: Sequence[PlaceholderRequest], policy: Policy = DEFAULT_POLICY
) -> dict[str, str]:
    return (await vault.assign([(user, reqs, policy)]))[0]


async def table_rows(url: str, stmt: Executable) -> list[tuple[object, ...]]:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            return [tuple(r) for r in await conn.execute(stmt)]
    finally:
        await engine.dispose()


async def test_same_value_gets_same_placeholder_across_vault_instances(vault_url: str) -> None:
    key = os.urandom(32)
    async with Vault.open(vault_url, key) as first:
        a = await one(first, "alice", [req("alice@example.org"), req("bob@example.org")])
    async with Vault.open(vault_url, key) as restarted, Vault.open(vault_url, key) as other:
        b = await one(restarted, "alice", [req("bob@example.org"), req("carol@example.org")])
        c = await one(other, "alice", [req("alice@example.org")])
    assert a == {"alice@example.org": "<Email_1>", "bob@example.org": "<Email_2>"}
    assert b == {"bob@example.org": "<Email_2>", "carol@example.org": "<Email_3>"}
    assert c == {"alice@example.org": "<Email_1>"}


async def test_different_users_number_independently(vault_url: str) -> None:
    async with Vault.open(vault_url, os.urandom(32)) as vault:
        out = await vault.assign(
            [
                ("u1", [req("x@example.org")], DEFAULT_POLICY),
                ("u2", [req("y@example.org")], DEFAULT_POLICY),
                ("u2", [req("x@example.org")], DEFAULT_POLICY),
            ]
        )
        assert out == [
            {"x@example.org": "<Email_1>"},
            {"y@example.org": "<Email_1>"},
            {"x@example.org": "<Email_2>"},
        ]
        assert await vault.resolve("u1", {"email_1"}) == {"email_1": "x@example.org"}
        assert await vault.resolve("u2", {"email_1", "email_2"}) == {
            "email_1": "y@example.org",
            "email_2": "x@example.org",
        }


async def test_numbering_starts_at_one_per_type_in_order_of_appearance(vault_url: str) -> None:
    async with Vault.open(vault_url, os.urandom(32)) as vault:
        out = await one(
            vault,
            "u",
            [
                req("Zed Zebra", "Real Name"),
                req("+1 555 0100", "Phone Number"),
                req("Amy Apple", "Real Name"),
                req("a@example.org", "email"),
            ],
        )
    assert out == {
        "Zed Zebra": "<Real_Name_1>",
        "+1 555 0100": "<Phone_Number_1>",
        "Amy Apple": "<Real_Name_2>",
        "a@example.org": "<Email_1>",
    }


async def test_unusual_type_strings_make_restorable_placeholders(vault_url: str) -> None:
    types = [
        "Account ID/Username",
        "Third-Party Identifiable Info",
        "Doctor's Note",
        "Größe/Gewicht",
        "医疗健康",
        "病历",
    ]
    reqs = [req(f"value-{i}-\u00e9\u4e2d", t, PL3) for i, t in enumerate(types)]
    async with Vault.open(vault_url, os.urandom(32)) as vault:
        out = await one(vault, "u", reqs)
        keys = {canonical_key(p) for p in out.values()}
        resolved = await vault.resolve("u", keys)
    assert out[reqs[0].value] == "<Account_ID_Username_1>"
    assert out[reqs[1].value] == "<Third_Party_Identifiable_Info_1>"
    assert out[reqs[2].value] == "<Doctor_s_Note_1>"
    assert out[reqs[3].value] == "<Gr_e_Gewicht_1>"
    # Both all-CJK types fall back to one name and therefore share its counter.
    assert sorted([out[reqs[4].value], out[reqs[5].value]]) == ["<Private_Info_1>", "<Private_Info_2>"]
    assert resolved == {canonical_key(out[r.value]): r.value for r in reqs}


async def test_replaying_a_batch_returns_identical_placeholders(vault_url: str) -> None:
    batch = [
        ("u", [req("a@example.org"), req("secret-pw-1", "Password", PL4)], DEFAULT_POLICY),
        ("v", [req("a@example.org")], DEFAULT_POLICY),
    ]
    async with Vault.open(vault_url, os.urandom(32)) as vault:
        assert await vault.assign(batch) == await vault.assign(batch)


async def test_redacted_value_stores_no_ciphertext_and_does_not_resolve(vault_url: str) -> None:
    async with Vault.open(vault_url, os.urandom(32)) as vault:
        out = await one(vault, "u", [req("hunter2-redact-me", "Password", PL4), req("m@example.org")])
        resolved = await vault.resolve("u", {"password_1", "email_1"})
    assert out == {"hunter2-redact-me": "<Password_1>", "m@example.org": "<Email_1>"}
    assert resolved == {"email_1": "m@example.org"}
    rows = await table_rows(
        vault_url, select(Mapping.placeholder, Mapping.action, Mapping.ciphertext.is_(None))
    )
    assert sorted(rows) == [("<Email_1>", "mask", False), ("<Password_1>", "redact", True)]


async def test_tightening_mask_to_redact_wipes_the_stored_value(vault_url: str) -> None:
    async with Vault.open(vault_url, os.urandom(32)) as vault:
        first = await one(vault, "u", [req("wipe-me@example.org")])
        assert await vault.resolve("u", {"email_1"}) == {"email_1": "wipe-me@example.org"}
        again = await one(vault, "u", [req("wipe-me@example.org", policy=REDACT_ALL)], REDACT_ALL)
        assert again == first == {"wipe-me@example.org": "<Email_1>"}
        assert await vault.resolve("u", {"email_1"}) == {}
        # Loosening again does not bring the value back: it was published as unrecoverable.
        await one(vault, "u", [req("wipe-me@example.org")])
        assert await vault.resolve("u", {"email_1"}) == {}
    rows = await table_rows(vault_url, select(Mapping.action, Mapping.ciphertext))
    assert rows == [("redact", None)]


async def test_strictest_action_in_one_batch_wins(vault_url: str) -> None:
    async with Vault.open(vault_url, os.urandom(32)) as vault:
        out = await vault.assign(
            [
                ("u", [req("both@example.org")], DEFAULT_POLICY),
                ("u", [req("both@example.org", policy=REDACT_ALL)], REDACT_ALL),
            ]
        )
        assert out == [{"both@example.org": "<Email_1>"}] * 2
        assert await vault.resolve("u", {"email_1"}) == {}


async def test_ttl_expiry_follows_the_injected_clock(vault_url: str) -> None:
    clock = Clock()
    policy = Policy(actions=MASK_ALL.actions, ttl_seconds={PL2: 60})
    async with Vault.open(vault_url, os.urandom(32), clock=clock) as vault:
        assert await one(vault, "u", [req("ttl@example.org")], policy) == {"ttl@example.org": "<Email_1>"}
        clock.now += 59
        assert await vault.resolve("u", {"email_1"}) == {"email_1": "ttl@example.org"}
        clock.now += 1
        assert await vault.resolve("u", {"email_1"}) == {}
        assert (await vault.stats())["expired_unpurged"] == 1
        assert await vault.purge_expired() == 1
        assert await vault.purge_expired() == 0
        # Seen again: same placeholder, fresh ciphertext and expiry.
        clock.now += 1000
        assert await one(vault, "u", [req("ttl@example.org")], policy) == {"ttl@example.org": "<Email_1>"}
        assert await vault.resolve("u", {"email_1"}) == {"email_1": "ttl@example.org"}
        clock.now += 61
        assert await vault.resolve("u", {"email_1"}) == {}


async def test_forget_shreds_the_user_and_numbering_restarts(vault_url: str) -> None:
    async with Vault.open(vault_url, os.urandom(32)) as vault:
        await one(vault, "gone", [req("a@example.org"), req("b@example.org")])
        await vault.set_policy("gone", MASK_ALL)
        await one(vault, "kept", [req("a@example.org")])
        assert await vault.forget("gone") is True
        assert await vault.forget("gone") is False
        with pytest.raises(UnknownUser):
            await vault.resolve("gone", {"email_1"})
        assert await vault.get_policy("gone") == DEFAULT_POLICY
        for table, col in ((User, User.user_id), (Mapping, Mapping.user_id), (Counter, Counter.user_id)):
            assert await table_rows(
                vault_url, select(func.count()).select_from(table).where(col == "gone")
            ) == [(0,)]
        assert await vault.resolve("kept", {"email_1"}) == {"email_1": "a@example.org"}
        assert await one(vault, "gone", [req("b@example.org")]) == {"b@example.org": "<Email_1>"}


async def test_resolve_of_an_unknown_user_raises(vault_url: str) -> None:
    async with Vault.open(vault_url, os.urandom(32)) as vault:
        with pytest.raises(UnknownUser):
            await vault.resolve("nobody", set())


async def test_wrong_master_key_fails_at_open_without_leaking(vault_url: str) -> None:
    async with Vault.open(vault_url, os.urandom(32)) as vault:
        await one(vault, "u", [req("leak-check@example.org")])
    with pytest.raises(MasterKeyError) as info:
        async with Vault.open(vault_url, os.urandom(32)):
            pass
    assert "master key" in str(info.value)
    assert "leak-check" not in repr(info.value)


async def test_policy_is_stored_per_user_and_keeps_the_data_key(vault_url: str) -> None:
    strict = Policy(
        actions={PL2: Action.MASK, PL3: Action.REDACT, PL4: Action.REDACT}, ttl_seconds={PL2: 3600}
    )
    async with Vault.open(vault_url, os.urandom(32)) as vault:
        assert await vault.get_policy("u") == DEFAULT_POLICY
        await one(vault, "u", [req("p@example.org")])
        await vault.set_policy("u", strict)
        assert await vault.get_policy("u") == strict
        assert await vault.get_policy("other") == DEFAULT_POLICY
        assert await vault.resolve("u", {"email_1"}) == {"email_1": "p@example.org"}
        await vault.set_policy("new", strict)  # creates the user
        assert await vault.resolve("new", set()) == {}


async def test_swapped_ciphertexts_fail_authentication_instead_of_restoring(vault_url: str) -> None:
    async with Vault.open(vault_url, os.urandom(32)) as vault:
        await one(vault, "u", [req("one@example.org"), req("two@example.org")])
        engine = create_async_engine(vault_url)
        try:
            async with engine.begin() as conn:
                rows = await conn.execute(select(Mapping.placeholder_key, Mapping.ciphertext))
                ct: dict[str, bytes | None] = {k: v for k, v in rows}
                await conn.execute(
                    update(Mapping)
                    .where(Mapping.placeholder_key == "email_1")
                    .values(ciphertext=ct["email_2"])
                )
        finally:
            await engine.dispose()
        with pytest.raises(VaultError) as info:
            await vault.resolve("u", {"email_1"})
    assert "example.org" not in str(info.value)


async def test_ping_and_stats_report_counts(vault_url: str) -> None:
    async with Vault.open(vault_url, os.urandom(32)) as vault:
        await vault.ping()
        await vault.assign(
            [
                ("u", [req("s@example.org"), req("pw-stats", "Password", PL4)], DEFAULT_POLICY),
                ("v", [req("s@example.org")], DEFAULT_POLICY),
            ]
        )
        assert await vault.stats() == {
            "users": 2,
            "mappings": 3,
            "stored_values": 2,
            "redacted": 1,
            "expired_unpurged": 0,
        }


async def test_database_failures_surface_as_vault_error_without_values(vault_url: str) -> None:
    async with Vault.open(vault_url, os.urandom(32)) as vault:
        await one(vault, "u", [req("first@example.org")])
        engine = create_async_engine(vault_url)
        try:
            async with engine.begin() as conn:
                await conn.execute(text("DROP TABLE counters"))
        finally:
            await engine.dispose()
        with pytest.raises(VaultError) as info:
            await one(vault, "u", [req("db-error-value@example.org")])
    chain = [info.value, info.value.__cause__]
    assert all("db-error-value" not in str(e) for e in chain)


async def test_opening_an_unmigrated_database_is_a_vault_error(vault_db_url: str) -> None:
    with pytest.raises(VaultError, match="migrate"):
        async with Vault.open(vault_db_url, os.urandom(32)):
            pass
