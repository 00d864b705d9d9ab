"""The worker's small HTTP server: liveness, readiness and Prometheus metrics.

/health/live  200 while the event loop answers.
/health/ready 200 when the broker is reachable through every flow and the vault answers a ping.
/health       the same as ready, with a JSON body naming what is not ready.
/metrics      Prometheus text format.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from streamproc.ops.metrics import Metrics

Check = Callable[[], Awaitable[bool]]


def make_app(metrics: Metrics, checks: dict[str, Check]) -> web.Application:
    async def live(_: web.Request) -> web.Response:
        return web.json_response({"status": "alive"})

    async def ready(_: web.Request) -> web.Response:
        results = {}
        for name, check in checks.items():
            try:
                results[name] = await check()
            except Exception:  # a failing check means "not ready", never a 500 with details
                results[name] = False
        ok = all(results.values())
        return web.Response(
            status=200 if ok else 503,
            text=json.dumps({"status": "ready" if ok else "not ready", "checks": results}),
            content_type="application/json",
        )

    async def metrics_view(_: web.Request) -> web.Response:
        body = generate_latest(metrics.registry)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    app = web.Application()
    app.router.add_get("/health/live", live)
    app.router.add_get("/health/ready", ready)
    app.router.add_get("/health", ready)
    app.router.add_get("/metrics", metrics_view)
    return app


async def start_web(app: web.Application, host: str, port: int) -> web.AppRunner:
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    return runner
