"""Helpers for stream tests on the real broker: unique topics per test, a worker subprocess that
can be killed with -9, and readers that wait on progress (never a sleep, never a fixed budget for
the whole run: a busy CI machine is slower, not broken). A wait fails only when nothing moved
for a long time."""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from aiokafka import TopicPartition
from aiokafka.errors import UnknownTopicOrPartitionError
from pydantic import SecretStr

from streamproc.kafka.clients import consumer, plain_producer
from streamproc.settings import KafkaSettings, Settings

ROOT = Path(__file__).resolve().parents[2]


from streamproc.bench.common import StallClock, free_port  # noqa: E402  (one definition for bench and tests)


def unique_settings(bootstrap: str | KafkaSettings, vault_url: str, state_dir: Path, **extraction: Any) -> Settings:
    """Fresh topics and group for one test, so tests never see each other's records. `bootstrap`
    may be whole KafkaSettings (a secured cluster's connection); topic names are replaced."""
    tag = secrets.token_hex(4)
    conn = bootstrap if isinstance(bootstrap, KafkaSettings) else KafkaSettings(bootstrap_servers=bootstrap)
    kafka = conn.model_copy(update=dict(
        group_id=f"sp-test-{tag}",
        raw_topic=f"raw-{tag}",
        masked_topic=f"masked-{tag}",
        response_topic=f"response-{tag}",
        restored_topic=f"restored-{tag}",
        dead_letter_topic=f"dead-{tag}",
        identity_topic=f"vaults-{tag}",
        transactional_id_prefix=f"sp-{tag}",
    ))
    base = Settings(state_dir=state_dir)
    return base.model_copy(
        update={
            "kafka": kafka,
            "vault": base.vault.model_copy(update={"url": vault_url}),
            "web": base.web.model_copy(update={"port": free_port()}),
            "extraction": base.extraction.model_copy(update={"retry_max_s": 2.0, **extraction}),
        }
    )


def settings_env(settings: Settings) -> dict[str, str]:
    """The same settings as STREAMPROC_* environment variables, for a worker subprocess (secrets
    included: the subprocess needs them in clear)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("STREAMPROC_")}

    def text(value: Any) -> str:
        if isinstance(value, SecretStr):
            return value.get_secret_value()
        return json.dumps(value) if isinstance(value, (dict, list, tuple)) else str(value)

    for key, value in settings.model_dump().items():
        if isinstance(value, dict):
            for sub, sub_value in value.items():
                if sub_value is not None:
                    env[f"STREAMPROC_{key.upper()}__{sub.upper()}"] = text(sub_value)
        elif value is not None:
            env[f"STREAMPROC_{key.upper()}"] = text(value)
    return env


class WorkerProcess:
    """`streamproc worker` in a subprocess; logs go to a file the test can scan."""

    def __init__(self, settings: Settings, log_path: Path, extra_args: Iterable[str] = (), env: dict[str, str] | None = None) -> None:
        self.settings = settings
        self.log_path = log_path
        self.extra_args = list(extra_args)
        self.env = env  # default: settings_env(settings)
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> WorkerProcess:
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "streamproc.cli", "worker", *self.extra_args],
            env=self.env or settings_env(self.settings), stdout=log, stderr=subprocess.STDOUT, cwd=ROOT,
        )
        return self

    def kill9(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=30)

    def terminate(self, timeout: float = 60) -> int:
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=timeout)

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None


async def produce(kafka: KafkaSettings, topic: str, records: Iterable[tuple[bytes | None, bytes]]) -> int:
    producer = plain_producer(kafka, linger_ms=20)
    await producer.start()
    try:
        futures = [await producer.send(topic, value, key=key) for key, value in records]
        await asyncio.gather(*futures)
        return len(futures)
    finally:
        await producer.stop()


async def read_until(
    kafka: KafkaSettings, topic: str, *, count: int, deadline_s: float, exact: bool = True
) -> list[Any]:
    """Read committed records from the beginning until `count` arrived (then, if `exact`, keep
    reading briefly for extras). `deadline_s` is a stall deadline: it restarts with every new
    record, so the wait fails only after `deadline_s` seconds without progress."""
    reader = consumer(kafka, topic, auto_offset_reset="earliest", isolation_level="read_committed", enable_auto_commit=False)
    await reader.start()
    seen: list[Any] = []
    try:
        stall = StallClock(deadline_s, AssertionError)
        while len(seen) < count:
            stall.check(len(seen), f"{topic}: {len(seen)} of {count} records")
            batch = await reader.getmany(timeout_ms=500)
            for records in batch.values():
                seen.extend(records)
        if exact:  # extras would be duplicates: drain what is already committed behind them
            for _ in range(3):
                batch = await reader.getmany(timeout_ms=700)
                for records in batch.values():
                    seen.extend(records)
        return seen
    finally:
        await reader.stop()


async def read_outcomes(kafka: KafkaSettings, topics: list[str], *, count: int, stall_s: float) -> dict[str, list[Any]]:
    """Committed records of several topics from the beginning until `count` arrived in all,
    then a short drain for extras; fails only after `stall_s` seconds without a new record."""
    reader = consumer(
        kafka, *topics, auto_offset_reset="earliest", isolation_level="read_committed", enable_auto_commit=False,
        max_partition_fetch_bytes=8 * 1024 * 1024, fetch_max_bytes=64 * 1024 * 1024,
    )
    await reader.start()
    seen: dict[str, list[Any]] = {t: [] for t in topics}
    try:
        stall = StallClock(stall_s, AssertionError)
        total = 0
        while total < count:
            stall.check(total, f"{total} of {count} records on {topics}")
            for records in (await reader.getmany(timeout_ms=500)).values():
                for record in records:
                    seen[record.topic].append(record)
                    total += 1
        for _ in range(3):
            for records in (await reader.getmany(timeout_ms=700)).values():
                for record in records:
                    seen[record.topic].append(record)
        return seen
    finally:
        await reader.stop()


async def wait_for(predicate: Any, *, deadline_s: float, what: str, interval_s: float = 0.2) -> None:
    """Poll an async predicate until true; fail naming `what` at the deadline."""
    deadline = time.monotonic() + deadline_s
    while not await predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(interval_s)


async def committed(kafka: KafkaSettings, topic: str) -> int:
    """How many records of `topic` are committed right now (read_committed last stable offsets);
    0 while the topic's leaders are not elected yet."""
    reader = consumer(kafka, isolation_level="read_committed")
    await reader.start()
    try:
        tps = [TopicPartition(topic, p) for p in range(kafka.partitions)]
        return sum((await reader.end_offsets(tps)).values())
    except UnknownTopicOrPartitionError:
        return 0
    finally:
        await reader.stop()


async def wait_committed(kafka: KafkaSettings, topic: str, at_least: int, stall_s: float) -> int:
    """Wait for `at_least` committed records of `topic` while the count keeps growing; fail only
    after `stall_s` seconds in which it did not grow (a busy machine is slow, not stuck)."""
    stall = StallClock(stall_s, AssertionError)
    while (seen := await committed(kafka, topic)) < at_least:
        stall.check(seen, f"{seen} of {at_least} committed records on {topic}")
        await asyncio.sleep(0.5)  # polling interval of the progress check, not synchronisation
    return seen


def cloud_text(records: Iterable[Any]) -> str:
    """Everything the cloud reads on masked-dialogue, minus the keyed pseudonyms. A pseudonym is
    32 hex characters of HMAC output that carries no value, but a planted 6-digit code occurs in
    one by chance often enough (about one run in three over a thousand turns) to fail a leak check."""
    out = []
    for record in records:
        value = json.loads(record.value)
        value.pop("user_id", None)
        value.pop("session_id", None)
        out.append(json.dumps(value, ensure_ascii=False))
    return "\n".join(out)
