"""Create the flow topics on start when they are missing."""

from __future__ import annotations

import logging

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from streamproc.settings import KafkaSettings

log = logging.getLogger(__name__)


def flow_topics(kafka: KafkaSettings) -> list[str]:
    return [kafka.raw_topic, kafka.masked_topic, kafka.response_topic, kafka.restored_topic, kafka.dead_letter_topic]


async def ensure_topics(kafka: KafkaSettings, topics: list[str] | None = None) -> list[str]:
    """Create missing topics; return the ones created. Existing topics are left as they are."""
    wanted = topics or flow_topics(kafka)
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka.bootstrap_servers)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [t for t in wanted if t not in existing]
        if missing:
            try:
                await admin.create_topics(
                    [NewTopic(t, num_partitions=kafka.partitions, replication_factor=kafka.replication_factor) for t in missing]
                )
            except TopicAlreadyExistsError:
                pass  # another worker created it first
            log.info("created topics %s", missing)
        return missing
    finally:
        await admin.close()
