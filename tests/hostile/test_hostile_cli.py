"""The hostile catalogue through `streamproc mask` in a real process: every line is masked or
reported, the process exits normally, and benign lines interleaved with it lose their secrets."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

from streamproc.wire import MaskedTurn

from .catalogue import HostileRecord, benign_turns, content_cases, record_cases

ROOT = Path(__file__).resolve().parents[2]
REPORT = re.compile(r":(\d+): (\w+): ")
PLANTED = ("dup.user@example.net", "4821", "sk-live", "secret")


def _lines() -> list[tuple[str, bytes, HostileRecord | None, tuple[str, ...]]]:
    """(kind, line, hostile case, secrets), benign turns between hostile records."""
    hostile = [c for c in record_cases() + content_cases() if c.value is not None and b"\n" not in c.value and c.value.strip()]
    benign = iter(benign_turns(len(hostile) + 1, "cli"))
    out: list[tuple[str, bytes, HostileRecord | None, tuple[str, ...]]] = []
    for case in hostile:
        b = next(benign)
        out.append(("benign", b.value, None, b.secrets))
        out.append(("hostile", case.value or b"", case, ()))
    b = next(benign)
    out.append(("benign", b.value, None, b.secrets))
    return out


def test_every_hostile_line_is_masked_or_reported_and_benign_lines_lose_their_secrets(tmp_path: Path) -> None:
    lines = _lines()
    path = tmp_path / "hostile.jsonl"
    path.write_bytes(b"\n".join(line for _, line, _, _ in lines) + b"\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("STREAMPROC_")}
    env |= {"STREAMPROC_STATE_DIR": str(tmp_path / "state")}
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "streamproc.cli", "mask", str(path)], capture_output=True, env=env, cwd=ROOT, timeout=1800)
    elapsed = time.monotonic() - started
    assert b"Traceback" not in done.stderr
    outputs = [json.loads(line) for line in done.stdout.splitlines()]
    assert len(outputs) == len([line for _, line, _, _ in lines if line.strip()])  # one output line per input line
    masked = {o["turn_id"]: MaskedTurn.model_validate(o) for o in outputs if "error" not in o}
    reported = {o["error"]["line"]: o["error"]["error_class"] for o in outputs if "error" in o}
    assert reported == {int(m.group(1)): m.group(2) for m in REPORT.finditer(done.stderr.decode())}
    assert done.returncode == (1 if reported else 0), done.stderr[-2000:]  # 1: some lines were rejected
    for line_no, (kind, _, case, secrets) in enumerate(lines, start=1):
        turn_id = json.loads(_)["turn_id"] if kind == "benign" else (case.turn_id if case else None)
        if kind == "benign":
            assert turn_id in masked and line_no not in reported, f"benign line {line_no}"
            turn = masked[turn_id]
            assert not turn.degraded and all(s not in turn.content for s in secrets), f"benign line {line_no}"
            continue
        assert case is not None
        was_masked = turn_id is not None and turn_id in masked
        assert was_masked != (line_no in reported), f"{case.name}: masked={was_masked}, reported={reported.get(line_no)}"
        if case.outcome == "masked":
            assert was_masked, f"{case.name}: {reported.get(line_no)}"
        elif case.outcome == "dead-letter":
            assert line_no in reported, case.name
    for text in (done.stderr.decode(), json.dumps(list(reported.items()))):
        assert not any(p in text for p in PLANTED) and "example.com" not in text
    hostile = sum(1 for kind, *_ in lines if kind == "hostile")
    print(f"\nCLI hostile suite: {len(lines)} lines ({hostile} hostile), {len(masked)} masked, "
          f"{len(reported)} reported {sorted(set(reported.values()))}, {elapsed:.1f}s")
