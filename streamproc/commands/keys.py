"""`streamproc keys status|rotate`: master key lifecycle, printing key ids (fingerprints) only.

Retiring a master key:
  1. configure the new key as `vault.master_key` and the old one in `vault.previous_master_keys`,
     restart the workers (they wrap new users under the new key, read both);
  2. `streamproc keys rotate` (online; rerun it if it was interrupted);
  3. `streamproc keys status` shows 0 rows under the old id: drop it from
     `vault.previous_master_keys`, restart the workers, destroy the old key.
"""

from __future__ import annotations

import json
from typing import TextIO

from streamproc.app import open_vault
from streamproc.settings import Settings
from streamproc.vault.rotation import KeyStatus, RotationReport


def _label(status: KeyStatus, kid: str | None) -> str:
    if kid is None:
        return "unrecorded (written before key ids; rotate to record)"
    if kid == status.current_id:
        return f"{kid} (current)"
    if kid in status.previous_ids:
        return f"{kid} (previous)"
    return f"{kid} (NOT CONFIGURED: these rows cannot be opened)"


def _print_status(status: KeyStatus, out: TextIO) -> None:
    out.write(f"current master key id: {status.current_id}\n")
    out.write(f"previous key ids: {', '.join(status.previous_ids) or '-'}\n")
    for table, per in status.counts.items():
        for kid, n in sorted(per.items(), key=lambda kv: (kv[0] != status.current_id, kv[0] or "")):
            out.write(f"  {table}: {n} under {_label(status, kid)}\n")
    for kid in status.previous_ids:
        n = status.in_use(kid)
        verdict = "can be retired" if n == 0 and status.not_current == 0 else f"still wraps {n} key(s)"
        out.write(f"previous key {kid}: {verdict}\n")
    if status.not_current:
        out.write(f"{status.not_current} key(s) not under the current master key: run `streamproc keys rotate`\n")
    else:
        out.write("every wrapped key is under the current master key\n")


def _status_json(status: KeyStatus) -> str:
    return json.dumps({
        "current_id": status.current_id,
        "previous_ids": list(status.previous_ids),
        "counts": {t: {str(k): n for k, n in per.items()} for t, per in status.counts.items()},
        "not_current": status.not_current,
    })


async def status(settings: Settings, out: TextIO, as_json: bool) -> int:
    """Vault errors propagate: the CLI turns them into one line on stderr."""
    async with open_vault(settings) as vault:
        result = await vault.key_status()
    out.write(_status_json(result) + "\n") if as_json else _print_status(result, out)
    return 0


async def rotate(settings: Settings, out: TextIO, batch: int, pause_s: float) -> int:
    """Exit 0 when every key is under the current master key, 1 when some could not be opened."""

    def progress(report: RotationReport) -> None:
        out.write(f"rewrapped {report.total_rewrapped} (pass {report.passes})\n")
        out.flush()

    async with open_vault(settings) as vault:
        report = await vault.rotate_keys(batch=batch, pause_s=pause_s, on_progress=progress)
        after = await vault.key_status()
    per_table = ", ".join(f"{t} {n}" for t, n in report.rewrapped.items())
    out.write(f"done: rewrapped {report.total_rewrapped} ({per_table}) under {report.current_id} in {report.passes} pass(es)\n")
    if report.failed or after.not_current:
        failed = ", ".join(f"{t} {n}" for t, n in report.failed.items()) or "0"
        out.write(f"NOT DONE: {after.not_current} key(s) still under another master key (unopenable: {failed})\n")
        return 1
    return 0
