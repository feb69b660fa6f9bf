"""The lean read path: runs, attempts, payloads and diagnoses through the DB-API driver.

``steptrace runs``, ``show`` and ``why`` answer from a handful of indexed queries, and
a command line pays for every module it imports: SQLAlchemy's ORM and the SQLModel
tables cost more than the queries. :class:`TraceReader` reads the same tables with
``sqlite3`` or ``psycopg`` alone and hands back the same pydantic records as
:class:`~tracer.store.TraceStore`; both satisfy :class:`RunSource`, which is what the
read model (:mod:`tracer.run_model`, :mod:`tracer.run_views`) asks for.

It never writes nor migrates: like ``TraceStore.open(read_only=True)`` it refuses a
store whose schema is not this steptrace's. The tables and columns it names are listed
in :data:`COLUMNS` (and its JSON and timestamp columns in :data:`JSON_COLUMNS` and
:data:`TIME_COLUMNS`); ``tests/tracer/test_store_reader.py`` holds them to the ORM
models in :mod:`tracer.store.models`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol, Self

from tracer.payloads import UnknownDictionaryError, ZstdCodec
from tracer.store.errors import (
    PayloadNotFoundError,
    StoreDataError,
    StoreUnavailableError,
    TraceStoreError,
    classify_driver_error,
)
from tracer.store.raw_cache import RawCache
from tracer.store.records import (
    FAILED_STATUSES,
    AttemptRecord,
    DiagnosisRecord,
    RubricResultRecord,
    RunRecord,
    RunStatus,
)
from tracer.store.revisions import VERSION_TABLE, revision_problem
from tracer.store.urls import default_url, parse_store_url

__all__ = [
    "COLUMNS",
    "JSON_COLUMNS",
    "TIME_COLUMNS",
    "RunSource",
    "TraceReader",
    "open_reader",
]

DEFAULT_BUSY_TIMEOUT_MS = 5000

COLUMNS: dict[str, tuple[str, ...]] = {
    "run": (
        "run_id",
        "workflow_id",
        "temporal_run_id",
        "pipeline",
        "version_hash",
        "trigger_hash",
        "status",
        "kind",
        "parent_run_id",
        "started_at",
        "ended_at",
        "failed_step",
        "failure_group",
    ),
    "step_attempt": (
        "workflow_id",
        "temporal_run_id",
        "activity_id",
        "attempt",
        "run_id",
        "step_id",
        "step_index",
        "op",
        "status",
        "input_hash",
        "output_hash",
        "error",
        "external_writes",
        "inner_retries",
        "started_at",
        "ended_at",
        "duration_ms",
    ),
    "diagnosis": ("id", "run_id", "body", "group_id", "signature", "created_at"),
    "rubric_result": (
        "id",
        "run_id",
        "rubric_id",
        "rubric_version",
        "outcome",
        "severity",
        "evidence",
        "step_id",
        "created_at",
    ),
    "payload": ("hash", "raw_size", "data"),
    "payload_dictionary": ("dict_id", "data"),
}
"""The columns each read selects, by table (``step_attempt``'s surrogate ``id`` is only
ordered by; ``payload`` and ``payload_dictionary`` are read in part)."""

JSON_COLUMNS = frozenset(
    {
        ("step_attempt", "error"),
        ("step_attempt", "external_writes"),
        ("step_attempt", "inner_retries"),
        ("diagnosis", "body"),
        ("rubric_result", "evidence"),
    }
)
"""Columns stored as JSON: text on SQLite, JSONB (decoded by psycopg) on PostgreSQL."""

TIME_COLUMNS = frozenset(
    {
        ("run", "started_at"),
        ("run", "ended_at"),
        ("step_attempt", "started_at"),
        ("step_attempt", "ended_at"),
        ("diagnosis", "created_at"),
        ("rubric_result", "created_at"),
    }
)
"""UTC timestamps: naive text on SQLite, ``timestamptz`` on PostgreSQL."""


class RunSource(Protocol):
    """What reading runs back needs from a store: :class:`TraceReader` or ``TraceStore``."""

    database: str

    def get_run(self, run_id: str) -> RunRecord | None: ...

    def find_run(self, workflow_id: str) -> RunRecord | None: ...

    def match_runs(self, fragment: str, limit: int = 5) -> list[RunRecord]: ...

    def list_runs(
        self, *, status: RunStatus | None = None, pipeline: str | None = None, limit: int = 50
    ) -> list[RunRecord]: ...

    def latest_failed_run(self, pipeline: str | None = None) -> RunRecord | None: ...

    def attempts(self, run_id: str) -> list[AttemptRecord]: ...

    def get_payload(self, hash: str) -> Any: ...

    def get_payloads(self, hashes: Iterable[str]) -> dict[str, Any]: ...

    def payload_sizes(self, hashes: Iterable[str]) -> dict[str, int]: ...

    def diagnoses(self, run_id: str) -> list[DiagnosisRecord]: ...

    def rubric_results(self, run_id: str) -> list[RubricResultRecord]: ...

    def close(self) -> None: ...


def open_reader(
    url: str | None = None,
    *,
    root: Path = Path(".steptrace"),
    busy_timeout_ms: int = DEFAULT_BUSY_TIMEOUT_MS,
) -> TraceReader:
    """A read-only reader of the store at ``url`` (default ``sqlite:///<root>/trace.db``,
    as :meth:`TraceStore.open`). A missing store, an unreachable server or a schema that
    is not this steptrace's is a :class:`TraceStoreError` that says what to do."""
    parsed = parse_store_url(url or default_url(root))
    if parsed.backend == "sqlite":
        connection = _sqlite_connection(Path(parsed.target), parsed.database, busy_timeout_ms)
        reader = TraceReader(connection, "sqlite", parsed.database)
    else:
        options = f"{parsed.options} -c default_transaction_read_only=on".strip()
        connection = _postgres_connection(parsed.target, options, parsed.database)
        reader = TraceReader(connection, "postgresql", parsed.database)
    try:
        reader.check_schema()
    except BaseException:
        reader.close()
        raise
    return reader


def _sqlite_connection(path: Path, database: str, busy_timeout_ms: int) -> Any:
    import sqlite3

    if not path.exists():  # sqlite3 would create an empty file
        raise StoreUnavailableError(
            f"no trace store at {path} yet (no runs recorded); run a pipeline first, or "
            "point STEPTRACE_DATABASE_URL at the store",
            database=database,
        )
    try:
        connection = sqlite3.connect(path, timeout=busy_timeout_ms / 1000, isolation_level=None)
        connection.execute("PRAGMA query_only=ON")  # a bug that writes fails, never locks
    except sqlite3.Error as exc:
        raise classify_driver_error(exc, database) from exc
    return connection


def _postgres_connection(conninfo: str, options: str, database: str) -> Any:
    """``options`` replaces the URL's own, so it carries them (see :func:`open_reader`)."""
    import psycopg

    try:
        return psycopg.connect(conninfo, autocommit=True, options=options)
    except psycopg.Error as exc:
        raise classify_driver_error(exc, database) from exc


class TraceReader:
    """One read-only connection to a trace store; answers like ``TraceStore``'s reads.

    Not thread-safe (one connection): it serves one command. Payloads are decompressed
    with the store's trained dictionaries, loaded from ``payload_dictionary`` the first
    time a frame names one.
    """

    def __init__(self, connection: Any, dialect: str, database: str) -> None:
        self._connection = connection
        self.dialect = dialect
        self.database = database
        self._codec = ZstdCodec()
        self._raw_cache = RawCache()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.database!r})"

    def close(self) -> None:
        self._connection.close()

    # ------------------------------------------------------------------ schema

    def check_schema(self) -> None:
        """Refuse a store that is not at this steptrace's schema (it is never migrated)."""
        if self.dialect == "sqlite":
            probe = "SELECT name FROM sqlite_master WHERE type = 'table' AND name = ?"
        else:
            probe = "SELECT to_regclass(?)"
        found = self._rows(probe, (VERSION_TABLE,))
        current = None
        if found and found[0][0] is not None:
            versions = self._rows(f"SELECT version_num FROM {VERSION_TABLE}")
            current = str(versions[0][0]) if versions else None
        problem = revision_problem(current, self.database)
        if problem is not None:
            raise problem

    # ------------------------------------------------------------------ runs

    def get_run(self, run_id: str) -> RunRecord | None:
        return self._first_run("run_id = ?", (run_id,))

    def find_run(self, workflow_id: str) -> RunRecord | None:
        """The newest run of a Temporal workflow id."""
        return self._first_run("workflow_id = ? ORDER BY started_at DESC LIMIT 1", (workflow_id,))

    def match_runs(self, fragment: str, limit: int = 5) -> list[RunRecord]:
        """Runs whose id starts with ``fragment``, or whose workflow id has a part (after
        a ``-``) starting with it (as ``TraceStore.match_runs``)."""
        escaped = fragment.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        where = (
            "run_id LIKE ? ESCAPE '\\' OR workflow_id LIKE ? ESCAPE '\\' "
            "ORDER BY started_at DESC LIMIT ?"
        )
        return self._runs(where, (f"{escaped}%", f"%-{escaped}%", limit))

    def list_runs(
        self, *, status: RunStatus | None = None, pipeline: str | None = None, limit: int = 50
    ) -> list[RunRecord]:
        """Runs, newest first, of one status and/or pipeline: one indexed probe per status,
        merged (the run table's start-time indexes all start with the status)."""
        found: list[RunRecord] = []
        for one in list(RunStatus) if status is None else [RunStatus(status)]:
            where, params = "status = ?", [one.value]
            if pipeline is not None:
                where, params = where + " AND pipeline = ?", [*params, pipeline]
            found.extend(self._runs(f"{where} ORDER BY started_at DESC LIMIT ?", (*params, limit)))
        return sorted(found, key=lambda r: r.started_at, reverse=True)[:limit]

    def latest_failed_run(self, pipeline: str | None = None) -> RunRecord | None:
        """The newest run that failed loudly (``failed``) or silently (``qc_failed``)."""
        newest: list[RunRecord] = []
        for status in FAILED_STATUSES:
            newest.extend(self.list_runs(status=status, pipeline=pipeline, limit=1))
        return max(newest, key=lambda r: r.started_at, default=None)

    def _first_run(self, where: str, params: Sequence[Any]) -> RunRecord | None:
        found = self._runs(where, params)
        return found[0] if found else None

    def _runs(self, where: str, params: Sequence[Any]) -> list[RunRecord]:
        return [RunRecord.model_validate(row) for row in self._records("run", where, params)]

    # ------------------------------------------------------------------ attempts, diagnoses, QC

    def attempts(self, run_id: str) -> list[AttemptRecord]:
        """A run's attempts in step order, then attempt order."""
        rows = self._records(
            "step_attempt", "run_id = ? ORDER BY step_index, attempt, id", (run_id,)
        )
        return [AttemptRecord.from_stored(row) for row in rows]

    def diagnoses(self, run_id: str) -> list[DiagnosisRecord]:
        rows = self._records("diagnosis", "run_id = ? ORDER BY id", (run_id,))
        return [DiagnosisRecord.model_validate(row) for row in rows]

    def rubric_results(self, run_id: str) -> list[RubricResultRecord]:
        rows = self._records("rubric_result", "run_id = ? ORDER BY id", (run_id,))
        return [RubricResultRecord.model_validate(row) for row in rows]

    # ------------------------------------------------------------------ payloads

    def get_payload(self, hash: str) -> Any:
        """The JSON data stored under ``hash`` (a new value each call);
        :class:`PayloadNotFoundError` if none."""
        found = self.get_payloads([hash])
        if hash not in found:
            raise PayloadNotFoundError(
                f"no payload with hash {hash}; it was never stored, or this is another store",
                database=self.database,
            )
        return found[hash]

    def get_payloads(self, hashes: Iterable[str]) -> dict[str, Any]:
        """The JSON data of each stored payload among ``hashes``, in one query."""
        found, missing = self._raw_cache.values(sorted(set(hashes)))
        if missing:
            rows = self._rows(
                f"SELECT hash, data FROM payload WHERE hash IN ({_marks(missing)})", missing
            )
            for digest, data in rows:
                raw = self._raw_cache.put(digest, self._decompress(bytes(data)))
                found[digest] = json.loads(raw)
        return found

    def payload_sizes(self, hashes: Iterable[str]) -> dict[str, int]:
        """The raw (uncompressed JSON) size of each stored payload, without decoding it."""
        wanted = sorted(set(hashes))
        if not wanted:
            return {}
        query = f"SELECT hash, raw_size FROM payload WHERE hash IN ({_marks(wanted)})"
        return {str(h): int(size) for h, size in self._rows(query, wanted)}

    def _decompress(self, data: bytes) -> bytes:
        try:
            return self._codec.decompress(data)
        except UnknownDictionaryError as exc:
            query = "SELECT data FROM payload_dictionary WHERE dict_id = ?"
            found = self._rows(query, (exc.dict_id,))
            if not found:
                raise StoreDataError(
                    f"a stored payload names zstd dictionary {exc.dict_id}, which is not in "
                    "the payload_dictionary table; the table was edited or the payload "
                    "copied from another store — restore the dictionary row from a backup",
                    database=self.database,
                ) from exc
            self._codec.add(exc.dict_id, bytes(found[0][0]))
            return self._codec.decompress(data)

    # ------------------------------------------------------------------ SQL

    def _records(self, table: str, where: str, params: Sequence[Any]) -> list[dict[str, Any]]:
        """Rows of ``table`` as dicts of its :data:`COLUMNS`, JSON and timestamps decoded."""
        columns = COLUMNS[table]
        rows = self._rows(f"SELECT {', '.join(columns)} FROM {table} WHERE {where}", params)
        decoders = [self._decoder(table, column) for column in columns]
        return [
            {c: decode(v) for c, decode, v in zip(columns, decoders, row, strict=True)}
            for row in rows
        ]

    def _decoder(self, table: str, column: str) -> Any:
        if (table, column) in JSON_COLUMNS:
            return _json_text if self.dialect == "sqlite" else _same
        if (table, column) in TIME_COLUMNS:
            return _utc
        return _same

    def _rows(self, query: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        if self.dialect == "postgresql":
            query = query.replace("?", "%s")
        try:
            cursor = self._connection.execute(query, tuple(params))
            return [tuple(row) for row in cursor.fetchall()]
        except TraceStoreError:
            raise
        except Exception as exc:
            if type(exc).__module__.split(".")[0] not in ("sqlite3", "psycopg"):
                raise
            raise classify_driver_error(exc, self.database) from exc


def _marks(values: Sequence[Any]) -> str:
    return ", ".join("?" * len(values))


def _same(value: Any) -> Any:
    return value


def _json_text(value: Any) -> Any:
    return None if value is None else json.loads(value)


def _utc(value: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, str):  # SQLite: naive UTC text
        value = datetime.fromisoformat(value)
    assert isinstance(value, datetime)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
