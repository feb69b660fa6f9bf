"""Engine creation for the trace store: SQLite (the embedded default) or PostgreSQL.

SQLite gets WAL, ``busy_timeout``, ``synchronous=NORMAL`` and ``foreign_keys=ON`` on
every connection. The driver's own implicit transactions are switched off and we emit
``BEGIN`` ourselves: write transactions (connections from :func:`writer`) start with
``BEGIN IMMEDIATE`` so they take the write lock up front and wait ``busy_timeout`` for
it, instead of failing at once when a read transaction has to be upgraded under WAL.
PostgreSQL goes through psycopg 3 with ``pool_pre_ping`` and bounded network timeouts
(:data:`POSTGRES_TIMEOUTS`).
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.exc import ArgumentError

from tracer.store.errors import StoreUnavailableError, TraceStoreError
from tracer.store.urls import default_url

__all__ = [
    "DEFAULT_BUSY_TIMEOUT_MS",
    "create_store_engine",
    "default_url",
    "safe_url",
    "sqlite_path",
    "writer",
]

DEFAULT_BUSY_TIMEOUT_MS = 5000
_WRITE_OPTION = "steptrace_write"


def safe_url(url: str | URL) -> str:
    """The URL with any password replaced by ``***``: safe for messages and logs."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<unparseable database URL>"


def sqlite_path(url: URL) -> Path | None:
    """The file of a SQLite URL, or None for other backends."""
    if url.get_backend_name() != "sqlite":
        return None
    if not url.database or url.database == ":memory:" or url.database.startswith("file:"):
        raise TraceStoreError(
            "in-memory or URI-style SQLite is not supported; give a file path "
            "(sqlite:///path/to/trace.db)",
            database=safe_url(url),
        )
    return Path(url.database).absolute()


def create_store_engine(
    url: str, *, busy_timeout_ms: int = DEFAULT_BUSY_TIMEOUT_MS, read_only: bool = False
) -> Engine:
    """An engine for ``url``, configured for the trace store (see the module docstring).

    ``read_only``: SQLite connections are ``query_only`` and the file must exist;
    PostgreSQL sessions default to read-only transactions.
    """
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        path = sqlite_path(parsed)
        assert path is not None
        if read_only:
            return _sqlite_reader(parsed, path, busy_timeout_ms)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreUnavailableError(
                f"cannot create the folder for {path} ({exc.strerror}); choose a writable "
                "location (TraceStore.open(root=...) or a sqlite:/// URL)",
                database=safe_url(parsed),
            ) from exc
        engine = create_engine(
            parsed.set(database=str(path)),
            connect_args={"check_same_thread": False, "timeout": busy_timeout_ms / 1000},
        )
        _configure_sqlite(engine, busy_timeout_ms)
        return engine
    if backend == "postgresql":
        if parsed.get_driver_name() in ("", "psycopg2"):
            parsed = parsed.set(drivername="postgresql+psycopg")
        if read_only:  # added to the URL's own options (a search_path, say), not instead
            given = parsed.query.get("options")
            given = given if isinstance(given, str) else " ".join(given or ())
            options = f"{given} -c default_transaction_read_only=on".strip()
            parsed = parsed.update_query_dict({"options": options})
        return create_engine(parsed, pool_pre_ping=True, connect_args=_postgres_timeouts(parsed))
    raise TraceStoreError(
        f"unsupported database backend {backend!r}; use sqlite:///path/to/trace.db or "
        "postgresql+psycopg://user:password@host/db",
        database=safe_url(parsed),
    )


POSTGRES_TIMEOUTS: dict[str, int] = {
    "connect_timeout": 10,  # seconds
    "tcp_user_timeout": 10_000,  # ms that sent data may stay unacknowledged
    "keepalives_idle": 10,  # seconds; then probes every 5 s, 3 times
    "keepalives_interval": 5,
    "keepalives_count": 3,
}
"""libpq settings that bound how long a server that stopped answering can hold a
connection: a commit may run on the worker's event loop (:mod:`tracer.store.inline`),
and the operating system's own TCP timeouts are many minutes."""


def _postgres_timeouts(url: URL) -> dict[str, int]:
    """:data:`POSTGRES_TIMEOUTS`, less those the URL sets itself."""
    return {name: value for name, value in POSTGRES_TIMEOUTS.items() if name not in url.query}


def _sqlite_reader(parsed: URL, path: Path, busy_timeout_ms: int) -> Engine:
    if not path.exists():
        raise StoreUnavailableError(
            f"no trace store at {path} yet (no runs recorded); run a pipeline first, or "
            "point STEPTRACE_DATABASE_URL at the store",
            database=safe_url(parsed),
        )
    engine = create_engine(
        parsed.set(database=str(path)),
        connect_args={"check_same_thread": False, "timeout": busy_timeout_ms / 1000},
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        try:
            cur.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
            cur.execute("PRAGMA query_only=ON")  # a bug that writes fails, never locks
        finally:
            cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN")

    return engine


def writer(engine: Engine) -> Engine:
    """The same engine, but its transactions take the write lock first (SQLite)."""
    return engine.execution_options(**{_WRITE_OPTION: True})


def _configure_sqlite(engine: Engine, busy_timeout_ms: int) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Autocommit at the driver level: transactions are begun by _on_begin below.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        try:
            cur.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
            _enable_wal(cur, busy_timeout_ms)
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
        finally:
            cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        write = conn.get_execution_options().get(_WRITE_OPTION, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


def _enable_wal(cur: sqlite3.Cursor, busy_timeout_ms: int) -> None:
    """Switch a (new) database file to WAL, waiting for other openers like busy_timeout does.

    Changing the journal mode needs an exclusive lock and SQLite answers "database is
    locked" at once instead of calling the busy handler, so two processes creating the
    same store at the same moment would otherwise fail. WAL is persistent: once one
    opener has set it, the others only read it.
    """
    deadline = time.monotonic() + busy_timeout_ms / 1000
    delay = 0.005
    while True:
        try:
            if str(cur.execute("PRAGMA journal_mode").fetchone()[0]).lower() != "wal":
                cur.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() >= deadline:
                raise
            time.sleep(delay)  # no busy handler to wait on here
            delay = min(delay * 2, 0.1)
