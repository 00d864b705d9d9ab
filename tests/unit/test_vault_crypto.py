"""Envelope encryption and master-key handling (pure, no database)."""

from __future__ import annotations

import base64
import os
import stat
from pathlib import Path

import pytest
from pydantic import SecretStr

from streamproc.core.errors import VaultError
from streamproc.vault.crypto import (
    KEY_FILE_NAME,
    MasterKeyError,
    UserKeys,
    load_or_create_master_key,
    make_key_check,
    new_dek,
    unwrap_dek,
    verify_key_check,
    wrap_dek,
)


def test_data_key_round_trips_only_for_its_user_and_master_key() -> None:
    master, dek = os.urandom(32), new_dek()
    wrapped = wrap_dek(master, "alice", dek)
    assert unwrap_dek(master, "alice", wrapped) == dek
    assert dek not in wrapped
    with pytest.raises(MasterKeyError):
        unwrap_dek(master, "bob", wrapped)  # copied into another user's row
    with pytest.raises(MasterKeyError):
        unwrap_dek(os.urandom(32), "alice", wrapped)


def test_value_ciphertext_is_bound_to_user_and_placeholder() -> None:
    keys = UserKeys.from_dek("alice", new_dek())
    blob = keys.encrypt("email_1", "alice@example.org")
    assert b"alice@example.org" not in blob
    assert keys.decrypt("email_1", blob) == "alice@example.org"
    assert keys.encrypt("email_1", "alice@example.org") != blob  # fresh nonce every time
    with pytest.raises(VaultError) as info:
        keys.decrypt("email_2", blob)
    assert "alice@example.org" not in str(info.value)
    with pytest.raises(VaultError):
        UserKeys.from_dek("bob", keys.dek).decrypt("email_1", blob)
    with pytest.raises(VaultError):
        keys.decrypt("email_1", blob[:-1] + bytes([blob[-1] ^ 1]))


def test_value_hash_is_stable_per_user_and_differs_across_users() -> None:
    dek = new_dek()
    a1, a2 = UserKeys.from_dek("alice", dek), UserKeys.from_dek("alice", dek)
    b = UserKeys.from_dek("bob", new_dek())
    assert a1.value_hash("x@example.org") == a2.value_hash("x@example.org")
    assert a1.value_hash("x@example.org") != b.value_hash("x@example.org")
    assert a1.value_hash("x@example.org") != a1.value_hash("X@example.org")
    assert len(a1.value_hash("")) == 32


def test_aad_framing_keeps_user_and_placeholder_apart() -> None:
    dek = new_dek()
    blob = UserKeys.from_dek("ab", dek).encrypt("c_1", "v")
    with pytest.raises(VaultError):
        UserKeys.from_dek("a", dek).decrypt("bc_1", blob)


def test_key_check_rejects_another_master_key() -> None:
    master = os.urandom(32)
    check = make_key_check(master)
    verify_key_check(master, check)
    with pytest.raises(MasterKeyError, match="master key"):
        verify_key_check(os.urandom(32), check)


def test_master_key_from_settings_wins_over_the_key_file(tmp_path: Path) -> None:
    key = os.urandom(32)
    assert load_or_create_master_key(SecretStr(base64.b64encode(key).decode()), tmp_path) == key
    assert not (tmp_path / KEY_FILE_NAME).exists()


@pytest.mark.parametrize("bad", ["not base64!!", base64.b64encode(b"short").decode(), ""])
def test_malformed_master_key_setting_is_a_clear_error(tmp_path: Path, bad: str) -> None:
    with pytest.raises(MasterKeyError):
        load_or_create_master_key(SecretStr(bad), tmp_path)


def test_key_file_is_created_private_once_and_reused(tmp_path: Path) -> None:
    state = tmp_path / "state" / "nested"
    first = load_or_create_master_key(None, state)
    path = state / KEY_FILE_NAME
    assert len(first) == 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_or_create_master_key(None, state) == first
    assert [p.name for p in state.iterdir()] == [KEY_FILE_NAME]  # no temp files left behind


def test_corrupt_key_file_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / KEY_FILE_NAME).write_text("garbage")
    os.chmod(tmp_path / KEY_FILE_NAME, 0o600)
    with pytest.raises(MasterKeyError):
        load_or_create_master_key(None, tmp_path)
