"""Session fixtures for the real services. In CI (CI=true) a missing service fails the test;
locally it skips with the command that would start it."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


def service_missing(what: str, start: str) -> None:
    if in_ci():
        pytest.fail(f"{what} is required in CI and is not reachable; .ci/run should have run `{start}`")
    pytest.skip(f"{what} not reachable; run `{start}`")


def _script_output(*argv: str) -> str | None:
    try:
        out = subprocess.run([str(ROOT / argv[0]), *argv[1:]], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    lines = out.stdout.strip().splitlines()
    return lines[-1].strip() if out.returncode == 0 and lines else None


@pytest.fixture(scope="session")
def kafka_bootstrap() -> str:
    bootstrap = os.environ.get("STREAMPROC_TEST_KAFKA") or _script_output("infra/kafka.sh", "url")
    if not bootstrap or _script_output("infra/kafka.sh", "status") is None and subprocess.run(
        [str(ROOT / "infra/kafka.sh"), "status"], capture_output=True, timeout=30
    ).returncode != 0:
        service_missing("the Kafka broker", "infra/kafka.sh start")
        raise AssertionError("unreachable")
    return bootstrap


@pytest.fixture(scope="session")
def secured_kafka_config() -> Path:
    """clients.json of the secured broker (infra/kafka.sh start --secure): bootstrap, CA file,
    password files of admin, worker, edge and cloud."""
    configured = os.environ.get("STREAMPROC_TEST_KAFKA_SECURE") or _script_output("infra/kafka.sh", "client-config", "--secure")
    path = Path(configured) if configured else None
    running = subprocess.run([str(ROOT / "infra/kafka.sh"), "status", "--secure"], capture_output=True, timeout=30).returncode == 0
    if path is None or not path.is_file() or not (running or os.environ.get("STREAMPROC_TEST_KAFKA_SECURE")):
        service_missing("the secured Kafka broker", "infra/kafka.sh start --secure")
        raise AssertionError("unreachable")
    return path
