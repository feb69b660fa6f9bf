"""Payload dictionaries: zstd dictionaries trained on the store's own payloads.

A payload's zstd frame names the dictionary it was compressed with (0: none), so rows
written before this revision stay readable as they are.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "payload_dictionary",
        # zstd dictionary ids are unsigned 32-bit: BigInteger holds them on PostgreSQL
        sa.Column("dict_id", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("samples", sa.Integer(), nullable=False),
        sa.Column("sample_bytes", sa.BigInteger(), nullable=False),
        sa.Column("ratio", sa.Float(), nullable=False),
        sa.Column("reason", sa.String(32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_payload_dictionary_created_at", "payload_dictionary", ["created_at"])


def downgrade() -> None:
    op.drop_table("payload_dictionary")
