"""Reading the trace store's tables for the corpus: SQL straight into Arrow (ADBC).

The data layer needs whole columns, not ORM objects, so this module reads SQLite
(read-only) or PostgreSQL through the Arrow Database Connectivity drivers, which hand
back Arrow tables without a Python object per cell — the transfer is most of the time
an analysis of 100 000 runs takes. It never writes and never migrates: a store that is
not at the schema this steptrace expects is refused with :class:`CorpusUnavailableError`,
so an analysis never runs on half-migrated tables.

Conventions of the SQL written against a :class:`StoreReader`: timestamps as UTC text
(:meth:`StoreReader.ts`), JSON columns as text (:meth:`StoreReader.text`), and nullable
text columns wrapped in ``coalesce(x, '')`` — ADBC's SQLite driver infers a column's type
from its first rows, and a column that starts with NULLs would otherwise be typed wrong.
Literals are quoted with :func:`quote` (the two drivers disagree on parameter styles).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pyarrow as pa
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from tracer.insights.errors import CorpusUnavailableError
from tracer.payloads import ZstdCodec
from tracer.store.migrate import head_revision

__all__ = ["StoreReader", "open_reader", "quote"]


def quote(value: str) -> str:
    """A SQL string literal."""
    return "'" + value.replace("'", "''") + "'"


class StoreReader:
    """One read connection to a trace store, with the SQL dialect's small differences."""

    def __init__(self, connection: Any, dialect: str, database: str) -> None:
        self._connection = connection
        self.dialect = dialect
        self.database = database

    def ts(self, column: str) -> str:
        """SQL for a timestamp column as UTC text (never NULL: ``''`` for none)."""
        if self.dialect == "sqlite":
            return f"coalesce({column}, '')"
        return f"coalesce(to_char({column} AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US'), '')"

    def text(self, column: str) -> str:
        """SQL for a JSON column as text (never NULL: ``''`` for none)."""
        if self.dialect == "sqlite":
            return f"coalesce({column}, '')"
        return f"coalesce(CAST({column} AS TEXT), '')"

    def arrow(self, query: str) -> pa.Table:
        """The result of ``query`` as an Arrow table."""
        cursor = self._connection.cursor()
        try:
            cursor.execute(query)
            table: pa.Table = cursor.fetch_arrow_table()
            return table
        finally:
            cursor.close()

    def rows(self, query: str) -> list[tuple[Any, ...]]:
        """The result of a small query as tuples."""
        table = self.arrow(query)
        columns = [table.column(i).to_pylist() for i in range(table.num_columns)]
        return list(zip(*columns, strict=True)) if columns else []

    def payload_codec(self) -> ZstdCodec:
        """A decompressor that knows every dictionary the store's payloads name: most
        payloads of a store in use are compressed with one trained on its own data."""
        codec = ZstdCodec()
        for dict_id, data in self.rows("SELECT dict_id, data FROM payload_dictionary"):
            codec.add(int(dict_id), bytes(data))
        return codec

    def check_schema(self) -> None:
        """Refuse a store that is not a steptrace store at this steptrace's schema."""
        expected = head_revision()
        try:
            found = self.rows("SELECT version_num FROM alembic_version")
        except Exception as exc:  # the driver's own error for a missing table
            raise CorpusUnavailableError(
                f"{self.database} is not a steptrace trace store (no alembic_version table); "
                "point STEPTRACE_DATABASE_URL at the store your workers write"
            ) from exc
        versions = [str(row[0]) for row in found]
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
        reader = _postgres_reader(parsed, database)
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
    import adbc_driver_sqlite.dbapi

    path = Path(path_text)
    if not path_text or not path.is_file():
        raise CorpusUnavailableError(
            f"no trace store at {database}: the file does not exist. Run a pipeline first "
            "(`steptrace demo`), or set STEPTRACE_DATABASE_URL to your store"
        )
    connection = adbc_driver_sqlite.dbapi.connect(f"file:{path.absolute()}?mode=ro")
    return StoreReader(connection, "sqlite", database)


def _postgres_reader(url: URL, database: str) -> StoreReader:
    import adbc_driver_manager
    import adbc_driver_postgresql.dbapi

    libpq = url.set(drivername="postgresql").render_as_string(hide_password=False)
    try:
        connection = adbc_driver_postgresql.dbapi.connect(libpq)
    except adbc_driver_manager.Error as exc:
        raise CorpusUnavailableError(
            f"cannot connect to {database} ({exc}); check that PostgreSQL is up and the URL"
        ) from exc
    return StoreReader(connection, "postgresql", database)
