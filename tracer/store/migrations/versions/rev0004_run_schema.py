"""Schemas as evidence: link a run's steps to the schema snapshots they depended on.

A schema snapshot (fields, options and the tools' stable ids) is an ordinary
content-addressed payload; this table only says which one each step of a run saw, so an
unchanged schema costs one row per run.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "run_schema",
        sa.Column("run_id", sa.String(), sa.ForeignKey("run.run_id"), primary_key=True),
        sa.Column("step_id", sa.String(), primary_key=True),
        sa.Column("schema_hash", sa.String(64), sa.ForeignKey("payload.hash"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("run_schema")
