"""What the CLI shows of stored runs: plain data first, rendering second.

Each view is a pydantic model built from the trace store, so ``--json`` prints exactly
what the table shows.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pydantic import BaseModel

from tracer.store import AttemptRecord, RunRecord, TraceStore


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


def run_view(store: TraceStore, run: RunRecord, *, with_steps: bool = True) -> RunView:
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
        steps=step_views(store, store.attempts(run.run_id)) if with_steps else [],
    )


def step_views(store: TraceStore, attempts: Sequence[AttemptRecord]) -> list[StepView]:
    """Steps in order, each with its attempt count and its last attempt's outcome."""
    by_step: dict[str, list[AttemptRecord]] = {}
    for attempt in attempts:
        by_step.setdefault(attempt.step_id, []).append(attempt)
    hashes = {h for a in attempts for h in (a.input_hash, a.output_hash) if h}
    sizes = store.payload_sizes(hashes)
    views = [_step_view(tries, sizes) for tries in by_step.values()]
    return sorted(views, key=lambda v: v.index)


def _step_view(tries: list[AttemptRecord], sizes: dict[str, int]) -> StepView:
    tries = sorted(tries, key=lambda a: a.attempt)
    last = tries[-1]
    errors = [_describe_error(a) for a in tries if a.error is not None]
    return StepView(
        id=last.step_id,
        op=last.op,
        index=last.step_index,
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
    )


def _describe_error(attempt: AttemptRecord) -> str:
    error = attempt.error
    assert error is not None
    parts = [f"{error.error_class}: {error.message}"]
    if error.code and error.code not in error.message:
        parts.append(f"code={error.code}")
    if error.field and f"field={error.field!r}" not in error.message:
        parts.append(f"field={error.field!r}")
    return " ".join(parts)


def find_run(store: TraceStore, ref: str) -> RunRecord:
    """A run by id, by its workflow id, or ``latest`` / ``latest-failed``."""
    if ref == "latest":
        runs = store.list_runs(limit=1)
        if runs:
            return runs[0]
    elif ref == "latest-failed":
        failed = store.latest_failed_run()
        if failed is not None:
            return failed
    else:
        run = store.get_run(ref) or store.find_run(ref)
        if run is not None:
            return run
    raise LookupError(f"no run {ref!r} in {store.database}; `steptrace runs` lists the stored runs")
