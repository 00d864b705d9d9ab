"""`streamproc bench --smoke` on the real broker and Postgres: the same code path as the full bench,
a few seconds long. Checks the result is well formed, not how fast this machine is."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
PASSES = {"baseline_tx", "baseline_plain", "mask", "restore"}


def _positive(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0


def test_smoke_bench_writes_a_well_formed_result_and_a_plot(kafka_bootstrap: str, pg_url: str, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("STREAMPROC_")}
    env.update(STREAMPROC_KAFKA__BOOTSTRAP_SERVERS=kafka_bootstrap, STREAMPROC_VAULT__URL=pg_url, STREAMPROC_STATE_DIR=str(tmp_path / "state"))
    out = tmp_path / "bench"
    done = subprocess.run(
        [sys.executable, "-m", "streamproc.cli", "bench", "--smoke", "--prefill-mappings", "200", "--out", str(out)],
        env=env, cwd=ROOT, capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]

    results = list(out.glob("bench-*.json"))
    plots = list(out.glob("bench-*.png"))
    assert len(results) == 1 and len(plots) == 1
    assert plots[0].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    result = json.loads(results[0].read_text())

    assert {"schema", "started_at", "machine", "config", "throughput", "latency", "vault", "extractor", "summary", "targets"} <= result.keys()
    assert result["config"]["smoke"] is True
    assert {row["pass"] for row in result["throughput"]} == PASSES
    assert all(_positive(row["turns_per_s"]) and _positive(row["seconds"]) for row in result["throughput"])
    assert {row["pass"] for row in result["latency"]} == {"baseline_tx", "mask", "restore", "restore_stream"}
    for row in result["latency"]:
        assert _positive(row["achieved_rate"]) and _positive(row["latency_ms"]["count"])
        assert _positive(row["latency_ms"]["p50"]) and row["latency_ms"]["p99"] >= row["latency_ms"]["p50"]
    for backend in ("postgres", "sqlite"):
        assert _positive(result["vault"][backend]["new_mappings_per_s"])
        assert _positive(result["vault"][backend]["lookups_per_s"])
    assert _positive(result["extractor"]["median_ms"]) and _positive(result["extractor"]["p99_ms"])
    summary = result["summary"]
    assert all(_positive(v) for v in summary["turns_per_s"].values())
    assert _positive(summary["mask_to_baseline_ratio"]) and _positive(summary["restore_to_baseline_ratio"])
    assert {"p50", "p99"} <= summary["added_latency_ms"]["mask"].keys()
    hostile = result["extractor"]["hostile"]
    assert hostile["cases"] > 0 and _positive(hostile["worst_ms"]) and hostile["worst_ms"] >= hostile["median_case_ms"]
    assert {"p50", "p99"} <= summary["added_latency_ms"]["restore_stream"].keys()
    assert len(result["targets"]) == 6 and all(isinstance(t["pass"], bool) for t in result["targets"])

    profile = result["profile"]
    assert set(profile["cpu_ms_per_turn_by_stage"]) >= {"decode", "extraction", "vault", "plan_and_render", "encode", "kafka_client"}
    assert _positive(profile["cpu_ms_per_turn"]) and _positive(profile["cpu_ms_per_turn_by_stage"]["extraction"])
    assert Path(profile["cprofile"]).exists()
    flame = profile["flame_graph"]
    assert ("path" in flame and Path(flame["path"]).exists()) or "error" in flame  # py-spy may not be allowed to attach
    restore = result["profile_restore"]  # the restore pass's own breakdown
    assert _positive(restore["cpu_ms_per_turn"]) and _positive(restore["cpu_ms_per_turn_by_stage"]["vault"])
    assert Path(restore["cprofile"]).exists() and restore["cprofile"] != profile["cprofile"]
    prefilled = result["growth"]["prefilled_vault"]
    assert prefilled["prefill"]["mappings"] == 200 and _positive(prefilled["prefilled_to_empty_ratio"])


def test_soak_reports_memory_samples_and_a_slope(kafka_bootstrap: str, pg_url: str, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("STREAMPROC_")}
    env.update(STREAMPROC_KAFKA__BOOTSTRAP_SERVERS=kafka_bootstrap, STREAMPROC_VAULT__URL=pg_url, STREAMPROC_STATE_DIR=str(tmp_path / "state"))
    done = subprocess.run(
        [sys.executable, "-m", "streamproc.cli", "bench", "--soak", "400", "--users", "20", "--out", str(tmp_path)],
        env=env, cwd=ROOT, capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    [path] = tmp_path.glob("soak-*.json")
    soak = json.loads(path.read_text())
    assert soak["turns"] == 400 and _positive(soak["turns_per_s"]) and _positive(soak["rss_mb_last"])
    assert len(soak["samples"]) >= 2 and isinstance(soak["growth_mb_per_million_turns"], float)
