"""The ops endpoints of a service process: ``/metrics``, ``/healthz``, ``/readyz``.

``/healthz`` answers 200 while the process serves (liveness); ``/readyz`` runs the
process's readiness checks (Temporal reachable, trace store reachable) and answers 503
naming the failing one. Kubernetes probes and compose health checks point here.
Served by uvicorn on ``STEPTRACE_METRICS_HOST``:``STEPTRACE_METRICS_PORT``.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping

import uvicorn
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from orchestrator.config.ports import free_port

ReadinessCheck = Callable[[], Awaitable[None]]


async def readiness(checks: Mapping[str, ReadinessCheck]) -> JSONResponse:
    """Run every check: 200 naming them, or 503 naming each failing one and why."""
    failing: dict[str, str] = {}
    for name, check in checks.items():
        try:
            await check()
        except Exception as exc:  # a failed check is the answer, not an error
            failing[name] = f"{type(exc).__name__}: {exc}"
    if failing:
        return JSONResponse({"ready": False, "failing": failing}, status_code=503)
    return JSONResponse({"ready": True, "checks": sorted(checks)})


def ops_app(checks: Mapping[str, ReadinessCheck]) -> Starlette:
    async def healthz(_: Request) -> PlainTextResponse:
        return PlainTextResponse("ok\n")

    async def readyz(_: Request) -> JSONResponse:
        return await readiness(checks)

    async def metrics(_: Request) -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return Starlette(
        routes=[
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            Route("/metrics", metrics),
        ]
    )


def ops_address(env: Mapping[str, str] | None = None) -> tuple[str, int] | None:
    """Where to serve, from the environment; ``None`` when ``STEPTRACE_METRICS_PORT`` is unset."""
    env = os.environ if env is None else env
    port = env.get("STEPTRACE_METRICS_PORT", "").strip()
    if not port:
        return None
    if not port.isdigit():
        raise ValueError(f"STEPTRACE_METRICS_PORT={port!r} is not a port number (e.g. 9464)")
    return env.get("STEPTRACE_METRICS_HOST", "127.0.0.1"), int(port)


@contextlib.asynccontextmanager
async def serve_ops(
    checks: Mapping[str, ReadinessCheck], host: str = "127.0.0.1", port: int = 0
) -> AsyncIterator[str]:
    """Serve the ops endpoints in this event loop; yields the base URL."""
    port = port or free_port(host)
    config = uvicorn.Config(
        ops_app(checks),
        host=host,
        port=port,
        log_level="warning",
        access_log=False,
        lifespan="off",
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()  # raises why it could not start
            raise RuntimeError(f"the ops server on {host}:{port} stopped before it started")
        await asyncio.sleep(0.01)
    try:
        yield f"http://{host}:{port}"
    finally:
        server.should_exit = True
        await task


@contextlib.asynccontextmanager
async def ops_endpoints(
    checks: Mapping[str, ReadinessCheck], env: Mapping[str, str] | None = None
) -> AsyncIterator[str | None]:
    """:func:`serve_ops` where the environment asks for it; yields its URL or ``None``."""
    address = ops_address(env)
    if address is None:
        yield None
        return
    async with serve_ops(checks, *address) as url:
        yield url
