"""`streamproc worker`: the flows until SIGTERM or SIGINT."""

from __future__ import annotations

import asyncio
import signal

from streamproc.settings import Settings


def run(settings: Settings) -> int:
    from streamproc.app import run_worker

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await run_worker(settings, stop)

    asyncio.run(main())
    return 0
