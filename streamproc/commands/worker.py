"""`streamproc worker`: the flows until SIGTERM or SIGINT, in one process or several.

`--processes N` starts N worker processes that join the same consumer groups, so a worker uses
every core it is given (Python runs one core per process). The parent only supervises: it
forwards SIGTERM/SIGINT, and when one child fails it stops the others and exits non-zero, so a
supervisor (compose, systemd, Kubernetes) restarts the whole worker: fail closed.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import signal
from multiprocessing.connection import wait
from typing import Any

from streamproc.settings import Settings


def run(settings: Settings, processes: int = 1, verbose: bool = False) -> int:
    if processes <= 1:
        _serve(settings)
        return 0
    ctx = multiprocessing.get_context("spawn")  # a fresh interpreter: no inherited event loop or sockets
    children = [ctx.Process(target=_child, args=(_for_child(settings, i), verbose), name=f"streamproc-worker-{i}")
                for i in range(processes)]
    for child in children:
        child.start()

    def forward(signum: int, _frame: Any) -> None:
        for child in children:
            if child.is_alive() and child.pid is not None:
                os.kill(child.pid, signum)

    previous = {sig: signal.signal(sig, forward) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        running = list(children)
        failed = False
        while running:
            for sentinel in wait([c.sentinel for c in running]):
                child = next(c for c in running if c.sentinel == sentinel)
                child.join()
                running.remove(child)
                if child.exitcode != 0 and not failed:
                    failed = True  # one child down: stop the rest, the supervisor restarts us
                    for other in running:
                        other.terminate()
        return 1 if failed else 0
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _for_child(settings: Settings, index: int) -> Settings:
    """Each child serves health and metrics on its own port (port + index)."""
    if settings.web.port == 0:
        return settings
    return settings.model_copy(update={"web": settings.web.model_copy(update={"port": settings.web.port + index})})


def _child(settings: Settings, verbose: bool) -> None:
    import sys

    from streamproc.cli import report_error
    from streamproc.ops.logs import configure

    configure(verbose, settings.log_level)
    try:
        _serve(settings)
    except Exception as err:  # one line, as the single-process worker prints it
        sys.exit(report_error(err, verbose))


def _serve(settings: Settings) -> None:
    from streamproc.app import run_worker

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await run_worker(settings, stop)

    with asyncio.Runner(loop_factory=_loop_factory(settings)) as runner:  # asyncio.run has no loop_factory before 3.12
        runner.run(main())


def _loop_factory(settings: Settings) -> Any:
    """uvloop's loop when configured (a compiled loop: less CPU per socket event), else asyncio's."""
    if settings.event_loop == "uvloop":
        import uvloop

        return uvloop.new_event_loop
    return None
