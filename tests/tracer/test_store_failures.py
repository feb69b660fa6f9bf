"""The store under trouble: a locked SQLite file, a deleted file, an unreachable server,
a schema from the future — each a clear error, and no record lost."""

from __future__ import annotations

import shutil
import socket
import sqlite3
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy import exc as sa_exc

from tracer.payloads import EncodedPayload
from tracer.store import (
    AttemptRecord,
    GroupCommitter,
    StoreDataError,
    StoreLockedError,
    StoreMigrationError,
    StoreUnavailableError,
    TraceStore,
    TraceStoreError,
)
from tracer.store.errors import classify

Attempt = Callable[..., tuple[AttemptRecord, EncodedPayload]]


def _db_file(store: TraceStore) -> Path:
    return Path(str(store.engine.url.database))


@pytest.fixture
def exclusive_lock(sqlite_store: TraceStore) -> Iterator[sqlite3.Connection]:
    """Another connection holding the SQLite write lock until the test commits it."""
    conn = sqlite3.connect(_db_file(sqlite_store), isolation_level=None)
    conn.execute("BEGIN EXCLUSIVE")
    yield conn
    if conn.in_transaction:
        conn.rollback()
    conn.close()


@pytest.fixture
def retries() -> tuple[threading.Event, Callable[[TraceStoreError], None], list[TraceStoreError]]:
    """An ``on_retry`` hook that records errors and sets an event on the first one."""
    seen = threading.Event()
    errors: list[TraceStoreError] = []

    def hook(error: TraceStoreError) -> None:
        errors.append(error)
        seen.set()

    return seen, hook, errors


def _count(store: TraceStore) -> int:
    with store.engine.connect() as conn:
        return int(conn.execute(sa.text("SELECT count(*) FROM step_attempt")).scalar_one())


# ---------------------------------------------------------------- locked


def test_locked_file_raises_store_locked_and_writes_nothing(
    sqlite_store: TraceStore, exclusive_lock: sqlite3.Connection, attempt: Attempt
) -> None:
    record, payload = attempt()
    with pytest.raises(StoreLockedError) as info:
        sqlite_store.record_attempts([record], [payload])
    message = str(info.value)
    assert str(_db_file(sqlite_store)) in message
    assert "locked" in message and "busy_timeout_ms" in message
    exclusive_lock.rollback()
    sqlite_store.record_attempts([record], [payload])
    assert _count(sqlite_store) == 1


async def test_committer_keeps_a_locked_batch_until_the_lock_goes(
    sqlite_store: TraceStore,
    exclusive_lock: sqlite3.Connection,
    attempt: Attempt,
    retries: tuple[threading.Event, Callable[[TraceStoreError], None], list[TraceStoreError]],
) -> None:
    seen, hook, errors = retries
    committer = GroupCommitter(sqlite_store, on_retry=hook)
    record, payload = attempt()
    future = committer.submit(record, [payload])
    assert seen.wait(10), "the committer never hit the lock"
    with pytest.raises(StoreLockedError, match="stays queued and is retried"):
        await committer.record(record, [payload], give_up_after=0.2)
    assert not future.done()
    exclusive_lock.rollback()
    future.result(timeout=10)
    committer.close()
    assert _count(sqlite_store) == 1
    assert all(isinstance(e, StoreLockedError) for e in errors)


# ---------------------------------------------------------------- deleted


def _remove_db_files(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        path.with_name(path.name + suffix).unlink(missing_ok=True)


def test_deleted_file_raises_store_unavailable(sqlite_store: TraceStore, attempt: Attempt) -> None:
    path = _db_file(sqlite_store)
    _remove_db_files(path)
    record, payload = attempt()
    with pytest.raises(StoreUnavailableError, match="deleted or moved") as info:
        sqlite_store.record_attempts([record], [payload])
    assert str(path) in str(info.value)
    assert not path.exists()  # nothing was written into a fresh, empty file either
    with pytest.raises(StoreUnavailableError):
        sqlite_store.list_runs()


def test_deleted_folder_raises_store_unavailable(
    sqlite_store: TraceStore, attempt: Attempt
) -> None:
    shutil.rmtree(_db_file(sqlite_store).parent)
    record, payload = attempt()
    with pytest.raises(StoreUnavailableError, match="deleted or moved"):
        sqlite_store.record_attempts([record], [payload])


def test_replaced_file_raises_store_unavailable(sqlite_url: str, attempt: Attempt) -> None:
    store = TraceStore.open(sqlite_url)
    path = _db_file(store)
    _remove_db_files(path)
    TraceStore.open(sqlite_url).close()  # another process starts a new store in its place
    with pytest.raises(StoreUnavailableError, match="replaced"):
        store.put_payloads([attempt()[1]])
    store.close()


async def test_committer_waits_for_a_moved_file_to_come_back(
    sqlite_store: TraceStore,
    attempt: Attempt,
    retries: tuple[threading.Event, Callable[[TraceStoreError], None], list[TraceStoreError]],
) -> None:
    seen, hook, errors = retries
    path = _db_file(sqlite_store)
    moved = path.with_name("moved.db")
    path.rename(moved)
    committer = GroupCommitter(sqlite_store, on_retry=hook, max_retry_delay=0.05)
    record, payload = attempt()
    future = committer.submit(record, [payload])
    assert seen.wait(10)
    assert isinstance(errors[0], StoreUnavailableError)
    moved.rename(path)
    future.result(timeout=10)
    committer.close()
    assert _count(sqlite_store) == 1


def test_close_reports_records_it_could_not_write(
    sqlite_store: TraceStore,
    attempt: Attempt,
    retries: tuple[threading.Event, Callable[[TraceStoreError], None], list[TraceStoreError]],
) -> None:
    seen, hook, _ = retries
    _remove_db_files(_db_file(sqlite_store))
    committer = GroupCommitter(sqlite_store, on_retry=hook)
    record, payload = attempt()
    future = committer.submit(record, [payload])
    assert seen.wait(10)
    with pytest.raises(StoreUnavailableError, match="1 attempt record"):
        committer.close(timeout=0.1)
    assert isinstance(future.exception(), StoreUnavailableError)


# ---------------------------------------------------------------- unreachable, bad URLs


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_unreachable_postgres_is_unavailable_and_hides_the_password() -> None:
    url = f"postgresql+psycopg://steptrace:hunter2@127.0.0.1:{_closed_port()}/trace"
    with pytest.raises(StoreUnavailableError) as info:
        TraceStore.open(url)
    assert "hunter2" not in str(info.value)
    assert "steptrace:***@127.0.0.1" in str(info.value)


def test_unwritable_sqlite_location_is_unavailable(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    with pytest.raises(StoreUnavailableError, match="not-a-folder"):
        TraceStore.open(f"sqlite:///{blocker / 'trace.db'}")


@pytest.mark.parametrize("url", ["sqlite://", "sqlite:///:memory:", "mysql://x@y/z"])
def test_unsupported_urls_say_what_to_use(url: str) -> None:
    with pytest.raises(TraceStoreError, match=r"sqlite:///path/to/trace\.db"):
        TraceStore.open(url)


def test_schema_from_a_newer_steptrace_is_a_migration_error(store_url: str) -> None:
    TraceStore.open(store_url).close()
    engine = sa.create_engine(store_url)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE alembic_version SET version_num = '9999'"))
    engine.dispose()
    with pytest.raises(StoreMigrationError, match="newer steptrace"):
        TraceStore.open(store_url)


# ---------------------------------------------------------------- translation table


class _DriverError(Exception):
    def __init__(self, message: str, sqlstate: str | None = None) -> None:
        super().__init__(message)
        self.sqlstate = sqlstate


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (sa_exc.OperationalError("x", {}, _DriverError("database is locked")), StoreLockedError),
        (sa_exc.OperationalError("x", {}, _DriverError("lock", "55P03")), StoreLockedError),
        (
            sa_exc.OperationalError("x", {}, _DriverError("connection refused")),
            StoreUnavailableError,
        ),
        (sa_exc.InterfaceError("x", {}, _DriverError("connection closed")), StoreUnavailableError),
        (
            sa_exc.DatabaseError("x", {}, _DriverError("unable to open database file")),
            StoreUnavailableError,
        ),
        (
            sa_exc.IntegrityError("x", {}, _DriverError("FOREIGN KEY constraint failed")),
            StoreDataError,
        ),
        (sa_exc.ProgrammingError("x", {}, _DriverError("syntax error")), TraceStoreError),
    ],
)
def test_every_driver_error_is_translated(error: sa_exc.DBAPIError, expected: type) -> None:
    translated = classify(error, "sqlite:///x.db")
    assert type(translated) is expected
    assert str(translated).startswith("trace store sqlite:///x.db: ")
