"""What the runs list and the failure-groups page show, as plain data.

The list reads one page of runs (newest first) through the store's indexed
``list_runs``, then the stored diagnoses of just those runs, so its cost does not grow
with the store. A failure-group filter (``group=<id>``, the fingerprint id of
:mod:`tracer.fingerprint`, the same in alerts and insights) is one probe on the run
table's group index; the groups page counts on that index too.
"""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import BaseModel, field_validator

from tracer.fingerprint import Fingerprint, of_diagnosis
from tracer.store import FAILED_STATUSES, FailureGroupRecord, RunRecord, RunStatus, TraceStore

PAGE_SIZE = 50
GROUPS_SHOWN = 200


class RunFilter(BaseModel):
    """The query string of the runs list (every field optional)."""

    pipeline: str | None = None
    status: RunStatus | None = None
    since: datetime | None = None
    before: datetime | None = None
    version: str | None = None
    failed_step: str | None = None
    group: str | None = None

    @field_validator("since", "before")
    @classmethod
    def _utc(cls, value: datetime | None) -> datetime | None:
        """The form's ``datetime-local`` fields carry no zone: they are UTC."""
        return value.replace(tzinfo=UTC) if value and value.tzinfo is None else value


class RunRow(BaseModel):
    run_id: str
    pipeline: str
    status: str
    kind: str
    version_hash: str | None
    started_at: datetime
    ended_at: datetime | None
    failed_step: str | None
    parent_run_id: str | None
    fingerprint: Fingerprint | None = None
    group_key: str | None = None


class RunsPage(BaseModel):
    filter: RunFilter
    runs: list[RunRow]
    next_before: datetime | None = None
    in_flight: int = 0
    pipelines: list[str] = []
    group: FailureGroupRecord | None = None


class GroupsPage(BaseModel):
    groups: list[FailureGroupRecord]
    undiagnosed: int = 0


def runs_page(store: TraceStore, wanted: RunFilter, *, limit: int = PAGE_SIZE) -> RunsPage:
    """One page of runs matching ``wanted``; ``next_before`` pages on (older runs)."""
    found = store.list_runs(
        status=wanted.status,
        pipeline=wanted.pipeline,
        since=wanted.since,
        before=wanted.before,
        failed_step=wanted.failed_step,
        version_hash=wanted.version,
        failure_group=wanted.group,
        limit=limit + 1,
    )
    page, more = found[:limit], len(found) > limit
    diagnoses = store.latest_diagnoses(r.run_id for r in page if r.status in FAILED_STATUSES)
    rows = [_row(run, diagnoses.get(run.run_id)) for run in page]
    group = store.failure_groups(1, group_id=wanted.group) if wanted.group else []
    return RunsPage(
        filter=wanted,
        runs=rows,
        next_before=page[-1].started_at if more and page else None,
        in_flight=sum(r.status is RunStatus.RUNNING for r in page),
        pipelines=store.pipeline_names(),
        group=group[0] if group else None,
    )


def _row(run: RunRecord, diagnosis: dict[str, object] | None) -> RunRow:
    return RunRow(
        run_id=run.run_id,
        pipeline=run.pipeline,
        status=run.status.value,
        kind=run.kind.value,
        version_hash=run.version_hash,
        started_at=run.started_at,
        ended_at=run.ended_at,
        failed_step=run.failed_step,
        parent_run_id=run.parent_run_id,
        fingerprint=of_diagnosis(run.pipeline, diagnosis) if diagnosis else None,
        group_key=run.failure_group,
    )


def groups_page(store: TraceStore, *, limit: int = GROUPS_SHOWN) -> GroupsPage:
    """The failure groups, biggest first, and how many failed runs wait for a diagnosis."""
    return GroupsPage(groups=store.failure_groups(limit), undiagnosed=store.undiagnosed_failures())
