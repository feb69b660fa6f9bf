"""Initial trace store schema: pipeline versions, payloads, runs, step attempts,
diagnoses, rubric results and human actions.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _json() -> sa.types.TypeEngine[Any]:
    return sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def _ts(name: str, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "pipeline_version",
        sa.Column("hash", sa.String(64), primary_key=True),
        sa.Column("pipeline", sa.String(), nullable=False),
        sa.Column("spec", sa.Text(), nullable=False),
        _ts("created_at"),
    )
    op.create_index("ix_pipeline_version_pipeline", "pipeline_version", ["pipeline"])
    op.create_table(
        "payload",
        sa.Column("hash", sa.String(64), primary_key=True),
        sa.Column("raw_size", sa.BigInteger(), nullable=False),
        sa.Column("stored_size", sa.BigInteger(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        _ts("created_at"),
    )
    _create_run()
    _create_step_attempt()
    _create_run_children()


def _create_run() -> None:
    op.create_table(
        "run",
        sa.Column("run_id", sa.String(), primary_key=True),
        sa.Column("workflow_id", sa.String(), nullable=True),
        sa.Column("temporal_run_id", sa.String(), nullable=True),
        sa.Column("pipeline", sa.String(), nullable=False),
        sa.Column("version_hash", sa.String(), sa.ForeignKey("pipeline_version.hash")),
        sa.Column("trigger_hash", sa.String(), sa.ForeignKey("payload.hash")),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("parent_run_id", sa.String(), sa.ForeignKey("run.run_id")),
        _ts("started_at"),
        _ts("ended_at", nullable=True),
        sa.Column("failed_step", sa.String(), nullable=True),
    )
    op.create_index("ix_run_workflow_id", "run", ["workflow_id"])
    op.create_index("ix_run_parent_run_id", "run", ["parent_run_id"])
    op.create_index("ix_run_pipeline_status_started", "run", ["pipeline", "status", "started_at"])
    op.create_index(
        "ix_run_version_status_started", "run", ["version_hash", "status", "started_at"]
    )
    op.create_index("ix_run_status_started", "run", ["status", "started_at"])


def _create_step_attempt() -> None:
    op.create_table(
        "step_attempt",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("workflow_id", sa.String(), nullable=False),
        sa.Column("temporal_run_id", sa.String(), nullable=False),
        sa.Column("activity_id", sa.String(), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.String(), nullable=False),
        sa.Column("step_id", sa.String(), nullable=False),
        sa.Column("step_index", sa.Integer(), nullable=False),
        sa.Column("op", sa.String(), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("input_hash", sa.String(64), sa.ForeignKey("payload.hash"), nullable=False),
        sa.Column("output_hash", sa.String(64), sa.ForeignKey("payload.hash"), nullable=True),
        sa.Column("error", _json(), nullable=True),
        sa.Column("external_writes", _json(), nullable=False),
        _ts("started_at"),
        _ts("ended_at"),
        sa.Column("duration_ms", sa.BigInteger(), nullable=False),
        sa.UniqueConstraint(
            "workflow_id", "temporal_run_id", "activity_id", "attempt", name="uq_step_attempt_key"
        ),
    )
    op.create_index("ix_step_attempt_run_step", "step_attempt", ["run_id", "step_index", "attempt"])


def _create_run_children() -> None:
    op.create_table(
        "diagnosis",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("run_id", sa.String(), sa.ForeignKey("run.run_id"), nullable=False),
        sa.Column("body", _json(), nullable=False),
        _ts("created_at"),
    )
    op.create_table(
        "rubric_result",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("run_id", sa.String(), sa.ForeignKey("run.run_id"), nullable=False),
        sa.Column("rubric_id", sa.String(), nullable=False),
        sa.Column("rubric_version", sa.String(), nullable=False),
        sa.Column("outcome", sa.String(32), nullable=False),
        sa.Column("severity", sa.String(32), nullable=False),
        sa.Column("evidence", _json(), nullable=False),
        sa.Column("step_id", sa.String(), nullable=True),
        _ts("created_at"),
    )
    op.create_table(
        "human_action",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("run_id", sa.String(), sa.ForeignKey("run.run_id"), nullable=False),
        sa.Column("slack_user_id", sa.String(), nullable=False),
        sa.Column("action", sa.String(), nullable=False),
        sa.Column("allowed", sa.Boolean(), nullable=False),
        sa.Column("detail", _json(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )
    for table in ("diagnosis", "rubric_result", "human_action"):
        op.create_index(f"ix_{table}_run_id", table, ["run_id"])


def downgrade() -> None:
    for table in ("human_action", "rubric_result", "diagnosis", "step_attempt", "run"):
        op.drop_table(table)
    op.drop_table("payload")
    op.drop_table("pipeline_version")
