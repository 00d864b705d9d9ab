"""The flows and the trust zones on the real secured broker (infra/kafka.sh start --secure):
SCRAM over TLS, StandardAuthorizer, and the ACLs of infra/kafka-acls.sh for worker, edge, cloud.

What the cloud principal can see is exactly masked-dialogue (read) and cloud-response (write);
raw-dialogue, restored-dialogue and dead-letter are denied to it, and the edge principal cannot
read raw-dialogue or masked-dialogue. Bad credentials and untrusted certificates end the start
with one line."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import pytest
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.errors import TopicAuthorizationFailedError
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from pydantic import SecretStr

from streamproc.bench.workload import Workload
from streamproc.codec import encode
from streamproc.core.errors import StartupError
from streamproc.kafka.clients import admin, consumer, plain_producer
from streamproc.kafka.probe import check_connection
from streamproc.kafka.topics import ensure_topics
from streamproc.settings import KafkaSettings, Settings
from streamproc.wire import CloudResponse, MaskedTurn, RestoredTurn

from .secured import SecuredCluster, load_cluster
from .streams import ROOT, WorkerProcess, cloud_text, committed, free_port, produce, read_until, settings_env, wait_for

pytestmark = pytest.mark.integration


@pytest.fixture(scope="session")
def cluster(secured_kafka_config: Path) -> SecuredCluster:
    return load_cluster(secured_kafka_config)


async def fresh_topics(cluster: SecuredCluster) -> dict[str, KafkaSettings]:
    """New topics created by the admin; the same names as seen by each principal."""
    names = cluster.topics()
    admin_settings = cluster.principal("admin", **names)
    await ensure_topics(admin_settings)
    await ensure_topics(admin_settings, [admin_settings.identity_topic])  # vault fencing: admin-made too
    return {who: cluster.principal(who, **names) for who in ("admin", "worker", "edge", "cloud")}


async def read_denied(kafka: KafkaSettings, topic: str) -> bool:
    """True when the broker refuses `kafka`'s principal to read `topic` (no group involved)."""
    reader = consumer(kafka, topic, auto_offset_reset="earliest", enable_auto_commit=False)
    try:
        await reader.start()
        await reader.getmany(timeout_ms=5000)  # a refusal comes back on the first metadata round
    except TopicAuthorizationFailedError:
        return True
    finally:
        await reader.stop()
    return False


async def write_denied(kafka: KafkaSettings, topic: str) -> bool:
    producer = plain_producer(kafka)
    await producer.start()
    try:
        await producer.send_and_wait(topic, b'{"probe": true}', key=b"probe")
    except TopicAuthorizationFailedError:
        return True
    finally:
        await producer.stop()
    return False


def worker_env(settings: Settings, cluster: SecuredCluster) -> dict[str, str]:
    """The worker's environment with its password by file, as in production."""
    env = settings_env(settings)
    del env["STREAMPROC_KAFKA__SASL_PASSWORD"]
    env["STREAMPROC_KAFKA__SASL_PASSWORD_FILE"] = cluster.config["users"]["worker"]["password_file"]
    return env


async def test_mask_and_restore_run_exactly_once_as_worker_under_least_privilege_acls(cluster: SecuredCluster, tmp_path: Path) -> None:
    who = await fresh_topics(cluster)
    kafka = who["worker"]
    base = Settings(state_dir=tmp_path / "state")
    settings = base.model_copy(update={
        "kafka": kafka,
        "vault": base.vault.model_copy(update={"url": f"sqlite+aiosqlite:///{tmp_path / 'vault.db'}"}),
        "web": base.web.model_copy(update={"port": free_port()}),
    })
    turns = list(Workload(users=20, seed=5).turns(300))
    await produce(who["edge"], kafka.raw_topic, [(t.raw.user_id.encode(), encode(t.raw)) for t in turns])
    await produce(who["edge"], kafka.raw_topic, [(b"someone", b"not json at all")])  # -> dead-letter

    log = tmp_path / "worker.log"
    first = WorkerProcess(settings, log, env=worker_env(settings, cluster)).start()
    try:
        async def some_committed() -> bool:
            assert first.alive, log.read_text()[-3000:]
            return await committed(who["admin"], kafka.masked_topic) >= 30

        await wait_for(some_committed, deadline_s=90, what="the first committed masked turns")
        first.kill9()  # mid-stream: the restarted worker fences the old transactions, then resumes
    finally:
        if first.alive:
            first.kill9()
    second = WorkerProcess(settings, log, env=worker_env(settings, cluster)).start()
    try:
        records = await read_until(who["cloud"], kafka.masked_topic, count=300, deadline_s=150)
        masked = [MaskedTurn.model_validate_json(r.value) for r in records]
        assert sorted(m.turn_id for m in masked) == sorted(t.raw.turn_id for t in turns)
        wire = cloud_text(records)
        assert not [s for t in turns for s in t.secrets if s in wire], "planted values reached the cloud"
        assert len(await read_until(who["admin"], kafka.dead_letter_topic, count=1, deadline_s=30)) == 1

        responses = [
            CloudResponse(response_id=f"r-{m.turn_id}", user_id=m.user_id, session_id=m.session_id, in_reply_to=m.turn_id, content=m.content, ts=m.ts)
            for m in masked
        ]
        await produce(who["cloud"], kafka.response_topic, [(r.user_id.encode(), encode(r)) for r in responses])
        restored = await read_until(who["edge"], kafka.restored_topic, count=300, deadline_s=120)
        ids = [RestoredTurn.model_validate_json(r.value).response_id for r in restored]
        assert sorted(ids) == sorted(r.response_id for r in responses)
        assert second.terminate() == 0
    finally:
        if second.alive:
            second.kill9()


async def test_cloud_sees_only_masked_dialogue_and_writes_only_cloud_response(cluster: SecuredCluster) -> None:
    who = await fresh_topics(cluster)
    k = who["admin"]
    for topic in (k.raw_topic, k.masked_topic, k.restored_topic, k.dead_letter_topic):
        await produce(k, topic, [(b"u", b'{"planted": "by admin"}')])
    cloud, edge = who["cloud"], who["edge"]

    client = admin(cloud)
    await client.start()
    try:
        ours = {k.raw_topic, k.masked_topic, k.response_topic, k.restored_topic, k.dead_letter_topic, k.identity_topic}
        visible = set(await client.list_topics()) & ours
    finally:
        await client.close()
    assert visible == {k.masked_topic, k.response_topic}

    assert await read_denied(cloud, k.raw_topic)
    assert await read_denied(cloud, k.dead_letter_topic)
    assert await read_denied(cloud, k.restored_topic)
    assert await read_denied(cloud, k.identity_topic)
    assert await write_denied(cloud, k.raw_topic)
    assert len(await read_until(cloud, k.masked_topic, count=1, deadline_s=30)) == 1
    assert not await write_denied(cloud, k.response_topic)

    assert await read_denied(edge, k.raw_topic)
    assert await read_denied(edge, k.masked_topic)
    assert not await write_denied(edge, k.raw_topic)
    assert len(await read_until(edge, k.restored_topic, count=1, deadline_s=30)) == 1


async def test_worker_may_not_create_topics_and_says_who_must(cluster: SecuredCluster) -> None:
    worker = cluster.principal("worker", **cluster.topics())
    with pytest.raises(StartupError, match=r"create them as an admin \(infra/kafka-acls.sh --create-topics\)"):
        await ensure_topics(worker)


async def test_raw_dialogue_is_created_with_the_configured_short_retention(cluster: SecuredCluster) -> None:
    names = cluster.topics()
    kafka = cluster.principal("admin", **names, raw_retention_ms=2 * 3_600_000)
    await ensure_topics(kafka)
    client = admin(kafka)
    await client.start()
    try:
        [response] = await client.describe_configs([ConfigResource(ConfigResourceType.TOPIC, kafka.raw_topic, {"retention.ms": None})])
    finally:
        await client.close()
    entries = {entry[0]: entry[1] for resource in response.resources for entry in resource[4]}
    assert entries["retention.ms"] == str(2 * 3_600_000)


def _cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "streamproc.cli", *args], env=env, cwd=ROOT, capture_output=True, text=True, timeout=120)


def test_a_wrong_password_fails_at_once_with_one_clear_line(cluster: SecuredCluster, tmp_path: Path) -> None:
    wrong = tmp_path / "wrong.password"
    wrong.write_text("not-the-password-7f3a\n")
    env = {**cluster.tool_env(), **_env_file(cluster, "cloud"), "STREAMPROC_KAFKA__SASL_PASSWORD_FILE": str(wrong)}
    done = _cli(env, "tail", "masked-dialogue", "--idle", "1")
    assert done.returncode == 2
    assert "Traceback" not in done.stderr and "not-the-password-7f3a" not in done.stderr
    assert "Kafka authentication failed for user 'cloud'" in done.stderr.strip().splitlines()[-1]


def test_an_untrusted_broker_certificate_fails_the_worker_at_once(cluster: SecuredCluster, tmp_path: Path) -> None:
    other_ca = tmp_path / "other-ca.pem"
    other_ca.write_bytes(_self_signed_ca())
    env = {
        **cluster.tool_env(), **_env_file(cluster, "worker"),
        "STREAMPROC_KAFKA__SSL_CAFILE": str(other_ca), "STREAMPROC_STATE_DIR": str(tmp_path / "state"),
        "STREAMPROC_WEB__PORT": str(free_port()),
    }
    done = _cli(env, "worker")
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert "Kafka TLS: the certificate of" in done.stderr.strip().splitlines()[-1]
    assert "check kafka.ssl_cafile" in done.stderr


def _env_file(cluster: SecuredCluster, who: str) -> dict[str, str]:
    """The <user>.env that infra/kafka.sh writes for each principal."""
    lines = Path(cluster.config["users"][who]["env_file"]).read_text().splitlines()
    return dict(line.split("=", 1) for line in lines if "=" in line)


def _self_signed_ca() -> bytes:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "somebody else's CA")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now).not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True).sign(key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM)


def test_clients_json_names_every_principal_and_an_existing_ca(cluster: SecuredCluster) -> None:
    config = json.loads(cluster.config_path.read_text())
    assert set(config["users"]) == {"admin", "worker", "edge", "cloud"}
    assert Path(config["ssl_cafile"]).is_file()
    assert all(Path(u["password_file"]).stat().st_mode & 0o077 == 0 for u in config["users"].values())


async def test_mutual_tls_presents_the_client_certificate_with_its_encrypted_key(cluster: SecuredCluster, tmp_path: Path) -> None:
    cert = cluster.config["client_certificate"]
    password = SecretStr(Path(cert["key_password_file"]).read_text().strip())
    mtls = cluster.principal("worker", ssl_certfile=Path(cert["certfile"]), ssl_keyfile=Path(cert["keyfile"]), ssl_key_password=password)
    await check_connection(mtls)
    with pytest.raises(StartupError, match="cannot load the CA, certificate or key files"):
        await check_connection(mtls.model_copy(update={"ssl_key_password": SecretStr("wrong")}))
