"""Several vLLM servers behind one client, without a load balancer.

- Each request goes to the healthy server with the fewest requests outstanding (ties rotate).
- A server whose request failed at the transport level, timed out or answered 5xx is ejected; a
  background task probes it (the `probe` callable: GET /v1/models) every `probe_interval_s` and
  re-admits it when it answers. The caller retries the failed request on another server, so no
  turn is lost while one survives.
- When every server is ejected, requests still go to the least busy of them (a single-server
  deployment behaves as it did without a pool), and a success re-admits that server at once.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Collection
from contextlib import asynccontextmanager
from dataclasses import dataclass

log = logging.getLogger(__name__)


@dataclass(eq=False, slots=True)
class Server:
    url: str
    outstanding: int = 0
    healthy: bool = True
    ejections: int = 0


class ServerPool:
    def __init__(
        self, urls: Collection[str], *, probe: Callable[[str], Awaitable[bool]], probe_interval_s: float
    ) -> None:
        if not urls:
            raise ValueError("a server pool needs at least one URL")
        self.servers = [Server(url) for url in urls]
        self._probe = probe
        self._interval = probe_interval_s
        self._turn = itertools.count()
        self._probes: dict[str, asyncio.Task[None]] = {}

    @property
    def healthy(self) -> list[Server]:
        return [s for s in self.servers if s.healthy]

    def pick(self, avoid: Collection[Server] = ()) -> Server:
        """Least outstanding among the healthy servers not in `avoid`; else among the healthy; else
        among all."""
        for candidates in (
            [s for s in self.servers if s.healthy and s not in avoid],
            self.healthy,
            [s for s in self.servers if s not in avoid],
            self.servers,
        ):
            if candidates:
                least = min(s.outstanding for s in candidates)
                tied = [s for s in candidates if s.outstanding == least]
                return tied[next(self._turn) % len(tied)]
        raise AssertionError("unreachable: the pool is never empty")

    @asynccontextmanager
    async def lease(self, server: Server) -> AsyncIterator[Server]:
        server.outstanding += 1
        try:
            yield server
        finally:
            server.outstanding -= 1

    def succeeded(self, server: Server) -> None:
        if not server.healthy:
            self._admit(server, "a request succeeded")

    def eject(self, server: Server, reason: str) -> None:
        if not server.healthy:
            return
        server.healthy = False
        server.ejections += 1
        log.warning("vLLM server %s ejected (%s); %d of %d healthy", server.url, reason, len(self.healthy), len(self.servers))
        task = self._probes.get(server.url)  # a lone server is probed too: re-admitted without traffic
        if task is None or task.done():
            self._probes[server.url] = asyncio.get_running_loop().create_task(
                self._reprobe(server), name=f"vllm-probe {server.url}"
            )

    async def _reprobe(self, server: Server) -> None:
        while not server.healthy:
            await asyncio.sleep(self._interval)  # a probe schedule, not a synchronisation
            if server.healthy:
                return
            try:
                ok = await self._probe(server.url)
            except Exception:  # a probe must never die of the thing it probes
                ok = False
            if ok:
                self._admit(server, "probe answered")

    def _admit(self, server: Server, why: str) -> None:
        server.healthy = True
        log.info("vLLM server %s re-admitted (%s); %d of %d healthy", server.url, why, len(self.healthy), len(self.servers))

    async def aclose(self) -> None:
        tasks = [t for t in self._probes.values() if not t.done()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._probes.clear()
