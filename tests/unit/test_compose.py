"""No Docker engine runs here, so the compose file is validated against the code it deploys:
every worker variable is a real setting, ports and hosts agree, every service is health-checked."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from pydantic import SecretStr

from streamproc.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
COMPOSE: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]


def substituted(value: str) -> str:
    """Resolve ${VAR:-default} and ${VAR:?msg} the way compose does with nothing set."""
    value = re.sub(r"\$\{[A-Z_]+:-([^}]*)\}", r"\1", value)
    return re.sub(r"\$\{[A-Z_]+:\?[^}]*\}", "A" * 43 + "=", value)


def worker_env() -> dict[str, str]:
    return {k: substituted(str(v)) for k, v in SERVICES["worker"]["environment"].items()}


def test_every_service_has_a_healthcheck() -> None:
    assert set(SERVICES) == {"kafka", "postgres", "worker", "vllm"}
    for name, service in SERVICES.items():
        assert service.get("healthcheck", {}).get("test"), f"{name} has no healthcheck"


def test_worker_environment_is_valid_settings(monkeypatch: Any) -> None:
    for key, value in worker_env().items():
        assert key.startswith("STREAMPROC_"), key
        if key.endswith("_FILE"):  # the secret-file form of a SecretStr setting: check the setting exists
            section, _, field = key.removeprefix("STREAMPROC_").removesuffix("_FILE").lower().partition("__")
            model = type(getattr(Settings(), section))
            assert model.model_fields[field].annotation == (SecretStr | None), key
            continue
        monkeypatch.setenv(key, value)
    settings = Settings()  # extra="forbid": an unknown or misspelt variable fails here
    assert settings.extraction.extractor == "rules"
    assert settings.vault.master_key is not None


def test_worker_points_at_the_services_it_depends_on() -> None:
    env = worker_env()
    kafka = SERVICES["kafka"]["environment"]
    assert f"INTERNAL://kafka:{env['STREAMPROC_KAFKA__BOOTSTRAP_SERVERS'].split(':')[1]}" in kafka["KAFKA_ADVERTISED_LISTENERS"]
    pg = SERVICES["postgres"]["environment"]
    url = env["STREAMPROC_VAULT__URL"]
    assert url.startswith(f"postgresql+asyncpg://{pg['POSTGRES_USER']}:") and url.endswith(f"@postgres:5432/{pg['POSTGRES_DB']}")
    vllm_port = next(a.split("=")[1] for a in SERVICES["vllm"]["command"] if a.startswith("--port="))
    assert env["STREAMPROC_EXTRACTION__VLLM_URL"] == f"http://vllm:{vllm_port}"
    served = next(a.split("=")[1] for a in SERVICES["vllm"]["command"] if a.startswith("--served-model-name="))
    assert env["STREAMPROC_EXTRACTION__MODEL"] == served


def test_worker_port_healthcheck_and_published_port_agree() -> None:
    port = worker_env()["STREAMPROC_WEB__PORT"]
    worker = SERVICES["worker"]
    assert f"127.0.0.1:{port}:{port}" in worker["ports"]
    assert f"127.0.0.1:{port}/health/ready" in " ".join(worker["healthcheck"]["test"])


def test_gpu_service_is_behind_a_profile_and_reserves_a_gpu() -> None:
    vllm = SERVICES["vllm"]
    assert vllm["profiles"] == ["gpu"]
    assert vllm["deploy"]["resources"]["reservations"]["devices"][0]["capabilities"] == ["gpu"]
    assert SERVICES["worker"]["depends_on"]["vllm"]["required"] is False


def test_named_volumes_are_declared() -> None:
    used = {v.split(":")[0] for s in SERVICES.values() for v in s.get("volumes", []) if not v.startswith(("$", ".", "/"))}
    assert used <= set(COMPOSE["volumes"])


def test_dockerfile_installs_the_package_and_runs_the_worker() -> None:
    dockerfile = (ROOT / "infra" / "Dockerfile").read_text()
    assert "pip install" in dockerfile and 'CMD ["worker"]' in dockerfile


def test_the_vllm_api_key_is_one_compose_secret_shared_by_the_server_and_the_worker() -> None:
    assert "file" in COMPOSE["secrets"]["vllm_api_key"]
    vllm, worker = SERVICES["vllm"], SERVICES["worker"]
    assert "vllm_api_key" in vllm["secrets"] and "vllm_api_key" in worker["secrets"]
    assert worker_env()["STREAMPROC_EXTRACTION__VLLM_API_KEY_FILE"] == "/run/secrets/vllm_api_key"
    launcher = " ".join(vllm["entrypoint"])
    assert "VLLM_API_KEY=" in launcher and "/run/secrets/vllm_api_key" in launcher and "exec vllm serve" in launcher
    assert not any("api-key" in arg for arg in vllm["command"]), "the key stays out of the command line"
