"""`streamproc eval` (extraction quality) and `streamproc bench` (pipeline speed)."""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from streamproc.settings import Settings


def add_eval_parser(sub: Any) -> None:
    from streamproc.eval.runner import add_eval_arguments

    parser = sub.add_parser("eval", help="score an extractor on MemPrivacy-Bench-format data")
    add_eval_arguments(parser)
    parser.add_argument("--vllm-url")
    parser.add_argument("--model")


def add_bench_parser(sub: Any) -> None:
    parser = sub.add_parser("bench", help="measure throughput and latency against a pass-through baseline")
    parser.add_argument("--out", default="bench-results", help="directory for the JSON result and PNG plot")
    parser.add_argument("--turns", type=int, default=20_000, help="turns per measured pass")
    parser.add_argument("--users", type=int, default=500)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--rate", type=float, default=1_000.0, help="offered load (turns/s) for the latency pass")
    parser.add_argument("--smoke", action="store_true", help="a few seconds; checks the result is well formed")
    parser.add_argument("--engine", choices=["pipeline", "vllm"], default="pipeline", help="vllm: GPU extraction bench")
    parser.add_argument("--model", help="model directory for --engine vllm")


def run_measure(settings: Settings, args: argparse.Namespace) -> int:
    if args.command == "eval":
        from streamproc.app import build_extractor
        from streamproc.eval.runner import run_eval_from_args

        update = {k: v for k, v in {"extractor": args.extractor, "vllm_url": args.vllm_url, "model": args.model}.items() if v}
        settings = settings.model_copy(update={"extraction": settings.extraction.model_copy(update=update)})

        async def main() -> int:
            extractor = build_extractor(settings)
            try:
                await run_eval_from_args(args, extractor)
            finally:
                await extractor.aclose()
            return 0

        return asyncio.run(main())
    from streamproc.bench.runner import run_bench_from_args

    return run_bench_from_args(settings, args)
