"""Summaries of stored runs for people: plain data first, rendering second.

Each view is a pydantic model built from the read model (:mod:`tracer.run_model`), so the
CLI's ``--json`` prints exactly what its table shows, and the console shows the same.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from tracer.run_model import RecordedRun, RecordedStep, read_run
from tracer.store.records import AttemptRecord, RunRecord

if TYPE_CHECKING:
    from tracer.store.reader import RunSource


class WriteView(BaseModel):
    tool: str
    kind: str
    object_id: str
    action: str


class StepView(BaseModel):
    """One step of a run, all its attempts folded together."""

    id: str
    op: str
    index: int
    status: str
    attempts: int
    duration_ms: int
    input_bytes: int
    output_bytes: int | None
    writes: list[WriteView]
    error: str | None = None
    errors: list[str] = []
    inner_retries: list[str] = []
    """Tool calls retried inside the step's attempts (absorbed faults, never hidden)."""


class RunView(BaseModel):
    run_id: str
    pipeline: str
    status: str
    kind: str
    trigger: Any = None
    failed_step: str | None = None
    parent_run_id: str | None = None
    started_at: datetime
    ended_at: datetime | None = None
    steps: list[StepView] = []


def run_view(store: RunSource, run: RunRecord, *, with_steps: bool = True) -> RunView:
    trigger = store.get_payload(run.trigger_hash) if run.trigger_hash else None
    return RunView(
        run_id=run.run_id,
        pipeline=run.pipeline,
        status=run.status.value,
        kind=run.kind.value,
        trigger=trigger,
        failed_step=run.failed_step,
        parent_run_id=run.parent_run_id,
        started_at=run.started_at,
        ended_at=run.ended_at,
        steps=step_views(read_run(store, run)) if with_steps else [],
    )


def step_views(run: RecordedRun) -> list[StepView]:
    """Steps in order, each with its attempt count and its last attempt's outcome."""
    sizes = run.payload_sizes()
    return [_step_view(step, sizes) for step in run.steps]


def _step_view(step: RecordedStep, sizes: dict[str, int]) -> StepView:
    tries = step.attempts
    last = step.last
    errors = [_describe_error(a) for a in tries if a.error is not None]
    return StepView(
        id=last.step_id,
        op=last.op,
        index=step.index,
        status=last.status.value,
        attempts=len(tries),
        duration_ms=sum(a.duration_ms for a in tries),
        input_bytes=sizes.get(last.input_hash, 0),
        output_bytes=sizes.get(last.output_hash) if last.output_hash else None,
        writes=[
            WriteView(tool=w.tool, kind=w.object_kind, object_id=w.object_id, action=w.action)
            for w in last.external_writes
        ],
        error=errors[-1] if last.error is not None else None,
        errors=errors,
        inner_retries=[_describe_retry(a.attempt, r) for a in tries for r in a.inner_retries],
    )


def _describe_retry(attempt: int, retry: dict[str, Any]) -> str:
    what = f"attempt {attempt}: {retry.get('operation')} retried after {retry.get('error_class')}"
    if retry.get("status"):
        what += f" ({retry['status']})"
    if retry.get("reconciled"):
        what += "; read back: the write had landed"
    return what


def _describe_error(attempt: AttemptRecord) -> str:
    error = attempt.error
    assert error is not None
    parts = [f"{error.error_class}: {error.message}"]
    if error.code and error.code not in error.message:
        parts.append(f"code={error.code}")
    if error.field and f"field={error.field!r}" not in error.message:
        parts.append(f"field={error.field!r}")
    return " ".join(parts)
