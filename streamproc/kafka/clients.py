"""Every Kafka client streamproc makes comes from here, so TLS, SASL and their settings apply to
all of them alike: the worker's consumers and transactional producers, topic creation, `produce`,
`tail`, the bench and the test helpers. Nothing else constructs an aiokafka client."""

from __future__ import annotations

import importlib
import ssl
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.abc import AbstractTokenProvider, ConsumerRebalanceListener
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.helpers import create_ssl_context

from streamproc.core.errors import StartupError
from streamproc.settings import KafkaSettings


def connection_options(kafka: KafkaSettings) -> dict[str, Any]:
    """The keyword arguments every aiokafka client takes for where and how to connect."""
    options: dict[str, Any] = {"bootstrap_servers": kafka.bootstrap_servers, "security_protocol": kafka.security_protocol}
    if kafka.security_protocol in ("SSL", "SASL_SSL"):
        options["ssl_context"] = ssl_context(kafka)
    if kafka.sasl_mechanism is not None:
        options["sasl_mechanism"] = kafka.sasl_mechanism
        if kafka.sasl_mechanism == "OAUTHBEARER":
            options["sasl_oauth_token_provider"] = token_provider(kafka)
        else:
            options["sasl_plain_username"] = kafka.sasl_username
            options["sasl_plain_password"] = kafka.sasl_password.get_secret_value() if kafka.sasl_password else None
    return options


def ssl_context(kafka: KafkaSettings) -> ssl.SSLContext:
    """Verifies the broker against `ssl_cafile` (else the system CAs) and, unless turned off, its
    host name; presents a client certificate when one is set (mTLS)."""
    password = kafka.ssl_key_password.get_secret_value() if kafka.ssl_key_password else None
    try:
        context: ssl.SSLContext = create_ssl_context(
            cafile=kafka.ssl_cafile, certfile=kafka.ssl_certfile, keyfile=kafka.ssl_keyfile, password=password
        )
    except (OSError, ssl.SSLError) as err:
        raise StartupError(f"Kafka TLS: cannot load the CA, certificate or key files ({_reason(err)}); check kafka.ssl_*") from None
    context.check_hostname = kafka.ssl_check_hostname
    return context


def token_provider(kafka: KafkaSettings) -> AbstractTokenProvider:
    """The OAUTHBEARER hook: `module:callable`, called without arguments (a class or a factory)."""
    spec = kafka.sasl_oauth_token_provider or ""
    module_name, _, attribute = spec.partition(":")
    try:
        provider = getattr(importlib.import_module(module_name), attribute)()
    except (ImportError, AttributeError) as err:
        raise StartupError(f"kafka.sasl_oauth_token_provider {spec!r} cannot be loaded: {type(err).__name__}") from None
    if not isinstance(provider, AbstractTokenProvider):
        raise StartupError(f"kafka.sasl_oauth_token_provider {spec!r} did not return an aiokafka AbstractTokenProvider")
    return provider


def _reason(err: BaseException) -> str:
    if isinstance(err, ssl.SSLError):
        return str(err.reason or type(err).__name__)
    if isinstance(err, OSError) and err.strerror:
        return err.strerror
    return type(err).__name__


# ---------------------------------------------------------------------------- generic clients


def producer(kafka: KafkaSettings, **options: Any) -> AIOKafkaProducer:
    return AIOKafkaProducer(**connection_options(kafka), **options)


def consumer(kafka: KafkaSettings, *topics: str, **options: Any) -> AIOKafkaConsumer:
    return AIOKafkaConsumer(*topics, **connection_options(kafka), **options)


def admin(kafka: KafkaSettings, **options: Any) -> AIOKafkaAdminClient:
    return AIOKafkaAdminClient(**connection_options(kafka), **options)


# ---------------------------------------------------------------------------- the flows' clients


def transactional_id(kafka: KafkaSettings, topic: str, partition: int) -> str:
    """One transactional producer per input partition, named after it.

    aiokafka commits offsets with TxnOffsetCommit v0, which carries no consumer-group generation
    (no KIP-447 fencing). So fencing follows the partition instead: whoever owns partition p next
    starts a producer with the same id, and the broker aborts and fences the previous owner's open
    transaction. A zombie can then never commit output for a partition it lost.
    """
    return f"{kafka.transactional_id_prefix}.{kafka.group_id}.{topic}.{partition}"


def transactional_producer(kafka: KafkaSettings, topic: str, partition: int) -> AIOKafkaProducer:
    return transactional_producer_for(kafka, transactional_id(kafka, topic, partition))


def transactional_producer_for(kafka: KafkaSettings, txn_id: str) -> AIOKafkaProducer:
    return producer(
        kafka,
        transactional_id=txn_id,
        enable_idempotence=True,
        acks="all",
        linger_ms=5,
        max_request_size=kafka.producer_max_request_bytes,
    )


def flow_consumer(kafka: KafkaSettings, topic: str, listener: ConsumerRebalanceListener) -> AIOKafkaConsumer:
    flow = consumer(
        kafka,
        group_id=kafka.group_id + "." + topic,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        isolation_level="read_committed",
        fetch_max_bytes=16 * 1_048_576,
        max_partition_fetch_bytes=max(1_048_576, 2 * kafka.max_record_bytes),
        session_timeout_ms=10_000,
        heartbeat_interval_ms=1_000,
    )
    flow.subscribe([topic], listener=listener)
    return flow


def plain_producer(kafka: KafkaSettings, **options: Any) -> AIOKafkaProducer:
    """For tools (`streamproc produce`), the bench and tests: idempotent, no transactions."""
    return producer(kafka, **{"enable_idempotence": True, "acks": "all", "linger_ms": 10, **options})


def reader(kafka: KafkaSettings, *topics: str, group_id: str | None = None) -> AIOKafkaConsumer:
    """For tools and tests: reads committed data only, like every downstream consumer should."""
    return consumer(
        kafka,
        *topics,
        group_id=group_id,
        enable_auto_commit=group_id is not None,
        auto_offset_reset="earliest",
        isolation_level="read_committed",
    )
