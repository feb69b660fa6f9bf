"""Run the trace store's Alembic migrations from code: no alembic.ini at run time.

The schema is created and changed only here. :func:`upgrade` runs ``upgrade head`` in one
write transaction (SQLite: ``BEGIN IMMEDIATE``; PostgreSQL: an advisory lock), so
concurrent openers serialise and the later ones find the schema already current.

To add a migration during development::

    from alembic import command
    from tracer.store.migrate import alembic_config
    command.revision(alembic_config(), message="add x", rev_id="0003")

then write its ``upgrade()`` by hand, mirroring the change in ``models.py``
(``tests/tracer/test_store_migrations.py`` checks that the two agree).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import Engine, inspect, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError

from tracer.store.engine import safe_url, writer
from tracer.store.errors import StoreMigrationError, StoreUnavailableError, classify
from tracer.store.revisions import MIGRATIONS_DIR, VERSION_TABLE, head_revision, revision_problem

if TYPE_CHECKING:
    from alembic.config import Config

# Alembic is imported only to migrate: a read-only open checks the schema's revision
# with one query and the revision ids written in the migration files, so reading
# commands never load it.

__all__ = [
    "MIGRATIONS_DIR",
    "alembic_config",
    "check_current",
    "current_revision",
    "head_revision",
    "upgrade",
]

# Arbitrary constant naming "the steptrace trace-store migration" among advisory locks.
_PG_LOCK_KEY = 0x5354_4550_5452_4143 % (2**63)


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic ``Config`` for the trace store, optionally bound to ``connection``."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("path_separator", "os")
    # revNNNN_slug.py: a valid module name, so mypy and ruff check the migrations too
    cfg.set_main_option("file_template", "rev%%(rev)s_%%(slug)s")
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def current_revision(engine: Engine) -> str | None:
    """The revision the database's schema is at; None for a database never migrated."""
    with engine.connect() as conn:
        if not inspect(conn).has_table(VERSION_TABLE):
            return None
        rows = conn.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalars().all()
    if len(rows) > 1:
        raise StoreMigrationError(
            f"{VERSION_TABLE} holds several revisions {sorted(rows)}; keep the newest row",
            database=safe_url(engine.url),
        )
    return rows[0] if rows else None


def upgrade(engine: Engine) -> None:
    """Bring the database behind ``engine`` to the newest schema."""
    from alembic import command
    from alembic.util import CommandError

    database = safe_url(engine.url)
    try:
        with writer(engine).begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LOCK_KEY})
            command.upgrade(alembic_config(conn), "head")
    except CommandError as exc:
        raise StoreMigrationError(
            f"cannot upgrade the schema to revision {head_revision()}: {exc}. If the database "
            "was written by a newer steptrace, upgrade steptrace; otherwise restore a backup",
            database=database,
        ) from exc
    except DBAPIError as exc:
        error = classify(exc, database)
        if isinstance(error, StoreUnavailableError):
            raise error from exc
        raise StoreMigrationError(
            f"migration to revision {head_revision()} failed ({exc.orig}); the schema was "
            "left as it was (the migration runs in one transaction); report this with the "
            "database's alembic_version",
            database=database,
        ) from exc


def check_current(engine: Engine) -> None:
    """For a read-only open: the schema must be this steptrace's, since it is not migrated."""
    database = safe_url(engine.url)
    try:
        current = current_revision(engine)
    except DBAPIError as exc:
        raise classify(exc, database) from exc
    problem = revision_problem(current, database)
    if problem is not None:
        raise problem
