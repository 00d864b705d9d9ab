"""A capacity model: how many worker processes, partitions and GPUs for a target rate, from the
rates one `streamproc bench` run measured on this hardware. Pure arithmetic, so operators can
check it by hand; the README's "Scaling out" section explains each rule."""

from __future__ import annotations

import math
from typing import Any

HEADROOM = 0.7  # plan for 70% busy: a rebalance or a burst must not tip the group into lag


def sizing(
    target_turns_per_s: float,
    *,
    mask_per_process: float,
    restore_per_process: float,
    vault_new_per_s: float,
    new_mappings_per_turn: float,
    responses_per_turn: float = 1.0,
    model_turns_per_gpu: float | None = None,
) -> dict[str, Any]:
    """Each worker process runs both flows on one core, so a turn costs 1/mask + r/restore of a
    process-second. Partitions must be at least the processes that should share the load."""
    if min(target_turns_per_s, mask_per_process, restore_per_process, vault_new_per_s) <= 0:
        raise ValueError("rates must be positive")
    seconds_per_turn = 1 / mask_per_process + responses_per_turn / restore_per_process
    processes = max(1, math.ceil(target_turns_per_s * seconds_per_turn / HEADROOM))
    vault_load = target_turns_per_s * new_mappings_per_turn / vault_new_per_s
    out: dict[str, Any] = {
        "target_turns_per_s": target_turns_per_s,
        "worker_processes": processes,
        "partitions_at_least": processes,
        "vault_write_load": round(vault_load, 3),
        "vault_ok": vault_load <= HEADROOM,
        "headroom": HEADROOM,
    }
    if model_turns_per_gpu:
        out["gpus"] = max(1, math.ceil(target_turns_per_s / (model_turns_per_gpu * HEADROOM)))
    return out
