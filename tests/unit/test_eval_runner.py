"""The eval runner end to end with a fake extractor on a hand-written file."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import pytest
from rich.console import Console

from streamproc.core.spans import Detection
from streamproc.core.taxonomy import PrivacyLevel
from streamproc.eval.report import PER_MESSAGE_WARNING
from streamproc.cli import build_parser
from streamproc.eval.runner import run_eval, run_eval_from_args
from streamproc.extractors.base import ExtractorBase, TurnText

EMAILS = {"ana@example.org": ("Email", PrivacyLevel.PL2)}


class FakeEmailExtractor(ExtractorBase):
    """Finds only the one email address it knows; records batch sizes."""

    name = "fake"
    version = "0.0"

    def __init__(self) -> None:
        self.batches: list[int] = []

    async def extract(self, batch: Sequence[TurnText]) -> list[list[Detection]]:
        self.batches.append(len(batch))
        return [
            [Detection(v, t, lvl) for v, (t, lvl) in EMAILS.items() if v in turn.content] for turn in batch
        ]


class ShortExtractor(FakeEmailExtractor):
    async def extract(self, batch: Sequence[TurnText]) -> list[list[Detection]]:
        return []


def bench_file(tmp_path: Path) -> Path:
    turns = [
        {"role": "user", "content": "mail ana@example.org", "privacy_info": [
            {"original_text": "ana@example.org", "privacy_type": "Email", "privacy_level": "PL2"}]},
        {"role": "assistant", "content": "noted", "privacy_info": []},
        {"role": "user", "content": "my code is 991204", "privacy_info": [
            {"original_text": "991204", "privacy_type": "Verification Code", "privacy_level": "PL4"}]},
    ] * 3
    record = {"uuid": "u1", "metadata": {"user_name": "Ana"}, "dialogues": turns}
    path = tmp_path / "tiny_bench.jsonl"
    path.write_text(json.dumps(record) + "\n", encoding="utf-8")
    return path


async def test_run_eval_batches_scores_and_writes_reports(tmp_path: Path) -> None:
    extractor = FakeEmailExtractor()
    report = await run_eval(
        bench_file(tmp_path), extractor, roles="both", sample=None, seed=0, limit=None,
        out_dir=tmp_path / "out", progress=False, batch_size=4,
    )
    assert extractor.batches == [4, 4, 1]
    m = report.metrics
    assert m.overall.n_gold == 6 and m.overall.precision == 1.0 and m.overall.recall == 0.5
    assert report.leak.rate == 0.5 and report.leak.rate_for(PrivacyLevel.PL4) == 1.0
    saved = json.loads((tmp_path / "out" / "eval-tiny_bench-fake.json").read_text())
    assert saved["overall"]["recall"] == 0.5
    assert saved["run"]["n_messages"] == 9
    assert saved["per_message_average"]["warning"] == PER_MESSAGE_WARNING
    markdown = (tmp_path / "out" / "eval-tiny_bench-fake.md").read_text()
    assert "| PL4 |" in markdown and "Most missed types" in markdown
    assert "ana@example.org" not in markdown and "991204" not in json.dumps(saved)


async def test_run_eval_user_role_only(tmp_path: Path) -> None:
    report = await run_eval(bench_file(tmp_path), FakeEmailExtractor(), roles="user", progress=False)
    assert report.run.n_messages == 6 and report.run.roles == "user"


async def test_extractor_returning_the_wrong_number_of_results_fails(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="returned 0 results"):
        await run_eval(bench_file(tmp_path), ShortExtractor(), progress=False, out_dir=tmp_path / "out")
    assert not (tmp_path / "out").exists()


async def test_cli_arguments_round_trip(tmp_path: Path) -> None:
    parser = build_parser()
    path = bench_file(tmp_path)
    argv = ["eval", str(path), "--roles", "user", "--sample", "4", "--seed", "3", "--out", str(tmp_path)]
    args = parser.parse_args([*argv, "--no-progress"])
    console = Console(record=True, width=120)
    report = await run_eval_from_args(args, FakeEmailExtractor(), console)
    assert report.run.n_messages == 4 and report.run.sample == 4
    text = console.export_text()
    assert "warning" in text and "eval-tiny_bench-fake.json" in text
