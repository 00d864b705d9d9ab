"""The measured passes: a bare pass-through (the baseline) and the real Worker, each behind a
`Probe` that counts records consumed and committed, timed the same way.

Throughput: the input topic is pre-filled; the clock starts when the first record is consumed
and stops when the last output is committed. Latency: a paced producer (a separate process, so it
does not share the event loop with what it measures) copies a staging topic into the input topic
at a fixed rate, stamping each record with its send time; latency is the output record's
log-append timestamp minus that stamp, matched by id. Warm-up records go first and are excluded.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
import time
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from aiokafka import AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.abc import ConsumerRebalanceListener
from rich.progress import Progress

from streamproc.app import Worker, build_extractor, open_vault
from streamproc.bench.common import KV, BenchError, StallClock, prefill, read_stamped, summarize_ms
from streamproc.bench.stages import cpu_now
from streamproc.kafka.clients import flow_consumer, plain_producer, transactional_producer
from streamproc.ops.metrics import Metrics
from streamproc.settings import KafkaSettings, Settings

POLL_S = 0.002
STALL_S = 90.0  # no progress for this long: the pass failed
WARMUP_FRACTION = 0.1  # of the paced records, dropped from latency figures (first seen)


@dataclass
class Probe:
    consumed: Callable[[], float]
    committed: Callable[[], float]
    task: asyncio.Task[Any]
    extra: dict[str, Callable[[], float]] = field(default_factory=dict)

    def check(self) -> None:
        if self.task.done():
            err = self.task.exception()
            raise BenchError(f"the consumer under test stopped early: {type(err).__name__ if err else 'returned'}")


# ---------------------------------------------------------------------------- the baseline


class _NoListener(ConsumerRebalanceListener):
    async def on_partitions_revoked(self, revoked: Any) -> None:
        return None

    async def on_partitions_assigned(self, assigned: Any) -> None:
        return None


class PassThrough:
    """Copies `raw_topic` to `masked_topic` unchanged, with the flow's consumer configuration
    (read_committed, group, manual offsets) and batch size. Transactional: one producer per input
    partition and one transaction per partition per fetch, holding the outputs and the offsets,
    as in streamproc.kafka.flow. Otherwise: an idempotent producer, then a consumer commit."""

    def __init__(self, kafka: KafkaSettings, *, batch: int, transactional: bool) -> None:
        self.kafka = kafka
        self.batch = batch
        self.transactional = transactional
        self.consumed = 0
        self.committed = 0

    async def run(self, stop: asyncio.Event) -> None:
        consumer = flow_consumer(self.kafka, self.kafka.raw_topic, _NoListener())
        producers: dict[int, AIOKafkaProducer] = {}
        plain = None if self.transactional else plain_producer(self.kafka)
        await consumer.start()
        try:
            if plain is None:
                for p in range(self.kafka.partitions):
                    producers[p] = transactional_producer(self.kafka, self.kafka.raw_topic, p)
                    await producers[p].start()
            else:
                await plain.start()
            while not stop.is_set():
                fetched = await consumer.getmany(timeout_ms=20, max_records=self.batch)
                n = sum(len(v) for v in fetched.values())
                if not n:
                    continue
                self.consumed += n
                if plain is None:
                    await asyncio.gather(*(self._transaction(producers[tp.partition], tp, recs) for tp, recs in fetched.items()))
                else:
                    futures = [await plain.send(self.kafka.masked_topic, r.value, key=r.key) for recs in fetched.values() for r in recs]
                    await asyncio.gather(*futures)
                    await consumer.commit({tp: recs[-1].offset + 1 for tp, recs in fetched.items()})
                self.committed += n
        finally:
            await asyncio.gather(*(p.stop() for p in producers.values()), return_exceptions=True)
            if plain is not None:
                await plain.stop()
            await consumer.stop()

    async def _transaction(self, producer: AIOKafkaProducer, tp: TopicPartition, recs: Sequence[ConsumerRecord[bytes, bytes]]) -> None:
        async with producer.transaction():
            for r in recs:
                await producer.send(self.kafka.masked_topic, r.value, key=r.key)
            await producer.send_offsets_to_transaction({tp: recs[-1].offset + 1}, self.kafka.group_id + "." + tp.topic)


@contextlib.asynccontextmanager
async def running_passthrough(kafka: KafkaSettings, *, batch: int, transactional: bool) -> AsyncIterator[Probe]:
    copier = PassThrough(kafka, batch=batch, transactional=transactional)
    stop = asyncio.Event()
    task = asyncio.create_task(copier.run(stop), name="bench-passthrough")
    try:
        yield Probe(lambda: copier.consumed, lambda: copier.committed, task)
    finally:
        stop.set()
        await asyncio.gather(task, return_exceptions=True)


# ---------------------------------------------------------------------------- the real worker


@contextlib.asynccontextmanager
async def running_worker(settings: Settings, flow: str) -> AsyncIterator[Probe]:
    """The real Worker (both flows, web server included) in this process, probed through its
    own Prometheus registry; `flow` names the one being measured."""
    metrics = Metrics()
    stop = asyncio.Event()

    def sample(name: str, **labels: str) -> Callable[[], float]:
        # The counter itself, not registry.get_sample_value: that collects every metric on each
        # call, and the bench polls every few ms inside the worker's own process.
        child = metrics.registry._names_to_collectors[name.removesuffix("_total")].labels(**labels)  # noqa: SLF001
        return lambda: float(child._value.get())  # noqa: SLF001

    async with open_vault(settings) as vault:
        extractor = build_extractor(settings, metrics)
        task: asyncio.Task[None] | None = None
        try:
            task = asyncio.create_task(Worker(settings, vault, extractor, metrics).run(stop), name="bench-worker")
            dead = sample("streamproc_dead_letters_total", flow=flow, error_class="UnknownUser")
            yield Probe(sample("streamproc_records_in_total", flow=flow), sample("streamproc_records_out_total", flow=flow), task, {"unknown_user_dead_letters": dead})
        finally:
            stop.set()
            if task is not None:
                await asyncio.wait_for(asyncio.gather(task, return_exceptions=True), 90)
            await extractor.aclose()


# ---------------------------------------------------------------------------- measuring


async def wait_committed(probe: Probe, n: int, progress: Progress | None = None, task_id: Any = None,
                         on_start: Callable[[], None] | None = None) -> tuple[float, float]:
    """Poll until `n` outputs are committed; (first consumption, last commit) in perf_counter s.
    `on_start` runs at the first consumption (start-up is not part of a pass's figures)."""
    started: float | None = None
    stall = StallClock(STALL_S)
    while True:
        now = time.perf_counter()
        if started is None and probe.consumed() > 0:
            started = now
            if on_start is not None:
                on_start()
        done = probe.committed()
        if progress is not None:
            progress.update(task_id, completed=done)
        if done >= n and started is not None:
            return started, now
        stall.check(done, f"{int(done)} of {n} records committed")
        probe.check()
        await asyncio.sleep(POLL_S)


async def throughput_pass(probe_cm: contextlib.AbstractAsyncContextManager[Probe], n: int, progress: Progress, label: str,
                          on_start: Callable[[], None] | None = None, on_end: Callable[[], None] | None = None) -> dict[str, float]:
    """Turns/s and CPU ms per turn (this process and its children, from the first consumption
    to the last commit; the bench's own polling is in it too, well under 1% of a core)."""
    task_id = progress.add_task(label, total=n)
    cpu: list[tuple[float, float]] = []  # (process and children, this thread: the event loop's)

    def begin() -> None:
        cpu.append((cpu_now(), time.thread_time()))
        if on_start is not None:
            on_start()

    async with probe_cm as probe:
        start, end = await wait_committed(probe, n, progress, task_id, begin)
        cpu.append((cpu_now(), time.thread_time()))
        if on_end is not None:
            on_end()
    progress.update(task_id, completed=n)
    seconds = end - start
    return {"turns": n, "seconds": round(seconds, 3), "turns_per_s": round(n / seconds, 1),
            "cpu_ms_per_turn": round((cpu[1][0] - cpu[0][0]) * 1000 / n, 4),
            "loop_thread_cpu_ms_per_turn": round((cpu[1][1] - cpu[0][1]) * 1000 / n, 4)}


@dataclass(frozen=True)
class LatencySpec:
    """What a latency pass copies, from where to where, and how records are matched."""

    kafka: KafkaSettings
    partitions: int
    staging: str  # pre-filled with the n paced records
    input_topic: str
    output_topic: str
    id_field: str
    warmup: list[KV]  # produced unpaced first; their ids must start with "warm-"
    n: int
    rate: float


async def latency_pass(probe_cm: contextlib.AbstractAsyncContextManager[Probe], spec: LatencySpec, progress: Progress, label: str) -> dict[str, Any]:
    total = len(spec.warmup) + spec.n
    task_id = progress.add_task(label, total=total)
    async with probe_cm as probe:
        await prefill(spec.kafka, spec.input_topic, spec.warmup)
        await wait_committed(probe, len(spec.warmup))
        pacer = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "streamproc.bench.pacer", spec.kafka.bootstrap_servers, spec.staging, str(spec.partitions), spec.input_topic,
            str(spec.n), str(spec.rate), stdout=asyncio.subprocess.PIPE,
        )
        try:
            await wait_committed(probe, total, progress, task_id)
        finally:
            out, _ = await pacer.communicate()
        if pacer.returncode != 0:
            raise BenchError(f"the paced producer failed (exit {pacer.returncode})")
        extra = {k: f() for k, f in probe.extra.items()}
    pacing = json.loads(out.decode().strip().splitlines()[-1])
    inputs = await read_stamped(spec.kafka, spec.input_topic, spec.partitions, spec.id_field, total)
    outputs = await read_stamped(spec.kafka, spec.output_topic, spec.partitions, spec.id_field, total)
    sent = {s.record_id: s.ts_ms for s in inputs if not s.record_id.startswith("warm-")}
    skip = set(sorted(sent, key=sent.__getitem__)[: int(len(sent) * WARMUP_FRACTION)])
    latencies = [float(o.ts_ms - sent[o.record_id]) for o in outputs if o.record_id in sent and o.record_id not in skip]
    matched = sum(1 for o in outputs if o.record_id in sent)
    if matched != len(sent):
        raise BenchError(f"{len(sent) - matched} of {len(sent)} paced records have no output")
    return {
        "offered_rate": spec.rate,
        "achieved_rate": round(pacing["rate"], 1),
        "turns": spec.n,
        "warmup_excluded": len(skip),
        "output_log_append_time": all(o.log_append for o in outputs),
        "latency_ms": summarize_ms(latencies),
        **{k: int(v) for k, v in extra.items()},
    }
