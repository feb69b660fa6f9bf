"""Serving the console alone: ``steptrace console`` (uvicorn on a host and port).

Inside ``steptrace serve``/``up`` it is :mod:`orchestrator.console.served`."""

from __future__ import annotations

import uvicorn
from pydantic import SecretStr
from slack_sdk.web.async_client import AsyncWebClient
from starlette.applications import Starlette

from orchestrator.config.settings import Settings
from orchestrator.console.app import console_app
from orchestrator.humanloop.bot_http import bind
from orchestrator.runtime.connection import connect
from tracer.store import TraceStore


async def run_console(
    store: TraceStore,
    settings: Settings,
    *,
    secret: SecretStr,
    host: str,
    port: int,
    https: bool = False,
) -> None:
    """Serve the console until interrupted; actions need STEPTRACE_TEMPORAL_ADDRESS."""
    temporal = None
    if settings.temporal_address:
        temporal = await connect(settings)  # the product's codec and TLS
    app = console_app(
        store,
        temporal,
        secret=secret,
        temporal_ui=settings.temporal_ui_url,
        https=https,
        slack=slack_client(settings),
    )
    sock = bind(host, port)
    print(f"steptrace console: http://{host}:{sock.getsockname()[1]}/", flush=True)
    if temporal is None:
        print("  (no STEPTRACE_TEMPORAL_ADDRESS: pages only, actions off)", flush=True)
    await http_server(app).serve(sockets=[sock])


def slack_client(settings: Settings) -> AsyncWebClient | None:
    """A Web API client for the alerts' threads, when Slack is configured."""
    endpoint = settings.endpoints.get("slack")
    if endpoint is None:
        return None
    root = endpoint.base_url.rstrip("/") + "/"
    return AsyncWebClient(token=endpoint.token.get_secret_value(), base_url=root)


def http_server(app: Starlette) -> uvicorn.Server:
    return uvicorn.Server(
        uvicorn.Config(app, log_level="warning", lifespan="off", access_log=False)
    )
