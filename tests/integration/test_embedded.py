"""Embedded mode end to end: the CLI in real processes, the real vault (SQLite and Postgres)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from streamproc.bench.workload import Workload
from streamproc.codec import encode

ROOT = Path(__file__).resolve().parents[2]


def cli(state: Path, vault_url: str, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("STREAMPROC_")}
    env |= {"STREAMPROC_STATE_DIR": str(state), "STREAMPROC_VAULT__URL": vault_url}
    return subprocess.run([sys.executable, "-m", "streamproc.cli", *args], input=stdin, capture_output=True, text=True, env=env, cwd=ROOT, timeout=300)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.integration)])
def vault(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[Path, str]:
    if request.param == "sqlite":
        return tmp_path, f"sqlite+aiosqlite:///{tmp_path / 'vault.db'}"
    return tmp_path, request.getfixturevalue("fresh_pg_url")


def raw(turn_id: str, user: str, content: str, **extra: object) -> str:
    return json.dumps({"turn_id": turn_id, "user_id": user, "session_id": "s", "role": "user", "content": content, "ts": "2026-11-23T10:00:00Z", **extra}, ensure_ascii=False)


def response(masked_line: str, content: str | None = None) -> str:
    """The cloud's reply to a masked turn: it only knows the pseudonyms the masked turn carried."""
    m = json.loads(masked_line)
    return json.dumps({"response_id": "r", "user_id": m["user_id"], "session_id": m["session_id"], "in_reply_to": m["turn_id"],
                       "content": m["content"] if content is None else content, "ts": "2026-11-23T10:00:00Z"}, ensure_ascii=False)


def test_same_value_gets_the_same_placeholder_across_processes_and_users_number_independently(vault: tuple[Path, str]) -> None:
    state, url = vault
    first = cli(state, url, "mask", stdin=raw("t1", "ann", "mail ann@example.org") + "\n")
    second = cli(state, url, "mask", stdin=raw("t2", "ann", "again ann@example.org, also bo@example.org") + "\n" + raw("t3", "bob", "bob is bo@example.org") + "\n")
    assert first.returncode == second.returncode == 0, first.stderr + second.stderr
    contents = [json.loads(line)["content"] for line in (first.stdout + second.stdout).splitlines()]
    assert contents == ["mail <Email_1>", "again <Email_1>, also <Email_2>", "bob is <Email_1>"]


def test_user_typed_and_foreign_placeholders_never_restore_to_a_real_value(vault: tuple[Path, str]) -> None:
    state, url = vault
    masked = cli(state, url, "mask", stdin=raw("t1", "ann", "I typed <Email_1> myself; my mail is ann@example.org") + "\n" + raw("t2", "bob", "bob@example.org") + "\n")
    ann_line, bob_line = masked.stdout.splitlines()
    ann = json.loads(ann_line)["content"]
    assert ann == "I typed <\\Email_1> myself; my mail is <Email_1>"
    restored = cli(state, url, "restore", stdin=response(ann_line) + "\n" + response(bob_line, "hi <Email_1>, not <Email_2>") + "\n")
    ann_back, bob_back = (json.loads(line) for line in restored.stdout.splitlines())
    assert (ann_back["user_id"], bob_back["user_id"]) == ("ann", "bob")
    assert ann_back["content"] == "I typed <Email_1> myself; my mail is ann@example.org"
    assert bob_back["content"] == "hi bob@example.org, not <Email_2>" and bob_back["unresolved"] == ["<Email_2>"]


def test_default_policy_stores_no_pl4_value_anywhere(vault: tuple[Path, str], tmp_path: Path) -> None:
    state, url = vault
    secret = "Kq9!zzP4wv"
    masked = cli(state, url, "mask", stdin=raw("t1", "ann", f"my password is {secret} and my mail ann@example.org") + "\n")
    content = json.loads(masked.stdout)["content"]
    assert content == "my password is <Password_1> and my mail <Email_1>"
    restored = json.loads(cli(state, url, "restore", stdin=response(masked.stdout.strip()) + "\n").stdout)
    assert restored["content"] == "my password is <Password_1> and my mail ann@example.org"
    assert restored["unresolved"] == ["<Password_1>"]
    if url.startswith("sqlite"):
        dump = (state / "vault.db").read_bytes()
    else:
        from .conftest import asyncpg_dsn

        dump = subprocess.run(["pg_dump", asyncpg_dsn(url)], capture_output=True, check=True, timeout=120).stdout
    assert secret.encode() not in dump and b"ann@example.org" not in dump


def test_bad_lines_are_reported_by_number_without_content_and_the_rest_processed(vault: tuple[Path, str]) -> None:
    state, url = vault
    secret = "4539148803436467"
    lines = [raw("t1", "ann", f"card {secret}"), f'{{"broken": "{secret}"', raw("t2", "ann", "ok", role="system") .replace('"user"', '"system"', 1), raw("t3", "ann", "fine")]
    out = cli(state, url, "mask", stdin="\n".join(lines) + "\n\xff\n")
    assert out.returncode == 1 and "3 of 5 lines rejected" in out.stderr
    records = [json.loads(line) for line in out.stdout.splitlines()]
    assert [r.get("turn_id") or r["error"]["line"] for r in records] == ["t1", 2, 3, "t3", 5]
    assert "<stdin>:2: InvalidJson" in out.stderr and "<stdin>:3: SchemaError" in out.stderr
    assert secret not in out.stderr and secret not in out.stdout


def test_worker_style_logs_and_errors_carry_no_values(vault: tuple[Path, str]) -> None:
    """Mask a synthetic stream with verbose logging and scan everything the process printed."""
    state, url = vault
    turns = list(Workload(users=5, seed=2).turns(200))
    out = cli(state, url, "-v", "mask", stdin="\n".join(encode(t.raw).decode() for t in turns) + "\n")
    assert out.returncode == 0
    planted = {s for t in turns for s in t.secrets}
    assert not [s for s in planted if s in out.stderr or s in out.stdout]


def test_masked_lines_carry_pseudonyms_and_a_response_with_real_ids_is_unknown(vault: tuple[Path, str]) -> None:
    state, url = vault
    user, session = "ann.lee@example.org", "sess-ann.lee@example.org-7"
    masked = cli(state, url, "mask", stdin=json.dumps({"turn_id": "t1", "user_id": user, "session_id": session, "role": "user",
                                                       "content": "hello", "ts": "2026-11-23T10:00:00Z"}) + "\n")
    assert masked.returncode == 0 and user not in masked.stdout and session not in masked.stdout and "ann.lee" not in masked.stdout
    line = json.loads(masked.stdout)
    assert line["user_id"].startswith("u-") and line["session_id"].startswith("s-")
    back = json.loads(cli(state, url, "restore", stdin=response(masked.stdout.strip()) + "\n").stdout)
    assert (back["user_id"], back["session_id"], back["content"]) == (user, session, "hello")
    real = json.dumps({"response_id": "r", "user_id": user, "session_id": session, "in_reply_to": "t1", "content": "hi", "ts": "2026-11-23T10:00:00Z"})
    refused = cli(state, url, "restore", stdin=real + "\n")
    assert json.loads(refused.stdout)["error"]["error_class"] == "UnknownUser" and refused.returncode == 1
    assert user not in refused.stdout + refused.stderr
