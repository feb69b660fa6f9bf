"""What callers hand to the trace store and get back: plain pydantic models, never ORM rows.

``NewRun`` / ``RunRecord`` for runs, ``AttemptRecord`` (with ``AttemptError`` and
``WriteRecord``) for step attempts, and one model each for diagnoses, rubric results
and human actions. Payloads travel as :class:`tracer.payloads.EncodedPayload` and are
referenced here by hash only.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from tracer.fingerprint import Fingerprint

__all__ = [
    "FAILED_STATUSES",
    "AttemptError",
    "AttemptRecord",
    "AttemptStatus",
    "DiagnosisRecord",
    "FailureGroupRecord",
    "HumanActionRecord",
    "NewRun",
    "RubricResultRecord",
    "RunKind",
    "RunRecord",
    "RunStatus",
    "WriteRecord",
    "run_id_for",
]


class RunStatus(StrEnum):
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    QC_FAILED = "qc_failed"
    ROLLED_BACK = "rolled_back"
    ESCALATED = "escalated"


FAILED_STATUSES: tuple[RunStatus, ...] = (RunStatus.FAILED, RunStatus.QC_FAILED)
"""What "failed" means for :meth:`TraceStore.latest_failed_run`: loud or silent failure."""


class RunKind(StrEnum):
    PIPELINE = "pipeline"
    REPLAY = "replay"
    ROLLBACK = "rollback"
    ESCALATION = "escalation"
    WORKFLOW = "workflow"  # a hand-written Temporal workflow, traced by the interceptor


class AttemptStatus(StrEnum):
    SUCCEEDED = "succeeded"
    FAILED = "failed"


def run_id_for(workflow_id: str, temporal_run_id: str) -> str:
    """Our run id for one Temporal workflow run: readable, and computable by the capture
    interceptor from ``activity.info()`` alone, so attempts and runs meet without a lookup."""
    return f"{workflow_id}/{temporal_run_id}"


class _Record(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class NewRun(_Record):
    """A run to register with :meth:`TraceStore.start_run`."""

    run_id: str
    pipeline: str
    workflow_id: str | None = None
    temporal_run_id: str | None = None
    version_hash: str | None = None
    trigger_hash: str | None = None
    kind: RunKind = RunKind.PIPELINE
    parent_run_id: str | None = None
    started_at: AwareDatetime


class RunRecord(NewRun):
    """A stored run."""

    status: RunStatus
    ended_at: AwareDatetime | None = None
    failed_step: str | None = None
    failure_group: str | None = None  # the fingerprint id of its newest diagnosis


class AttemptError(_Record):
    """Why an attempt failed, as the connector error said it (all but class/message optional)."""

    error_class: str
    message: str
    retryable: bool | None = None
    status: int | None = None
    code: str | None = None
    field: str | None = None
    retry_after: float | None = None


class WriteRecord(_Record):
    """One write to a tool; the images are payload hashes (store the payloads with it)."""

    tool: str
    object_kind: str
    container: str | None = None  # where the object lives: Airtable base/table, Monday board
    object_id: str
    action: str
    before_hash: str | None = None
    after_hash: str | None = None


class AttemptRecord(_Record):
    """One activity attempt. Keyed by (workflow_id, temporal_run_id, activity_id, attempt)."""

    workflow_id: str
    temporal_run_id: str
    activity_id: str
    attempt: int = Field(ge=1)
    run_id: str
    step_id: str
    step_index: int
    op: str
    status: AttemptStatus
    input_hash: str
    output_hash: str | None = None
    error: AttemptError | None = None
    external_writes: tuple[WriteRecord, ...] = ()
    inner_retries: tuple[dict[str, Any], ...] = ()
    """Tool calls retried inside this attempt (never hidden: DESIGN §4)."""
    started_at: AwareDatetime
    ended_at: AwareDatetime
    duration_ms: int = Field(ge=0)

    @classmethod
    def from_stored(cls, row: Mapping[Any, Any]) -> AttemptRecord:
        """The attempt a store row holds (JSON and timestamps decoded), not validated
        again: the store wrote it from a validated record, so its columns hold what the
        fields take, and only the status and the nested records are rebuilt. A diagnosis
        reads its run's and ten good runs' attempts, and validating them cost more than
        the query."""
        fields = {name: row[name] for name in cls.model_fields if name in row}
        fields["status"] = AttemptStatus(fields["status"])
        error = fields.get("error")
        fields["error"] = (
            AttemptError.model_construct(**_known(AttemptError, error)) if error else None
        )
        writes = fields.get("external_writes") or ()
        fields["external_writes"] = tuple(
            WriteRecord.model_construct(**_known(WriteRecord, write)) for write in writes
        )
        fields["inner_retries"] = tuple(fields.get("inner_retries") or ())
        return cls.model_construct(**fields)

    @property
    def key(self) -> tuple[str, str, str, int]:
        return (self.workflow_id, self.temporal_run_id, self.activity_id, self.attempt)

    def payload_hashes(self) -> set[str]:
        """Every payload hash this record refers to."""
        hashes = {self.input_hash}
        if self.output_hash:
            hashes.add(self.output_hash)
        for write in self.external_writes:
            hashes.update(h for h in (write.before_hash, write.after_hash) if h)
        return hashes


def _known(model: type[_Record], data: Mapping[str, Any]) -> dict[str, Any]:
    """``data``'s entries that are fields of ``model`` (a stored row may hold more)."""
    return {key: value for key, value in data.items() if key in model.model_fields}


class DiagnosisRecord(_Record):
    id: int | None = None
    run_id: str
    body: dict[str, Any]
    group_id: str | None = None
    signature: str | None = None
    created_at: datetime | None = None


class FailureGroupRecord(_Record):
    """Runs whose newest diagnosis has the same fingerprint: how many, when, the newest."""

    group_id: str
    runs: int
    first_seen: AwareDatetime
    last_seen: AwareDatetime
    latest_run_id: str = Field(description="the run of the group's newest diagnosis")
    fingerprint: Fingerprint


class RubricResultRecord(_Record):
    id: int | None = None
    run_id: str
    rubric_id: str
    rubric_version: str
    outcome: str
    severity: str
    evidence: dict[str, Any] = Field(default_factory=dict)
    step_id: str | None = None
    created_at: datetime | None = None


class HumanActionRecord(_Record):
    id: int | None = None
    run_id: str
    slack_user_id: str
    action: str
    allowed: bool
    detail: dict[str, Any] = Field(default_factory=dict)
    at: datetime | None = None


class PipelineVersionRecord(_Record):
    """One stored spec version of a pipeline and how many runs used it."""

    hash: str
    pipeline: str
    spec: str
    created_at: datetime
    runs: int = 0
