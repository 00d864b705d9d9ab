"""`streamproc doctor` against the real broker and a real (SQLite) vault, in a subprocess."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from streamproc.kafka.fencing import claim_group
from streamproc.kafka.topics import ensure_topics

from .streams import ROOT, settings_env, unique_settings


def doctor(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "streamproc.cli", "doctor"], capture_output=True, text=True,
                          env=env | {"COLUMNS": "200"}, cwd=ROOT, timeout=300)


def rows(out: str) -> dict[str, str]:
    """check name -> ok/FAIL, from the printed table."""
    found = {}
    for line in out.splitlines():
        cells = [c.strip() for c in line.strip("│┃ ").split("│")]
        if len(cells) >= 2 and cells[1] in ("ok", "FAIL"):
            found[cells[0]] = cells[1]
    return found


async def test_doctor_passes_on_a_ready_setup_and_names_what_fails_otherwise(kafka_bootstrap: str, tmp_path: Path) -> None:
    settings = unique_settings(kafka_bootstrap, f"sqlite+aiosqlite:///{tmp_path / 'vault.db'}", tmp_path)
    env = settings_env(settings)
    before = doctor(env)
    assert before.returncode == 1 and rows(before.stdout)[f"kafka: topic {settings.kafka.raw_topic}"] == "FAIL"

    await ensure_topics(settings.kafka)
    masked = subprocess.run([sys.executable, "-m", "streamproc.cli", "mask"], input="", capture_output=True, text=True,
                            env=env, cwd=ROOT, timeout=300)  # creates and migrates the vault, as a first start would
    assert masked.returncode == 0, masked.stderr
    ready = doctor(env)
    assert ready.returncode == 0, ready.stdout
    assert set(rows(ready.stdout).values()) == {"ok"}
    assert {"kafka: broker", "vault: schema", "vault: master key", "vault: identity", "extractor"} <= set(rows(ready.stdout))

    await claim_group(settings.kafka, "another-vault")  # the group now belongs to another vault
    fenced = doctor(env)
    assert fenced.returncode == 1 and rows(fenced.stdout)["vault: identity"] == "FAIL"

    dead = doctor(env | {"STREAMPROC_KAFKA__BOOTSTRAP_SERVERS": "127.0.0.1:1", "STREAMPROC_EXTRACTION__EXTRACTOR": "vllm-http",
                         "STREAMPROC_EXTRACTION__VLLM_URL": "http://127.0.0.1:1/v1"})
    assert dead.returncode == 1 and "Traceback" not in dead.stdout + dead.stderr
    assert rows(dead.stdout)["kafka"] == "FAIL" and rows(dead.stdout)["extractor: vLLM server"] == "FAIL"
