"""`streamproc doctor`: can this worker run here? Checks the broker (reachability and auth), the
topics (partitions, retention), the vault (reachability, migration head, master-key fingerprint,
identity and the group's binding) and the extractor (for vLLM: the server answers and serves the
configured model). Prints a table; exits 1 if any check failed, so compose can use it as a
health check. Every check has its own time bound: a dead service is a failed row, not a hang."""

from __future__ import annotations

import asyncio
import importlib.util
import logging
from dataclasses import dataclass

from rich.console import Console
from rich.table import Table

from streamproc.settings import Settings

CHECK_TIMEOUT_S = 15.0


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str


def run(settings: Settings, console: Console | None = None) -> int:
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)  # a dead broker is a row below, not log noise
    checks = asyncio.run(_all(settings))
    table = Table(title="streamproc doctor")
    for column in ("check", "result", "detail"):
        table.add_column(column)
    for check in checks:
        table.add_row(check.name, "[green]ok" if check.ok else "[red]FAIL", check.detail)
    (console or Console()).print(table)
    return 0 if all(c.ok for c in checks) else 1


async def _all(settings: Settings) -> list[Check]:
    out: list[Check] = []
    for name, probe in (("kafka", _kafka), ("vault", _vault), ("extractor", _extractor)):
        try:
            out.extend(await asyncio.wait_for(probe(settings), CHECK_TIMEOUT_S * 2))
        except Exception as err:  # a failed probe is a row, never a traceback
            out.append(Check(name, False, _why(err)))
    return out


def _why(err: BaseException) -> str:
    if isinstance(err, TimeoutError):
        return f"no answer within {CHECK_TIMEOUT_S * 2:g}s"
    text = str(err).splitlines()[0] if str(err) else ""
    return f"{type(err).__name__}: {text}"[:200]


async def _kafka(settings: Settings) -> list[Check]:
    from streamproc.kafka import clients
    from streamproc.kafka.topics import flow_topics

    kafka = settings.kafka
    admin = clients.admin(kafka)
    await asyncio.wait_for(admin.start(), CHECK_TIMEOUT_S)
    try:
        cluster = await admin.describe_cluster()
        checks = [Check("kafka: broker", True, f"{kafka.bootstrap_servers}: {len(cluster['brokers'])} broker(s)")]
        existing = set(await admin.list_topics())
        wanted = flow_topics(kafka)
        present = [t for t in wanted if t in existing]
        partitions = {}
        for meta in await admin.describe_topics(present) if present else []:
            partitions[meta["topic"]] = len(meta["partitions"])
        retention = await _retention(admin, present)
        for topic in wanted:
            if topic not in existing:
                checks.append(Check(f"kafka: topic {topic}", False, "missing (the worker creates it on start)"))
            else:
                checks.append(Check(f"kafka: topic {topic}", True, f"{partitions.get(topic, '?')} partition(s), retention {retention.get(topic, '?')}"))
        return checks
    finally:
        await admin.close()


async def _retention(admin: object, topics: list[str]) -> dict[str, str]:
    from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

    if not topics:
        return {}
    resources = [ConfigResource(ConfigResourceType.TOPIC, t) for t in topics]
    out: dict[str, str] = {}
    for response in await admin.describe_configs(resources):  # type: ignore[attr-defined]
        for resource in response.resources:
            name, entries = resource[3], resource[4]
            for entry in entries:
                if entry[0] == "retention.ms":
                    ms = int(entry[1])
                    out[name] = "forever" if ms < 0 else f"{ms / 3_600_000:g} h"
    return out


async def _vault(settings: Settings) -> list[Check]:
    from streamproc.app import open_vault
    from streamproc.kafka.fencing import group_vault
    from streamproc.vault.connect import connect_args
    from streamproc.vault.crypto import KEY_FILE_NAME as KEY_FILE, load_or_create_master_key
    from streamproc.vault.keyring import key_id
    from streamproc.vault.migrate import current_revision, head_revision

    url = settings.vault_url
    where = url.split("@")[-1] if "@" in url else url  # never the credentials
    head = head_revision()
    v = settings.vault
    args = connect_args(url, v.ssl_mode, v.ssl_root_cert, v.ssl_cert, v.ssl_key)
    current = await current_revision(url, connect_args=args) if not url.startswith("sqlite") or settings.state_dir.exists() else None
    if current != head:
        known = current is None or current in _revisions()
        detail = f"{where}: revision {current}, head {head}" + (" (the worker migrates on start)" if known else " (unknown: a newer streamproc?)")
        return [Check("vault: schema", known, detail)]  # doctor only looks: opening would migrate
    checks = [Check("vault: schema", True, f"{where}: at head {head}")]
    if settings.vault.master_key is None and not (settings.state_dir / KEY_FILE).exists():
        return [*checks, Check("vault: master key", False, f"no key: neither STREAMPROC_VAULT__MASTER_KEY nor {settings.state_dir / KEY_FILE}")]
    key = load_or_create_master_key(settings.vault.master_key, settings.state_dir)
    async with open_vault(settings) as vault:
        await vault.ping()
        identity = await vault.identity()
    checks.append(Check("vault: master key", True, f"key id {key_id(key)} (as in `streamproc keys status`)"))
    try:
        bound = await asyncio.wait_for(group_vault(settings.kafka), CHECK_TIMEOUT_S)
    except Exception as err:
        checks.append(Check("vault: identity", False, f"{identity}; group binding unreadable: {_why(err)}"))
        return checks
    ok = bound in (None, identity)
    detail = f"{identity}; group {settings.kafka.group_id} " + ("not bound yet" if bound is None else f"bound to {bound}")
    checks.append(Check("vault: identity", ok, detail))
    return checks


def _revisions() -> set[str]:
    from alembic.script import ScriptDirectory

    from streamproc.vault.migrate import alembic_config

    return {r.revision for r in ScriptDirectory.from_config(alembic_config()).walk_revisions()}


async def _extractor(settings: Settings) -> list[Check]:
    ex = settings.extraction
    if ex.extractor == "rules":
        return [Check("extractor", True, "rules (embedded, nothing to reach)")]
    name, probe = ("extractor: vLLM server", _vllm_server) if ex.vllm_url else ("extractor: vLLM in-process", _inprocess)
    try:
        return [await probe(settings)]
    except Exception as err:
        return [Check(name, False, _why(err))]


async def _vllm_server(settings: Settings) -> Check:
    """Every configured server, with the worker's own client (API key, CA file, /v1 forms, model)."""
    from streamproc.extractors.vllm_http import VllmHttpExtractor

    async with VllmHttpExtractor.from_settings(settings.extraction) as client:
        ready = await client.readiness()
    model = settings.extraction.model
    detail = ", ".join(f"{url} {'ready' if ok else 'not ready'}" for url, ok in ready.items())
    return Check("extractor: vLLM server", all(ready.values()), detail + (f" (model {model})" if model else ""))


async def _inprocess(settings: Settings) -> Check:
    from pathlib import Path

    model = Path(str(settings.extraction.model))
    if importlib.util.find_spec("vllm") is None:
        return Check("extractor: vLLM in-process", False, "vllm is not installed in this environment")
    return Check("extractor: vLLM in-process", model.is_dir(), f"model directory {model}" + ("" if model.is_dir() else " missing"))
