"""Keyed pseudonyms: stable per user and data key, opaque, and scoped to their user."""

from __future__ import annotations

import os
import re
from types import SimpleNamespace

import pytest

from streamproc.core.errors import VaultError
from streamproc.vault.crypto import UserKeys
from streamproc.vault.pseudonyms import Pseudonymizer, reveal


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


def _rows(*entries: tuple[str, str, str, bytes | None]) -> dict[str, SimpleNamespace]:
    return {p: SimpleNamespace(pseudonym=p, user_id=u, kind=k, sealed_id=s) for p, u, k, s in entries}


def test_reveal_answers_every_pair_of_a_batch_with_repeats_and_unknowns() -> None:
    keys = {u: UserKeys.from_dek(u, os.urandom(32)) for u in ("ann", "bob")}
    ann, bob = Pseudonymizer.of(keys["ann"]), Pseudonymizer.of(keys["bob"])
    a1, a2, b1 = ann.session("s1"), ann.session("s2"), bob.session("s1")
    rows = _rows(
        (ann.user(), "ann", "user", None), (bob.user(), "bob", "user", None),
        (a1, "ann", "session", ann.seal_session(a1, "s1")), (a2, "ann", "session", ann.seal_session(a2, "s2")),
        (b1, "bob", "session", bob.seal_session(b1, "s1")),
    )
    pairs = [(ann.user(), a1), (bob.user(), b1), (ann.user(), a2), (ann.user(), a1), (ann.user(), b1), (ann.user(), "s-unknown")]
    assert reveal(rows, keys, pairs) == [("ann", "s1"), ("bob", "s1"), ("ann", "s2"), ("ann", "s1"), None, None]


def test_reveal_refuses_a_second_user_pseudonym_row_for_a_user_already_revealed_in_the_batch() -> None:
    keys = {"ann": UserKeys.from_dek("ann", os.urandom(32))}
    ann = Pseudonymizer.of(keys["ann"])
    a1 = ann.session("s1")
    forged = "u-" + "0" * 32  # a row pointing a pseudonym the key never made at ann
    rows = _rows((ann.user(), "ann", "user", None), (forged, "ann", "user", None), (a1, "ann", "session", ann.seal_session(a1, "s1")))
    assert reveal(rows, keys, [(ann.user(), a1)]) == [("ann", "s1")]
    with pytest.raises(VaultError):
        reveal(rows, keys, [(ann.user(), a1), (forged, a1)])  # ann's key is cached by then: still checked
