"""No Docker engine runs here, so the compose file is validated against the code it deploys:
every worker variable is a real setting, ports and hosts agree, every service is health-checked."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import yaml

from streamproc.settings import KafkaSettings, Settings

ROOT = Path(__file__).resolve().parents[2]
COMPOSE: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]


def substituted(value: str) -> str:
    """Resolve ${VAR:-default} and ${VAR:?msg} the way compose does with nothing set."""
    value = re.sub(r"\$\{[A-Z_]+:-([^}]*)\}", r"\1", value)
    return re.sub(r"\$\{[A-Z_]+:\?[^}]*\}", "A" * 43 + "=", value)


def worker_env() -> dict[str, str]:
    return {k: substituted(str(v)) for k, v in SERVICES["worker"]["environment"].items()}


ONE_SHOT = {"kafka-acls"}  # init steps: they exit, the worker waits for their success


def test_every_long_running_service_has_a_healthcheck() -> None:
    assert set(SERVICES) == {"kafka", "kafka-acls", "postgres", "worker", "vllm"}
    for name, service in SERVICES.items():
        if name in ONE_SHOT:
            assert service["restart"] == "no"
            continue
        assert service.get("healthcheck", {}).get("test"), f"{name} has no healthcheck"


def secret_paths(text: str) -> set[str]:
    return set(re.findall(r"/run/secrets/([a-z_]++)(?!\$)", text))  # kafka_${user}_password: checked below


def test_worker_environment_is_valid_settings(monkeypatch: Any, tmp_path: Path) -> None:
    for name in SERVICES["worker"]["secrets"]:
        (tmp_path / name).write_text(f"{name}-value\n")
    for key, value in worker_env().items():
        assert key.startswith("STREAMPROC_"), key
        monkeypatch.setenv(key, value.replace("/run/secrets/", f"{tmp_path}/"))
    settings = Settings()  # extra="forbid": an unknown or misspelt variable fails here
    assert settings.extraction.extractor == "rules"
    assert settings.vault.master_key is not None
    kafka = settings.kafka
    assert (kafka.security_protocol, kafka.sasl_mechanism, kafka.sasl_username) == ("SASL_SSL", "SCRAM-SHA-512", "worker")
    assert kafka.sasl_password is not None and kafka.sasl_password.get_secret_value() == "kafka_worker_password-value"
    assert kafka.ssl_check_hostname and kafka.ssl_cafile == tmp_path / "kafka_ca"
    assert settings.vault.password is not None
    assert settings.vault.password.get_secret_value() == "postgres_password-value"
    assert settings.vault_url.endswith(":postgres_password-value@postgres:5432/streamproc")


def test_every_mounted_secret_is_declared_and_granted_to_the_service_using_it() -> None:
    declared = set(COMPOSE["secrets"])
    for name, service in SERVICES.items():
        granted = set(service.get("secrets", []))
        assert granted <= declared, name
        used = secret_paths(yaml.safe_dump({k: service.get(k) for k in ("environment", "command", "healthcheck")}))
        assert used <= granted, f"{name} reads secrets it is not given: {used - granted}"
    assert not any("PASSWORD:" in f"{k}:" and "_FILE" not in k for k in worker_env()), "a password inline in the worker env"


def test_kafka_is_sasl_ssl_only_with_the_authorizer_denying_by_default() -> None:
    kafka = SERVICES["kafka"]["environment"]
    protocols = dict(item.split(":") for item in kafka["KAFKA_LISTENER_SECURITY_PROTOCOL_MAP"].split(","))
    assert protocols["INTERNAL"] == protocols["EXTERNAL"] == "SASL_SSL"
    assert "PLAINTEXT" not in protocols.values()
    assert kafka["KAFKA_AUTHORIZER_CLASS_NAME"].endswith("StandardAuthorizer")
    assert kafka["KAFKA_ALLOW_EVERYONE_IF_NO_ACL_FOUND"] == "false" and kafka["KAFKA_SUPER_USERS"] == "User:admin"


def test_acl_init_step_creates_topics_and_acls_before_the_worker_starts() -> None:
    acls = SERVICES["kafka-acls"]
    script = "\n".join(acls["command"])
    assert "/opt/streamproc/kafka-acls.sh" in script and "--create-topics" in script
    assert any(v.startswith("./infra/kafka-acls.sh:") for v in acls["volumes"])
    assert acls["depends_on"]["kafka"]["condition"] == "service_healthy"
    assert SERVICES["worker"]["depends_on"]["kafka-acls"]["condition"] == "service_completed_successfully"
    for user in ("worker", "edge", "cloud"):
        assert f"kafka_{user}_password" in acls["secrets"]
    default_retention = substituted(acls["environment"]["RAW_RETENTION_MS"])
    assert default_retention == worker_env()["STREAMPROC_KAFKA__RAW_RETENTION_MS"] == str(KafkaSettings().raw_retention_ms)


def test_compose_secrets_script_makes_every_secret_file(tmp_path: Path) -> None:
    root = tmp_path / "secrets"
    subprocess.run([str(ROOT / "infra" / "compose-secrets.sh"), str(root / "kafka")], check=True, capture_output=True, timeout=120)
    for secret in COMPOSE["secrets"].values():
        relative = Path(secret["file"]).relative_to("secrets")
        assert (root / relative).is_file(), relative


def test_database_password_is_a_shared_secret_not_in_any_url() -> None:
    env = worker_env()
    assert "@" in env["STREAMPROC_VAULT__URL"] and ":" not in env["STREAMPROC_VAULT__URL"].split("//")[1].split("@")[0]
    secret_path = "/run/secrets/postgres_password"
    assert env["STREAMPROC_VAULT__PASSWORD_FILE"] == secret_path
    assert SERVICES["postgres"]["environment"]["POSTGRES_PASSWORD_FILE"] == secret_path
    for name in ("postgres", "worker"):
        assert "postgres_password" in SERVICES[name]["secrets"]
    assert "postgres_password" in COMPOSE["secrets"]
    assert "POSTGRES_PASSWORD" not in SERVICES["postgres"]["environment"]


def test_worker_points_at_the_services_it_depends_on() -> None:
    env = worker_env()
    kafka = SERVICES["kafka"]["environment"]
    assert f"INTERNAL://kafka:{env['STREAMPROC_KAFKA__BOOTSTRAP_SERVERS'].split(':')[1]}" in kafka["KAFKA_ADVERTISED_LISTENERS"]
    assert "--bootstrap-server kafka:19092" in "\n".join(SERVICES["kafka-acls"]["command"])
    pg = SERVICES["postgres"]["environment"]
    url = env["STREAMPROC_VAULT__URL"]
    assert url.startswith(f"postgresql+asyncpg://{pg['POSTGRES_USER']}@") and url.endswith(f"@postgres:5432/{pg['POSTGRES_DB']}")
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
