"""Vault identity fencing: one consumer group, one vault.

A placeholder means something only in the vault that minted it. If workers with different
vaults (two embedded SQLite files, say) shared a group, a user's turn could be masked by one and
the cloud's answer restored by the other, which lacks the mapping or, worse, holds a different
value under the same placeholder. So the group is bound to a vault identity (`Vault.identity`)
recorded on the cluster, in a small compacted topic keyed by the group id; a worker whose vault
has another identity refuses to start. Workers on one Postgres database share one identity.

The claim is a compare-and-set. Every claimant of a group uses the same transactional id, so
starting its producer fences (aborts) any other claimant's open transaction; only then does it
read the topic to its end (read committed) and, if the group has no vault yet, write its own in
a transaction. Two workers starting together therefore cannot both win: the second one to start
its producer reads the first one's committed claim, or makes the first one's commit fail.
The latest record for a group is its vault: `bind_group_to_vault` (the operator's deliberate
migration, `streamproc vault move-group`) writes a new one.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
from datetime import UTC, datetime

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import ConcurrentTransactions, InvalidProducerEpoch, ProducerFenced

from streamproc.core.errors import ConfigurationError
from streamproc.kafka import clients
from streamproc.kafka.topics import ensure_topics
from streamproc.settings import KafkaSettings

log = logging.getLogger(__name__)
_ATTEMPTS = 20


class VaultIdentityMismatch(ConfigurationError):
    """This worker's vault is not the one its consumer group is bound to."""


async def claim_group(kafka: KafkaSettings, vault_id: str) -> str:
    """Bind the group to `vault_id` unless it is bound already; return the group's vault.
    Raises VaultIdentityMismatch when the group belongs to another vault."""
    bound = await _compare_and_set(kafka, vault_id, overwrite=False)
    if bound != vault_id:
        raise VaultIdentityMismatch(
            f"consumer group {kafka.group_id!r} is bound to vault {bound}, but this worker's vault is {vault_id}: "
            "point STREAMPROC_VAULT__URL at the group's vault, use another group id, or move the group "
            "deliberately with `streamproc vault move-group` (see the README)"
        )
    return bound


async def bind_group_to_vault(kafka: KafkaSettings, vault_id: str) -> str | None:
    """Rebind the group to `vault_id`; return the vault it was bound to before (None if none)."""
    previous = await group_vault(kafka)
    await _compare_and_set(kafka, vault_id, overwrite=True)
    return previous


async def group_vault(kafka: KafkaSettings) -> str | None:
    """The vault the group is bound to, or None. Read only (for `doctor`): creates nothing."""
    admin: AIOKafkaAdminClient = clients.admin(kafka)
    await admin.start()
    try:
        if kafka.identity_topic not in set(await admin.list_topics()):
            return None
    finally:
        await admin.close()
    return await _read_binding(kafka)


async def _compare_and_set(kafka: KafkaSettings, vault_id: str, *, overwrite: bool) -> str:
    """Retried when another claimant fenced us mid-way: the next round reads its claim."""
    await _ensure_topic(kafka)
    for attempt in range(1, _ATTEMPTS + 1):
        try:
            return await _claim_once(kafka, vault_id, overwrite=overwrite)
        except (ProducerFenced, ConcurrentTransactions, InvalidProducerEpoch):
            if attempt == _ATTEMPTS:
                raise
            await asyncio.sleep(random.uniform(0.05, 0.25) * attempt)
    raise AssertionError("unreachable")


async def _claim_once(kafka: KafkaSettings, vault_id: str, *, overwrite: bool) -> str:
    producer = clients.transactional_producer_for(kafka, f"{kafka.transactional_id_prefix}.vault-identity.{kafka.group_id}")
    await producer.start()  # fences every other claimant of this group before we read
    try:
        bound = await _read_binding(kafka)
        if bound is None or (overwrite and bound != vault_id):
            record = {"vault_id": vault_id, "previous": bound, "at": datetime.now(UTC).isoformat(timespec="seconds")}
            async with producer.transaction():
                await producer.send(kafka.identity_topic, json.dumps(record).encode(), key=kafka.group_id.encode())
            log.info("group %s bound to vault %s (was %s)", kafka.group_id, vault_id, bound)
            return vault_id
        return bound
    finally:
        await producer.stop()


async def _read_binding(kafka: KafkaSettings) -> str | None:
    """The latest committed binding of this group, reading the (one-partition) topic to its end."""
    consumer: AIOKafkaConsumer = clients.reader(kafka)
    await consumer.start()
    try:
        tp = TopicPartition(kafka.identity_topic, 0)
        consumer.assign([tp])
        await consumer.seek_to_beginning(tp)
        end = (await consumer.end_offsets([tp]))[tp]
        bound: str | None = None
        while await consumer.position(tp) < end:
            for records in (await consumer.getmany(tp, timeout_ms=1000)).values():
                for record in records:
                    if record.key == kafka.group_id.encode() and record.value:
                        bound = str(json.loads(record.value)["vault_id"])
        return bound
    finally:
        await consumer.stop()


async def _ensure_topic(kafka: KafkaSettings) -> None:
    """Created compacted, on one partition; on a secured cluster the admin creates it and a
    worker without the right gets a one-line StartupError (streamproc.kafka.topics)."""
    await ensure_topics(kafka, [kafka.identity_topic])
