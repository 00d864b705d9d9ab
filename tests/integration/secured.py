"""The secured broker as the tests see it: its clients.json, one KafkaSettings per principal, and
the ACL script applied once per session to tag-prefixed topic names, so every test still gets
fresh topics (a per-test `--topic-pattern prefixed` grant would cost a dozen JVM starts each)."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from streamproc.settings import KafkaSettings

ROOT = Path(__file__).resolve().parents[2]
PRINCIPALS = ("admin", "worker", "edge", "cloud")


@dataclass(frozen=True)
class SecuredCluster:
    config: dict[str, Any]
    config_path: Path
    tag: str  # prefix of every topic, group and transactional id this session uses

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
        """Fresh names for one test, inside the prefixes the session's ACLs cover."""
        t = secrets.token_hex(3)
        return {
            "raw_topic": f"{self.tag}-raw-{t}",
            "masked_topic": f"{self.tag}-masked-{t}",
            "response_topic": f"{self.tag}-response-{t}",
            "restored_topic": f"{self.tag}-restored-{t}",
            "dead_letter_topic": f"{self.tag}-dead-{t}",
            "group_id": f"{self.tag}-worker-{t}",
            "transactional_id_prefix": f"{self.tag}-txn-{t}",
            "partitions": 2,
        }

    def tool_env(self) -> dict[str, str]:
        """Environment for infra/kafka.sh --secure tools: the state dir and port of this broker."""
        state_root = self.config_path.parent.parent
        port = self.config["bootstrap_servers"].rsplit(":", 1)[1]
        env = {k: v for k, v in os.environ.items() if not k.startswith("STREAMPROC_")}
        return {**env, "STREAMPROC_STATE_DIR": str(state_root), "STREAMPROC_KAFKA_PORT": port}


def load_cluster(config_path: Path) -> SecuredCluster:
    return SecuredCluster(json.loads(config_path.read_text()), config_path, f"sp{secrets.token_hex(3)}")


def apply_session_acls(cluster: SecuredCluster) -> None:
    """infra/kafka-acls.sh with the session's prefixes, as the admin super user."""
    tag, tool = cluster.tag, f"{ROOT}/infra/kafka.sh --secure tool"
    env = {
        **cluster.tool_env(),
        "KAFKA_ACLS": f"{tool} org.apache.kafka.tools.AclCommand",
        "KAFKA_TOPICS": f"{tool} org.apache.kafka.tools.TopicCommand",
    }
    args = [
        "--bootstrap-server", cluster.config["bootstrap_servers"], "--command-config", cluster.config["admin_properties"],
        "--topic-pattern", "prefixed",
        "--raw-topic", f"{tag}-raw-", "--masked-topic", f"{tag}-masked-", "--response-topic", f"{tag}-response-",
        "--restored-topic", f"{tag}-restored-", "--dead-letter-topic", f"{tag}-dead-",
        "--worker-group", f"{tag}-worker-", "--worker-txn", f"{tag}-txn-",
        "--edge-group", f"{tag}-edge-", "--cloud-group", f"{tag}-cloud-",
    ]
    done = subprocess.run([str(ROOT / "infra/kafka-acls.sh"), *args], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
