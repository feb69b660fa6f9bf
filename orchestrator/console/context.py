"""What every console handler is handed, and the helpers they share."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from slack_sdk.web.async_client import AsyncWebClient
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from temporalio.client import Client

from orchestrator.console.render import Renderer
from orchestrator.humanloop.console_link import LinkSigner
from tracer.store import TraceStore


class ConsoleContext:
    """What every handler needs: the store, Temporal (for actions), Slack (to read alert
    threads), the renderer."""

    def __init__(
        self,
        store: TraceStore,
        temporal: Client | None,
        signer: LinkSigner,
        temporal_ui: str | None,
        templates: Path,
        slack: AsyncWebClient | None = None,
    ) -> None:
        self.store = store
        self.temporal = temporal
        self.signer = signer
        self.temporal_ui = temporal_ui
        self.slack = slack
        self.render = Renderer(templates)


Handler = Callable[[Request, ConsoleContext, str], Awaitable[Response]]


def json_or_page(
    request: Request,
    context: ConsoleContext,
    user: str,
    template: str,
    model: BaseModel,
    extra: dict[str, Any] | None = None,
) -> Response:
    """The model as JSON for a ``.json`` path, else the page rendered from it."""
    if request.url.path.endswith(".json"):
        return JSONResponse(model.model_dump(mode="json"))
    return context.render.page(request, user, template, {"data": model, **(extra or {})})


async def in_thread(call: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Store reads are synchronous: run them off the event loop."""
    return await asyncio.to_thread(call, *args, **kwargs)
