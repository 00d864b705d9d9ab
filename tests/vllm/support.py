"""Process and instrumentation helpers for the tests that run a real vLLM engine on the CPU.

- `VllmServer`: `python -m vllm.entrypoints.openai.api_server` in its own session (process group),
  so a kill reaches its EngineCore child too (infra/vllm/NOTES.md: SIGKILL of the server pid alone
  orphans it); waits for /health with a deadline and fails with the log tail.
- `GroupWorkerProcess`: tests/integration's WorkerProcess, started in its own process group for the
  same reason (an in-process engine in the worker has an EngineCore child).
- `InFlight`: counts requests in flight on the real thing: httpx event hooks on the extractor's own
  client, or a wrapper around the in-process engine's own `generate`.
"""

from __future__ import annotations

import contextvars
import datetime
import ipaddress
import json
import os
import signal
import ssl
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import jsonschema
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from streamproc.bench.workload import Workload
from streamproc.extractors.base import TurnText
from streamproc.extractors.model_request import SPAN_ARRAY_SCHEMA
from tests.integration.streams import ROOT, WorkerProcess, free_port, settings_env, wait_for

SERVED_NAME = "tiny"
SECURED_API_KEY = "sk-streamproc-test-4f1c"  # a test value for --api-key, not a secret
KV_CACHE_BYTES = 64 << 20  # plenty for the tiny model (~131k tokens); see NOTES.md
# The real prompt template is ~2,400 tokens with the tiny model's tokenizer: 2048 is too short.
MAX_MODEL_LEN = 4096
STRUCTURED_OUTPUTS = {"backend": "guidance", "disable_any_whitespace": True}
SHM = Path("/dev/shm")


def turn_texts(n: int, seed: int) -> list[TurnText]:
    """Seeded bilingual turns with planted private values (streamproc.bench.workload)."""
    return [
        TurnText.of(t.raw)
        for t in Workload(users=8, seed=seed).turns(n)
    ]


def schema_valid(text: str) -> bool:
    """An oracle independent of the code under test: JSON (control characters allowed in strings,
    as the parser allows) that the span-array schema accepts (jsonschema, not our pydantic models)."""
    try:
        value = json.loads(text.strip(), strict=False)
        jsonschema.validate(value, SPAN_ARRAY_SCHEMA)
    except (ValueError, jsonschema.ValidationError):
        return False
    return True


@dataclass(frozen=True)
class Tls:
    ca: Path
    cert: Path
    key: Path


def make_tls(folder: Path) -> Tls:
    """A throw-away CA and a server certificate it signed for 127.0.0.1 / localhost."""
    folder.mkdir(parents=True, exist_ok=True)
    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "streamproc test CA")])
    ca = (
        x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    cert = (
        x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    tls = Tls(folder / "ca.pem", folder / "server.pem", folder / "server.key")
    tls.ca.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    tls.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    tls.key.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    tls.key.chmod(0o600)
    return tls


def log_tail(path: Path, chars: int = 4000) -> str:
    try:
        return path.read_text("utf-8", errors="replace")[-chars:]
    except OSError:
        return "(no log)"


def _shm_names() -> set[str]:
    try:
        return {p.name for p in SHM.iterdir()}
    except OSError:
        return set()


def _shm_in_use() -> set[str]:
    """Names under /dev/shm that some live process still has open or mapped."""
    used: set[str] = set()
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            for line in (proc / "maps").read_text().splitlines():
                if "/dev/shm/" in line:
                    used.add(line.rsplit("/dev/shm/", 1)[1].split(" ")[0])
            for fd in (proc / "fd").iterdir():
                target = os.readlink(fd)
                if target.startswith("/dev/shm/"):
                    used.add(target[len("/dev/shm/"):].split(" ")[0])
        except OSError:
            continue
    return used


def remove_shm_leftovers(before: set[str]) -> list[str]:
    """After a SIGKILL of a vLLM process group: remove the multiprocessing segments it left
    (`psm_*`, `sem.mp-*`), only those that appeared since `before` and that no live process uses
    (other sessions on this machine may run vLLM too)."""
    new = {n for n in _shm_names() - before if n.startswith(("psm_", "sem.mp-"))}
    if not new:
        return []
    removed = []
    for name in sorted(new - _shm_in_use()):
        try:
            (SHM / name).unlink()
            removed.append(name)
        except OSError:
            pass
    return removed


def kill_group(proc: subprocess.Popen[bytes], *, grace_s: float) -> None:
    """SIGTERM the process group, SIGKILL what is left after `grace_s` (children included)."""
    pgid = proc.pid  # start_new_session=True: the child leads its own group
    if grace_s > 0 and proc.poll() is None:
        try:
            os.killpg(pgid, signal.SIGTERM)
            proc.wait(timeout=grace_s)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            pass
    try:
        os.killpg(pgid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        pass
    deadline = time.monotonic() + 10
    while _group_alive(pgid) and time.monotonic() < deadline:
        time.sleep(0.05)


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class VllmServer:
    """A real OpenAI-compatible vLLM server for one model, in its own process group; optionally
    with `--api-key` and TLS (`tls`: the server's certificate and key files and the CA to trust)."""

    def __init__(
        self,
        model_dir: Path,
        log_path: Path,
        *,
        env: dict[str, str] | None = None,
        api_key: str | None = None,
        tls: Tls | None = None,
    ) -> None:
        self.model_dir = model_dir
        self.log_path = log_path
        self.port = free_port()
        self.api_key = api_key
        self.tls = tls
        self.url = f"{'https' if tls else 'http'}://127.0.0.1:{self.port}"
        self.env = dict(os.environ if env is None else env)
        self.proc: subprocess.Popen[bytes] | None = None
        self.killed = False
        self.started_at = 0.0
        self.ready_after_s: float | None = None
        self._shm_before: set[str] = set()

    def launch(self) -> VllmServer:
        argv = [
            sys.executable, "-m", "vllm.entrypoints.openai.api_server",
            "--model", str(self.model_dir), "--served-model-name", SERVED_NAME,
            "--host", "127.0.0.1", "--port", str(self.port),
            "--max-model-len", str(MAX_MODEL_LEN), "--enforce-eager", "--disable-log-stats",
            "--kv-cache-memory-bytes", str(KV_CACHE_BYTES),
            "--structured-outputs-config", json.dumps(STRUCTURED_OUTPUTS),
        ]
        if self.api_key:
            argv += ["--api-key", self.api_key]
        if self.tls:
            argv += ["--ssl-certfile", str(self.tls.cert), "--ssl-keyfile", str(self.tls.key)]
        self._shm_before = _shm_names()
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                argv, env=self.env, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT, start_new_session=True
            )
        self.started_at = time.monotonic()
        return self

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    async def wait_healthy(self, deadline_s: float) -> None:
        assert self.proc is not None, "launch() first"
        verify: ssl.SSLContext | bool = ssl.create_default_context(cafile=str(self.tls.ca)) if self.tls else True
        async with httpx.AsyncClient(base_url=self.url, timeout=2.0, verify=verify) as client:

            async def healthy() -> bool:
                if self.proc is not None and self.proc.poll() is not None:
                    raise AssertionError(
                        f"vLLM server exited with {self.proc.returncode} before /health answered; log:\n{log_tail(self.log_path)}"
                    )
                try:
                    return (await client.get("/health")).status_code == 200
                except httpx.TransportError:
                    return False

            try:
                await wait_for(healthy, deadline_s=deadline_s, what="vLLM server /health", interval_s=0.5)
            except AssertionError as err:
                if "exited" in str(err):
                    raise
                raise AssertionError(f"{err}; log:\n{log_tail(self.log_path)}") from None
        if self.ready_after_s is None:
            self.ready_after_s = time.monotonic() - self.started_at

    def kill9(self) -> None:
        """SIGKILL the whole group at once (the server and its EngineCore), as a crash would."""
        assert self.proc is not None
        self.killed = True
        kill_group(self.proc, grace_s=0)
        remove_shm_leftovers(self._shm_before)

    def stop(self) -> None:
        if self.proc is None:
            return
        kill_group(self.proc, grace_s=20)
        remove_shm_leftovers(self._shm_before)


class GroupWorkerProcess(WorkerProcess):
    """`streamproc worker` as in tests/integration, but in its own process group, so stopping it also
    stops an in-process engine's EngineCore child."""

    def __init__(self, settings: Any, log_path: Path, extra_args: Iterable[str] = (), env: dict[str, str] | None = None) -> None:
        super().__init__(settings, log_path, extra_args)
        self.env = {**settings_env(settings), **(env or {})}

    def start(self) -> GroupWorkerProcess:
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "streamproc.cli", "worker", *self.extra_args],
                env=self.env, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT, start_new_session=True,
            )
        return self

    def stop(self, timeout: float = 60) -> int | None:
        """SIGTERM (the worker shuts its engine down), then SIGKILL whatever of the group is left."""
        assert self.proc is not None
        kill_group(self.proc, grace_s=timeout)
        return self.proc.returncode


class InFlight:
    """Concurrent requests seen on the real transport or engine: current, maximum, total."""

    def __init__(self) -> None:
        self.now = 0
        self.max = 0
        self.total = 0

    def enter(self) -> None:
        self.now += 1
        self.total += 1
        self.max = max(self.max, self.now)

    def exit(self) -> None:
        self.now -= 1

    def hook(self, client: httpx.AsyncClient, path: str = "/v1/chat/completions") -> None:
        """Count on the extractor's own httpx client: a request is in flight from the moment it is
        sent until its response headers arrive (vLLM answers non-streaming requests when done)."""

        async def on_request(request: httpx.Request) -> None:
            if request.url.path == path:
                self.enter()

        async def on_response(response: httpx.Response) -> None:
            if response.request.url.path == path:
                self.exit()

        client.event_hooks = {"request": [on_request], "response": [on_response]}


# Which turn a `generate()` call belongs to: set by the caller's task, inherited by the extractor's
# per-request tasks (asyncio copies the context into tasks it creates).
CURRENT_TURN: contextvars.ContextVar[str | None] = contextvars.ContextVar("CURRENT_TURN", default=None)


class GenerateRecorder:
    """Wraps a live AsyncLLM's `generate` (an instance attribute shadows the method): counts calls in
    flight and keeps each request's final text and finish_reason, keyed by CURRENT_TURN."""

    def __init__(self, engine: Any) -> None:
        self.engine = engine
        self.in_flight = InFlight()
        self.outputs: dict[str, tuple[str, str | None]] = {}
        self._original: Callable[..., AsyncIterator[Any]] = engine.generate

    def __enter__(self) -> GenerateRecorder:
        original, counter, outputs = self._original, self.in_flight, self.outputs

        async def generate(*args: Any, **kwargs: Any) -> AsyncIterator[Any]:
            counter.enter()
            final = None
            try:
                async for output in original(*args, **kwargs):
                    final = output
                    yield output
            finally:
                counter.exit()
                turn = CURRENT_TURN.get()
                if turn is not None and final is not None and final.outputs:
                    outputs[turn] = (final.outputs[0].text, final.outputs[0].finish_reason)

        self.engine.generate = generate
        return self

    def __exit__(self, *exc: object) -> None:
        del self.engine.generate  # back to the class's method
