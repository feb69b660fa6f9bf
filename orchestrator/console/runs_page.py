"""What the runs list and the failure-groups page show, as plain data.

The list reads one page of runs (newest first) through the store's indexed
``list_runs``, then the stored diagnoses of just those runs, so its cost does not grow
with the store. A failure-group filter narrows by pipeline and failed step in SQL and by
onset step and fault class on the diagnoses, reading at most :data:`GROUP_SCAN` runs.
"""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import BaseModel, field_validator

from orchestrator.console.fingerprint import FailureGroup, Fingerprint, fingerprint, group
from tracer.store import FAILED_STATUSES, RunRecord, RunStatus, TraceStore

PAGE_SIZE = 50
GROUP_SCAN = 2000
GROUP_BATCH = 200
GROUPS_WINDOW = 5000


class RunFilter(BaseModel):
    """The query string of the runs list (every field optional)."""

    pipeline: str | None = None
    status: RunStatus | None = None
    since: datetime | None = None
    before: datetime | None = None
    version: str | None = None
    failed_step: str | None = None
    onset: str | None = None
    fault: str | None = None

    @field_validator("since", "before")
    @classmethod
    def _utc(cls, value: datetime | None) -> datetime | None:
        """The form's ``datetime-local`` fields carry no zone: they are UTC."""
        return value.replace(tzinfo=UTC) if value and value.tzinfo is None else value

    @property
    def by_group(self) -> bool:
        return self.onset is not None or self.fault is not None


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


class GroupsPage(BaseModel):
    window: int
    groups: list[FailureGroup]


def runs_page(store: TraceStore, wanted: RunFilter, *, limit: int = PAGE_SIZE) -> RunsPage:
    """One page of runs matching ``wanted``; ``next_before`` pages on (older runs)."""
    if wanted.by_group:
        found = _group_members(store, wanted, limit)
    else:
        found = store.list_runs(
            status=wanted.status,
            pipeline=wanted.pipeline,
            since=wanted.since,
            before=wanted.before,
            failed_step=wanted.failed_step,
            version_hash=wanted.version,
            limit=limit + 1,
        )
    page, more = found[:limit], len(found) > limit
    diagnoses = store.latest_diagnoses(r.run_id for r in page if r.status in FAILED_STATUSES)
    rows = [_row(run, diagnoses.get(run.run_id)) for run in page]
    return RunsPage(
        filter=wanted,
        runs=rows,
        next_before=page[-1].started_at if more and page else None,
        in_flight=sum(r.status is RunStatus.RUNNING for r in page),
        pipelines=store.pipeline_names(),
    )


def _row(run: RunRecord, diagnosis: dict[str, object] | None) -> RunRow:
    found = fingerprint(run, diagnosis) if run.status in FAILED_STATUSES else None
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
        fingerprint=found,
        group_key=found.key if found else None,
    )


def _group_members(store: TraceStore, wanted: RunFilter, limit: int) -> list[RunRecord]:
    """Failed runs of one fingerprint, newest first, up to ``limit + 1``: read in batches
    (newest first) until the page is full or :data:`GROUP_SCAN` runs were looked at."""
    members: list[RunRecord] = []
    for status in [wanted.status] if wanted.status else FAILED_STATUSES:
        members.extend(_members_of_status(store, wanted, status, limit + 1))
    members.sort(key=lambda r: r.started_at, reverse=True)
    return members[: limit + 1]


def _members_of_status(
    store: TraceStore, wanted: RunFilter, status: RunStatus, enough: int
) -> list[RunRecord]:
    found: list[RunRecord] = []
    before, scanned = wanted.before, 0
    while scanned < GROUP_SCAN and len(found) < enough:
        batch = store.list_runs(
            status=status,
            pipeline=wanted.pipeline,
            since=wanted.since,
            before=before,
            failed_step=wanted.failed_step,
            limit=GROUP_BATCH,
        )
        diagnoses = store.latest_diagnoses(r.run_id for r in batch)
        for run in batch:
            found_print = fingerprint(run, diagnoses.get(run.run_id))
            if wanted.onset in (None, found_print.onset_step) and wanted.fault in (
                None,
                found_print.fault_class,
            ):
                found.append(run)
        scanned += len(batch)
        if len(batch) < GROUP_BATCH:
            break
        before = batch[-1].started_at
    return found


def groups_page(store: TraceStore, *, window: int = GROUPS_WINDOW) -> GroupsPage:
    """Failure groups over the newest ``window`` failed runs of each failed status."""
    failed: list[RunRecord] = []
    for status in FAILED_STATUSES:
        failed.extend(store.list_runs(status=status, limit=window))
    diagnoses = store.latest_diagnoses(r.run_id for r in failed)
    return GroupsPage(
        window=window, groups=group((run, diagnoses.get(run.run_id)) for run in failed)
    )
