"""Kafka security settings, secrets from files, and the one client factory (no broker needed:
the real-broker behaviour is in tests/integration/test_secured_cluster.py)."""

from __future__ import annotations

import ssl
from pathlib import Path
from typing import Any

import pytest
from aiokafka.abc import AbstractTokenProvider
from pydantic import SecretStr, ValidationError

from streamproc.codec import describe
from streamproc.core.errors import StartupError
from streamproc.kafka.clients import connection_options
from streamproc.kafka.probe import bootstrap_addresses
from streamproc.kafka.topics import topic_configs
from streamproc.settings import KafkaSettings, Settings


class StaticTokens(AbstractTokenProvider):
    """An OAUTHBEARER provider named by import path in the settings."""

    async def token(self) -> str:
        return "token"


def scram(**extra: Any) -> KafkaSettings:
    return KafkaSettings(
        security_protocol="SASL_SSL", sasl_mechanism="SCRAM-SHA-512", sasl_username="worker", sasl_password=SecretStr("pw"), **extra
    )


def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    for key in list(os.environ):
        if key.startswith("STREAMPROC_"):
            monkeypatch.delenv(key)


def test_sasl_without_a_mechanism_or_password_is_rejected_at_load() -> None:
    with pytest.raises(ValidationError, match="needs sasl_mechanism"):
        KafkaSettings(security_protocol="SASL_SSL")
    with pytest.raises(ValidationError, match="needs sasl_username and sasl_password"):
        KafkaSettings(security_protocol="SASL_SSL", sasl_mechanism="PLAIN", sasl_username="u")
    with pytest.raises(ValidationError, match="needs sasl_oauth_token_provider"):
        KafkaSettings(security_protocol="SASL_SSL", sasl_mechanism="OAUTHBEARER")


def test_security_settings_that_would_be_ignored_are_rejected() -> None:
    with pytest.raises(ValidationError, match="would be ignored"):
        KafkaSettings(sasl_username="u")
    with pytest.raises(ValidationError, match="would be ignored"):
        KafkaSettings(security_protocol="SASL_PLAINTEXT", sasl_mechanism="PLAIN", sasl_username="u",
                      sasl_password=SecretStr("p"), ssl_cafile=Path("/ca.pem"))
    with pytest.raises(ValidationError, match="need ssl_certfile"):
        KafkaSettings(security_protocol="SSL", ssl_keyfile=Path("/k.pem"))


def test_validation_errors_never_echo_a_secret() -> None:
    with pytest.raises(ValidationError) as caught:
        KafkaSettings(security_protocol="SASL_SSL", sasl_password=SecretStr("hunter2-secret"))
    assert "hunter2-secret" not in describe(caught.value)


def test_plaintext_clients_get_only_the_bootstrap_servers() -> None:
    assert connection_options(KafkaSettings(bootstrap_servers="b:1")) == {"bootstrap_servers": "b:1", "security_protocol": "PLAINTEXT"}


def test_sasl_ssl_verifies_the_broker_and_its_host_name_by_default() -> None:
    options = connection_options(scram())
    assert options["sasl_mechanism"] == "SCRAM-SHA-512"
    assert options["sasl_plain_username"] == "worker" and options["sasl_plain_password"] == "pw"
    context: ssl.SSLContext = options["ssl_context"]
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname is True
    assert connection_options(scram(ssl_check_hostname=False))["ssl_context"].check_hostname is False


def test_a_missing_ca_file_is_a_startup_error_naming_the_setting(tmp_path: Path) -> None:
    with pytest.raises(StartupError, match=r"check kafka\.ssl_\*"):
        connection_options(scram(ssl_cafile=tmp_path / "absent.pem"))


def test_oauthbearer_loads_the_token_provider_hook() -> None:
    kafka = KafkaSettings(security_protocol="SASL_SSL", sasl_mechanism="OAUTHBEARER",
                          sasl_oauth_token_provider=f"{__name__}:StaticTokens")
    assert isinstance(connection_options(kafka)["sasl_oauth_token_provider"], StaticTokens)
    broken = kafka.model_copy(update={"sasl_oauth_token_provider": f"{__name__}:NoSuchThing"})
    with pytest.raises(StartupError, match="cannot be loaded"):
        connection_options(broken)
    with pytest.raises(ValidationError):
        KafkaSettings(security_protocol="SASL_SSL", sasl_mechanism="OAUTHBEARER", sasl_oauth_token_provider="no colon")


def test_any_secret_setting_can_come_from_a_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    clean_env(monkeypatch)
    (tmp_path / "kafka").write_text("kafka-pass\n")
    (tmp_path / "key").write_text("A" * 43 + "=")
    monkeypatch.setenv("STREAMPROC_KAFKA__SECURITY_PROTOCOL", "SASL_SSL")
    monkeypatch.setenv("STREAMPROC_KAFKA__SASL_MECHANISM", "SCRAM-SHA-256")
    monkeypatch.setenv("STREAMPROC_KAFKA__SASL_USERNAME", "edge")
    monkeypatch.setenv("STREAMPROC_KAFKA__SASL_PASSWORD_FILE", str(tmp_path / "kafka"))
    monkeypatch.setenv("STREAMPROC_VAULT__MASTER_KEY_FILE", str(tmp_path / "key"))
    monkeypatch.setenv("STREAMPROC_EXTRACTION__PROMPT_FILE", str(tmp_path / "prompt.txt"))  # a plain setting ending in _FILE
    settings = Settings()
    assert settings.kafka.sasl_password is not None and settings.kafka.sasl_password.get_secret_value() == "kafka-pass"
    assert settings.vault.master_key is not None and settings.vault.master_key.get_secret_value() == "A" * 43 + "="
    assert settings.extraction.prompt_file == tmp_path / "prompt.txt"
    assert "kafka-pass" not in repr(settings)


def test_a_secret_set_twice_or_unreadable_is_a_startup_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    clean_env(monkeypatch)
    monkeypatch.setenv("STREAMPROC_VAULT__MASTER_KEY_FILE", str(tmp_path / "absent"))
    with pytest.raises(StartupError, match=r"STREAMPROC_VAULT__MASTER_KEY_FILE: cannot read the secret file .*absent"):
        Settings()
    (tmp_path / "present").write_text("x")
    monkeypatch.setenv("STREAMPROC_VAULT__MASTER_KEY_FILE", str(tmp_path / "present"))
    monkeypatch.setenv("STREAMPROC_VAULT__MASTER_KEY", "y")
    with pytest.raises(StartupError, match="both STREAMPROC_VAULT__MASTER_KEY and STREAMPROC_VAULT__MASTER_KEY_FILE"):
        Settings()


def test_raw_and_restored_topics_get_short_retention_and_others_the_broker_default() -> None:
    kafka = KafkaSettings(raw_retention_ms=3_600_000, dead_letter_retention_ms=None)
    configs = topic_configs(kafka)
    assert configs[kafka.raw_topic] == {"retention.ms": "3600000"}
    assert configs[kafka.restored_topic] == {"retention.ms": str(24 * 3_600_000)}
    assert kafka.masked_topic not in configs and kafka.dead_letter_topic not in configs


def test_bootstrap_addresses_parse_hosts_ports_and_ipv6() -> None:
    assert bootstrap_addresses("a:1, [::1]:2,b") == [("a", 1), ("::1", 2), ("b", 9092)]
    with pytest.raises(StartupError):
        bootstrap_addresses(" , ")


def test_access_denied_by_the_broker_stops_the_flow_instead_of_retrying() -> None:
    from aiokafka.errors import KafkaConnectionError, TopicAuthorizationFailedError, TransactionalIdAuthorizationFailed

    from streamproc.kafka.retry import is_retriable

    assert not is_retriable(TopicAuthorizationFailedError())
    assert not is_retriable(TransactionalIdAuthorizationFailed())
    assert is_retriable(KafkaConnectionError())
