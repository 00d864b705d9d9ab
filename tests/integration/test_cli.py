"""The `streamproc` command as a user meets it: real processes, a real (SQLite) vault.

Each test runs the installed entry point in a subprocess and checks what a person sees: one-line
errors, honest exit codes, one output line per input line, a live filter that answers each line
as it comes, and help that stands on its own.
"""

from __future__ import annotations

import json
import os
import pty
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from streamproc.app import EXTRACTORS
from streamproc.cli import COMMANDS, build_parser
from streamproc.settings import EXTRACTOR_NAMES

ROOT = Path(__file__).resolve().parents[2]
# A guard against a hung process, never a synchronisation: every wait below is on output.
HANG = 300


def env_for(state: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("STREAMPROC_")}
    return env | {"STREAMPROC_STATE_DIR": str(state)}


def run(state: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "streamproc.cli", *args], input=stdin, capture_output=True,
                          text=True, env=env_for(state), cwd=ROOT, timeout=HANG)


def spawn(state: Path, *args: str, **kwargs: object) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "streamproc.cli", *args], text=True, env=env_for(state), cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, bufsize=1, **kwargs)  # type: ignore[call-overload]


def raw(turn_id: str, content: str, user: str = "ann") -> str:
    return json.dumps({"turn_id": turn_id, "user_id": user, "session_id": "s", "role": "user", "content": content,
                       "ts": "2026-11-23T10:00:00Z"})


def response(user: str, content: str, session: str = "s") -> str:
    return json.dumps({"response_id": "r", "user_id": user, "session_id": session, "in_reply_to": "t", "content": content,
                       "ts": "2026-11-23T10:00:00Z"})


def reply(masked_line: str, content: str) -> str:
    """The cloud's answer to a masked turn: it knows the user and session only by their pseudonyms."""
    masked = json.loads(masked_line)
    return response(masked["user_id"], content, masked["session_id"])


def one_error_line(proc: subprocess.CompletedProcess[str]) -> str:
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    return lines[0]


@pytest.mark.parametrize("args, expected", [
    (("mask", "no-such-file.jsonl"), "streamproc: error: no such file: no-such-file.jsonl"),
    (("schemas", "--out", "README.md"), "streamproc: error: --out README.md exists and is not a directory"),
    (("mask", "--extractor", "vllm-http"), "streamproc: error: invalid settings: extraction: Value error, extractor vllm-http needs vllm_url"),
])
def test_everyday_mistakes_are_one_line_with_exit_2(tmp_path: Path, args: tuple[str, ...], expected: str) -> None:
    proc = run(tmp_path, *args)
    assert proc.returncode == 2
    assert one_error_line(proc).startswith(expected)


def test_a_negative_limit_is_a_usage_error(tmp_path: Path) -> None:
    proc = run(tmp_path, "eval", "--limit", "-5", "README.md")
    assert proc.returncode == 2 and "must be a positive integer" in proc.stderr and "Traceback" not in proc.stderr


def test_rejected_lines_become_error_records_in_place_and_exit_1_with_a_summary(tmp_path: Path) -> None:
    stdin = "\n".join([raw("t1", "mail ann@example.org"), "{bad", raw("t3", "hello"), '{"x": 1}']) + "\n"
    proc = run(tmp_path, "mask", stdin=stdin)
    out = [json.loads(line) for line in proc.stdout.splitlines()]
    assert proc.returncode == 1
    assert [o.get("turn_id") or o["error"]["line"] for o in out] == ["t1", 2, "t3", 4]
    assert out[0]["content"] == "mail <Email_1>"
    assert proc.stderr.strip().splitlines()[-1] == "2 of 4 lines rejected"
    assert "bad" not in json.dumps(out[1])  # the error record names the problem, not the content


def test_a_file_whose_every_line_is_rejected_exits_1(tmp_path: Path) -> None:
    proc = run(tmp_path, "mask", stdin="[]\n[]\n")
    assert proc.returncode == 1 and "2 of 2 lines rejected" in proc.stderr


def test_a_byte_order_mark_on_line_one_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "bom.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + raw("t1", "mail ann@example.org").encode() + b"\n")
    proc = run(tmp_path, "mask", str(path))
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["content"] == "mail <Email_1>"


def test_restore_of_an_unknown_user_emits_an_error_record_and_exit_1(tmp_path: Path) -> None:
    masked = run(tmp_path, "mask", stdin=raw("t1", "mail ann@example.org") + "\n")
    assert masked.returncode == 0
    proc = run(tmp_path, "restore", stdin=reply(masked.stdout, "to <Email_1>") + "\n" + response("nobody", "hi") + "\n")
    first, second = (json.loads(line) for line in proc.stdout.splitlines())
    assert first["content"] == "to ann@example.org" and first["user_id"] == "ann"
    assert second == {"error": {"line": 2, "error_class": "UnknownUser", "reason": "no vault entry for this user or session pseudonym"}}
    assert proc.returncode == 1


def test_a_line_typed_on_a_live_filter_is_answered_before_input_ends(tmp_path: Path) -> None:
    proc = spawn(tmp_path, "mask", stdin=subprocess.PIPE)
    assert proc.stdin is not None and proc.stdout is not None
    try:
        proc.stdin.write(raw("t1", "mail ann@example.org") + "\n")
        proc.stdin.flush()
        first = proc.stdout.readline()  # blocks until the filter answers: stdin is still open
        assert json.loads(first)["content"] == "mail <Email_1>"
        proc.stdin.write(raw("t2", "and bo@example.org") + "\n")
        proc.stdin.flush()
        assert json.loads(proc.stdout.readline())["content"] == "and <Email_2>"
        proc.stdin.close()
        assert proc.wait(HANG) == 0
    finally:
        proc.kill()


def test_the_first_ctrl_c_finishes_the_batch_in_hand_and_exits_130(tmp_path: Path) -> None:
    proc = spawn(tmp_path, "mask", stdin=subprocess.PIPE)
    assert proc.stdin is not None and proc.stdout is not None
    try:
        proc.stdin.write(raw("t1", "mail ann@example.org") + "\n")
        proc.stdin.flush()
        assert json.loads(proc.stdout.readline())["turn_id"] == "t1"
        proc.send_signal(signal.SIGINT)
        assert proc.wait(HANG) == 130
        assert "Traceback" not in (proc.stderr.read() if proc.stderr else "")
    finally:
        proc.kill()


def test_verbose_works_after_the_subcommand_and_quiet_is_quiet(tmp_path: Path) -> None:
    quiet = run(tmp_path, "forget", "nobody", "--yes")
    assert quiet.returncode == 1 and quiet.stderr.strip() == "no such user: nobody"  # no JSON log lines
    loud = run(tmp_path, "mask", "-v", stdin=raw("t1", "mail ann@example.org") + "\n")
    assert loud.returncode == 0 and '"level": "DEBUG"' in loud.stderr


def test_forget_on_a_terminal_asks_for_confirmation(tmp_path: Path) -> None:
    masked = run(tmp_path, "mask", stdin=raw("t1", "mail ann@example.org") + "\n")
    assert masked.returncode == 0
    leader, follower = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "streamproc.cli", "forget", "ann"], stdin=follower,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env_for(tmp_path), cwd=ROOT)
    os.close(follower)
    os.write(leader, b"not-ann\n")
    _, err = proc.communicate(timeout=HANG)
    os.close(leader)
    assert proc.returncode == 1 and "not confirmed; nothing deleted" in err
    assert run(tmp_path, "restore", stdin=reply(masked.stdout, "<Email_1>") + "\n").returncode == 0  # still there


def test_help_stands_alone(tmp_path: Path) -> None:
    mask_help = run(tmp_path, "mask", "--help").stdout
    for needed in ("real_name", "turn_id", "streamproc schemas", "STREAMPROC_STATE_DIR", "vault.db", "STREAMPROC_VAULT__URL"):
        assert needed in mask_help, needed
    policy_help = run(tmp_path, "policy", "set", "--help").stdout
    assert "PL2" in policy_help and "redact" in policy_help and "never restorable" in policy_help
    assert "cannot be undone" in run(tmp_path, "forget", "--help").stdout


def test_one_command_table_and_an_unknown_command_is_an_error(tmp_path: Path) -> None:
    parser = build_parser()
    subparsers = next(a for a in parser._actions if a.dest == "command")
    assert set(subparsers.choices) == set(COMMANDS)  # type: ignore[attr-defined]
    proc = run(tmp_path, "benchmark-everything")
    assert proc.returncode == 2 and "invalid choice" in proc.stderr


def test_every_extractor_name_has_one_builder() -> None:
    assert set(EXTRACTORS) == set(EXTRACTOR_NAMES)
