"""Rules detection in child processes that can be killed: the deadline that holds.

Python's `re` holds the GIL for the whole of one match, so a pathological turn in a thread would
starve the event loop (and aiokafka's heartbeat) and could never be interrupted. Here every call
runs in a child process; the parent only waits on a pipe, so the loop stays free. When a call
passes its deadline (or the caller is cancelled: a flow stopping, an outer timeout), the child is
killed and a fresh one is spawned for the next call; the call raises `ExtractionTimeout`.

Each child builds its own extractor once and warms its lexicons before it says it is ready, so a
deadline counts detection time only. Processes are spawned, not forked: forking a process that
runs an event loop and threads is unsafe.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import ctypes.util
import logging
import multiprocessing
import signal
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any, Protocol

from streamproc.core.errors import ExtractionError, ExtractionTimeout
from streamproc.core.spans import Detection
from streamproc.extractors.base import TurnText

log = logging.getLogger(__name__)
READY = "ready"
STARTUP_S = 120.0  # a cold child imports the detectors and loads lexicons; generous on a busy box


class TurnDetector(Protocol):
    def detect(self, turn: TurnText) -> list[Detection]: ...


def rules_detector(min_confidence: float, phone_regions: tuple[str, ...], preset: str = "default") -> TurnDetector:
    from streamproc.extractors.rules.extractor import RulesExtractor

    if not phone_regions:  # the extractor's own default
        return RulesExtractor(min_confidence, preset=preset)
    return RulesExtractor(min_confidence, phone_regions=phone_regions, preset=preset)


def _serve(conn: Connection, build: Callable[[], TurnDetector]) -> None:
    """The child's whole life: build, warm up, then answer one batch per message until EOF."""
    _die_with_parent()
    extractor = build()
    extractor.detect(TurnText("warm-up", "user", "warm up: 张三 phone 13800000000 at 1 Main St", "Ann"))
    conn.send(READY)
    while True:
        try:
            batch = conn.recv()
        except (EOFError, OSError):
            return
        try:
            reply: object = [extractor.detect(turn) for turn in batch]
        except Exception as err:  # a detector bug on some input: report its class, never its message
            reply = Failed(type(err).__name__)
        conn.send(reply)


@dataclass(frozen=True, slots=True)
class Failed:
    """A child's answer when detection raised: the exception's class name only."""

    error_class: str


def _die_with_parent() -> None:
    """A child busy in a pathological match never reads EOF: on Linux, ask the kernel to kill it
    when the parent dies (even by SIGKILL). Ctrl-C is the parent's to handle."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    with contextlib.suppress(Exception):
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


class _Child:
    """One child process and its pipe; started lazily, replaced after a kill."""

    def __init__(self, build: Callable[[], TurnDetector]) -> None:
        self.build = build
        self.process: BaseProcess | None = None
        self.conn: Connection | None = None
        self.busy = False  # a batch is in the child's hands

    async def call(self, batch: list[TurnText], deadline_s: float) -> list[list[Detection]]:
        if self.process is None or not self.process.is_alive():
            await self._start()
        assert self.conn is not None
        try:
            self.conn.send(batch)
            self.busy = True
            async with asyncio.timeout(deadline_s):
                reply = await _receive(self.conn)
            self.busy = False
        except TimeoutError:
            self.kill()
            raise ExtractionTimeout(f"rules detection passed its {deadline_s:g}s deadline on {len(batch)} turn(s)") from None
        except (EOFError, OSError) as err:
            self.kill()
            raise ExtractionError(f"rules process died ({type(err).__name__})", retriable=False) from None
        except BaseException:  # cancelled mid-call: the child's state is unknown, replace it
            self.kill()
            raise
        if isinstance(reply, Failed):
            raise ExtractionError(f"rules detection raised {reply.error_class}", retriable=False)
        if not isinstance(reply, list) or len(reply) != len(batch):
            self.kill()
            raise ExtractionError("rules process answered out of protocol", retriable=False)
        return reply

    async def _start(self) -> None:
        self.kill()
        ctx = multiprocessing.get_context("spawn")
        parent, child = ctx.Pipe(duplex=True)
        process = ctx.Process(target=_serve, args=(child, self.build), daemon=True, name="streamproc-rules")
        process.start()
        child.close()
        self.process, self.conn = process, parent
        try:
            async with asyncio.timeout(STARTUP_S):
                ready = await _receive(parent)
        except (EOFError, OSError, TimeoutError) as err:  # not the data's fault: retry the batch later
            self.kill()
            raise ExtractionError(f"rules process failed to start ({type(err).__name__})", retriable=True) from None
        except BaseException:
            self.kill()
            raise
        if ready != READY:
            self.kill()
            raise ExtractionError("rules process failed to start", retriable=True)

    def kill(self) -> None:
        process, conn, self.process, self.conn = self.process, self.conn, None, None
        self.busy = False
        if conn is not None:
            conn.close()
        if process is not None:
            if process.is_alive():
                process.kill()
            process.join(5)
            with contextlib.suppress(ValueError):
                process.close()


async def _receive(conn: Connection) -> Any:
    """Wait for a message without a thread: the loop watches the pipe's descriptor."""
    loop = asyncio.get_running_loop()
    ready: asyncio.Future[None] = loop.create_future()
    fd = conn.fileno()
    loop.add_reader(fd, lambda: ready.done() or ready.set_result(None))
    try:
        await ready
    finally:
        loop.remove_reader(fd)
    return conn.recv()  # the child sends whole messages; the rest arrives at pipe speed


class RulesPool:
    def __init__(
        self,
        processes: int,
        min_confidence: float,
        phone_regions: tuple[str, ...] = (),
        preset: str = "default",
        deadline_s: float = 10.0,
        build: Callable[[], TurnDetector] | None = None,
    ) -> None:
        """`build` (a picklable callable) makes each child's detector; the rules by default."""
        self.processes = processes
        self.deadline_s = deadline_s
        default = partial(rules_detector, min_confidence, tuple(phone_regions), preset)
        self._children = [_Child(build or default) for _ in range(processes)]
        self._free: asyncio.Queue[_Child] | None = None

    async def detect(self, batch: Sequence[TurnText]) -> list[list[Detection]]:
        """Split the batch in one chunk per process, keep the order. Each chunk has the deadline,
        counted from when a child takes it (time queued behind other calls does not count)."""
        size = max(1, -(-len(batch) // self.processes))
        chunks = [list(batch[i : i + size]) for i in range(0, len(batch), size)]
        results = await asyncio.gather(*(self._on_free_child(c) for c in chunks))
        return [per_turn for chunk in results for per_turn in chunk]

    async def _on_free_child(self, chunk: list[TurnText]) -> list[list[Detection]]:
        if self._free is None:  # created inside the running loop
            self._free = asyncio.Queue()
            for child in self._children:
                self._free.put_nowait(child)
        child = await self._free.get()
        try:
            return await child.call(chunk, self.deadline_s)
        finally:
            self._free.put_nowait(child)

    def close(self) -> None:
        for child in self._children:
            child.kill()
