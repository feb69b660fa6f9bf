"""``steptrace diff``: one step's handoff in one run against another run.

By default the other run is the last good run of the same pipeline version that started
earlier. When the step failed in this run it has no output, so its input (the handoff
it received) is compared instead, and the result says so.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel

from tracer.diff import structural_diff
from tracer.run_model import find_run
from tracer.store import AttemptRecord, RunRecord, TraceStore


class StepDiffError(LookupError):
    """The step or a run to compare with is missing; the message says which."""


class Change(BaseModel):
    path: str
    kind: str
    old: Any = None
    new: Any = None


class StepDiff(BaseModel):
    run_id: str
    against_run_id: str
    step: str
    compared: Literal["output", "input"]
    changes: list[Change]


def compare_step(store: TraceStore, run_ref: str, step: str, against: str) -> StepDiff:
    run = find_run(store, run_ref)
    other = _baseline(store, run) if against == "last-good" else find_run(store, against)
    mine, theirs = _last_attempt(store, run, step), _last_attempt(store, other, step)
    compared: Literal["output", "input"] = "output"
    if mine.output_hash is None or theirs.output_hash is None:
        compared = "input"
    new = _payload(store, mine, compared)
    old = _payload(store, theirs, compared)
    rows = structural_diff(old, new).rows()
    return StepDiff(
        run_id=run.run_id,
        against_run_id=other.run_id,
        step=step,
        compared=compared,
        changes=[Change(path=r["path"], kind=r["kind"], old=r["old"], new=r["new"]) for r in rows],
    )


def _baseline(store: TraceStore, run: RunRecord) -> RunRecord:
    good = store.last_good_run(run.pipeline, run.version_hash, run.started_at)
    if good is None:
        raise StepDiffError(
            f"no succeeded run of {run.pipeline} (version {run.version_hash}) before "
            f"{run.run_id}; pass --against RUN_ID to compare with a run of your choice"
        )
    return good


def _last_attempt(store: TraceStore, run: RunRecord, step: str) -> AttemptRecord:
    attempts = [a for a in store.attempts(run.run_id) if a.step_id == step]
    if not attempts:
        steps = sorted({a.step_id for a in store.attempts(run.run_id)})
        raise StepDiffError(
            f"run {run.run_id} has no step {step!r} (its steps: {', '.join(steps) or 'none'})"
        )
    return max(attempts, key=lambda a: a.attempt)


def _payload(store: TraceStore, attempt: AttemptRecord, side: str) -> Any:
    digest = attempt.output_hash if side == "output" else attempt.input_hash
    return store.get_payload(digest) if digest else None
