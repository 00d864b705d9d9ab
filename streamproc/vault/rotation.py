"""Master key rotation: rewrap every wrapped data key under the current master key, online.

Only the envelope changes. A data key (and so every ciphertext and value hash under it) stays
the same, which is what makes rotation safe while workers read and write: a worker that read
the old envelope unwraps the same key as one that reads the new one.

    for each table in WRAPPED_KEYS, in pages of `batch` rows by primary key:
        read rows whose key_id is not the current id (or NULL, from before revision 0002)
        unwrap each with the key its key_id names, wrap it under the current key
        UPDATE ... SET wrapped = new, key_id = current WHERE id = ? AND wrapped = old
        commit                                          (one small transaction per page)

The compare-and-swap `WHERE wrapped = old` needs no row lock: if the row changed in between
(another rotate, a forget, a re-created user) the update touches nothing and the next pass sees
the row again. Killed at any point, a run loses at most one uncommitted page; the next run
starts over and skips what is already done (idempotent, resumable). Passes repeat until one
rewraps nothing, so rows an old-config worker added during the run are caught too.

Any table holding a wrapped key joins by adding a `WrappedKeyTable` to WRAPPED_KEYS: an id
column, the wrapped-key column, a nullable `key_id` String(16) column, and the unwrap/wrap pair
with that table's AAD.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import Column, Table, func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from streamproc.vault.crypto import MasterKeyError, make_key_check, unwrap_dek, wrap_dek
from streamproc.vault.engine import transaction, wrap_db_errors
from streamproc.vault.keyring import KeyRing, Unwrap
from streamproc.vault.service_keys import unwrap_service_key, wrap_service_key
from streamproc.vault.tables import ServiceKey, User, VaultMeta

KEY_CHECK = "master_key_check"
DEFAULT_BATCH = 200
_MAX_PASSES = 5

Wrap = Callable[[bytes, str, bytes], bytes]  # (master key, row id, data key) -> wrapped


@dataclass(frozen=True, slots=True)
class WrappedKeyTable:
    name: str
    table: Table
    id_col: str
    wrapped_col: str
    key_id_col: str
    unwrap: Unwrap
    wrap: Wrap

    def col(self, name: str) -> Column[object]:
        return self.table.c[name]


WRAPPED_KEYS: tuple[WrappedKeyTable, ...] = (
    WrappedKeyTable("users", User.__table__, "user_id", "wrapped_dek", "key_id", unwrap_dek, wrap_dek),  # type: ignore[arg-type]
    WrappedKeyTable(
        "service_keys", ServiceKey.__table__, "name", "wrapped_key", "key_id", unwrap_service_key, wrap_service_key  # type: ignore[arg-type]
    ),
)


@dataclass(frozen=True, slots=True)
class KeyStatus:
    """Per table, {key id or None (unrecorded): rows}; plus the configured ids."""

    current_id: str
    previous_ids: tuple[str, ...]
    counts: dict[str, dict[str | None, int]]

    @property
    def not_current(self) -> int:
        return sum(n for per in self.counts.values() for kid, n in per.items() if kid != self.current_id)

    def in_use(self, kid: str) -> int:
        return sum(per.get(kid, 0) for per in self.counts.values())


@dataclass(slots=True)
class RotationReport:
    current_id: str
    rewrapped: dict[str, int] = field(default_factory=dict)
    # Rows no configured key opens (an id not configured, or tampered): left as they are.
    failed: dict[str, int] = field(default_factory=dict)
    passes: int = 0

    @property
    def total_rewrapped(self) -> int:
        return sum(self.rewrapped.values())


async def key_status(conn: AsyncConnection, keys: KeyRing) -> KeyStatus:
    counts: dict[str, dict[str | None, int]] = {}
    for spec in WRAPPED_KEYS:
        kid = spec.col(spec.key_id_col)
        rows = await conn.execute(select(kid, func.count()).group_by(kid))
        counts[spec.name] = {row[0]: int(row[1]) for row in rows}
    return KeyStatus(keys.current_id, keys.previous_ids, counts)


async def rotate(
    engine: AsyncEngine,
    keys: KeyRing,
    *,
    batch: int = DEFAULT_BATCH,
    pause_s: float = 0.0,
    on_progress: Callable[[RotationReport], None] | None = None,
) -> RotationReport:
    """Rewrap until nothing is left under another key. `pause_s` between pages lets an operator
    keep the load on a busy database low; `on_progress` is called after every committed page."""
    report = RotationReport(keys.current_id)
    async with wrap_db_errors("key rotation"), transaction(engine, write=True) as conn:
        # First, so a worker that knows only the old key now refuses to start: it could not
        # open the data keys this run is about to rewrap.
        await conn.execute(
            update(VaultMeta).where(VaultMeta.key == KEY_CHECK).values(value=make_key_check(keys.current))
        )
    for _ in range(_MAX_PASSES):
        report.passes += 1
        report.failed = {}
        done = 0
        for spec in WRAPPED_KEYS:
            done += await _rotate_table(engine, keys, spec, report, batch, pause_s, on_progress)
        if done == 0:
            break
    return report


async def _rotate_table(
    engine: AsyncEngine,
    keys: KeyRing,
    spec: WrappedKeyTable,
    report: RotationReport,
    batch: int,
    pause_s: float,
    on_progress: Callable[[RotationReport], None] | None,
) -> int:
    row_id, wrapped, kid = spec.col(spec.id_col), spec.col(spec.wrapped_col), spec.col(spec.key_id_col)
    stale = kid.is_(None) | (kid != keys.current_id)
    report.rewrapped.setdefault(spec.name, 0)
    after: str | None = None
    done = 0
    while True:
        page = select(row_id, wrapped, kid).where(stale).order_by(row_id).limit(batch)
        if after is not None:
            page = page.where(row_id > after)
        page_done = 0
        async with wrap_db_errors("key rotation"), transaction(engine, write=True) as conn:
            rows = (await conn.execute(page)).all()
            for rid, old, old_id in rows:
                try:
                    data_key, _ = keys.unwrap(spec.unwrap, rid, old, old_id)
                except MasterKeyError:
                    report.failed[spec.name] = report.failed.get(spec.name, 0) + 1
                    continue
                result = await conn.execute(
                    update(spec.table)
                    .where(row_id == rid, wrapped == old)
                    .values({spec.wrapped_col: spec.wrap(keys.current, rid, data_key), spec.key_id_col: keys.current_id})
                )
                page_done += int(result.rowcount)
        # Counted only once the page committed: the report never claims work a kill undid.
        done += page_done
        report.rewrapped[spec.name] += page_done
        if on_progress is not None and rows:
            on_progress(report)
        if len(rows) < batch:
            return done
        after = rows[-1][0]
        if pause_s:
            await asyncio.sleep(pause_s)
