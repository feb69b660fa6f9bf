"""The one webhook receiver (ASGI, Starlette): every tool's deliveries, health, the bot.

Routes::

    POST /hooks/linear     Linear-Signature, webhookTimestamp within 60 s
    POST /hooks/airtable   X-Airtable-Content-MAC ping; changes read from the cursor
    POST /hooks/monday     the challenge handshake; Authorization JWT on every event
    POST /slack/events     the Slack bot (bolt verifies Slack's own signature)
    GET  /healthz          the process answers
    GET  /readyz           every readiness check of the process passes (503 names the
                           failing ones)

A delivery that fails its check gets 401 and starts nothing. A verified one gets 200
once its runs are *started* (not finished): the tool's retry then only ever meets a
workflow id that exists (:mod:`orchestrator.triggers.starter`).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from temporalio.client import Client

from orchestrator.observability.server import ReadinessCheck, readiness
from orchestrator.spec.pipeline import LoadedPipeline
from orchestrator.triggers.airtable_cursor import AirtableCursor
from orchestrator.triggers.deliveries import Event, linear_event, matches, monday_event
from orchestrator.triggers.signatures import (
    Unverified,
    monday_challenge,
    verify_airtable,
    verify_linear,
    verify_monday,
)
from orchestrator.triggers.starter import start_pipeline
from tracer.store import TraceStore

log = logging.getLogger("steptrace.receiver")
HEALTH_PATH = "/healthz"
READY_PATH = "/readyz"
ASGIApp = Any


@dataclass(frozen=True)
class WebhookSecrets:
    """Each tool's webhook secret; a tool without one has its route refuse everything."""

    linear: str | None = None
    airtable: str | None = None
    """Airtable's ``macSecretBase64`` from webhook creation."""
    monday: str | None = None


@dataclass
class Receiver:
    """What a delivery needs to become runs."""

    pipelines: Sequence[LoadedPipeline]
    client: Client
    task_queue: str
    store: TraceStore | None
    secrets: WebhookSecrets
    escalate: bool = False
    fallback_escalation: dict[str, Any] | None = None
    airtable: AirtableCursor | None = None
    checks: Mapping[str, ReadinessCheck] = field(default_factory=dict)
    """What ``/readyz`` runs (the service's: worker, Temporal, trace store, console)."""
    started: list[str] = field(default_factory=list)
    duplicates: int = 0

    async def start_runs(self, events: Sequence[Event]) -> list[str]:
        """Start the runs these events ask for; the workflow ids, started or found."""
        ids: list[str] = []
        for event in events:
            for match in matches(self.pipelines, event):
                started = await start_pipeline(
                    self.client,
                    self.task_queue,
                    match.pipeline,
                    match.trigger,
                    store=self.store,
                    workflow_id=match.workflow_id,
                    escalate=self.escalate,
                    fallback_escalation=self.fallback_escalation,
                )
                if started.first:
                    self.started.append(started.workflow_id)
                else:
                    self.duplicates += 1
                ids.append(started.workflow_id)
        return ids


def build_receiver(receiver: Receiver, slack_app: ASGIApp | None = None) -> Starlette:
    """The ASGI app; ``slack_app`` (the bot's) is mounted for ``/slack/events``."""

    async def linear(request: Request) -> Response:
        body = await request.body()
        try:
            payload = verify_linear(body, request.headers, _secret(receiver.secrets.linear))
        except Unverified as exc:
            return _refused("linear", exc)
        event = linear_event(payload, dict(request.headers))
        return _accepted(await receiver.start_runs([event]))

    async def airtable(request: Request) -> Response:
        body = await request.body()
        try:
            ping = verify_airtable(body, request.headers, _secret(receiver.secrets.airtable))
        except Unverified as exc:
            return _refused("airtable", exc)
        if receiver.airtable is None:
            return JSONResponse({"error": "no Airtable endpoint configured"}, 503)
        events = await receiver.airtable.events(ping)
        return _accepted(await receiver.start_runs(events))

    async def monday(request: Request) -> Response:
        body = await request.body()
        challenge = monday_challenge(body)
        if challenge is not None:
            return JSONResponse({"challenge": challenge})
        try:
            payload = verify_monday(body, request.headers, _secret(receiver.secrets.monday))
        except Unverified as exc:
            return _refused("monday", exc)
        return _accepted(await receiver.start_runs([monday_event(payload)]))

    async def healthz(_request: Request) -> Response:
        return JSONResponse({"ok": True})

    async def readyz(_request: Request) -> Response:
        return await readiness(receiver.checks)

    routes: list[BaseRoute] = [
        Route("/hooks/linear", linear, methods=["POST"]),
        Route("/hooks/airtable", airtable, methods=["POST"]),
        Route("/hooks/monday", monday, methods=["POST"]),
        Route(HEALTH_PATH, healthz, methods=["GET"]),
        Route(READY_PATH, readyz, methods=["GET"]),
    ]
    if slack_app is not None:
        routes.append(Mount("/", app=slack_app))
    return Starlette(routes=routes)


def _secret(value: str | None) -> str:
    if not value:
        raise Unverified("no webhook secret is configured for this tool")
    return value


def _refused(tool: str, exc: Unverified) -> Response:
    log.warning("%s webhook refused: %s", tool, exc)
    return JSONResponse({"error": str(exc)}, status_code=401)


def _accepted(workflow_ids: list[str]) -> Response:
    return JSONResponse({"runs": workflow_ids})
