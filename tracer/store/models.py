"""The trace store's tables (SQLModel), exactly as the Alembic migrations create them.

These ORM classes stay inside ``tracer.store``: callers get and give the pydantic
records of :mod:`tracer.store.records`. Payload hashes are foreign keys, so an attempt
can never point at a payload that was not stored. ``StepAttempt.run_id`` deliberately is
*not* one: the capture interceptor records an attempt before (or without) the
orchestrator registering its run, and a trace must never be refused for that.

Timestamps are timezone-aware UTC in Python on every backend (:class:`UTCDateTime`).
JSON columns are JSONB on PostgreSQL; never mutate one in place — assign a new value.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    Index,
    LargeBinary,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlmodel import Field, SQLModel

__all__ = [
    "DiagnosisRow",
    "HumanAction",
    "Payload",
    "PayloadDictionary",
    "PipelineVersion",
    "RubricResultRow",
    "Run",
    "RunSchema",
    "StepAttempt",
    "UTCDateTime",
    "utcnow",
]

HASH = 64  # sha256 hex


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes everywhere: SQLite stores them naive, so restore the zone on read."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: pass an aware one (datetime.now(UTC))")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


JSONType = JSON().with_variant(JSONB(), "postgresql")


class PipelineVersion(SQLModel, table=True):
    __tablename__ = "pipeline_version"

    hash: str = Field(primary_key=True, max_length=HASH)
    pipeline: str = Field(index=True)
    spec: str = Field(sa_type=Text)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Payload(SQLModel, table=True):
    __tablename__ = "payload"

    hash: str = Field(primary_key=True, max_length=HASH)
    raw_size: int = Field(sa_type=BigInteger)
    stored_size: int = Field(sa_type=BigInteger)
    data: bytes = Field(sa_type=LargeBinary)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class PayloadDictionary(SQLModel, table=True):
    """A zstd dictionary trained on the store's own payloads; frames name it by ``dict_id``.

    Rows are only ever added: a payload compressed with a dictionary needs it forever.
    """

    __tablename__ = "payload_dictionary"

    dict_id: int = Field(primary_key=True, sa_type=BigInteger)
    data: bytes = Field(sa_type=LargeBinary)
    size: int = Field(sa_type=BigInteger)
    samples: int
    sample_bytes: int = Field(sa_type=BigInteger)
    ratio: float  # compressed / raw of the samples with this dictionary, when trained
    reason: str = Field(max_length=32)  # "first" or "drift"
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)


class Run(SQLModel, table=True):
    __tablename__ = "run"
    __table_args__ = (
        # last good run of a pipeline / newest failed run of a pipeline
        Index("ix_run_pipeline_status_started", "pipeline", "status", "started_at"),
        # last good run of one spec version; newest failed run of any pipeline
        Index("ix_run_version_status_started", "version_hash", "status", "started_at"),
        Index("ix_run_status_started", "status", "started_at"),
        # a failure group's runs, newest first; the groups page's counts (index only)
        Index("ix_run_failure_group_started", "failure_group", "started_at"),
    )

    run_id: str = Field(primary_key=True)
    workflow_id: str | None = Field(default=None, index=True)
    temporal_run_id: str | None = None
    pipeline: str
    version_hash: str | None = Field(default=None, foreign_key="pipeline_version.hash")
    trigger_hash: str | None = Field(default=None, foreign_key="payload.hash")
    status: str = Field(max_length=32)
    kind: str = Field(max_length=32)
    parent_run_id: str | None = Field(default=None, foreign_key="run.run_id", index=True)
    started_at: datetime = Field(sa_type=UTCDateTime)
    ended_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    failed_step: str | None = None
    # the failure group (tracer.fingerprint) of the run's newest diagnosis
    failure_group: str | None = Field(default=None, max_length=12)


class RunSchema(SQLModel, table=True):
    """Which schema snapshot (a payload, by hash) a run's step depended on.

    The schema itself is a content-addressed payload: an unchanged schema is stored once
    and costs each later run only this row."""

    __tablename__ = "run_schema"

    run_id: str = Field(primary_key=True, foreign_key="run.run_id")
    step_id: str = Field(primary_key=True)
    schema_hash: str = Field(foreign_key="payload.hash", max_length=HASH)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class StepAttempt(SQLModel, table=True):
    __tablename__ = "step_attempt"
    __table_args__ = (
        UniqueConstraint(
            "workflow_id", "temporal_run_id", "activity_id", "attempt", name="uq_step_attempt_key"
        ),
        Index("ix_step_attempt_run_step", "run_id", "step_index", "attempt"),
    )

    id: int | None = Field(default=None, primary_key=True)
    workflow_id: str
    temporal_run_id: str
    activity_id: str
    attempt: int
    run_id: str
    step_id: str
    step_index: int
    op: str
    status: str = Field(max_length=32)
    input_hash: str = Field(foreign_key="payload.hash", max_length=HASH)
    output_hash: str | None = Field(default=None, foreign_key="payload.hash", max_length=HASH)
    error: dict[str, Any] | None = Field(default=None, sa_type=JSONType)
    external_writes: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSONType)
    inner_retries: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSONType)
    started_at: datetime = Field(sa_type=UTCDateTime)
    ended_at: datetime = Field(sa_type=UTCDateTime)
    duration_ms: int = Field(sa_type=BigInteger)


class DiagnosisRow(SQLModel, table=True):
    __tablename__ = "diagnosis"
    __table_args__ = (Index("ix_diagnosis_group_id", "group_id", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    run_id: str = Field(foreign_key="run.run_id", index=True)
    body: dict[str, Any] = Field(sa_type=JSONType)
    # the failure's fingerprint (tracer.fingerprint): its id and its signature, redacted
    group_id: str | None = Field(default=None, max_length=12)
    signature: str | None = Field(default=None, sa_type=Text)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class RubricResultRow(SQLModel, table=True):
    __tablename__ = "rubric_result"

    id: int | None = Field(default=None, primary_key=True)
    run_id: str = Field(foreign_key="run.run_id", index=True)
    rubric_id: str
    rubric_version: str
    outcome: str = Field(max_length=32)
    severity: str = Field(max_length=32)
    evidence: dict[str, Any] = Field(default_factory=dict, sa_type=JSONType)
    step_id: str | None = None
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class HumanAction(SQLModel, table=True):
    __tablename__ = "human_action"

    id: int | None = Field(default=None, primary_key=True)
    run_id: str = Field(foreign_key="run.run_id", index=True)
    slack_user_id: str
    action: str
    allowed: bool
    detail: dict[str, Any] = Field(default_factory=dict, sa_type=JSONType)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
