"""Fixtures and helpers of the escalation and Slack bot tests: the Slack sandbox, a trace
store, a diagnosis, the reference tiers and a worker running the escalation workflow.

Test modules import the fixtures they use (pytest finds them by name there); the
Temporal server comes from the ``temporal_address`` fixture in scope.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import httpx
import pytest
from temporalio.client import Client, WorkflowExecutionStatus, WorkflowHandle
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.service import RPCError, RPCStatusCode
from temporalio.worker import Worker

from connectors.sandbox.server import Sandbox
from connectors.slack.client import SlackClient
from orchestrator.config.settings import SANDBOX_TOKEN
from orchestrator.humanloop.escalation.activities import EscalationActivities
from orchestrator.humanloop.escalation.model import ActionOutcome, EscalationState
from orchestrator.humanloop.escalation.starter import start_escalation
from orchestrator.humanloop.escalation.workflow import EscalationWorkflow
from orchestrator.runtime.escalation_handoff import escalation_input
from orchestrator.runtime.worker import workflow_runner
from orchestrator.spec.pipeline import EscalationSpec, load_pipeline
from tests.orchestrator.processes import poll_until
from tracer.diagnosis_model import (
    Diagnosis,
    Evidence,
    ImplicatedValue,
    Links,
    ProposedFix,
)
from tracer.store import TraceStore

PIPELINES = Path(__file__).resolve().parents[2] / "pipelines"
RUN_ID = "linear-triage-sync-0123456789ab/7f1c2d3e-run"
STEPS = ["fetch_issue", "normalize", "upsert_airtable", "sync_monday", "notify_slack"]
# Seeded Slack users (seed 7): Ada and Bruno approve at tier 1, Chidi at tier 2.
ADA, BRUNO, CHIDI, DANA = "U0A2OJVXRPU", "UIZT6OKVOIW", "UDFGJEBDDBK", "UEGA06KY4OG"

Handle = WorkflowHandle[EscalationWorkflow, EscalationState]

# What ``from tests.human.escalation_fixtures import *`` brings: the fixtures.
__all__ = [
    "actions",
    "diagnosis",
    "escalation_spec",
    "running_sandbox",
    "sandbox",
    "store",
    "task_queue",
    "temporal",
]


@pytest.fixture
async def temporal(temporal_address: str) -> Client:
    return await Client.connect(temporal_address, data_converter=pydantic_data_converter)


@pytest.fixture(scope="module")
def running_sandbox() -> Iterator[Sandbox]:
    with Sandbox(seed=7, services=["slack"]) as running:
        yield running


@pytest.fixture
def sandbox(running_sandbox: Sandbox) -> Sandbox:
    """The module's Slack sandbox, back to the seeded workspace."""
    running_sandbox.reset()
    return running_sandbox


@pytest.fixture
def store(tmp_path: Path) -> Iterator[TraceStore]:
    opened = TraceStore.open(f"sqlite:///{tmp_path / 'trace.db'}")
    yield opened
    opened.close()


@pytest.fixture
def escalation_spec() -> EscalationSpec:
    """The reference pipeline's tiers: #ops-alerts (2h), then #eng-oncall (4h)."""
    spec = load_pipeline(PIPELINES / "linear-triage-sync.yaml").spec.escalation
    assert spec is not None
    return spec


@pytest.fixture
def diagnosis() -> Diagnosis:
    """A diagnosis as the diagnoser stores it: the failure started at the Airtable upsert
    (which wrote) and surfaced at the Monday step, so there is something to roll back."""
    return Diagnosis(
        run_id=RUN_ID,
        status="failed",
        failed_step="sync_monday",
        onset_step="upsert_airtable",
        fault_class="destination_schema_drift",
        explanation="Airtable renamed the field `Priority` to `Severity`; the upsert names "
        "a field that no longer exists.",
        evidence=Evidence(
            implicated=[
                ImplicatedValue(
                    step="upsert_airtable",
                    path="fields.Priority",
                    last_good="High",
                    now=None,
                    change="missing",
                )
            ],
            last_good_run="linear-triage-sync-aaaaaaaaaaaa/good",
        ),
        proposed_fix=ProposedFix(
            kind="spec_patch",
            patch="-        Priority: normalize.priority\n+        Severity: normalize.priority",
            verified=True,
            detail="Write `Severity` instead of `Priority`.",
        ),
        links=Links(run=RUN_ID, step="upsert_airtable"),
    )


class RecordingActions:
    """Stands in for the replay and rollback, which are tested in their own modules with
    real pipeline runs; here only what the escalation asks of them matters (which run,
    which fix, which step), so the requests are recorded and answered with success."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, str | None]] = []

    async def approve_and_replay(
        self, run_id: str, fix: ProposedFix, from_step: str | None
    ) -> ActionOutcome:
        self.calls.append(("approve", run_id, from_step))
        return ActionOutcome(
            ok=True, summary=f"replay with the {fix.kind} succeeded", run_id=f"{run_id}-replay"
        )

    async def rollback(self, run_id: str, to_step: str) -> ActionOutcome:
        self.calls.append(("rollback", run_id, to_step))
        return ActionOutcome(ok=True, summary=f"rolled back to {to_step}")


@pytest.fixture
def actions() -> RecordingActions:
    return RecordingActions()


@pytest.fixture
async def task_queue(
    temporal: Client, sandbox: Sandbox, actions: RecordingActions
) -> AsyncIterator[str]:
    """A worker for the escalation workflow on a task queue of its own."""
    queue = f"human-{uuid.uuid4().hex[:8]}"
    async with contextlib.AsyncExitStack() as stack:
        http = await stack.enter_async_context(httpx.AsyncClient(timeout=10))
        slack = SlackClient(http, base_url=sandbox.urls["slack"], token=SANDBOX_TOKEN)
        worker = Worker(
            temporal,
            task_queue=queue,
            workflows=[EscalationWorkflow],
            activities=EscalationActivities(slack, actions).all(),
            workflow_runner=workflow_runner(),
        )
        await stack.enter_async_context(worker)
        yield queue


async def until(check: Callable[[], Awaitable[bool]]) -> None:
    """Poll ``check`` until it holds, for at most a minute."""
    await poll_until(check, within=60.0, every=0.05)


async def stop_if_waiting(handle: Handle) -> None:
    """Terminate an escalation still waiting for a person (it would wait hours on the
    shared server once the test's worker is gone); one that just ended is left be."""
    if (await handle.describe()).status != WorkflowExecutionStatus.RUNNING:
        return
    try:
        await handle.terminate("test over")
    except RPCError as exc:  # it ended between the two calls
        if exc.status != RPCStatusCode.NOT_FOUND:
            raise


async def state(handle: Handle) -> EscalationState:
    return await handle.query(EscalationWorkflow.state)


async def started(
    temporal: Client, task_queue: str, diagnosis: Diagnosis, spec: EscalationSpec
) -> Handle:
    """An escalation whose first alert is posted."""
    handle = await start_escalation(
        temporal, escalation_input(RUN_ID, diagnosis, spec, STEPS), task_queue=task_queue
    )

    async def posted() -> bool:
        return len((await state(handle)).alerts) == 1

    await until(posted)
    return handle
