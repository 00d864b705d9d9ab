"""Keyed pseudonyms: stable per user and data key, opaque, and scoped to their user."""

from __future__ import annotations

import os
import re

import pytest

from streamproc.core.errors import VaultError
from streamproc.vault.crypto import UserKeys
from streamproc.vault.pseudonyms import Pseudonymizer


def maker(user_id: str, dek: bytes) -> Pseudonymizer:
    return Pseudonymizer.of(UserKeys.from_dek(user_id, dek))


def test_pseudonyms_are_stable_for_one_user_and_key_and_change_with_the_key() -> None:
    dek = os.urandom(32)
    a, again, after_forget = maker("ann@example.org", dek), maker("ann@example.org", dek), maker("ann@example.org", os.urandom(32))
    assert a.user() == again.user() and a.session("s1") == again.session("s1")
    assert a.user() != after_forget.user() and a.session("s1") != after_forget.session("s1")
    assert re.fullmatch(r"u-[0-9a-f]{32}", a.user()) and re.fullmatch(r"s-[0-9a-f]{32}", a.session("s1"))


def test_the_same_session_id_of_two_users_gives_two_pseudonyms() -> None:
    dek = os.urandom(32)  # even with one key, the user id is part of the message
    assert maker("ann", dek).session("s1") != maker("bob", dek).session("s1")
    assert maker("ann", dek).user() != maker("bob", dek).user()
    assert maker("ann", dek).session("s1") != maker("ann", dek).session("s2")


def test_a_sealed_session_id_opens_only_under_its_own_pseudonym_and_user() -> None:
    dek = os.urandom(32)
    ann = maker("ann", dek)
    sealed = ann.seal_session("s-one", "session-ann-1")
    assert ann.open_session("s-one", sealed) == "session-ann-1"
    assert b"session-ann-1" not in sealed
    with pytest.raises(VaultError):
        ann.open_session("s-two", sealed)
    with pytest.raises(VaultError):
        maker("bob", dek).open_session("s-one", sealed)
