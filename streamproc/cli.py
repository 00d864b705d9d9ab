"""`streamproc` command line: every parser and the one command table live here.

`main` parses, builds Settings once (STREAMPROC_* environment variables, a few flags on top) and
runs the command the table names. Implementations live in streamproc/commands/ and are imported
only when their command runs, so `--help` stays fast.

Exit codes: 0 all went well; 1 some input was rejected or the command failed; 2 a usage or
configuration error; 130 interrupted. Errors are one line on stderr (`streamproc: error: ...`);
`-v` (anywhere on the line) adds the traceback.
"""

from __future__ import annotations

import argparse
import sys
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from streamproc.core.errors import StartupError, StreamprocError
from streamproc.core.policy import MAX_TTL_S, MIN_TTL_S, check_ttl
from streamproc.settings import EXTRACTOR_NAMES, Settings

LEVELS = ("pl2", "pl3", "pl4")

ENVIRONMENT = """\
settings come from STREAMPROC_* environment variables (see the README), most used:
  STREAMPROC_STATE_DIR             state directory; the embedded vault is STATE_DIR/vault.db
                                   (default ~/.local/state/streamproc)
  STREAMPROC_VAULT__URL            vault database (default: SQLite under the state directory)
  STREAMPROC_VAULT__MASTER_KEY     base64 of 32 bytes (default: a key file under the state directory)
  STREAMPROC_KAFKA__BOOTSTRAP_SERVERS   broker address (default 127.0.0.1:9092)
  STREAMPROC_KAFKA__SECURITY_PROTOCOL   PLAINTEXT | SSL | SASL_PLAINTEXT | SASL_SSL (with __SASL_*, __SSL_*)
  any secret, e.g. STREAMPROC_KAFKA__SASL_PASSWORD_FILE=/run/secrets/kafka: read from a file
  STREAMPROC_EXTRACTION__EXTRACTOR      rules | vllm-http | vllm-inprocess | hybrid
"""

RAW_TURN = """\
input: JSON Lines, one RawTurn per line (schema: `streamproc schemas`), fields
  turn_id, user_id, session_id, role (user|assistant), content (<= 32,000 chars), ts (ISO 8601);
  optional real_name (the user's own name, so it is told apart from third parties) and
  policy ({"PL2": "mask", ...}; may only tighten the stored policy).
"""

CLOUD_RESPONSE = """\
input: JSON Lines, one CloudResponse per line (schema: `streamproc schemas`), fields
  response_id, user_id, session_id, in_reply_to, content (with placeholders), ts; a streamed
  response is several lines with the same response_id plus chunk_seq (from 0) and final.
  --stream cuts whole responses into such chunks (a demo of a token-streaming agent).
"""

LEVEL_HELP = """\
privacy levels: PL2 identifiable PII (names, contacts, addresses), PL3 highly sensitive
(ids, accounts, health, money, locations), PL4 immediately exploitable secrets (passwords,
codes, keys). Actions: keep (pass through), mask (reversible placeholder, value stored
encrypted, optional TTL), redact (placeholder, nothing stored, never restorable).
"""

FILTER_NOTE = """\
Reads the file, or stdin when none is given, and writes one output line per input line to
stdout, as soon as it is ready (usable as a live filter). A rejected line becomes an error
record {"error": {...}} without its content, is reported on stderr, and makes the exit code 1.
"""


class UsageError(StreamprocError):
    """The command line or the settings are wrong: exit 2."""


@dataclass(frozen=True)
class Command:
    help: str
    description: str
    arguments: Callable[[argparse.ArgumentParser], None]
    run: Callable[[Settings, argparse.Namespace], int]
    needs_settings: bool = True


# ----------------------------------------------------------------------------- arguments


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text}")
    return value


def _extractor_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--extractor", choices=EXTRACTOR_NAMES, help="default: rules (or STREAMPROC_EXTRACTION__EXTRACTOR)")
    p.add_argument("--vllm-url", help="vLLM OpenAI-compatible server, e.g. http://gpu:8000 (with or without /v1)")
    p.add_argument("--model", help="model directory (in-process) or served model name (HTTP)")
    p.add_argument("--on-failure", choices=["retry", "fallback"], help="when the extractor fails: retry, or rules only")
    p.add_argument("--prompt-file", type=Path, help="extraction prompt template for the model")


def _input_file(p: argparse.ArgumentParser) -> None:
    p.add_argument("file", nargs="?", type=Path, help="JSON Lines input; stdin when omitted")
    p.add_argument("--strict", action="store_true", help=argparse.SUPPRESS)  # the default now; kept for old scripts


def _worker_args(p: argparse.ArgumentParser) -> None:
    _extractor_flags(p)
    p.add_argument("--web-port", type=int, help="health and metrics port (default 6066; process i uses port + i)")
    p.add_argument("--processes", type=_positive_int, default=1, help="worker processes in the group, one core each (default 1)")


def _mask_args(p: argparse.ArgumentParser) -> None:
    _input_file(p)
    _extractor_flags(p)


def _forget_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("user_id")
    p.add_argument("--yes", action="store_true", help="do not ask for confirmation")


def _policy_args(p: argparse.ArgumentParser) -> None:
    sub = p.add_subparsers(dest="policy_command", required=True, metavar="{show,set}")
    sub.add_parser("show", help="print a user's policy").add_argument("user_id")
    pset = sub.add_parser("set", help="change a user's per-level actions or TTLs", description=LEVEL_HELP,
                          formatter_class=argparse.RawDescriptionHelpFormatter)
    pset.add_argument("user_id")
    for level in LEVELS:
        pset.add_argument(f"--{level}", choices=["keep", "mask", "redact"], help=f"action for {level.upper()}")
        pset.add_argument(f"--{level}-ttl", type=int, metavar="SECONDS",
                          help=f"TTL of {level.upper()} mappings, {MIN_TTL_S}..{MAX_TTL_S} seconds; 0 removes it")


KEYS_HELP = """\
Every wrapped data key records the id (a fingerprint, never the key) of the master key that
wraps it. To retire a master key: make the new key STREAMPROC_VAULT__MASTER_KEY and the old one
STREAMPROC_VAULT__PREVIOUS_MASTER_KEYS, restart the workers, run `keys rotate` (online,
resumable: rerun it if interrupted), check `keys status`, then drop and destroy the old key.
"""


def _keys_args(p: argparse.ArgumentParser) -> None:
    sub = p.add_subparsers(dest="keys_command", required=True, metavar="{status,rotate}")
    sub.add_parser("status", help="wrapped keys per master key id").add_argument("--json", action="store_true", help="one JSON object")
    rotate = sub.add_parser("rotate", help="rewrap every data key under the current master key (online, resumable)")
    rotate.add_argument("--batch-size", type=_positive_int, default=200, help="keys per transaction (default 200)")
    rotate.add_argument("--pause-s", type=float, default=0.0, help="pause between transactions, to spare a busy database")


def _vault_args(p: argparse.ArgumentParser) -> None:
    sub = p.add_subparsers(dest="vault_command", required=True, metavar="{identity,move-group}")
    sub.add_parser("identity", help="this vault's identity and the vault the consumer group is bound to")
    move = sub.add_parser("move-group", help="bind the consumer group to this vault (a migration: read the README first)")
    move.add_argument("--yes", action="store_true", help="do not ask for confirmation")


def _schemas_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", type=Path, default=Path("schemas"), help="directory to write (default: schemas)")


def _produce_args(p: argparse.ArgumentParser) -> None:
    _input_file(p)
    p.add_argument("--topic", help="default: raw-dialogue, or cloud-response with --kind response")
    p.add_argument("--kind", choices=["raw", "response"], default="raw", help="RawTurn or CloudResponse lines")
    p.add_argument("--stream", action="store_true", help="with --kind response: send each response as chunks (chunk_seq, final)")
    p.add_argument("--chunk-chars", type=_positive_int, default=6, help="characters per chunk with --stream (default: 6)")


def _tail_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("topic")
    p.add_argument("--max", type=_positive_int, dest="max_records", help="stop after this many records")
    p.add_argument("--idle", type=float, default=3.0, help="stop after this many seconds without records")
    p.add_argument("--group", help="consumer group: continue where it stopped instead of from the beginning")


def _eval_args(p: argparse.ArgumentParser) -> None:
    from streamproc.eval.dataset import ROLE_CHOICES

    p.add_argument("file", type=Path, help="MemPrivacy-Bench JSONL (one user per line)")
    _extractor_flags(p)
    p.add_argument("--roles", choices=ROLE_CHOICES, default="both", help="which turns to score")
    p.add_argument("--sample", type=_positive_int, default=None, metavar="N", help="score N random messages")
    p.add_argument("--seed", type=int, default=0, help="seed for --sample")
    p.add_argument("--limit", type=_positive_int, default=None, metavar="N", help="score the first N messages")
    p.add_argument("--users", nargs="+", default=None, metavar="UUID_PREFIX",
                   help="score only users whose uuid starts with one of these prefixes (develop on one, validate on others)")
    p.add_argument("--out", type=Path, default=Path("eval-reports"), help="directory for JSON/Markdown")
    p.add_argument("--batch-size", type=_positive_int, default=32, help="turns per extractor call")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")


def _bench_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", default="bench-results", help="directory for the JSON result and PNG plot")
    p.add_argument("--turns", type=_positive_int, default=20_000, help="turns per measured pass")
    p.add_argument("--users", type=_positive_int, default=500)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--rate", type=float, default=1_000.0, help="offered load (turns/s) for the latency pass")
    p.add_argument("--smoke", action="store_true", help="a few seconds; checks the result is well formed")
    p.add_argument("--target-rate", type=float, default=1_000.0, help="print the sizing (processes, partitions) for this many turns/s")
    p.add_argument("--engine", choices=["pipeline", "vllm"], default="pipeline", help="vllm: GPU extraction bench")
    p.add_argument("--model", help="model directory for --engine vllm")
    p.add_argument("--soak", type=_positive_int, default=0, help="only a soak: this many turns through one worker, RSS sampled")
    p.add_argument("--prefill-mappings", type=int, default=0, help="also compare mask throughput on a vault holding this many mappings")
    p.add_argument("--processes-pass", action="store_true", help="also measure `worker --processes 1` vs 2 (subprocesses)")
    p.add_argument("--loop-pass", action="store_true", help="also measure the worker on asyncio's loop vs uvloop (subprocesses)")


# ----------------------------------------------------------------------------- runners


def _run_worker(settings: Settings, args: argparse.Namespace) -> int:
    from streamproc.commands.worker import run

    return run(settings, args.processes, args.verbose)


def _run_filter(settings: Settings, args: argparse.Namespace) -> int:
    from streamproc.commands import embedded

    return embedded.run_filter(settings, args.command, _existing(args.file))


def _confirmed(args: argparse.Namespace, warning: str, what: str, expected: str) -> bool:
    """An irreversible command asks on a terminal: the operator types `expected` back. `--yes`
    or a non-terminal stdin (scripts, compose) skips the question."""
    if args.yes or not sys.stdin.isatty():
        return True
    return input(f"{warning}. Type {what} to confirm: ").strip() == expected


def _run_forget(settings: Settings, args: argparse.Namespace) -> int:
    from streamproc.commands import embedded

    warning = f"forget {args.user_id}: delete the user's key and every mapping; this cannot be undone"
    if not _confirmed(args, warning, "the user id", args.user_id):
        print("streamproc: not confirmed; nothing deleted", file=sys.stderr)
        return 1
    return embedded.forget(settings, args.user_id)


def _run_policy(settings: Settings, args: argparse.Namespace) -> int:
    from streamproc.commands import embedded

    changes: dict[str, str] = {}
    ttls: dict[str, int | None] = {}
    if args.policy_command == "set":
        changes = {lvl: getattr(args, lvl) for lvl in LEVELS if getattr(args, lvl)}
        ttls = {lvl: (t or None) for lvl in LEVELS if (t := getattr(args, f"{lvl}_ttl")) is not None}
        for lvl, seconds in ttls.items():
            try:
                if seconds is not None:
                    check_ttl(seconds)
            except ValueError as err:  # before the vault is opened: nothing is stored
                raise UsageError(f"--{lvl}-ttl: {err} (0 removes it)") from None
    return embedded.policy(settings, args.user_id, changes, ttls)


def _run_keys(settings: Settings, args: argparse.Namespace) -> int:
    import asyncio

    from streamproc.commands import keys

    if args.keys_command == "status":
        return asyncio.run(keys.status(settings, sys.stdout, args.json))
    return asyncio.run(keys.rotate(settings, sys.stdout, args.batch_size, args.pause_s))


def _run_vault(settings: Settings, args: argparse.Namespace) -> int:
    from streamproc.commands import vault_tools

    if args.vault_command == "identity":
        return vault_tools.identity(settings)
    warning = f"move group {settings.kafka.group_id} to this vault: placeholders minted by the old vault will no longer restore"
    if not _confirmed(args, warning, "'move'", "move"):
        print("streamproc: not confirmed; nothing changed", file=sys.stderr)
        return 1
    return vault_tools.move_group(settings)


def _run_doctor(settings: Settings, args: argparse.Namespace) -> int:
    from streamproc.commands import doctor

    return doctor.run(settings)


def _run_schemas(settings: Settings, args: argparse.Namespace) -> int:
    from streamproc.schemas import write_schemas

    if args.out.exists() and not args.out.is_dir():
        raise UsageError(f"--out {args.out} exists and is not a directory")
    for path in write_schemas(args.out):
        print(path)
    return 0


def _run_produce(settings: Settings, args: argparse.Namespace) -> int:
    import asyncio

    from streamproc.commands import kafka_tools

    if args.stream and args.kind != "response":
        raise UsageError("--stream needs --kind response")
    stream_chars = args.chunk_chars if args.stream else None
    return asyncio.run(kafka_tools.produce(settings, _existing(args.file), args.topic, args.kind, stream_chars))


def _run_tail(settings: Settings, args: argparse.Namespace) -> int:
    import asyncio

    from streamproc.commands import kafka_tools

    return asyncio.run(kafka_tools.tail(settings, args.topic, sys.stdout, args.max_records, args.idle, args.group))


def _run_eval(settings: Settings, args: argparse.Namespace) -> int:
    from streamproc.commands.measure import run_eval

    _existing(args.file)
    return run_eval(settings, args)


def _run_bench(settings: Settings, args: argparse.Namespace) -> int:
    from streamproc.bench.runner import run_bench_from_args

    return run_bench_from_args(settings, args)


def _dlq_args(p: argparse.ArgumentParser) -> None:
    from streamproc.commands.dlq import add_dlq_arguments

    add_dlq_arguments(p)


def _run_dlq(settings: Settings, args: argparse.Namespace) -> int:
    import asyncio

    from streamproc.commands import dlq

    return asyncio.run(dlq.run(settings, args))


COMMANDS: dict[str, Command] = {
    "worker": Command("run the mask and restore flows on Kafka", ENVIRONMENT, _worker_args, _run_worker),
    "mask": Command("RawTurn JSONL -> MaskedTurn JSONL, no broker", RAW_TURN + FILTER_NOTE + ENVIRONMENT, _mask_args, _run_filter),
    "restore": Command("CloudResponse JSONL -> RestoredTurn JSONL, no broker", CLOUD_RESPONSE + FILTER_NOTE + ENVIRONMENT, _input_file, _run_filter),
    "extract": Command(
        "RawTurn JSONL -> detected spans with offsets (LOCAL debugging: prints private values)",
        RAW_TURN + "output: one {turn_id, spans: [...]} line per turn, WITH the original values: never point it at a shared log.\n",
        _mask_args, _run_filter,
    ),
    "forget": Command(
        "delete a user's key and mappings (crypto-shredding; cannot be undone)",
        "Deletes the user's data key, mappings and policy from the vault. Kafka copies and backups are not touched (see the README).\n" + ENVIRONMENT,
        _forget_args, _run_forget,
    ),
    "policy": Command("show or set a user's per-level actions", LEVEL_HELP + ENVIRONMENT, _policy_args, _run_policy),
    "keys": Command("master key lifecycle: status and online rotation (key ids only)", KEYS_HELP + ENVIRONMENT, _keys_args, _run_keys),
    "vault": Command(
        "vault identity and group fencing",
        "A consumer group is bound to one vault; a worker with another vault refuses to start.\n"
        "move-group rebinds the group to this vault: answers that name placeholders minted by the old\n"
        "vault stay unresolved, and numbering starts again in this vault.\n" + ENVIRONMENT,
        _vault_args, _run_vault,
    ),
    "doctor": Command(
        "check the broker, topics, vault and extractor this worker would use",
        "Prints one row per check and exits 1 if any failed (usable as a health check).\n" + ENVIRONMENT,
        lambda p: None, _run_doctor,
    ),
    "schemas": Command("write the wire models' JSON Schemas", "One <model>.schema.json per wire model.\n", _schemas_args, _run_schemas, needs_settings=False),
    "produce": Command("produce JSONL records to Kafka (validated, keyed by user_id)", RAW_TURN + CLOUD_RESPONSE + ENVIRONMENT, _produce_args, _run_produce),
    "tail": Command("print committed records of a topic", "Reads with isolation.level=read_committed.\n" + ENVIRONMENT, _tail_args, _run_tail),
    "eval": Command("score an extractor on MemPrivacy-Bench-format data", "Span-level precision, recall, F1 and the leak rate.\n", _eval_args, _run_eval),
    "dlq": Command(
        "inspect or replay sealed dead letters (LOCAL operator command: inspect prints private values)",
        "Opens dead letters with the vault's dead-letter key. `inspect` prints the original records;\n"
        "`replay` re-submits chosen ones to their source topic with their original key.\n" + ENVIRONMENT,
        _dlq_args, _run_dlq,
    ),
    "bench": Command("measure throughput and latency against a pass-through baseline", "Needs the broker and Postgres (infra/*.sh start).\n" + ENVIRONMENT, _bench_args, _run_bench),
}


def _existing(path: Path | None) -> Path | None:
    if path is not None and not path.is_file():
        raise UsageError(f"no such file: {path}")
    return path


# ----------------------------------------------------------------------------- main


def build_parser() -> argparse.ArgumentParser:
    # -v on a parent parser with SUPPRESS defaults: it works before or after the subcommand.
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("-v", "--verbose", action="store_true", default=argparse.SUPPRESS, help="debug logs and tracebacks")
    parser = argparse.ArgumentParser(prog="streamproc", description="Privacy firewall for edge-cloud AI agents.", parents=[common])
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, command in COMMANDS.items():
        p = sub.add_parser(name, help=command.help, description=command.help + ".\n\n" + command.description,
                           parents=[common], formatter_class=argparse.RawDescriptionHelpFormatter)
        command.arguments(p)
    return parser


def load_settings(args: argparse.Namespace) -> Settings:
    """Settings from the environment with the command's flags on top, validated once."""
    extraction = {k: v for k, v in {
        "extractor": getattr(args, "extractor", None),
        "vllm_url": getattr(args, "vllm_url", None),
        "model": getattr(args, "model", None),
        "on_failure": getattr(args, "on_failure", None),
        "prompt_file": getattr(args, "prompt_file", None),
    }.items() if v is not None}
    overrides: dict[str, Any] = {"extraction": extraction} if extraction else {}
    if getattr(args, "web_port", None) is not None:
        overrides["web"] = {"port": args.web_port}
    try:
        return Settings(**overrides)
    except ValidationError as err:
        from streamproc.codec import describe

        raise UsageError(f"invalid settings: {describe(err)}") from None


def main(argv: list[str] | None = None) -> int:
    from streamproc.ops.logs import configure

    args = build_parser().parse_args(argv)
    args.verbose = verbose = getattr(args, "verbose", False)  # SUPPRESS leaves it unset without -v
    command = COMMANDS[args.command]
    try:
        settings = load_settings(args) if command.needs_settings else Settings.model_construct()
        configure(verbose, settings.log_level if args.command in ("worker", "bench") else "WARNING")
        return command.run(settings, args)
    except KeyboardInterrupt:
        return 130
    except Exception as err:  # the one place errors become exit codes
        return report_error(err, verbose)


def report_error(err: Exception, verbose: bool) -> int:
    """Print `streamproc: error: ...` (and the traceback with -v); return the exit code."""
    if verbose:
        traceback.print_exc()
    print(f"streamproc: error: {_one_line(err)}", file=sys.stderr)
    return 2 if isinstance(err, (UsageError, StartupError)) else 1


def _one_line(err: BaseException) -> str:
    """Our own errors and OS errors never quote input; anything else shows only its class."""
    if isinstance(err, (StreamprocError, OSError)):
        text = str(err).splitlines()[0] if str(err) else type(err).__name__
        return text if isinstance(err, (UsageError, StartupError)) else f"{type(err).__name__}: {text}"
    return f"{type(err).__name__} (run with -v for the traceback)"


if __name__ == "__main__":
    sys.exit(main())
