"""The long-running service: ``steptrace serve`` (production) and ``steptrace up`` (embedded).

One process runs, on the stable task queue ``STEPTRACE_TASK_QUEUE`` (default
``steptrace``):

- a worker for every workflow and activity (:mod:`orchestrator.service.composition`), so
  any run of any pipeline — started by a webhook, a schedule, ``steptrace run`` or a
  person in Slack — is picked up by whichever service process is free, and a run whose
  starter or worker died is finished by the next worker polling the queue;
- the webhook receiver with ``/healthz`` and ``/readyz``, and the Slack bot mounted on it
  when ``STEPTRACE_SLACK_SIGNING_SECRET`` is set;
- the web console on its own port (``STEPTRACE_CONSOLE_LISTEN``) when the caller passes
  one (:attr:`ServiceOptions.console`; the console room builds it, this room only serves
  it), and ``/metrics`` with the ops endpoints when ``STEPTRACE_METRICS_PORT`` is set;
- the schedules, synced from the pipelines folder at start, and the weekly insights
  digest's schedule when Slack is configured (:mod:`orchestrator.insights.digest_schedule`).

``/readyz`` (on the receiver and on the ops port) passes when the worker runs, Temporal
answers, the trace store answers and every web server of the process is serving.

Several processes may serve the same queue (that is how it scales); each syncs the
schedules, which is idempotent. On SIGTERM/SIGINT the receiver stops taking deliveries,
the worker lets running activities finish for ``graceful_seconds`` (then Temporal retries
the rest elsewhere), the trace queue drains, and the service file is removed.

Spec versions: a run carries its whole spec in its workflow input and records the spec's
content hash as its version, so editing a spec never changes a run in flight — it only
changes runs started afterwards (and a schedule after the next sync). Changes to the
*workflow code* itself are made replay-safe with Temporal's patching
(``workflow.patched``), as :func:`~orchestrator.runtime.pipeline_workflow._after_failure`
does for alert groups; see docs/service.md for why patching, not worker versioning.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from orchestrator.config.settings import Settings
from orchestrator.humanloop.bot import SIGNING_SECRET_ENV, BotConfig, SteptraceBot
from orchestrator.humanloop.bot_http import asgi_app, bind
from orchestrator.insights.digest_schedule import sync_digest_schedule
from orchestrator.observability.server import ReadinessCheck, ops_endpoints
from orchestrator.service.discovery import ServiceInfo, remove_service_file, write_service_file
from orchestrator.service.health import stack_checks
from orchestrator.service.pipelines import load_folder
from orchestrator.service.stack import Stack, StackOptions, open_stack
from orchestrator.spec.pipeline import LoadedPipeline
from orchestrator.triggers.airtable_cursor import AirtableCursor
from orchestrator.triggers.receiver import Receiver, WebhookSecrets, build_receiver
from orchestrator.triggers.schedules import ScheduleChange, sync_schedules


@dataclass
class ServiceOptions:
    seed: int = 7
    ui: bool = False
    embedded: bool = False
    """``up``: start what is missing (dev server, sandbox). ``serve``: refuse to."""
    host: str | None = None
    port: int | None = None
    graceful_seconds: float = 30.0
    write_service_file: bool = True
    stack: StackOptions = field(default_factory=StackOptions)
    console: Callable[[Stack], Any] | None = None
    """Builds the web console's ASGI app on the running stack; served on
    ``STEPTRACE_CONSOLE_LISTEN``. ``None``: no console in this process."""


@dataclass
class Service:
    stack: Stack
    pipelines: list[LoadedPipeline]
    receiver: Receiver
    url: str
    schedules: list[ScheduleChange]
    console_url: str | None = None


@contextlib.asynccontextmanager
async def open_service(
    options: ServiceOptions | None = None, settings: Settings | None = None
) -> AsyncIterator[Service]:
    """Run the service until the caller leaves the context (then shut down gracefully)."""
    options = options or ServiceOptions()
    settings = settings or Settings.from_env()
    pipelines = _pipelines(settings, required=not options.embedded)
    stack_options = dataclasses.replace(
        options.stack,
        seed=options.seed,
        ui=options.ui,
        task_queue=settings.task_queue,
        escalate=True,
        graceful_seconds=options.graceful_seconds,
        sandbox=options.embedded or options.stack.sandbox,
    )
    async with contextlib.AsyncExitStack() as exits:
        stack = await exits.enter_async_context(open_stack(stack_options, settings))
        http = await exits.enter_async_context(httpx.AsyncClient(timeout=30.0))
        checks = {"worker": _worker_check(stack), **stack_checks(stack)}
        receiver = _receiver(stack, pipelines, http, checks)
        schedules = await sync_schedules(
            stack.client,
            stack.task_queue,
            pipelines,
            store=stack.store,
            escalate=True,
            fallback_escalation=stack.fallback_escalation,
        )
        if stack.settings.endpoints.get("slack") is not None and stack.store is not None:
            schedules.append(
                await sync_digest_schedule(stack.client, stack.task_queue, stack.settings)
            )
        host, port = _address(settings.listen, 8787, options.host, options.port)
        app = build_receiver(receiver, _bot(stack))
        served = await exits.enter_async_context(_serving(app, host, port))
        checks["receiver"] = served.check
        console_url = None
        if options.console is not None:
            where = _address(settings.console_listen, 8765)
            console = await exits.enter_async_context(_serving(options.console(stack), *where))
            checks["console"] = console.check
            console_url = console.url
        await exits.enter_async_context(ops_endpoints(checks))
        if options.write_service_file:
            write_service_file(_info(stack, served.url))
            exits.callback(remove_service_file, os.getpid())
        yield Service(stack, pipelines, receiver, served.url, schedules, console_url)


def _pipelines(settings: Settings, *, required: bool) -> list[LoadedPipeline]:
    """The folder's specs; ``up`` in a directory without the folder serves none."""
    if not required and not Path(settings.pipelines_dir).is_dir():
        return []
    return load_folder(settings.pipelines_dir)


def _receiver(
    stack: Stack,
    pipelines: list[LoadedPipeline],
    http: httpx.AsyncClient,
    checks: dict[str, ReadinessCheck],
) -> Receiver:
    settings = stack.settings
    secrets = {tool: s.get_secret_value() for tool, s in settings.webhook_secrets.items()}
    airtable = settings.endpoints.get("airtable")
    return Receiver(
        pipelines=pipelines,
        client=stack.client,
        task_queue=stack.task_queue,
        store=stack.store,
        secrets=WebhookSecrets(**secrets),
        escalate=True,
        fallback_escalation=stack.fallback_escalation,
        airtable=(
            AirtableCursor(http, airtable.base_url, airtable.token.get_secret_value())
            if airtable
            else None
        ),
        checks=checks,
    )


def _worker_check(stack: Stack) -> ReadinessCheck:
    async def worker() -> None:
        if not stack.worker.is_running:
            raise RuntimeError(f"the worker on task queue {stack.task_queue!r} is not running")

    return worker


def _bot(stack: Stack) -> Any:
    """The Slack bot's ASGI app, when Slack can sign requests to it."""
    secret = os.environ.get(SIGNING_SECRET_ENV, "").strip()
    slack = stack.settings.endpoints.get("slack")
    if not secret or slack is None or stack.store is None:
        return None
    from pydantic import SecretStr

    config = BotConfig(SecretStr(secret), slack.base_url, slack.token)
    return asgi_app(SteptraceBot(stack.store, stack.client).build_app(config))


def _address(
    listen: str, default_port: int, host: str | None = None, port: int | None = None
) -> tuple[str, int]:
    """``host:port`` from a setting, the command line's ``--host``/``--port`` first."""
    configured_host, _, configured_port = listen.rpartition(":")
    return host or configured_host or "127.0.0.1", (
        port if port is not None else int(configured_port or default_port)
    )


def _info(stack: Stack, url: str) -> ServiceInfo:
    return ServiceInfo(
        pid=os.getpid(),
        temporal_address=stack.client.service_client.config.target_host,
        namespace=stack.client.namespace,
        task_queue=stack.task_queue,
        database_url=stack.settings.database_url,
        receiver_url=url,
        fallback_escalation=stack.fallback_escalation,
    )


@dataclass
class _Served:
    url: str
    server: uvicorn.Server
    task: asyncio.Task[None]

    async def check(self) -> None:
        """A readiness check: this server still serves."""
        if self.task.done() or self.server.should_exit:
            raise RuntimeError(f"the server on {self.url} has stopped")


@contextlib.asynccontextmanager
async def _serving(app: Any, host: str, port: int) -> AsyncIterator[_Served]:
    """Serve ``app`` on ``host:port`` (0: a free port) in this event loop until exit."""
    sock = bind(host, port)
    config = uvicorn.Config(app, log_level="warning", lifespan="off", access_log=False)
    server = _QuietServer(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        yield _Served(f"http://{host}:{sock.getsockname()[1]}", server, task)
    finally:
        server.should_exit = True
        await task


class _QuietServer(uvicorn.Server):
    """uvicorn without its signal handlers: SIGTERM/SIGINT are the CLI's, which then
    leaves :func:`open_service` and so stops everything in order."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield
