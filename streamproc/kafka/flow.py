"""The transactional consume -> stage -> produce loop that drives one flow (mask or restore).

Commit order, the one place it is written down:
  1. `stage.prepare(batch)` runs, several batches at once (extraction); nothing durable happens.
  2. Batches finish strictly in order: `stage.finish(batch)` writes the vault and returns outputs.
     Vault writes are idempotent, so a replay of the batch re-derives identical outputs.
  3. Per input partition, in one Kafka transaction: the outputs, then the input offsets (+1).
     Consumers of the output topics read committed, so they see outputs exactly when the offsets
     moved. A crash anywhere before 3 commits nothing; the batch is replayed from the last offsets.

Backpressure: at most `max_in_flight` batches between fetch and commit; beyond that the consumer
pauses its partitions (still polling, so it stays in the group) until the oldest batch commits.

Failures: retriable ones (broker or vault unreachable, extractor down under the retry policy) end
the current run without committing; the loop rebuilds its clients after a back-off and resumes
from the committed offsets. Anything else propagates and stops the worker: fail closed. Data never
does either: bad records, turns no extractor answers and outputs too large to send become dead
letters in the stage, before anything is produced.

On stop (SIGTERM), batches in flight get `drain_s` to commit; the rest is abandoned (child
processes killed) and replayed by the next owner, as after a crash.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.abc import ConsumerRebalanceListener
from aiokafka.errors import KafkaError

from streamproc.kafka.changelog import read_changelog
from streamproc.kafka.clients import flow_consumer, transactional_producer
from streamproc.kafka.retry import is_retriable
from streamproc.ops.metrics import Metrics
from streamproc.pipeline.batch import MicroBatcher
from streamproc.pipeline.state import StatefulStage
from streamproc.pipeline.types import Output, Record, Stage
from streamproc.settings import Settings

log = logging.getLogger(__name__)


class AssignmentChanged(KafkaError):
    """A partition's producer is gone: the assignment moved under a commit. A restart fixes it."""

    retriable = True


@dataclass
class _InFlight:
    records: list[Record]
    generation: int
    task: asyncio.Task[Any]
    opened_at: float


class TransactionalFlow:
    def __init__(
        self,
        name: str,
        stage: Stage[Any],
        topic: str,
        settings: Settings,
        metrics: Metrics,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.name = name
        self.stage = stage
        self.topic = topic
        self.kafka = settings.kafka
        self.batching = settings.batching
        self.retry_max_s = settings.extraction.retry_max_s
        self.metrics = metrics
        self.clock = clock
        self.ready = asyncio.Event()  # set while the flow has a live consumer
        self._generation = 0
        self._commit_lock = asyncio.Lock()
        self._producers: dict[int, AIOKafkaProducer] = {}
        self._inflight: deque[_InFlight] = deque()
        self._batcher = MicroBatcher(self.batching.max_turns, self.batching.max_tokens, self.batching.max_wait_ms / 1000)
        self._listener_error: BaseException | None = None
        self._consumer: AIOKafkaConsumer | None = None
        self._assigned = asyncio.Event()  # set once producers exist and positions are fenced
        self._lag_checked = 0.0

    # ------------------------------------------------------------------ lifecycle

    async def run(self, stop: asyncio.Event) -> None:
        """Run until `stop` is set; restart after retriable failures with a capped back-off."""
        attempt = 0
        while not stop.is_set():
            started = self.clock()
            try:
                await self._run_once(stop)
            except Exception as err:
                if not is_retriable(err):
                    raise
                if self.clock() - started > 60:
                    attempt = 0  # a long healthy run earns a fresh back-off
                attempt += 1
                delay = min(self.retry_max_s, 0.25 * 2**attempt) * random.uniform(0.5, 1.0)
                self.metrics.restarts.labels(self.name, type(err).__name__).inc()
                log.warning("%s flow: %s; restarting in %.1fs without committing", self.name, type(err).__name__, delay)
                try:
                    await asyncio.wait_for(stop.wait(), delay)
                except TimeoutError:
                    pass

    async def _run_once(self, stop: asyncio.Event) -> None:
        self._listener_error = None
        consumer = flow_consumer(self.kafka, self.topic, _Listener(self))
        self._consumer = consumer
        await consumer.start()
        try:
            self.ready.set()
            await self._loop(consumer, stop)
            await self._drain(consumer)
        finally:
            self.ready.clear()
            await self._abandon()
            await consumer.stop()
            self._consumer = None

    # ------------------------------------------------------------------ the loop

    async def _loop(self, consumer: AIOKafkaConsumer, stop: asyncio.Event) -> None:
        while not stop.is_set():
            if self._listener_error is not None:
                raise self._listener_error
            full = len(self._inflight) >= self.batching.max_in_flight
            self._set_paused(consumer, full)
            now = self.clock()
            wait_s = 0.01 if (full or self._inflight) else self._batcher.seconds_left(now)
            # No lock around the fetch: during a rebalance aiokafka's getmany waits for the new
            # assignment, which waits for our callbacks. None is needed either: getmany drains the
            # fetch buffer when it resumes, seek() empties that buffer, and on_assigned seeks and
            # drops our own buffer in one synchronous step. What comes back always starts at the
            # current position, and buffering it below never yields to another task.
            fetched = await consumer.getmany(timeout_ms=max(1, int(wait_s * 1000)), max_records=self.batching.max_turns)
            now = self.clock()
            for records in fetched.values():
                for message in records:
                    for batch in self._batcher.add(_record(message), now):
                        self._launch(batch, now)
            caught_up = sum(map(len, fetched.values())) < self.batching.max_turns
            due = self._batcher.poll(now)
            if due:
                self._launch(due, now)
            elif caught_up and self._batcher and len(self._inflight) < self.batching.max_in_flight:
                # Adaptive batching: with nothing more waiting and a free slot, waiting for
                # max_wait would only add latency. Under load the slots fill and batches grow.
                self._launch(self._batcher.flush(), now)
            while self._inflight and self._inflight[0].task.done():
                await self._commit(self._inflight.popleft())
            if now - self._lag_checked > 1.0:
                self._lag_checked = now
                await self._update_lag(consumer)

    def _launch(self, batch: list[Record], now: float) -> None:
        self.metrics.records_in.labels(self.name).inc(len(batch))
        self.metrics.batch_size.labels(self.name).observe(len(batch))
        task = asyncio.create_task(self.stage.prepare(batch), name=f"{self.name}-prepare")
        self._inflight.append(_InFlight(batch, self._generation, task, now))
        self.metrics.in_flight.labels(self.name).set(len(self._inflight))

    async def _commit(self, item: _InFlight) -> None:
        self.metrics.in_flight.labels(self.name).set(len(self._inflight))
        prepared = item.task.result()  # a failed prepare raises here: nothing is committed
        await asyncio.wait_for(self._assigned.wait(), 30)  # a stuck assignment restarts the flow
        async with self._commit_lock:
            if item.generation != self._generation:
                return  # partitions were revoked meanwhile; the new owner replays these records
            started = self.clock()
            self.metrics.batch_wait.labels(self.name).observe(max(0.0, started - item.opened_at))
            outputs = await self.stage.finish(prepared)
            await asyncio.gather(*(self._commit_partition(p, outs, last + 1) for p, (outs, last) in _by_partition(item.records, outputs).items()))
            # State changelog records (their partition is pinned) are state, not output.
            self.metrics.records_out.labels(self.name).inc(sum(1 for o in outputs if o.partition is None))
            self.metrics.commit_latency.labels(self.name).observe(self.clock() - started)

    async def _commit_partition(self, partition: int, outputs: list[Output], next_offset: int) -> None:
        producer = self._producers.get(partition)
        if producer is None:
            raise AssignmentChanged(f"no producer for partition {partition}: assignment changed")
        async with producer.transaction():
            for out in outputs:
                await producer.send(out.topic, out.value, key=out.key, partition=out.partition)
            await producer.send_offsets_to_transaction(
                {TopicPartition(self.topic, partition): next_offset}, self._group_id
            )

    async def _drain(self, consumer: AIOKafkaConsumer) -> None:
        """On a graceful stop, finish what is in flight within `drain_s`, so little is replayed
        later; a batch stuck past that is abandoned (its extraction cancelled) by the caller."""
        if self._batcher:
            self._launch(self._batcher.flush(), self.clock())
        deadline = self.clock() + self.batching.drain_s
        while self._inflight and self.clock() < deadline:
            head = self._inflight[0]
            done, _ = await asyncio.wait({head.task}, timeout=max(0.0, deadline - self.clock()))
            if not done or not self._inflight or self._inflight[0] is not head:
                break  # still running, or a rebalance dropped it while we waited (its new owner replays it)
            await self._commit(self._inflight.popleft())

    async def _abandon(self) -> None:
        """Drop uncommitted work (it is replayed from committed offsets) and close producers."""
        self._assigned.clear()
        self._drop_batches()
        producers, self._producers = list(self._producers.values()), {}
        await asyncio.gather(*(p.stop() for p in producers), return_exceptions=True)

    def _drop_batches(self) -> None:
        """Synchronous on purpose: callers rely on nothing else running in between."""
        self._generation += 1
        for item in self._inflight:
            item.task.cancel()
            item.task.add_done_callback(_consume_outcome)
        self._inflight.clear()
        self._batcher.drop()
        self.metrics.in_flight.labels(self.name).set(0)

    # ------------------------------------------------------------------ rebalancing

    async def on_revoked(self) -> None:
        async with self._commit_lock:  # let a commit in progress finish while we still own it
            await self._abandon()
            if isinstance(self.stage, StatefulStage):
                self.stage.state.drop()

    async def on_assigned(self, assigned: Iterable[TopicPartition]) -> None:
        """Fence the previous owners first, then read committed offsets: in that order, a zombie's
        late commit can neither succeed nor be skipped over. All awaiting happens before the seek;
        the seek and the dropping of buffered records happen in one synchronous step, so the loop
        can never buffer a record from the old position after it."""
        consumer = self._consumer
        if consumer is None:
            return
        tps = list(assigned)
        try:
            for tp in tps:
                producer = transactional_producer(self.kafka, tp.topic, tp.partition)
                await producer.start()
                self._producers[tp.partition] = producer
            committed = {tp: await consumer.committed(tp) for tp in tps}
            if isinstance(self.stage, StatefulStage):  # after fencing: no zombie writes behind us
                state = self.stage.state
                state.drop()
                for partition, entries in (await read_changelog(self.kafka, state.changelog_topic, [tp.partition for tp in tps])).items():
                    state.load(partition, entries)
        except Exception as err:  # surfaced to the loop, which restarts the flow
            self._listener_error = err
            return
        for tp in tps:
            # Never committed: offset 0. If retention moved the log start past it, the broker
            # answers out-of-range and auto_offset_reset=earliest applies: the same place.
            consumer.seek(tp, committed[tp] or 0)
        self._drop_batches()
        self._assigned.set()

    # ------------------------------------------------------------------ helpers

    @property
    def _group_id(self) -> str:
        return self.kafka.group_id + "." + self.topic

    def _set_paused(self, consumer: AIOKafkaConsumer, pause: bool) -> None:
        assigned = consumer.assignment()
        if pause:
            consumer.pause(*assigned)
        else:
            consumer.resume(*assigned)
        self.metrics.paused.labels(self.name).set(1 if pause else 0)

    async def _update_lag(self, consumer: AIOKafkaConsumer) -> None:
        for tp in consumer.assignment():
            high = consumer.highwater(tp)
            if high is not None:
                position = await consumer.position(tp)
                self.metrics.consumer_lag.labels(self.name, str(tp.partition)).set(max(0, high - position))


class _Listener(ConsumerRebalanceListener):
    def __init__(self, flow: TransactionalFlow) -> None:
        self.flow = flow

    async def on_partitions_revoked(self, revoked: Any) -> None:
        await self.flow.on_revoked()

    async def on_partitions_assigned(self, assigned: Any) -> None:
        await self.flow.on_assigned(assigned)


def _consume_outcome(task: asyncio.Task[Any]) -> None:
    """Retrieve a dropped batch's outcome so asyncio does not warn about it; it is replayed."""
    if not task.cancelled():
        task.exception()


def _record(message: ConsumerRecord[bytes, bytes]) -> Record:
    return Record(message.topic, message.partition, message.offset, message.key, message.value, message.timestamp)


def _by_partition(records: list[Record], outputs: list[Output]) -> dict[int, tuple[list[Output], int]]:
    """Outputs grouped by the input partition that must carry them, with its last offset."""
    last: dict[int, int] = {}
    for record in records:
        last[record.partition] = max(last.get(record.partition, -1), record.offset)
    grouped: dict[int, tuple[list[Output], int]] = {p: ([], off) for p, off in last.items()}
    for out in outputs:
        grouped[out.source_partition][0].append(out)
    return grouped
