"""The bot on HTTP: the ASGI app that puts every request through the gate, and uvicorn.

:func:`asgi_app` reads the body through :class:`~orchestrator.humanloop.bot_gate.SlackGate`
(size, signature, replay) and :func:`~orchestrator.humanloop.bot_gate.payload_problem`
(shape) before slack-bolt sees it; only a request that passes is dispatched.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass

import uvicorn
from slack_bolt.adapter.starlette.async_handler import to_starlette_response
from slack_bolt.async_app import AsyncApp, AsyncBoltRequest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from orchestrator.humanloop.alerts import ACTION_IDS
from orchestrator.humanloop.bot_gate import Refused, SlackGate, log, payload_problem

EVENTS_PATH = "/slack/events"


@dataclass(frozen=True)
class BotApp:
    """The bolt app and the gate every request passes before bolt sees it."""

    bolt: AsyncApp
    gate: SlackGate


def asgi_app(app: BotApp) -> Starlette:
    """The bot as an ASGI app: Slack's events, commands and interactions on one path,
    each through the gate before bolt parses it."""
    known_actions = frozenset(ACTION_IDS)

    async def endpoint(request: Request) -> Response:
        body = await app.gate.read(request)
        if isinstance(body, Refused):
            return _refuse(body)
        refused = app.gate.verify(request.headers, body)
        if refused is not None:
            return _refuse(refused)
        content_type = request.headers.get("content-type", "")
        problem = payload_problem(body, content_type, known_actions)
        if problem is not None:
            return _refuse(Refused(400, problem))
        bolt_request = AsyncBoltRequest(
            body=body.decode("utf-8"),
            query=str(request.query_params),
            headers={k: v for k, v in request.headers.items()},
        )
        answer = await app.bolt.async_dispatch(bolt_request)
        if answer.status == 404:  # an event nobody listens to: acknowledged, ignored
            return Response(status_code=200)
        return to_starlette_response(answer)

    return Starlette(routes=[Route(EVENTS_PATH, endpoint, methods=["POST"])])


def _refuse(refused: Refused) -> Response:
    log.warning("steptrace bot: %d %s", refused.status, refused.reason)
    return Response(refused.reason, status_code=refused.status, media_type="text/plain")


def bind(host: str, port: int) -> socket.socket:
    """A listening socket (``port`` 0: the OS picks one)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(128)
    return sock


def http_server(app: BotApp) -> uvicorn.Server:
    return uvicorn.Server(
        uvicorn.Config(asgi_app(app), log_level="warning", lifespan="off", access_log=False)
    )
