"""The worker subprocesses of the integration tests get their settings as STREAMPROC_* variables:
every field type must survive the trip, secrets included."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr

from streamproc.settings import KafkaSettings, Settings
from tests.integration.streams import settings_env


def test_settings_survive_the_trip_through_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    kafka = KafkaSettings(security_protocol="SASL_SSL", sasl_mechanism="PLAIN", sasl_username="w",
                          sasl_password=SecretStr("pw"), ssl_cafile=tmp_path / "ca.pem")
    settings = Settings(state_dir=tmp_path).model_copy(update={"kafka": kafka})
    for key, value in settings_env(settings).items():
        monkeypatch.setenv(key, value)
    assert Settings() == settings
