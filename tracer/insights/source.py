"""Reading the trace store's tables for the corpus: plain SQL through the database driver.

The data layer needs whole columns, not ORM objects, so this module talks to SQLite
(read-only, through the standard library) or PostgreSQL (psycopg) directly and hands back
column lists. It never writes and never migrates: a store that is not at the schema this
steptrace expects is refused with :class:`CorpusUnavailableError`, so an analysis never
runs on half-migrated tables. Timestamps come back as UTC text (``YYYY-MM-DD
HH:MM:SS[.ffffff]``) on both backends, JSON columns as text.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from tracer.insights.errors import CorpusUnavailableError
from tracer.store.migrate import head_revision

__all__ = ["Columns", "StoreReader", "open_reader"]

Columns = dict[str, list[Any]]


class _Cursor(Protocol):
    description: Any

    def execute(self, query: str, params: Sequence[Any] = ...) -> Any: ...
    def fetchall(self) -> list[tuple[Any, ...]]: ...


class StoreReader:
    """One read connection to a trace store, with the SQL dialect's small differences."""

    def __init__(self, connection: Any, dialect: str, database: str) -> None:
        self._connection = connection
        self.dialect = dialect
        self.database = database

    @property
    def mark(self) -> str:
        """The driver's parameter placeholder."""
        return "?" if self.dialect == "sqlite" else "%s"

    def ts(self, column: str) -> str:
        """SQL for a timestamp column as UTC text."""
        if self.dialect == "sqlite":
            return column
        return f"to_char({column} AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US')"

    def text(self, column: str) -> str:
        """SQL for a JSON column as text."""
        return column if self.dialect == "sqlite" else f"CAST({column} AS TEXT)"

    def rows(self, query: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        cursor = self._connection.cursor()
        try:
            cursor.execute(query, tuple(params))
            return list(cursor.fetchall())
        finally:
            cursor.close()

    def columns(self, query: str, names: Sequence[str], params: Sequence[Any] = ()) -> Columns:
        """The result of ``query`` as one list per column, named by ``names``."""
        rows = self.rows(query, params)
        if not rows:
            return {name: [] for name in names}
        return {name: list(values) for name, values in zip(names, zip(*rows, strict=True))}

    def check_schema(self) -> None:
        """Refuse a store that is not a steptrace store at this steptrace's schema."""
        expected = head_revision()
        try:
            found = self.rows("SELECT version_num FROM alembic_version")
        except Exception as exc:  # the driver's own error for a missing table
            raise CorpusUnavailableError(
                f"{self.database} is not a steptrace trace store (no alembic_version table: "
                f"{exc}); point STEPTRACE_DATABASE_URL at the store your workers write"
            ) from exc
        versions = [row[0] for row in found]
        if versions != [expected]:
            raise CorpusUnavailableError(
                f"{self.database} is at schema revision {', '.join(versions) or 'none'} but "
                f"this steptrace reads revision {expected}: the store is mid-migration or was "
                "written by another steptrace version. Let the migration finish (any "
                "`steptrace runs` opens and migrates the store), or upgrade steptrace"
            )

    def close(self) -> None:
        self._connection.close()


@contextmanager
def open_reader(url: str) -> Iterator[StoreReader]:
    """A read-only connection to the store at ``url`` (``sqlite:///…`` or ``postgresql…``)."""
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise CorpusUnavailableError(
            f"cannot read the database URL {url!r}; use sqlite:///path/to/trace.db or "
            "postgresql+psycopg://user@host/db"
        ) from exc
    database = parsed.render_as_string(hide_password=True)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        reader = _sqlite_reader(parsed.database or "", database)
    elif backend == "postgresql":
        reader = _postgres_reader(parsed.set(drivername="postgresql"), database)
    else:
        raise CorpusUnavailableError(
            f"unsupported database backend {backend!r} in {database}; use sqlite or postgresql"
        )
    try:
        reader.check_schema()
        yield reader
    finally:
        reader.close()


def _sqlite_reader(path_text: str, database: str) -> StoreReader:
    path = Path(path_text)
    if not path_text or not path.is_file():
        raise CorpusUnavailableError(
            f"no trace store at {database}: the file does not exist. Run a pipeline first "
            "(`steptrace demo`), or set STEPTRACE_DATABASE_URL to your store"
        )
    connection = sqlite3.connect(f"{path.absolute().as_uri()}?mode=ro", uri=True)
    return StoreReader(connection, "sqlite", database)


def _postgres_reader(url: Any, database: str) -> StoreReader:
    import psycopg

    try:
        connection = psycopg.connect(url.render_as_string(hide_password=False), autocommit=True)
    except psycopg.OperationalError as exc:
        raise CorpusUnavailableError(
            f"cannot connect to {database} ({exc}); check that PostgreSQL is up and the URL"
        ) from exc
    return StoreReader(connection, "postgresql", database)
