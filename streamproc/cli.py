"""`streamproc` command line. Parses arguments, builds Settings once, dispatches to commands/.

Settings come from STREAMPROC_* environment variables; a few flags override them for convenience.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from pathlib import Path
from typing import Any

from streamproc.core.policy import MAX_TTL_S, MIN_TTL_S, check_ttl
from streamproc.ops.logs import configure
from streamproc.settings import Settings

LEVELS = ("pl2", "pl3", "pl4")


def _settings(args: argparse.Namespace) -> Settings:
    overrides: dict[str, Any] = {}
    extraction = {k: v for k, v in {
        "extractor": getattr(args, "extractor", None),
        "vllm_url": getattr(args, "vllm_url", None),
        "model": getattr(args, "model", None),
        "on_failure": getattr(args, "on_failure", None),
        "prompt_file": getattr(args, "prompt_file", None),
    }.items() if v is not None}
    base = Settings()
    if extraction:
        overrides["extraction"] = base.extraction.model_copy(update=extraction)
    if getattr(args, "web_port", None) is not None:
        overrides["web"] = base.web.model_copy(update={"port": args.web_port})
    return base.model_copy(update=overrides) if overrides else base


def _add_extractor_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--extractor", choices=["rules", "vllm-http", "vllm-inprocess", "hybrid"], help="default: rules")
    p.add_argument("--vllm-url", help="base URL of a vLLM OpenAI-compatible server")
    p.add_argument("--model", help="model directory (in-process) or served model name (HTTP)")
    p.add_argument("--on-failure", choices=["retry", "fallback"])
    p.add_argument("--prompt-file", type=Path)


def _io_command(sub: Any, name: str, help_text: str) -> argparse.ArgumentParser:
    p: argparse.ArgumentParser = sub.add_parser(name, help=help_text)
    p.add_argument("file", nargs="?", type=Path, help="JSONL input; stdin when omitted")
    p.add_argument("--strict", action="store_true", help="exit 1 when any line was bad")
    return p


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="streamproc", description="Privacy firewall for edge-cloud AI agents.")
    parser.add_argument("-v", "--verbose", action="store_true")
    sub = parser.add_subparsers(dest="command", required=True)

    worker = sub.add_parser("worker", help="run the mask and restore flows on Kafka")
    _add_extractor_flags(worker)
    worker.add_argument("--web-port", type=int)

    _add_extractor_flags(_io_command(sub, "mask", "RawTurn JSONL -> MaskedTurn JSONL (no broker)"))
    _io_command(sub, "restore", "CloudResponse JSONL -> RestoredTurn JSONL (no broker)")
    _add_extractor_flags(_io_command(sub, "extract", "RawTurn JSONL -> detected spans with offsets (local debugging: prints values)"))

    forget = sub.add_parser("forget", help="delete a user's keys and mappings (crypto-shredding)")
    forget.add_argument("user_id")

    policy = sub.add_parser("policy", help="show or set a user's per-level actions")
    policy_sub = policy.add_subparsers(dest="policy_command", required=True)
    policy_sub.add_parser("show").add_argument("user_id")
    pset = policy_sub.add_parser("set")
    pset.add_argument("user_id")
    for level in LEVELS:
        pset.add_argument(f"--{level}", choices=["keep", "mask", "redact"])
        pset.add_argument(
            f"--{level}-ttl", type=int, metavar="SECONDS", help=f"{MIN_TTL_S}..{MAX_TTL_S} seconds; 0 removes the TTL"
        )

    schemas = sub.add_parser("schemas", help="write the wire models' JSON Schemas")
    schemas.add_argument("--out", type=Path, default=Path("schemas"))

    produce = _io_command(sub, "produce", "produce JSONL records to Kafka (validated, keyed by user_id)")
    produce.add_argument("--topic")
    produce.add_argument("--kind", choices=["raw", "response"], default="raw", help="RawTurn or CloudResponse lines")

    tail = sub.add_parser("tail", help="print committed records of a topic")
    tail.add_argument("topic")
    tail.add_argument("--max", type=int, dest="max_records")
    tail.add_argument("--idle", type=float, default=3.0, help="stop after this many seconds without records")
    tail.add_argument("--group", help="consumer group: continue where it stopped instead of from the beginning")

    from streamproc.commands.measure import add_bench_parser, add_eval_parser

    add_eval_parser(sub)
    add_bench_parser(sub)
    return parser


def _run_worker(settings: Settings) -> int:
    from streamproc.app import run_worker

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await run_worker(settings, stop)

    asyncio.run(main())
    return 0


def dispatch(args: argparse.Namespace) -> int:
    from streamproc.commands import embedded, kafka_tools

    command = args.command
    if command == "schemas":
        from streamproc.schemas import write_schemas

        for path in write_schemas(args.out):
            print(path)
        return 0
    settings = _settings(args)
    if command == "worker":
        return _run_worker(settings)
    if command in ("mask", "restore", "extract"):
        return asyncio.run(getattr(embedded, command)(settings, args.file, sys.stdout, args.strict))
    if command == "forget":
        return asyncio.run(embedded.forget(settings, args.user_id))
    if command == "policy":
        changes = {lvl: getattr(args, lvl) for lvl in LEVELS if getattr(args, "policy_command") == "set" and getattr(args, lvl)}
        ttls = {}
        if args.policy_command == "set":
            ttls = {lvl: (t or None) for lvl in LEVELS if (t := getattr(args, f"{lvl}_ttl")) is not None}
            for lvl, seconds in ttls.items():
                try:
                    if seconds is not None:
                        check_ttl(seconds)
                except ValueError as err:  # one line, exit 2, like any other usage error
                    print(f"streamproc policy set: error: --{lvl}-ttl: {err} (0 removes it)", file=sys.stderr)
                    return 2
        return asyncio.run(embedded.policy(settings, args.user_id, changes, ttls))
    if command == "produce":
        return asyncio.run(kafka_tools.produce(settings, args.file, args.topic, args.kind, args.strict))
    if command == "tail":
        return asyncio.run(kafka_tools.tail(settings, args.topic, sys.stdout, args.max_records, args.idle, args.group))
    from streamproc.commands.measure import run_measure

    return run_measure(settings, args)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    configure(args.verbose)
    return dispatch(args)


if __name__ == "__main__":
    sys.exit(main())
