"""The composition root: everything the worker and the CLI need, built from one Settings object.

Nothing here runs at import time. Heavy optional dependencies (vLLM, httpx clients) are imported
only when the chosen extractor needs them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable

from streamproc.extractors.base import Extractor
from streamproc.kafka.changelog import ensure_changelog
from streamproc.kafka.fencing import claim_group
from streamproc.kafka.flow import TransactionalFlow
from streamproc.kafka.probe import check_connection
from streamproc.kafka.topics import ensure_topics
from streamproc.ops.metrics import Metrics
from streamproc.ops.purge import run_purge
from streamproc.ops.web import make_app, start_web
from streamproc.pipeline.dead_letter import DeadLetterLimiter
from streamproc.pipeline.extract import ExtractStep
from streamproc.pipeline.mask import MaskStage
from streamproc.pipeline.restore import RestoreStage
from streamproc.pipeline.stream_restore import StreamRestoreStage
from streamproc.settings import Settings
from streamproc.vault.connect import connect_args
from streamproc.vault.crypto import load_or_create_master_key
from streamproc.vault.keyring import KeyRing, parse_previous_keys
from streamproc.vault.migrate import migrate
from streamproc.vault.port import WorkerVault
from streamproc.vault.store import Vault

log = logging.getLogger(__name__)


@contextlib.asynccontextmanager
async def open_vault(settings: Settings, metrics: Metrics | None = None) -> AsyncIterator[Vault]:
    """Migrate to the current schema, then open. The master key file is created on first use."""
    settings.state_dir.mkdir(parents=True, exist_ok=True)
    v = settings.vault
    keys = KeyRing(load_or_create_master_key(v.master_key, settings.state_dir), parse_previous_keys(v.previous_master_keys))
    url = settings.vault_url
    args = connect_args(url, v.ssl_mode, v.ssl_root_cert, v.ssl_cert, v.ssl_key)
    await migrate(url, connect_args=args)
    counter = metrics.bad_policies.inc if metrics is not None else None
    async with Vault.open(url, keys, pool_size=v.pool_size, connect_args=args, on_unreadable_policy=counter) as vault:
        yield vault


def build_rules(settings: Settings) -> Extractor:
    from streamproc.extractors.rules import RulesExtractor

    ex = settings.extraction
    return RulesExtractor(
        min_confidence=ex.rules_min_confidence,
        processes=ex.rules_processes,
        phone_regions=ex.rules_phone_regions,
        preset=ex.rules_preset,
        deadline_s=ex.rules_timeout_s,
    )


def build_model(settings: Settings, metrics: Metrics | None = None) -> Extractor:
    """The vLLM extractor the settings name: an HTTP client when vllm_url is set, else in-process."""
    ex = settings.extraction
    if ex.extractor == "vllm-http" or (ex.extractor == "hybrid" and ex.vllm_url):
        from streamproc.extractors.vllm_http import VllmHttpExtractor

        return VllmHttpExtractor.from_settings(ex, metrics=metrics)
    from streamproc.extractors.vllm_inprocess import VllmInProcessExtractor

    return VllmInProcessExtractor.from_settings(ex, metrics=metrics)


def build_hybrid(settings: Settings, metrics: Metrics | None = None) -> Extractor:
    from streamproc.extractors.hybrid import HybridExtractor

    return HybridExtractor(build_model(settings, metrics), build_rules(settings), metrics=metrics)


# One builder per name in settings.EXTRACTOR_NAMES (a unit test keeps the two in step).
EXTRACTORS: dict[str, Callable[[Settings, Metrics | None], Extractor]] = {
    "rules": lambda settings, _metrics: build_rules(settings),
    "vllm-http": build_model,
    "vllm-inprocess": build_model,
    "hybrid": build_hybrid,
}


def build_extractor(settings: Settings, metrics: Metrics | None = None) -> Extractor:
    return EXTRACTORS[settings.extraction.extractor](settings, metrics)


def build_extract_step(settings: Settings, extractor: Extractor, metrics: Metrics) -> ExtractStep:
    """The extractor with its fail-closed policy; the worker and the embedded commands share it.
    The rules that rescue a model's failures are
    built only for a model; their child process starts on first use."""
    ex = settings.extraction
    rules = build_rules(settings) if extractor.name != "rules" else None
    return ExtractStep(
        extractor,
        fallback=rules if ex.on_failure == "fallback" else None,
        turn_fallback=rules if ex.on_turn_failure == "fallback" else None,
        timeout_s=ex.timeout_s,
        metrics=metrics,
    )


def build_restore_stage(settings: Settings, vault: WorkerVault, metrics: Metrics, limiter: DeadLetterLimiter) -> StreamRestoreStage:
    """Whole responses as before; streamed chunks with a hold-back kept as changelogged state."""
    kafka = settings.kafka
    whole = RestoreStage(vault, kafka, metrics, limiter)
    return StreamRestoreStage(whole, vault, kafka.stream_changelog, kafka.stream_expiry_s)


class Worker:
    """The mask and restore flows, the health/metrics server, and what they share."""

    def __init__(self, settings: Settings, vault: WorkerVault, extractor: Extractor, metrics: Metrics) -> None:
        self.settings = settings
        self.vault = vault
        self.extractor = extractor
        self.metrics = metrics
        kafka = settings.kafka
        limiter = DeadLetterLimiter(kafka.dead_letters_per_minute)
        self.extract = build_extract_step(settings, extractor, metrics)
        extract = self.extract
        self.flows = [
            TransactionalFlow("mask", MaskStage(extract, vault, kafka, metrics, limiter), kafka.raw_topic, settings, metrics),
            TransactionalFlow("restore", build_restore_stage(settings, vault, metrics, limiter), kafka.response_topic, settings, metrics),
        ]

    async def _vault_ok(self) -> bool:
        await self.vault.ping()
        return True

    def _flow_ok(self, flow: TransactionalFlow) -> object:
        async def check() -> bool:
            return flow.ready.is_set()

        return check

    async def run(self, stop: asyncio.Event) -> None:
        await check_connection(self.settings.kafka)  # bad credentials or certificates: one line, now
        await ensure_topics(self.settings.kafka)
        await ensure_changelog(self.settings.kafka, self.settings.kafka.stream_changelog, self.settings.kafka.response_topic)
        # Before any partition is taken: a worker with the wrong vault must not mask a single turn.
        self.vault_id = await claim_group(self.settings.kafka, await self.vault.identity())
        checks = {"vault": self._vault_ok, **{f"kafka:{f.name}": self._flow_ok(f) for f in self.flows}}
        runner = await start_web(make_app(self.metrics, checks), self.settings.web.host, self.settings.web.port)  # type: ignore[arg-type]
        log.info("worker started: extractor=%s, vault=%s, web=%s:%d", self.extractor.name, self.vault_id,
                 self.settings.web.host, self.settings.web.port)
        purge = None
        if self.settings.vault.purge_interval_s > 0:
            # Not among `tasks`: a failing purge is logged and retried, it never stops the flows.
            purge = asyncio.create_task(
                run_purge(self.vault, self.settings.vault.purge_interval_s, self.metrics, stop), name="vault-purge"
            )
        try:
            tasks = [asyncio.create_task(f.run(stop), name=f"flow-{f.name}") for f in self.flows]
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
            stop.set()  # one flow failing fatally stops the other: fail closed, exit non-zero
            await asyncio.gather(*tasks, return_exceptions=True)
            for task in done:
                if task.exception() is not None:
                    raise task.exception()  # type: ignore[misc]
        finally:
            if purge is not None:
                purge.cancel()
                await asyncio.gather(purge, return_exceptions=True)
            await runner.cleanup()


async def run_worker(settings: Settings, stop: asyncio.Event) -> None:
    metrics = Metrics()
    async with open_vault(settings, metrics) as vault:
        extractor = build_extractor(settings, metrics)
        worker = Worker(settings, vault, extractor, metrics)
        try:
            await worker.run(stop)
        finally:
            await worker.extract.aclose()
