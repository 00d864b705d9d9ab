"""The secured broker as the tests see it: its clients.json and one KafkaSettings per principal.
infra/kafka.sh start --secure grants the three roles (infra/kafka-acls.sh, prefixed patterns) on
names under `test_prefixes` too, so every test gets fresh topics without re-running the ACL
script (a dozen JVM starts)."""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from streamproc.settings import KafkaSettings

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class SecuredCluster:
    config: dict[str, Any]
    config_path: Path
    tag: str  # this session's part of every topic, group and transactional id

    def principal(self, name: str, **overrides: Any) -> KafkaSettings:
        """How `name` connects (SCRAM over TLS, trusting the local CA), with topic names overridden."""
        user = self.config["users"][name]
        return KafkaSettings(
            bootstrap_servers=self.config["bootstrap_servers"],
            security_protocol="SASL_SSL",
            sasl_mechanism=self.config["sasl_mechanism"],
            sasl_username=user["username"],
            sasl_password=SecretStr(Path(user["password_file"]).read_text().strip()),
            ssl_cafile=Path(self.config["ssl_cafile"]),
            connect_timeout_s=10,
            **overrides,
        )

    def topics(self) -> dict[str, Any]:
        """Fresh names for one test, inside the prefixes the broker's test ACLs cover."""
        t = f"{self.tag}{secrets.token_hex(3)}"
        return {**{key: prefix + t for key, prefix in self.config["test_prefixes"].items()}, "partitions": 2}

    def tool_env(self) -> dict[str, str]:
        """Environment for infra/kafka.sh --secure tools: the state dir and port of this broker."""
        state_root = self.config_path.parent.parent
        port = self.config["bootstrap_servers"].rsplit(":", 1)[1]
        env = {k: v for k, v in os.environ.items() if not k.startswith("STREAMPROC_")}
        return {**env, "STREAMPROC_STATE_DIR": str(state_root), "STREAMPROC_KAFKA_SECURE_PORT": port}


def load_cluster(config_path: Path) -> SecuredCluster:
    return SecuredCluster(json.loads(config_path.read_text()), config_path, f"s{secrets.token_hex(3)}-")
