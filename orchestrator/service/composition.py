"""What a steptrace worker runs: every room's workflows and activities, put together.

The one place that knows the whole product: the pipeline engine (runtime), the QC step,
the diagnosis, replay, rollback and escalation. The embedded stack and the long-running
service both build their workers from here, so a new activity is registered once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from temporalio.client import Client

from orchestrator.diagnosis.diagnoser import Diagnoser
from orchestrator.diagnosis.schema_record import SchemaRecorder
from orchestrator.humanloop.escalation.activities import EscalationActivities
from orchestrator.humanloop.escalation.group import AlertGroupActivities, AlertGroupWorkflow
from orchestrator.humanloop.escalation.starter import TemporalActions
from orchestrator.humanloop.escalation.workflow import EscalationWorkflow
from orchestrator.humanloop.rollback.activities import RollbackActivities
from orchestrator.humanloop.rollback.workflow import RollbackWorkflow
from orchestrator.insights.digest_workflow import DigestActivities, InsightsDigestWorkflow
from orchestrator.qc.activity import QcActivities
from orchestrator.runtime.activities import StepActivities
from orchestrator.runtime.pipeline_workflow import PipelineWorkflow
from orchestrator.runtime.recorder import RunRecorder
from orchestrator.runtime.reuse import reuse_recorded_output
from orchestrator.tools.clients import ToolClients
from rubrics.judge import Judge
from tracer.store import GroupCommitter, TraceStore

WORKFLOWS: tuple[type, ...] = (
    PipelineWorkflow,
    EscalationWorkflow,
    RollbackWorkflow,
    AlertGroupWorkflow,
    InsightsDigestWorkflow,
)


def product_activities(
    *,
    client: Client,
    task_queue: str,
    store: TraceStore | None,
    committer: GroupCommitter | None = None,
    clients: ToolClients,
    steps: StepActivities,
    judge: Judge | None,
    temporal_ui: str | None,
    console_url: str | None = None,
) -> list[Callable[..., Any]]:
    """Every activity a worker registers: one per op, and the product's own (alerts link
    their failure group's page when ``console_url`` is given)."""
    schemas = SchemaRecorder(store, clients)
    return [
        *steps.all(),
        RunRecorder(store, committer, schemas=schemas.schemas_at_end).record_run,
        QcActivities(store, judge, readers=steps.by_op()).review,
        Diagnoser(store, clients, temporal_ui).diagnose,
        schemas.record_schemas,
        reuse_recorded_output,
        *RollbackActivities(store, clients).all(),
        *_escalation_activities(client, task_queue, store, clients, console_url),
        *([DigestActivities(store.url, clients.slack).post_digest] if store is not None else []),
    ]


def _escalation_activities(
    client: Client,
    task_queue: str,
    store: TraceStore | None,
    clients: ToolClients,
    console_url: str | None,
) -> list[Callable[..., Any]]:
    if store is None:
        return []
    actions = TemporalActions(client, task_queue, store)
    groups = AlertGroupActivities(client, task_queue)
    posts = EscalationActivities(clients.slack, actions, console_url=console_url)
    return [*posts.all(), groups.raise_alert]
