"""Run an extractor over a MemPrivacy-Bench file and score it: the `streamproc eval` command.

The extractor protocol is batched and async, so messages go in batches (`batch_size`, default
32) one batch at a time; the extractor does its own concurrency inside a batch. The caller owns
the extractor's lifecycle (`async with`); this module never closes it.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from streamproc.core.policy import DEFAULT_POLICY, Policy
from streamproc.core.spans import Detection
from streamproc.eval.dataset import EvalMessage, Roles, load_messages
from streamproc.eval.leak import LeakTally, PlaceholderCounter
from streamproc.eval.metric import MessageCase, Metrics
from streamproc.eval.report import EvalReport, RunInfo, print_report
from streamproc.extractors.base import Extractor

DEFAULT_BATCH_SIZE = 32


async def _extract_all(
    extractor: Extractor, messages: Sequence[EvalMessage], batch_size: int, progress: bool
) -> list[list[Detection]]:
    predictions: list[list[Detection]] = []
    with Progress(
        TextColumn("[bold]eval[/] {task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        disable=not progress,
        transient=True,
    ) as bar:
        task = bar.add_task(extractor.name, total=len(messages))
        for start in range(0, len(messages), batch_size):
            batch = messages[start : start + batch_size]
            result = await extractor.extract([m.turn_text() for m in batch])
            if len(result) != len(batch):  # the protocol promises one list per turn
                raise RuntimeError(
                    f"extractor {extractor.name} returned {len(result)} results for {len(batch)} turns"
                )
            predictions.extend(result)
            bar.advance(task, len(batch))
    return predictions


def score(
    messages: Sequence[EvalMessage],
    predictions: Sequence[Sequence[Detection]],
    policy: Policy = DEFAULT_POLICY,
) -> tuple[Metrics, LeakTally]:
    """Metric and leak rate for messages and their predictions (pure apart from the counters)."""
    metrics, leak = Metrics(), LeakTally()
    counters: dict[str, PlaceholderCounter] = {}  # one per user, as the vault keeps them
    for message, predicted in zip(messages, predictions, strict=True):
        metrics.add(MessageCase(message.content, message.gold, predicted))
        counter = counters.setdefault(message.user_id, PlaceholderCounter())
        leak.add(message.content, message.gold, predicted, counter, policy)
    return metrics, leak


def report_paths(out_dir: Path, data_path: Path, extractor_name: str) -> tuple[Path, Path]:
    stem = f"eval-{data_path.stem}-{extractor_name}"
    return out_dir / f"{stem}.json", out_dir / f"{stem}.md"


async def run_eval(
    path: Path | str,
    extractor: Extractor,
    *,
    roles: Roles = "both",
    sample: int | None = None,
    seed: int = 0,
    limit: int | None = None,
    out_dir: Path | str | None = None,
    progress: bool = True,
    batch_size: int = DEFAULT_BATCH_SIZE,
    users: Sequence[str] | None = None,
) -> EvalReport:
    """Extract, score, and (when `out_dir` is given) write `eval-<stem>-<extractor>.json/.md`.

    Raises `DatasetError` for a malformed file and whatever the extractor raises; nothing is
    written unless the whole run succeeded.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    path = Path(path)
    started_at = datetime.now(UTC)
    started = time.perf_counter()
    messages = load_messages(path, roles=roles, sample=sample, seed=seed, limit=limit, users=users)
    extract_started = time.perf_counter()
    predictions = await _extract_all(extractor, messages, batch_size, progress)
    extract_s = time.perf_counter() - extract_started
    metrics, leak = score(messages, predictions)
    run = RunInfo(
        file=str(path),
        extractor=extractor.name,
        extractor_version=extractor.version,
        roles=roles,
        sample=sample,
        seed=seed,
        limit=limit,
        date=started_at.isoformat(timespec="seconds"),
        n_messages=len(messages),
        n_users=len({m.user_id for m in messages}),
        wall_s=time.perf_counter() - started,
        extract_s=extract_s,
    )
    report = EvalReport(run, metrics, leak)
    if out_dir is not None:
        write_report(report, Path(out_dir), path)
    return report


def write_report(report: EvalReport, out_dir: Path, data_path: Path) -> tuple[Path, Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    json_path, md_path = report_paths(out_dir, data_path, report.run.extractor)
    json_path.write_text(json.dumps(report.to_dict(), ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    md_path.write_text(report.to_markdown(), encoding="utf-8")
    return json_path, md_path


async def run_eval_from_args(
    args: argparse.Namespace, extractor: Extractor, console: Console | None = None
) -> EvalReport:
    """Run with the parsed `streamproc eval` options (streamproc.cli), print the tables and the report paths."""
    console = console or Console()
    report = await run_eval(
        args.file,
        extractor,
        roles=args.roles,
        sample=args.sample,
        seed=args.seed,
        limit=args.limit,
        out_dir=args.out,
        progress=not args.no_progress,
        batch_size=args.batch_size,
        users=getattr(args, "users", None),
    )
    print_report(report, console)
    json_path, md_path = report_paths(Path(args.out), Path(args.file), extractor.name)
    console.print(f"wrote {json_path} and {md_path}")
    return report
