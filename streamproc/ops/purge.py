"""The worker's scheduled TTL purge: expired values leave the vault without waiting for a turn.

Runs every `vault.purge_interval_s` until `stop` is set (or the task is cancelled). A failure is
logged by class (a database error message names the operation, never a value) and the purge is
simply tried again at the next interval: a late purge delays erasure a little, while stopping
the worker over it would stop masking for everybody.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from streamproc.core.errors import VaultError
from streamproc.ops.metrics import Metrics
from streamproc.vault.port import WorkerVault

log = logging.getLogger(__name__)


async def purge_once(vault: WorkerVault, metrics: Metrics) -> int:
    purged = await vault.purge_expired()
    metrics.vault_purged.inc(purged)
    if purged:
        log.info("vault purge: dropped %d expired values", purged)
    return purged


async def run_purge(vault: WorkerVault, interval_s: float, metrics: Metrics, stop: asyncio.Event) -> None:
    while not stop.is_set():
        try:
            await purge_once(vault, metrics)
        except VaultError as err:
            log.warning("vault purge failed, retrying in %.0fs: %s", interval_s, err)
        except Exception as err:  # noqa: BLE001 - see module docstring; the class says enough
            log.error("vault purge failed, retrying in %.0fs: %s", interval_s, type(err).__name__)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), interval_s)
