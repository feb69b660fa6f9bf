"""The generic, deterministic ``PipelineWorkflow``.

It interprets a validated pipeline spec: for each step it evaluates the step's JMESPath
arguments over the run context (pure, so deterministic), runs the step as one activity
named after its op, and adds the step's output to the context. Every step being an
activity is what makes every handoff traced. The workflow does no I/O of its own: the
run's start and end (with the schemas its tool steps depended on) are recorded by the
``steptrace.record_run`` activity.

A step that fails after its retries fails the run: the run is recorded as ``failed`` with
that step, and the workflow fails too, so Temporal's UI agrees.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, Field
from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from jmespath.exceptions import JMESPathError

    from orchestrator.runtime.escalation_handoff import (
        ESCALATION_WORKFLOW,
        RAISE_ALERT_ACTIVITY,
        RaiseAlert,
        escalation_input,
        escalation_workflow_id,
        failure_group_id,
    )
    from orchestrator.spec.ops import QC_REVIEW_OP
    from orchestrator.spec.pipeline import EscalationSpec, PipelineSpec, RetrySpec, StepSpec
    from orchestrator.spec.transform import evaluate_args
    from orchestrator.tools.containers import container_args
    from tracer.diagnosis_model import Diagnosis
    from tracer.lineage import expression_reads
    from tracer.steps import StepCall, StepReturn

RECORD_RUN_ACTIVITY = "steptrace.record_run"
RECORD_SCHEMAS_ACTIVITY = "steptrace.record_schemas"
DIAGNOSE_ACTIVITY = "steptrace.diagnose"
REUSE_ACTIVITY = "reuse_recorded_output"
"""A replayed step's recorded output handed back (captured, so the replay's trace is whole)."""
PIPELINE_WORKFLOW = "PipelineWorkflow"


class PipelineInput(BaseModel):
    """What starts a pipeline run."""

    spec: dict[str, Any] = Field(description="the validated spec, as JSON")
    trigger: dict[str, Any] = Field(default_factory=dict)
    kind: str = "pipeline"
    parent_run_id: str | None = None
    given: dict[str, Any] = Field(
        default_factory=dict,
        description="recorded outputs by step id (a replay): those steps call no tool",
    )
    escalate: bool = Field(
        default=False,
        description="start the spec's escalation when the run fails (needs a worker that stays up)",
    )
    fallback_escalation: dict[str, Any] | None = Field(
        default=None,
        description="the escalation for a spec without one (the service's default alert)",
    )


class PipelineResult(BaseModel):
    run_id: str
    status: str
    outputs: dict[str, Any] = Field(default_factory=dict)


class StepUse(BaseModel):
    """A step whose activity the run called, as the run's end tells the recorder: its op
    and the arguments that choose its container (an Airtable table, a Monday board)."""

    op: str
    container: dict[str, Any] = Field(default_factory=dict)


class RunEvent(BaseModel):
    """A run starting or ending, for the trace store."""

    run_id: str
    workflow_id: str
    temporal_run_id: str
    pipeline: str
    version: str
    kind: str
    parent_run_id: str | None = None
    trigger: dict[str, Any] = Field(default_factory=dict)
    status: str = "running"
    failed_step: str | None = None
    record_schemas: bool = Field(
        default=False,
        description="an end: also record the schemas the run's tool steps depended on",
    )
    steps: dict[str, StepUse] | None = Field(
        default=None,
        description="an end: the steps called, by id (None from workflows started before "
        "it was sent: the recorder reads the run back from the store)",
    )
    failed_rubric: bool | None = Field(
        default=None,
        description="an end: whether a QC step failed a rubric (None: not sent, read back)",
    )

    @classmethod
    def of_this_workflow(
        cls,
        *,
        pipeline: str,
        version: str,
        kind: str,
        parent_run_id: str | None,
        trigger: dict[str, Any],
    ) -> RunEvent:
        """The start of the run the calling workflow is (call it from workflow code)."""
        info = workflow.info()
        return cls(
            run_id=f"{info.workflow_id}/{info.run_id}",
            workflow_id=info.workflow_id,
            temporal_run_id=info.run_id,
            pipeline=pipeline,
            version=version,
            kind=kind,
            parent_run_id=parent_run_id,
            trigger=trigger,
        )


@workflow.defn(name=PIPELINE_WORKFLOW)
class PipelineWorkflow:
    @workflow.run
    async def run(self, params: PipelineInput) -> PipelineResult:
        spec = PipelineSpec.model_validate(params.spec)
        trigger = scheduled_trigger(params.trigger)
        event = RunEvent.of_this_workflow(
            pipeline=spec.name,
            version=spec.version,
            kind=params.kind,
            parent_run_id=params.parent_run_id,
            trigger=trigger,
        )
        await _record(event)
        context: dict[str, Any] = {"trigger": trigger}
        called: dict[str, StepUse] = {}  # what the run's end tells the recorder
        for index, step in enumerate(spec.steps):
            try:
                returned = await _run_step(
                    event,
                    index,
                    step,
                    context,
                    params.given,
                    later=spec.steps[index + 1 :],
                    called=called,
                )
            except (ActivityError, StepArgumentsError) as err:
                await _end(event, "failed", called, step.id, _failed_a_rubric(spec, context))
                await _after_failure(spec, event.run_id, params)
                raise ApplicationError(
                    f"step `{step.id}` ({step.op}) failed: {_cause(err)}",
                    {"failed_step": step.id, "run_id": event.run_id},
                    type="StepFailed",
                    non_retryable=True,
                ) from err
            context[step.id] = returned.output
            if step.op == QC_REVIEW_OP and _blockers(returned.output):
                # Wrong data must not travel on: stop before the later steps act on it.
                await _end(event, "qc_failed", called, step.id, failed_rubric=True)
                await _after_failure(spec, event.run_id, params)
                outputs = {k: v for k, v in context.items() if k != "trigger"}
                return PipelineResult(run_id=event.run_id, status="qc_failed", outputs=outputs)
        await _end(event, "succeeded", called, None, _failed_a_rubric(spec, context))
        outputs = {k: v for k, v in context.items() if k != "trigger"}
        return PipelineResult(run_id=event.run_id, status="succeeded", outputs=outputs)


def scheduled_trigger(trigger: dict[str, Any]) -> dict[str, Any]:
    """A schedule's run learns when it fired: ``date`` (in the schedule's timezone) and
    ``scheduled_at`` (UTC), unless the spec's ``schedule.trigger`` set them. Workflow time
    (``workflow.now()``) is deterministic, so a replay computes the same values."""
    schedule = trigger.get("_schedule")
    if not isinstance(schedule, dict):
        return trigger
    now = workflow.now()
    local = now.astimezone(ZoneInfo(str(schedule.get("timezone") or "UTC")))
    return {"date": local.date().isoformat(), "scheduled_at": now.isoformat(), **trigger}


async def _run_step(
    event: RunEvent,
    index: int,
    step: StepSpec,
    context: dict[str, Any],
    given: dict[str, Any] | None = None,
    *,
    later: Sequence[StepSpec] = (),
    called: dict[str, StepUse] | None = None,
) -> StepReturn:
    args = _arguments(step, context)
    if called is not None:
        called[step.id] = StepUse(
            op=step.op, container={name: args.get(name) for name in container_args(step.op)}
        )
    if step.op == QC_REVIEW_OP:
        args = {**args, "planned": planned_arguments(later, context)}
    call = StepCall(
        run_id=event.run_id,
        pipeline=event.pipeline,
        pipeline_version=event.version,
        step_id=step.id,
        step_index=index,
        op=step.op,
        args=args,
        step=step.model_dump(mode="json", by_alias=True, exclude_defaults=True),
    )
    if given and step.id in given:
        reused: StepReturn = await workflow.execute_activity(
            REUSE_ACTIVITY,
            args=[call, given[step.id]],
            result_type=StepReturn,
            activity_id=f"{index}:{step.id}",
            start_to_close_timeout=timedelta(seconds=30),
        )
        return reused
    returned: StepReturn = await workflow.execute_activity(
        step.op,
        call,
        result_type=StepReturn,
        activity_id=f"{index}:{step.id}",
        start_to_close_timeout=timedelta(seconds=step.timeout_seconds),
        retry_policy=retry_policy(step.retry),
    )
    return returned


def planned_arguments(later: Sequence[StepSpec], context: dict[str, Any]) -> dict[str, Any]:
    """What the later tool steps will be sent, as far as the context already says (a QC
    review checks a Slack message before it is posted)."""
    planned: dict[str, Any] = {}
    for step in later:
        if step.map is None:
            try:
                planned[step.id] = evaluate_args(step.args, context)
            except JMESPathError:
                continue
    return planned


def _blockers(output: Any, key: str = "blockers") -> list[Any]:
    found = output.get(key) if isinstance(output, dict) else None
    return list(found) if isinstance(found, list) else []


def _failed_a_rubric(spec: PipelineSpec, context: dict[str, Any]) -> bool:
    """Whether a QC step of the run failed a rubric, blocking or not."""
    return any(
        _blockers(context.get(step.id), "failed") for step in spec.steps if step.op == QC_REVIEW_OP
    )


class StepArgumentsError(Exception):
    """A step's arguments do not evaluate (a JMESPath function given a null, say)."""


def _arguments(step: StepSpec, context: dict[str, Any]) -> dict[str, Any]:
    # Raised here, a JMESPath error would fail the workflow task and be retried forever;
    # as a step failure, the run fails, is recorded, and is diagnosed.
    try:
        return step_arguments(step, context)
    except JMESPathError as exc:
        raise StepArgumentsError(f"its arguments do not evaluate: {exc}") from exc


def step_arguments(step: StepSpec, context: dict[str, Any]) -> dict[str, Any]:
    """The handoff a step receives.

    A connector op gets its evaluated arguments; a ``transform`` gets the parts of the
    context its map reads (it evaluates the map itself, inside its activity).
    """
    if step.map is None:
        return evaluate_args(step.args, context)
    roots: set[str] = set()
    for entry in step.map.values():
        source = entry if isinstance(entry, str) else entry.source
        roots |= expression_reads(source).roots
    return {root: context[root] for root in sorted(roots) if root in context}


def retry_policy(spec: RetrySpec) -> RetryPolicy:
    return RetryPolicy(
        initial_interval=timedelta(seconds=spec.initial_interval_seconds),
        backoff_coefficient=spec.backoff,
        maximum_interval=timedelta(seconds=spec.maximum_interval_seconds),
        maximum_attempts=spec.maximum_attempts,
    )


async def _record(event: RunEvent) -> None:
    await workflow.execute_activity(
        RECORD_RUN_ACTIVITY,
        event,
        start_to_close_timeout=timedelta(seconds=30),
        # Bounded: a store that stays gone fails the run (with the store's error as the
        # cause) instead of leaving it running forever, untraced.
        retry_policy=RetryPolicy(maximum_interval=timedelta(seconds=5), maximum_attempts=20),
    )


async def _end(
    event: RunEvent,
    status: str,
    called: dict[str, StepUse],
    failed_step: str | None = None,
    failed_rubric: bool = False,
) -> None:
    """Record the run's end, with the schemas its steps depended on (evidence for a later
    diagnosis) in the same activity and transaction. The steps it ``called`` and whether
    a QC step ``failed_rubric`` tell the recorder which schemas to read without reading
    the run back from the store.
    """
    ended = event.model_copy(
        update={
            "status": status,
            "failed_step": failed_step,
            "steps": called,
            "failed_rubric": failed_rubric,
        }
    )
    if workflow.patched("schemas-at-run-end"):
        await _record(ended.model_copy(update={"record_schemas": True}))
        return
    # Runs started before: the schemas in an activity of their own, in the order they had.
    if status == "succeeded":
        await _record_schemas(event.run_id)
        await _record(ended)
    else:
        await _record(ended)
        await _record_schemas(event.run_id)


async def _record_schemas(run_id: str) -> None:
    """Record the schemas the run depended on (evidence for a later diagnosis); a schema
    that cannot be read never fails the run."""
    if not workflow.patched("record-schemas"):
        return
    try:
        await workflow.execute_activity(
            RECORD_SCHEMAS_ACTIVITY,
            run_id,
            start_to_close_timeout=timedelta(seconds=30),
            retry_policy=RetryPolicy(maximum_attempts=2),
        )
    except ActivityError as err:
        workflow.logger.warning("schemas of %s not recorded: %s", run_id, _cause(err))


async def _after_failure(spec: PipelineSpec, run_id: str, params: PipelineInput) -> None:
    """Diagnose a run that ended badly and, if asked, raise its alert (DESIGN §7)."""
    diagnosis = await _diagnose(run_id)
    policy = spec.escalation
    if policy is None and params.fallback_escalation is not None:
        policy = EscalationSpec.model_validate(params.fallback_escalation)
    if not params.escalate or policy is None or diagnosis is None:
        return
    found = Diagnosis.model_validate(diagnosis)
    handoff = escalation_input(
        run_id, found, policy, [s.id for s in spec.steps], pipeline=spec.name
    )
    if not workflow.patched("alert-groups"):
        # Runs started before alert groups existed replay their old command: a child.
        await workflow.start_child_workflow(
            ESCALATION_WORKFLOW,
            handoff,
            id=escalation_workflow_id(run_id),
            parent_close_policy=workflow.ParentClosePolicy.ABANDON,
        )
        return
    # A repeat of an open alert's failure becomes a reply in its thread: the alert group
    # (one workflow per kind of failure, signal-with-start) decides, whichever worker asks.
    await workflow.execute_activity(
        RAISE_ALERT_ACTIVITY,
        RaiseAlert(
            group_id=failure_group_id(spec.name, found, task_queue=workflow.info().task_queue),
            escalation=handoff,
        ),
        start_to_close_timeout=timedelta(seconds=30),
        retry_policy=RetryPolicy(maximum_interval=timedelta(seconds=10), maximum_attempts=10),
    )


async def _diagnose(run_id: str) -> dict[str, Any] | None:
    """Store the diagnosis of a run that ended badly; a diagnosis that fails never hides
    the run's own failure."""
    try:
        found: dict[str, Any] | None = await workflow.execute_activity(
            DIAGNOSE_ACTIVITY,
            run_id,
            result_type=dict,
            start_to_close_timeout=timedelta(seconds=60),
            retry_policy=RetryPolicy(maximum_attempts=3),
        )
    except ActivityError as err:
        workflow.logger.warning("diagnosis of %s failed: %s", run_id, _cause(err))
        return None
    return found


def _cause(err: ActivityError | StepArgumentsError) -> str:
    if isinstance(err, StepArgumentsError):
        return str(err)
    cause = err.cause
    return str(cause) if cause is not None else str(err)
