"""Connection handling shared by every :class:`~tracer.store.TraceStore` method.

One engine for reads and the same engine in write mode (``BEGIN IMMEDIATE`` on SQLite);
every call is one short session, its errors translated in one place. Before each
transaction a SQLite store checks that its file is still the one it opened: a connection
to a deleted file keeps "working" and every record written to it would vanish. A bounded
set of payload hashes known to be committed spares re-sending the same bytes.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any, Self

from sqlalchemy import Connection, Engine
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session

from tracer.payloads import EncodedPayload, RedactionPolicy, UnknownDictionaryError
from tracer.store.dictionaries import DictionarySettings, PayloadDictionaries
from tracer.store.dictionary_rows import DictionaryRows
from tracer.store.engine import DEFAULT_BUSY_TIMEOUT_MS, safe_url, sqlite_path, writer
from tracer.store.errors import (
    StoreUnavailableError,
    classify_driver_error,
    translate_errors,
)
from tracer.store.models import StepAttempt, utcnow
from tracer.store.raw_cache import RawCache

__all__ = ["StoreBase"]

_ATTEMPT_KEY = ["workflow_id", "temporal_run_id", "activity_id", "attempt"]
_KNOWN_HASHES_MAX = 50_000


class StoreBase:
    """Engine, sessions, error translation and file checks; the API is in ``TraceStore``."""

    def __init__(
        self,
        engine: Engine,
        *,
        policy: RedactionPolicy | None = None,
        dictionaries: DictionarySettings | None = None,
    ) -> None:
        self._engine = engine
        self._writer = writer(engine)
        self._busy_timeout_ms = DEFAULT_BUSY_TIMEOUT_MS
        self._policy = policy or RedactionPolicy()
        self.database = safe_url(engine.url)
        self._path = sqlite_path(engine.url)
        self._file_id: tuple[int, int] | None = None
        # Hashes known to be committed, so a payload repeated across attempts (the same
        # input on every retry) is not shipped to the database again.
        self._known: OrderedDict[str, None] = OrderedDict()
        self._known_lock = threading.Lock()
        self._raw_cache = RawCache()
        self._inserts: dict[Any, Any] = {}  # insert-or-ignore statements by table model
        self._specs: dict[str, str] = {}  # pipeline spec text by version hash (immutable)
        self._dictionaries = PayloadDictionaries(dictionaries)
        self._dictionary_rows = DictionaryRows(self, self._dictionaries)

    @property
    def url(self) -> str:
        """The store's URL with its credentials, for readers that open their own
        connection (the insights data layer reads whole tables through Arrow)."""
        return self._engine.url.render_as_string(hide_password=False)

    @property
    def codec(self) -> PayloadDictionaries:
        """What to encode payloads for this store with
        (``encode(value, policy, taint, codec=codec)``): it compresses with the store's
        newest dictionary and samples payloads to train the next one."""
        return self._dictionaries

    def maintain_dictionaries(self) -> str | None:
        """Adopt another worker's newer dictionary; train one if due (and say why).

        The group committer calls this after every batch, on its own thread; a process
        that writes without a committer may call it now and then.
        """
        return self._dictionary_rows.maintain()

    def _decompress(self, data: bytes) -> bytes:
        """A stored payload's canonical JSON bytes, loading its dictionary if need be."""
        try:
            return self._dictionaries.decompress(data)
        except UnknownDictionaryError as exc:
            self._dictionary_rows.load(exc.dict_id)  # stored by another worker
            return self._dictionaries.decompress(data)

    def close(self) -> None:
        """Release the connections. The store must not be used afterwards."""
        self._engine.dispose()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def policy(self) -> RedactionPolicy:
        """What this store redacts; the run recorder encodes triggers with it."""
        return self._policy

    @property
    def engine(self) -> Engine:
        """The SQLAlchemy engine, for diagnostics, benchmarks and tests; not for writes."""
        return self._engine

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.database!r})"

    def _remember_file(self) -> None:
        if self._path is not None:
            st = self._path.stat()
            self._file_id = (st.st_dev, st.st_ino)

    def ensure_available(self) -> None:
        """Fail now, with the fix, if the SQLite file was deleted or replaced; a stat only.

        A run about to start asks this even when it needs nothing else from the store
        (its spec cached): starting it would leave a workflow retrying its first record."""
        self._check_file()

    def _check_file(self) -> None:
        """Refuse to write into a SQLite file that was deleted or replaced while open.

        An open connection would go on writing into the unlinked file and every record
        would silently vanish with it; failing loudly lets the committer keep the batch.
        """
        if self._path is None or self._file_id is None:
            return
        try:
            st = os.stat(self._path)
        except OSError as exc:
            raise StoreUnavailableError(
                f"the database file {self._path} is gone ({exc.strerror}); it was deleted or "
                "moved (or its folder was) while steptrace was running. Put it back to "
                "continue — pending records are kept and retried — or restart to start a "
                "new, empty store",
                database=self.database,
            ) from exc
        if (st.st_dev, st.st_ino) != self._file_id:
            raise StoreUnavailableError(
                f"the database file {self._path} was replaced by another file while "
                "steptrace was running; restart steptrace to use the new file",
                database=self.database,
            )

    @contextmanager
    def _write(self) -> Iterator[Session]:
        self._check_file()
        with translate_errors(self.database), Session(self._writer) as session:
            yield session
            session.commit()

    @contextmanager
    def _write_rows(self, busy_timeout_ms: int | None = None) -> Iterator[Connection]:
        """A write transaction on a bare connection: no ORM session, for the hot path
        (attempts, run start and finish) where a session's bookkeeping is pure cost.
        ``busy_timeout_ms`` (SQLite) bounds the wait for the write lock for this one."""
        self._check_file()
        if busy_timeout_ms is None or self._path is None:
            with translate_errors(self.database), self._writer.begin() as connection:
                yield connection
            return
        with translate_errors(self.database), self._writer.connect() as connection:
            raw = connection.connection.driver_connection
            assert raw is not None
            raw.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
            try:
                with connection.begin():
                    yield connection
            finally:
                raw.execute(f"PRAGMA busy_timeout={int(self._busy_timeout_ms)}")

    @contextmanager
    def _pipelined(self, connection: Connection) -> Iterator[None]:
        """On PostgreSQL, send the statements run inside the block without waiting for
        each one's reply (psycopg's pipeline mode): a group commit's inserts then cost one
        round trip instead of one each. Their results are read at the end of the block,
        so nothing inside may need one (a rowcount, a returned row). Elsewhere a no-op."""
        if self._engine.dialect.name != "postgresql":
            yield
            return
        raw = connection.connection.driver_connection
        assert raw is not None
        try:
            with raw.pipeline():
                yield
        except Exception as exc:  # the driver's own error, raised when results are read
            if type(exc).__module__.startswith("psycopg"):
                raise classify_driver_error(exc, self.database) from exc
            raise

    @contextmanager
    def _read_rows(self) -> Iterator[Connection]:
        """A read on a bare connection: no ORM session, for the reads a diagnosis makes
        by the hundred (payloads, attempts, runs)."""
        self._check_file()
        with translate_errors(self.database), self._engine.connect() as connection:
            yield connection

    @contextmanager
    def _read(self) -> Iterator[Session]:
        self._check_file()
        with translate_errors(self.database), Session(self._engine) as session:
            yield session

    def _insert_ignore(
        self, session: Session | Connection, model: Any, rows: list[dict[str, Any]]
    ) -> None:
        if not rows:
            return
        statement = self._inserts.get(model)
        if statement is None:  # built once per table: building one costs more than a row
            table = model.__table__
            insert = sqlite_insert if self._engine.dialect.name == "sqlite" else pg_insert
            keys = _ATTEMPT_KEY if model is StepAttempt else [c.name for c in table.primary_key]
            # inline(): no implicit RETURNING of generated keys, which nobody reads and
            # which a pipelined statement could not answer anyway.
            statement = self._inserts[model] = (
                insert(table).inline().on_conflict_do_nothing(index_elements=keys)
            )
        session.execute(statement, rows)

    def _new_payload_rows(
        self, payloads: Iterable[EncodedPayload], *, trust_known: bool = True
    ) -> list[dict[str, Any]]:
        """Rows for the payloads not known to be stored (all of them without ``trust_known``)."""
        now = utcnow()
        unique = {p.hash: p for p in payloads}
        with self._known_lock:
            fresh = [p for h, p in unique.items() if not trust_known or h not in self._known]
        return [
            {
                "hash": p.hash,
                "raw_size": p.raw_size,
                "stored_size": p.stored_size,
                "data": p.data,
                "created_at": now,
            }
            for p in fresh
        ]

    def _mark_known(self, hashes: Iterable[str]) -> None:
        with self._known_lock:
            for h in hashes:
                self._known[h] = None
                self._known.move_to_end(h)
            while len(self._known) > _KNOWN_HASHES_MAX:
                self._known.popitem(last=False)
