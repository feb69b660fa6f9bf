"""Alembic environment for the trace store, driven from code (no alembic.ini).

:func:`tracer.store.migrate.upgrade` opens a write transaction (and, on PostgreSQL, takes
an advisory lock) and hands its connection in ``config.attributes["connection"]``, so two
processes opening the same store at once migrate one after the other.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel

import tracer.store.models  # noqa: F401  (registers the tables on SQLModel.metadata)

connection = context.config.attributes.get("connection")
if not isinstance(connection, Connection):
    raise RuntimeError(
        "the trace store migrations run from code: call tracer.store.migrate.upgrade(engine), "
        "or put a Connection in Config.attributes['connection']"
    )

context.configure(
    connection=connection,
    target_metadata=SQLModel.metadata,
    transactional_ddl=True,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
