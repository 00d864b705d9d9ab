"""Reading MemPrivacy-Bench JSONL: selection options and errors that name the line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from streamproc.core.taxonomy import PrivacyLevel
from streamproc.eval.dataset import DatasetError, load_messages, read_messages, select_messages

SHARED_DEV = Path(__file__).resolve().parents[3] / "shared" / "eval" / "memprivacy_bench_dev.jsonl"


def user(uuid: str, name: str, n_turns: int) -> dict[str, object]:
    dialogues = []
    for i in range(n_turns):
        role = "user" if i % 2 == 0 else "assistant"
        span = {"original_text": f"v{i}", "privacy_type": "Email", "privacy_level": "PL2"}
        info = [span] if i % 3 == 0 else []
        dialogues.append({"role": role, "content": f"turn {i} v{i}", "privacy_info": info})
    return {"uuid": uuid, "metadata": {"user_name": name}, "dialogues": dialogues, "questions": []}


def write(tmp_path: Path, *lines: object) -> Path:
    path = tmp_path / "bench.jsonl"
    text = "\n".join(x if isinstance(x, str) else json.dumps(x) for x in lines)
    path.write_text(text + "\n", encoding="utf-8")
    return path


def test_reads_messages_with_gold_and_real_name(tmp_path: Path) -> None:
    path = write(tmp_path, user("u1", "Ana Lima", 4), "", user("u2", "Li Wei", 2))
    messages = read_messages(path)
    assert len(messages) == 6
    first = messages[0]
    assert (first.turn_id, first.user_id, first.line_no, first.role) == ("u1:0", "u1", 1, "user")
    assert first.real_name == "Ana Lima" and first.turn_text().real_name == "Ana Lima"
    assert first.gold[0].privacy_level is PrivacyLevel.PL2
    assert messages[-1].line_no == 3


def test_roles_filter(tmp_path: Path) -> None:
    path = write(tmp_path, user("u1", "Ana", 5))
    assert [m.role for m in read_messages(path, roles="user")] == ["user"] * 3
    assert [m.role for m in read_messages(path, roles="assistant")] == ["assistant"] * 2


def test_sample_is_seeded_in_file_order_and_limit_applies_after(tmp_path: Path) -> None:
    path = write(tmp_path, user("u1", "Ana", 20))
    a = load_messages(path, sample=5, seed=7)
    b = load_messages(path, sample=5, seed=7)
    assert [m.turn_id for m in a] == [m.turn_id for m in b]
    assert [m.turn_id for m in a] == sorted((m.turn_id for m in a), key=lambda t: int(t.split(":")[1]))
    assert len(load_messages(path, sample=5, seed=7, limit=2)) == 2
    assert len(select_messages(a, sample=50)) == 5


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("{not json", r"bench.jsonl:2: invalid JSON"),
        ('{"metadata": {}}', r"bench.jsonl:2: dialogues: expected list"),
        ('{"dialogues": [{"role": "system", "content": "x"}]}', r":2: dialogues\[0\].role"),
        (
            '{"dialogues": [{"role": "user", "content": "x", "privacy_info": '
            '[{"original_text": "x", "privacy_type": "Email", "privacy_level": "PL9"}]}]}',
            r":2: dialogues\[0\].privacy_info\[0\].privacy_level: expected PL1..PL4",
        ),
        ('{"dialogues": [{"role": "user", "content": 3}]}', r":2: dialogues\[0\].content: expected str"),
    ],
)
def test_malformed_input_names_the_line_and_field(tmp_path: Path, line: str, expected: str) -> None:
    path = write(tmp_path, user("u1", "Ana", 1), line)
    with pytest.raises(DatasetError, match=expected):
        read_messages(path)


def test_errors_never_quote_private_values(tmp_path: Path) -> None:
    secret = "hunter2-secret"
    span = {"original_text": secret, "privacy_type": 5}
    bad = {"dialogues": [{"role": "user", "content": secret, "privacy_info": [span]}]}
    with pytest.raises(DatasetError) as info:
        read_messages(write(tmp_path, bad))
    assert secret not in str(info.value)


@pytest.mark.skipif(not SHARED_DEV.exists(), reason="shared dev data not present")
def test_shared_dev_file_matches_its_readme_counts() -> None:
    messages = read_messages(SHARED_DEV)
    assert len(messages) == 574
    assert sum(len(m.gold) for m in messages) == 1235
