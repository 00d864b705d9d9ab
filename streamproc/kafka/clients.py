"""Kafka client factories, built from settings in one place."""

from __future__ import annotations

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.abc import ConsumerRebalanceListener

from streamproc.settings import KafkaSettings


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
    return AIOKafkaProducer(
        bootstrap_servers=kafka.bootstrap_servers,
        transactional_id=txn_id,
        enable_idempotence=True,
        acks="all",
        linger_ms=5,
        max_request_size=max(1_048_576, 4 * kafka.max_record_bytes),
    )


def flow_consumer(kafka: KafkaSettings, topic: str, listener: ConsumerRebalanceListener) -> AIOKafkaConsumer:
    consumer = AIOKafkaConsumer(
        bootstrap_servers=kafka.bootstrap_servers,
        group_id=kafka.group_id + "." + topic,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        isolation_level="read_committed",
        fetch_max_bytes=16 * 1_048_576,
        max_partition_fetch_bytes=max(1_048_576, 2 * kafka.max_record_bytes),
        session_timeout_ms=10_000,
        heartbeat_interval_ms=1_000,
    )
    consumer.subscribe([topic], listener=listener)
    return consumer


def plain_producer(kafka: KafkaSettings) -> AIOKafkaProducer:
    """For tools (`streamproc produce`): idempotent, no transactions."""
    return AIOKafkaProducer(bootstrap_servers=kafka.bootstrap_servers, enable_idempotence=True, acks="all", linger_ms=10)


def reader(kafka: KafkaSettings, *topics: str, group_id: str | None = None) -> AIOKafkaConsumer:
    """For tools and tests: reads committed data only, like every downstream consumer should."""
    return AIOKafkaConsumer(
        *topics,
        bootstrap_servers=kafka.bootstrap_servers,
        group_id=group_id,
        enable_auto_commit=group_id is not None,
        auto_offset_reset="earliest",
        isolation_level="read_committed",
    )


def admin(kafka: KafkaSettings) -> AIOKafkaAdminClient:
    return AIOKafkaAdminClient(bootstrap_servers=kafka.bootstrap_servers)
