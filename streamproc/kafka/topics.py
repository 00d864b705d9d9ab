"""Create the flow topics on start when they are missing, with their retention.

On a secured cluster the worker is not allowed to create topics (kafka-acls.sh grants it Describe
only): an admin creates them first (`infra/kafka-acls.sh --create-topics`), so no client can pick
a topic's retention but the operator. A missing topic then fails the start with one line.
"""

from __future__ import annotations

import logging

from aiokafka.admin import NewTopic
from aiokafka.errors import (
    ClusterAuthorizationFailedError,
    TopicAlreadyExistsError,
    TopicAuthorizationFailedError,
    for_code,
)

from streamproc.core.errors import StartupError
from streamproc.kafka.clients import admin
from streamproc.settings import KafkaSettings

log = logging.getLogger(__name__)


def flow_topics(kafka: KafkaSettings) -> list[str]:
    return [kafka.raw_topic, kafka.masked_topic, kafka.response_topic, kafka.restored_topic, kafka.dead_letter_topic]


def topic_configs(kafka: KafkaSettings) -> dict[str, dict[str, str]]:
    """Per-topic configs applied at creation. raw-dialogue and restored-dialogue hold plaintext,
    so their retention is short by default: long enough to replay after an outage, no archive."""
    retention = {
        kafka.raw_topic: kafka.raw_retention_ms,
        kafka.masked_topic: kafka.masked_retention_ms,
        kafka.response_topic: kafka.response_retention_ms,
        kafka.restored_topic: kafka.restored_retention_ms,
        kafka.dead_letter_topic: kafka.dead_letter_retention_ms,
    }
    configs = {topic: {"retention.ms": str(ms)} for topic, ms in retention.items() if ms is not None}
    configs[kafka.identity_topic] = {"cleanup.policy": "compact"}  # the latest binding per group
    return configs


def partitions(kafka: KafkaSettings, topic: str) -> int:
    """The identity topic is read end to end on one partition (streamproc.kafka.fencing)."""
    return 1 if topic == kafka.identity_topic else kafka.partitions


async def ensure_topics(kafka: KafkaSettings, topics: list[str] | None = None) -> list[str]:
    """Create missing topics; return the ones created. Existing topics are left as they are
    (change an existing topic's retention with kafka-configs)."""
    wanted = topics or flow_topics(kafka)
    configs = topic_configs(kafka)
    client = admin(kafka)
    await client.start()
    try:
        existing = set(await client.list_topics())  # only topics this principal may describe
        missing = [t for t in wanted if t not in existing]
        if missing:
            response = await client.create_topics(
                [
                    NewTopic(t, num_partitions=partitions(kafka, t), replication_factor=kafka.replication_factor, topic_configs=configs.get(t))
                    for t in missing
                ]
            )
            # The admin client returns per-topic error codes instead of raising them.
            errors = {entry[0]: for_code(entry[1]) for entry in response.topic_errors if entry[1] != 0}
            denied = [t for t, e in errors.items() if e in (TopicAuthorizationFailedError, ClusterAuthorizationFailedError)]
            if denied:
                raise StartupError(
                    f"Kafka topics {', '.join(denied)} do not exist (or are not visible to "
                    f"{kafka.sasl_username or 'this client'}) and it may not create them: "
                    "create them as an admin (infra/kafka-acls.sh --create-topics) and grant Describe"
                )
            for topic, error in errors.items():
                if error is not TopicAlreadyExistsError:  # else: another worker created it first
                    raise error(f"creating topic {topic}")
            log.info("created topics %s", missing)
        return missing
    finally:
        await client.close()
