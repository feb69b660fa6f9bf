"""Roll a run back to a prior step: undo the later steps' external writes, newest first.

Every write a step made is recorded with its before- and after-image. The
``RollbackWorkflow`` takes the writes of the steps after the chosen one, newest first,
and for each object reads what the tool shows now:

* if it still shows our after-image, the before-image is put back through the
  connector (a record or item we created is deleted, one we updated gets its old values
  back, a Slack message we posted is deleted) and the object is read again to check it
  now matches the before-image;
* if it already shows the before-image, there is nothing left to do (a retried undo);
* otherwise a person changed it after our write: that is a **conflict**, the object is
  left untouched and reported, and the rollback ends ``escalated`` so a person decides.

Some writes cannot be undone through the connectors: a Linear issue we created (the
Linear connector does not delete issues) and any delete. They are reported as
``not_undoable`` with what to do by hand, and also end the rollback ``escalated``.

The rollback is a traced run of its own (kind ``rollback``, ``parent_run_id`` = the run
rolled back); each undo is an activity whose own writes are captured like a step's.
Only a rollback with nothing left over marks the original run ``rolled_back``.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any, Literal

from pydantic import BaseModel, Field
from temporalio import activity, workflow
from temporalio.client import Client, WorkflowFailureError
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from connectors.airtable.models import RecordUpdate
    from connectors.errors import NotFoundError
    from connectors.linear.error_map import parse_wire
    from connectors.linear.models import Issue, IssueUpdate, WireIssue
    from connectors.writes import ExternalWrite as ConnectorWrite
    from orchestrator.cli.views import find_run
    from orchestrator.runtime.failures import to_application_error
    from orchestrator.runtime.pipeline_workflow import RECORD_RUN_ACTIVITY, RunEvent
    from orchestrator.tools.clients import ToolClients
    from tracer.steps import StepCall, StepReturn, WriteImage
    from tracer.store import AttemptStatus, RunRecord, RunStatus, TraceStore

ROLLBACK_WORKFLOW = "RollbackWorkflow"
PLAN_ACTIVITY = "steptrace.rollback_plan"
MARK_ACTIVITY = "steptrace.mark_rolled_back"
UNDO_ACTIVITY = "rollback.undo_write"

AIRTABLE_COMPUTED = frozenset(
    {
        "createdTime",
        "lastModifiedTime",
        "createdBy",
        "lastModifiedBy",
        "formula",
        "autoNumber",
        "rollup",
        "count",
        "lookup",
        "multipleLookupValues",
        "button",
    }
)
"""Airtable field types no one writes: left out of comparisons and restores."""

Outcome = Literal[
    "restored", "deleted", "already_undone", "conflict", "not_undoable", "unverified", "error"
]
DONE: frozenset[str] = frozenset({"restored", "deleted", "already_undone"})


class RollbackError(ValueError):
    """The rollback cannot start or did not finish; the message names the bad input."""


class UndoTarget(WriteImage):
    """One recorded write to undo, with its images, and the step that made it."""

    step_id: str
    step_index: int
    position: int = Field(description="the write's place among its step's writes")


class UndoResult(BaseModel):
    """What happened to one object."""

    step_id: str
    tool: str
    kind: str
    container: str
    object_id: str
    action: str = Field(description="what our write did (created, updated, ...)")
    outcome: Outcome
    detail: str = ""
    verified: bool = False

    @property
    def done(self) -> bool:
        return self.outcome in DONE


class RollbackRequest(BaseModel):
    run_id: str
    to_step: str


class RollbackInput(RollbackRequest):
    pipeline: str
    version: str = ""


class RollbackPlan(BaseModel):
    targets: list[UndoTarget] = Field(default_factory=list)


class RollbackResult(BaseModel):
    run_id: str
    parent_run_id: str
    to_step: str
    status: str
    results: list[UndoResult] = Field(default_factory=list)

    @property
    def conflicts(self) -> list[UndoResult]:
        return [r for r in self.results if r.outcome == "conflict"]

    @property
    def left_over(self) -> list[UndoResult]:
        """Everything a person must look at: conflicts, what cannot be undone, failures."""
        return [r for r in self.results if not r.done]


# --- planning --------------------------------------------------------------------------


def plan_rollback(store: TraceStore, run: RunRecord, to_step: str) -> list[UndoTarget]:
    """The writes of every step after ``to_step`` in ``run``, newest first.

    Raises :class:`RollbackError` for a running run, a step the run does not have, or a
    step after which nothing ran.
    """
    if run.status is RunStatus.RUNNING:
        raise RollbackError(f"run {run.run_id} is still running; roll it back once it has ended")
    attempts = store.attempts(run.run_id)
    order = {a.step_id: a.step_index for a in attempts if a.step_index >= 0}
    if to_step not in order:
        known = ", ".join(sorted(order, key=order.__getitem__)) or "none"
        raise RollbackError(f"run {run.run_id} has no step {to_step!r} (its steps: {known})")
    later = [a for a in attempts if a.step_index > order[to_step]]
    if not later:
        raise RollbackError(
            f"nothing ran after step `{to_step}` in run {run.run_id}: there is nothing to "
            "roll back; name an earlier step"
        )
    targets: list[UndoTarget] = []
    for attempt in later:
        if attempt.status is not AttemptStatus.SUCCEEDED:
            continue  # writes are recorded only with a step's result
        for position, write in enumerate(attempt.external_writes):
            if write.action == "unchanged":
                continue
            targets.append(
                UndoTarget(
                    step_id=attempt.step_id,
                    step_index=attempt.step_index,
                    position=position,
                    tool=write.tool,
                    kind=write.object_kind,
                    container=write.container or "",
                    object_id=write.object_id,
                    action=write.action,
                    before=_image(store, write.before_hash),
                    after=_image(store, write.after_hash),
                )
            )
    return sorted(targets, key=lambda t: (t.step_index, t.position), reverse=True)


def _image(store: TraceStore, hash: str | None) -> dict[str, Any] | None:
    if hash is None:
        return None
    image = store.get_payload(hash)
    return image if isinstance(image, dict) else None


# --- undoing one write, per tool -------------------------------------------------------

Undone = tuple[UndoResult, list[ConnectorWrite]]
Undoer = Callable[[ToolClients, UndoTarget], Awaitable[Undone]]


def _result(
    target: UndoTarget, outcome: Outcome, detail: str, verified: bool = False
) -> UndoResult:
    return UndoResult(
        step_id=target.step_id,
        tool=target.tool,
        kind=target.kind,
        container=target.container,
        object_id=target.object_id,
        action=target.action,
        outcome=outcome,
        detail=detail,
        verified=verified,
    )


def _differences(ours: dict[str, Any], now: dict[str, Any]) -> str:
    keys = sorted(k for k in set(ours) | set(now) if ours.get(k) != now.get(k))
    shown = [f"{k}: ours {ours.get(k)!r}, now {now.get(k)!r}" for k in keys[:5]]
    more = f" (and {len(keys) - 5} more)" if len(keys) > 5 else ""
    return "; ".join(shown) + more


def _conflict(target: UndoTarget, ours: dict[str, Any], now: dict[str, Any] | None) -> UndoResult:
    if now is None:
        why = "it was deleted after our write"
    else:
        why = f"it was changed after our write ({_differences(ours, now)})"
    return _result(target, "conflict", f"left untouched: {why}")


def _compare(
    target: UndoTarget,
    now: dict[str, Any] | None,
    ours: dict[str, Any] | None,
    was: dict[str, Any] | None,
) -> UndoResult | None:
    """The result when no write is needed or allowed; ``None`` when the undo may proceed."""
    if target.action == "created":
        if now is None:
            return _result(target, "already_undone", "already gone", verified=True)
        if now != ours:
            return _conflict(target, ours or {}, now)
        return None
    if target.action != "updated" or was is None:
        return _result(target, "not_undoable", _not_undoable(target))
    if now is not None and now == was:
        return _result(target, "already_undone", "already shows its old values", verified=True)
    if now is None or now != ours:
        return _conflict(target, ours or {}, now)
    return None


def _not_undoable(target: UndoTarget) -> str:
    if target.action == "deleted":
        return f"our write deleted this {target.kind}; re-create it by hand from the before-image"
    return f"no before-image was recorded for this {target.kind}; restore it by hand"


# Airtable: records; the fields people can write are compared and restored.


async def undo_airtable(clients: ToolClients, target: UndoTarget) -> Undone:
    base, _, table = target.container.partition("/")
    schema = await clients.airtable.get_table_schema(base, table)
    computed = {f.name for f in schema.fields if f.type in AIRTABLE_COMPUTED}

    def fields(image: dict[str, Any] | None) -> dict[str, Any] | None:
        if image is None:
            return None
        raw = image.get("fields", {})
        return {k: v for k, v in raw.items() if k not in computed and v not in (None, "", [])}

    async def read() -> dict[str, Any] | None:
        return fields(await _airtable_record(clients, base, table, target.object_id))

    now, ours, was = await read(), fields(target.after), fields(target.before)
    settled = _compare(target, now, ours, was)
    if settled is not None:
        return settled, []
    assert now is not None, "a missing object is settled by _compare"
    if target.action == "created":
        writes = await clients.airtable.delete_records(base, table, [target.object_id])
        return _checked(target, "deleted", await read() is None), writes
    assert was is not None
    changes = {k: was.get(k) for k in sorted(set(was) | set(now)) if was.get(k) != now.get(k)}
    update = RecordUpdate(id=target.object_id, fields=changes)
    writes = await clients.airtable.update_records(base, table, [update])
    return _checked(target, "restored", await read() == was), writes


async def _airtable_record(
    clients: ToolClients, base: str, table: str, record_id: str
) -> dict[str, Any] | None:
    try:
        record = await clients.airtable.get_record(base, table, record_id)
    except NotFoundError:
        return None
    return record.image()


# Monday: items; the name and each column's value are compared and restored.


def _item_state(image: dict[str, Any] | None) -> dict[str, Any] | None:
    if image is None:
        return None
    columns = image.get("column_values") or {}
    values = {cid: _clean(col.get("value")) for cid, col in columns.items()}
    return {"name": image.get("name"), **{k: v for k, v in values.items() if v not in (None, "")}}


def _clean(value: Any) -> Any:
    """A Monday value without its bookkeeping (nulls, ``changed_at``), for comparing."""
    if isinstance(value, dict):
        return {
            k: _clean(v) for k, v in value.items() if v is not None and k != "changed_at"
        } or None
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return value


async def undo_monday(clients: ToolClients, target: UndoTarget) -> Undone:
    async def read() -> dict[str, Any] | None:
        item = await clients.monday.get_item(target.object_id)
        return _item_state(item.image()) if item is not None else None

    now, ours, was = await read(), _item_state(target.after), _item_state(target.before)
    settled = _compare(target, now, ours, was)
    if settled is not None:
        return settled, []
    assert now is not None, "a missing object is settled by _compare"
    if target.action == "created":
        deleted = await clients.monday.delete_item(target.object_id)
        return _checked(target, "deleted", await read() is None), [deleted.write]
    assert was is not None
    values = {
        key: was.get(key) for key in sorted(set(was) | set(now)) if was.get(key) != now.get(key)
    }
    written = await clients.monday.change_column_values(target.container, target.object_id, values)
    return _checked(target, "restored", await read() == was), [written.write]


# Slack: messages; a message we posted is deleted, one we edited gets its old text back.


def _message_state(image: dict[str, Any] | None) -> dict[str, Any] | None:
    if image is None:
        return None
    state = {"text": image.get("text") or ""}
    if image.get("blocks"):
        state["blocks"] = image["blocks"]
    return state


async def undo_slack(clients: ToolClients, target: UndoTarget) -> Undone:
    channel, ts = target.container, target.object_id

    async def read() -> dict[str, Any] | None:
        try:
            message = await clients.slack.get_message(channel, ts)
        except NotFoundError:
            return None
        state = _message_state(message.model_dump(mode="json"))
        ours = _message_state(target.after) or {}
        if state is not None and "blocks" not in ours:
            state.pop("blocks", None)  # blocks Slack derived from our text are not a change
        return state

    now, ours, was = await read(), _message_state(target.after), _message_state(target.before)
    settled = _compare(target, now, ours, was)
    if settled is not None:
        return settled, []
    assert now is not None, "a missing object is settled by _compare"
    if target.action == "created":
        deleted = await clients.slack.delete_message(channel, ts)
        return _checked(target, "deleted", await read() is None), [deleted.write]
    assert was is not None
    blocks = (target.before or {}).get("blocks")
    updated = await clients.slack.update_message(channel, ts, text=was["text"], blocks=blocks)
    return _checked(target, "restored", await read() == was), [updated.write]


# Linear: issues; an updated issue gets its old fields back, a created one stays.

LINEAR_FIELDS = (
    "title",
    "description",
    "priority",
    "due_date",
    "state",
    "assignee_email",
    "labels",
)


def _issue_state(issue: Issue | None) -> dict[str, Any] | None:
    if issue is None:
        return None
    return {
        "title": issue.title,
        "description": issue.description,
        "priority": issue.priority,
        "due_date": issue.due_date,
        "state": issue.state.name,
        "assignee_email": issue.assignee.email.lower() if issue.assignee else None,
        "labels": tuple(sorted(issue.labels)),
    }


def _wire_issue(image: dict[str, Any] | None) -> Issue | None:
    return parse_wire(WireIssue, image, operation="rollback").to_issue() if image else None


async def undo_linear(clients: ToolClients, target: UndoTarget) -> Undone:
    if target.action == "created":
        name = (target.after or {}).get("identifier", target.object_id)
        return _result(
            target,
            "not_undoable",
            f"issue {name} was created by this run and is left in place: the Linear "
            "connector does not delete issues; archive it in Linear if it must go",
        ), []

    async def read() -> dict[str, Any] | None:
        try:
            return _issue_state(await clients.linear.get_issue(target.object_id))
        except NotFoundError:
            return None

    now = await read()
    ours = _issue_state(_wire_issue(target.after))
    was = _issue_state(_wire_issue(target.before))
    settled = _compare(target, now, ours, was)
    if settled is not None:
        return settled, []
    assert now is not None, "a missing object is settled by _compare"
    assert was is not None
    changes = IssueUpdate(**{k: was[k] for k in LINEAR_FIELDS if was[k] != now[k]})
    written = await clients.linear.update_issue(target.object_id, changes)
    return _checked(target, "restored", await read() == was), [written.write]


def _checked(target: UndoTarget, outcome: Outcome, verified: bool) -> UndoResult:
    if verified:
        what = "deleted" if outcome == "deleted" else "restored to its before-image"
        return _result(target, outcome, f"{what}; read back and checked", verified=True)
    return _result(
        target, "unverified", f"{outcome}, but reading it back does not match the before-image"
    )


UNDOERS: dict[str, Undoer] = {
    "airtable": undo_airtable,
    "monday": undo_monday,
    "slack": undo_slack,
    "linear": undo_linear,
}


# --- activities ------------------------------------------------------------------------


class RollbackActivities:
    """The rollback's activities: plan (reads the store), undo (calls a tool), mark."""

    def __init__(self, store: TraceStore | None, clients: ToolClients) -> None:
        self.store = store
        self.clients = clients

    def all(self) -> list[Callable[..., Any]]:
        return [self.plan, self.undo, self.mark_rolled_back]

    def _store(self) -> TraceStore:
        if self.store is None:
            raise ApplicationError(
                "a rollback needs the trace store (tracing is off)", non_retryable=True
            )
        return self.store

    @activity.defn(name=PLAN_ACTIVITY)
    async def plan(self, request: RollbackRequest) -> RollbackPlan:
        store = self._store()
        try:
            run = await asyncio.to_thread(find_run, store, request.run_id)
            targets = await asyncio.to_thread(plan_rollback, store, run, request.to_step)
        except (LookupError, RollbackError) as exc:
            raise ApplicationError(str(exc), type="RollbackError", non_retryable=True) from exc
        return RollbackPlan(targets=targets)

    @activity.defn(name=UNDO_ACTIVITY)
    async def undo(self, call: StepCall) -> StepReturn:
        target = UndoTarget.model_validate(call.args)
        undoer = UNDOERS.get(target.tool)
        if undoer is None:
            result = _result(target, "not_undoable", f"no way to undo a {target.tool} write")
            return StepReturn(output=result.model_dump(mode="json"))
        try:
            result, writes = await undoer(self.clients, target)
        except Exception as exc:
            raise to_application_error(exc, step_id=call.step_id, op=call.op) from exc
        images = [WriteImage.model_validate(w.model_dump(mode="json")) for w in writes]
        return StepReturn(output=result.model_dump(mode="json"), writes=images)

    @activity.defn(name=MARK_ACTIVITY)
    async def mark_rolled_back(self, run_id: str) -> None:
        await asyncio.to_thread(self._store().set_run_status, run_id, RunStatus.ROLLED_BACK)


# --- the workflow ----------------------------------------------------------------------

_STORE_RETRY = RetryPolicy(maximum_interval=timedelta(seconds=5), maximum_attempts=20)
_UNDO_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    maximum_interval=timedelta(seconds=10),
    maximum_attempts=5,
)


@workflow.defn(name=ROLLBACK_WORKFLOW)
class RollbackWorkflow:
    @workflow.run
    async def run(self, params: RollbackInput) -> RollbackResult:
        event = RunEvent.of_this_workflow(
            pipeline=params.pipeline,
            version=params.version,
            kind="rollback",
            parent_run_id=params.run_id,
            trigger={"run": params.run_id, "to_step": params.to_step},
        )
        await _record(event)
        try:
            plan: RollbackPlan = await workflow.execute_activity(
                PLAN_ACTIVITY,
                RollbackRequest(run_id=params.run_id, to_step=params.to_step),
                result_type=RollbackPlan,
                start_to_close_timeout=timedelta(seconds=60),
                retry_policy=_STORE_RETRY,
            )
        except ActivityError as err:
            await _record(event.model_copy(update={"status": "failed"}))
            raise ApplicationError(
                f"rollback of {params.run_id}: {err.cause or err}", non_retryable=True
            ) from err
        results = [
            await _undo(event, i, target, plan.targets) for i, target in enumerate(plan.targets)
        ]
        status = "succeeded" if all(r.done for r in results) else RunStatus.ESCALATED.value
        if status == "succeeded":
            await workflow.execute_activity(
                MARK_ACTIVITY,
                params.run_id,
                start_to_close_timeout=timedelta(seconds=30),
                retry_policy=_STORE_RETRY,
            )
        await _record(event.model_copy(update={"status": status}))
        return RollbackResult(
            run_id=event.run_id,
            parent_run_id=params.run_id,
            to_step=params.to_step,
            status=status,
            results=results,
        )


async def _undo(
    event: RunEvent, index: int, target: UndoTarget, targets: list[UndoTarget]
) -> UndoResult:
    """Undo one write; a tool that keeps failing makes an ``error`` result, not a crash."""
    same_step = [t for t in targets if t.step_id == target.step_id]
    step_id = f"undo_{target.step_id}"
    if len(same_step) > 1:
        step_id += f"_{target.position + 1}"
    call = StepCall(
        run_id=event.run_id,
        pipeline=event.pipeline,
        pipeline_version=event.version,
        step_id=step_id,
        step_index=index,
        op=UNDO_ACTIVITY,
        args=target.model_dump(mode="json"),
    )
    try:
        returned: StepReturn = await workflow.execute_activity(
            UNDO_ACTIVITY,
            call,
            result_type=StepReturn,
            activity_id=f"{index}:{step_id}",
            start_to_close_timeout=timedelta(seconds=60),
            retry_policy=_UNDO_RETRY,
        )
    except ActivityError as err:
        return _result(target, "error", f"the undo failed: {err.cause or err}")
    return UndoResult.model_validate(returned.output)


async def _record(event: RunEvent) -> None:
    await workflow.execute_activity(
        RECORD_RUN_ACTIVITY,
        event,
        start_to_close_timeout=timedelta(seconds=30),
        retry_policy=_STORE_RETRY,
    )


# --- starting a rollback ---------------------------------------------------------------


async def rollback_run(
    client: Client, task_queue: str, store: TraceStore, run_ref: str, to_step: str
) -> RollbackResult:
    """Check the request, run the ``RollbackWorkflow`` and wait for its result.

    Bad input (unknown run or step, nothing after the step) raises :class:`RollbackError`
    or :class:`LookupError` before anything starts. Conflicts are not errors: they are in
    the result (``status`` ``escalated``, :attr:`RollbackResult.conflicts`).
    """
    run = await asyncio.to_thread(find_run, store, run_ref)
    await asyncio.to_thread(plan_rollback, store, run, to_step)
    workflow_id = f"{run.pipeline}-rollback-{uuid.uuid4().hex[:12]}"
    handle = await client.start_workflow(
        ROLLBACK_WORKFLOW,
        RollbackInput(
            run_id=run.run_id,
            to_step=to_step,
            pipeline=run.pipeline,
            version=run.version_hash or "",
        ),
        id=workflow_id,
        task_queue=task_queue,
        result_type=RollbackResult,
    )
    try:
        result: RollbackResult = await handle.result()
    except WorkflowFailureError as exc:
        raise RollbackError(f"the rollback of {run.run_id} failed: {exc.cause or exc}") from exc
    return result
