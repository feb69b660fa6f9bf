"""The trace store's one exception tree, and the one place database errors are translated.

::

    TraceStoreError                  anything the store cannot do; names the database
    ├── StoreUnavailableError        cannot reach or open the database (file deleted, server down)
    │   └── StoreLockedError         another process holds the lock beyond the busy timeout
    ├── StoreMigrationError          the schema could not be brought to this version
    └── StoreDataError               the records handed in are wrong (e.g. a missing payload)
        └── PayloadNotFoundError     no payload with that hash

Locked and unavailable are *transient*: the group committer keeps the batch and retries.
Data errors are the caller's: retrying the same records cannot help.
Every message names the database with its password hidden and says what to do.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlalchemy import exc as sa_exc

# SQLAlchemy is imported only where its errors are caught: the lean read path
# (tracer.store.reader) raises these errors without ever loading it.

__all__ = [
    "PayloadNotFoundError",
    "StoreDataError",
    "StoreLockedError",
    "StoreMigrationError",
    "StoreUnavailableError",
    "TraceStoreError",
    "classify",
    "classify_driver_error",
    "translate_errors",
]


class TraceStoreError(Exception):
    """The trace store could not do what was asked. ``database`` is the safe URL."""

    def __init__(self, message: str, *, database: str) -> None:
        super().__init__(f"trace store {database}: {message}")
        self.database = database
        self.detail = message


class StoreUnavailableError(TraceStoreError):
    """The database cannot be reached or opened; transient, so batches are retried."""


class StoreLockedError(StoreUnavailableError):
    """Another connection holds the write lock longer than the busy timeout."""


class StoreMigrationError(TraceStoreError):
    """The schema could not be created or upgraded."""


class StoreDataError(TraceStoreError):
    """The data handed to the store violates its schema; retrying will not help."""


class PayloadNotFoundError(StoreDataError, KeyError):
    """No payload is stored under the requested hash."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0])


_LOCKED_HINTS = ("database is locked", "database table is locked", "lock timeout", "55p03")
_SQLITE_GONE_HINTS = ("unable to open database", "disk i/o error", "readonly database")


def classify(exc: sa_exc.DBAPIError, database: str) -> TraceStoreError:
    """The :class:`TraceStoreError` that says what a driver error (wrapped by SQLAlchemy)
    means for the caller."""
    from sqlalchemy import exc as sa_exc

    return _classified(
        exc.orig if exc.orig is not None else exc,
        database,
        integrity=isinstance(exc, sa_exc.IntegrityError),
        unreachable=isinstance(exc, sa_exc.OperationalError | sa_exc.InterfaceError),
    )


def classify_driver_error(exc: Exception, database: str) -> TraceStoreError:
    """The same for an error of a DB-API driver used directly (sqlite3, psycopg): the
    DB-API names its error classes, so they are told apart by name."""
    names = {cls.__name__ for cls in type(exc).__mro__}
    return _classified(
        exc,
        database,
        integrity="IntegrityError" in names,
        unreachable=bool(names & {"OperationalError", "InterfaceError"}),
    )


def _classified(
    orig: BaseException, database: str, *, integrity: bool, unreachable: bool
) -> TraceStoreError:
    text = str(orig).lower()
    pgcode = getattr(orig, "sqlstate", None) or ""
    if any(h in text for h in _LOCKED_HINTS) or pgcode == "55P03":
        return StoreLockedError(
            f"the database is locked by another connection ({orig}); another steptrace "
            "process or a tool holding a write transaction keeps it; the batch is kept and "
            "retried — close that transaction, or raise busy_timeout_ms",
            database=database,
        )
    if integrity:
        return StoreDataError(
            f"records violate the schema ({orig}); make sure every payload hash a record "
            "refers to is passed along with it (or was stored earlier)",
            database=database,
        )
    if unreachable or any(h in text for h in _SQLITE_GONE_HINTS):
        return StoreUnavailableError(
            f"cannot use the database ({orig}); check that the server is up or the file "
            "and its folder exist and are writable; pending records are kept and retried",
            database=database,
        )
    return TraceStoreError(f"database error: {orig}", database=database)


@contextmanager
def translate_errors(database: str) -> Iterator[None]:
    """Turn SQLAlchemy/driver errors raised inside the block into :class:`TraceStoreError`."""
    from sqlalchemy import exc as sa_exc

    try:
        yield
    except TraceStoreError:
        raise
    except sa_exc.DBAPIError as exc:
        raise classify(exc, database) from exc
    except sa_exc.SQLAlchemyError as exc:
        raise TraceStoreError(f"database error: {exc}", database=database) from exc
