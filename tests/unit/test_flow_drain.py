"""A graceful stop drains in-flight batches; a rebalance that drops them meanwhile ends the drain.

Seen once in CI (a rolling restart of three workers): a worker stopping while its partitions were
revoked popped from an empty in-flight queue and exited with IndexError.
"""

from __future__ import annotations

import asyncio

from streamproc.kafka.flow import TransactionalFlow, _InFlight
from streamproc.ops.metrics import Metrics
from streamproc.settings import Settings


async def test_a_rebalance_during_the_drain_ends_it_without_an_error() -> None:
    flow = TransactionalFlow("mask", stage=object(), topic="raw", settings=Settings(), metrics=Metrics())  # type: ignore[arg-type]

    async def batch_revoked_while_the_drain_waits() -> None:
        flow._drop_batches()  # what on_revoked does; the drain is waiting on this very batch

    head = _InFlight([], flow._generation, asyncio.create_task(batch_revoked_while_the_drain_waits()), 0.0)
    flow._inflight.append(head)
    await flow._drain(consumer=None)  # type: ignore[arg-type]
    assert not flow._inflight and head.task.done()
