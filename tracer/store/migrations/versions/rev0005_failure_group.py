"""One failure fingerprint, stored: each diagnosis's group id, the run's current group.

``diagnosis.group_id`` and ``diagnosis.signature`` hold the fingerprint of each diagnosis
(:mod:`tracer.fingerprint`), ``run.failure_group`` the group of the run's newest
diagnosis; both indexed, so a failure group's runs are one indexed query. Existing
diagnoses are backfilled here, from their stored bodies.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

from tracer.fingerprint import of_diagnosis

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BATCH = 2000


def upgrade() -> None:
    with op.batch_alter_table("diagnosis") as batch:
        batch.add_column(sa.Column("group_id", sa.String(12), nullable=True))
        batch.add_column(sa.Column("signature", sa.Text(), nullable=True))
    with op.batch_alter_table("run") as batch:
        batch.add_column(sa.Column("failure_group", sa.String(12), nullable=True))
    op.create_index("ix_diagnosis_group_id", "diagnosis", ["group_id", "id"])
    op.create_index("ix_run_failure_group_started", "run", ["failure_group", "started_at"])
    _backfill(op.get_bind())


def _backfill(conn: sa.Connection) -> None:
    """Fingerprint every stored diagnosis; give each run its newest diagnosis's group."""
    diagnosis = sa.table(
        "diagnosis",
        sa.column("id", sa.Integer()),
        sa.column("run_id", sa.String()),
        sa.column("body", sa.JSON()),
        sa.column("group_id", sa.String()),
        sa.column("signature", sa.Text()),
    )
    run = sa.table(
        "run",
        sa.column("run_id", sa.String()),
        sa.column("pipeline", sa.String()),
        sa.column("failure_group", sa.String()),
    )
    rows = conn.execute(
        sa.select(diagnosis.c.id, diagnosis.c.run_id, diagnosis.c.body, run.c.pipeline)
        .join(run, run.c.run_id == diagnosis.c.run_id)
        .order_by(diagnosis.c.id)
    )
    newest: dict[str, str] = {}
    updates: list[dict[str, Any]] = []
    set_group = (
        sa.update(diagnosis)
        .where(diagnosis.c.id == sa.bindparam("b_id"))
        .values(group_id=sa.bindparam("b_group"), signature=sa.bindparam("b_signature"))
    )
    for row_id, run_id, body, pipeline in rows.all():
        found = of_diagnosis(pipeline, json.loads(body) if isinstance(body, str) else body)
        newest[run_id] = found.id
        updates.append({"b_id": row_id, "b_group": found.id, "b_signature": found.signature})
        if len(updates) >= _BATCH:
            conn.execute(set_group, updates)
            updates = []
    if updates:
        conn.execute(set_group, updates)
    set_run = (
        sa.update(run)
        .where(run.c.run_id == sa.bindparam("b_run"))
        .values(failure_group=sa.bindparam("b_group"))
    )
    pairs = [{"b_run": r, "b_group": g} for r, g in newest.items()]
    for start in range(0, len(pairs), _BATCH):
        conn.execute(set_run, pairs[start : start + _BATCH])


def downgrade() -> None:
    op.drop_index("ix_run_failure_group_started", table_name="run")
    op.drop_index("ix_diagnosis_group_id", table_name="diagnosis")
    with op.batch_alter_table("run") as batch:
        batch.drop_column("failure_group")
    with op.batch_alter_table("diagnosis") as batch:
        batch.drop_column("signature")
        batch.drop_column("group_id")
