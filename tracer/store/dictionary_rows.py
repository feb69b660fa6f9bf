"""The ``payload_dictionary`` table: how every worker of a store shares its dictionaries.

Training happens in the worker that has gathered enough payloads; the dictionary goes
into the table, and the sampled payloads it was trained on (stored before it existed,
or with an older dictionary) are compressed again with it in the same transaction. Two
workers that train at the same moment serialise on the write lock (SQLite
``BEGIN IMMEDIATE``, a PostgreSQL advisory lock): the second finds the first's
dictionary newer than the one it compresses with and adopts that one instead of its
own. Other workers look for a newer dictionary every ``refresh_seconds``, and any
reader that meets a frame naming an unknown dictionary id loads it by that id.
Dictionaries are never deleted: old rows need theirs forever.
"""

from __future__ import annotations

import logging
import time
from datetime import datetime
from typing import TYPE_CHECKING

import zstandard
from sqlalchemy import bindparam, func, insert, select, text, update
from sqlalchemy.engine import Connection

from tracer.store.dictionaries import PayloadDictionaries, TrainedDictionary, TrainReason
from tracer.store.errors import StoreDataError
from tracer.store.models import Payload, PayloadDictionary, utcnow

if TYPE_CHECKING:
    from tracer.store.base import StoreBase

__all__ = ["DictionaryRows"]

log = logging.getLogger(__name__)

# Arbitrary constant naming "train a payload dictionary" among advisory locks.
_PG_LOCK_KEY = 0x5354_4450_4943_5400 % (2**63)
_TABLE = PayloadDictionary.__table__  # type: ignore[attr-defined]
_PAYLOAD = Payload.__table__  # type: ignore[attr-defined]


class DictionaryRows:
    """Loads, stores and shares the dictionaries of one store (see the module doc)."""

    def __init__(self, base: StoreBase, dictionaries: PayloadDictionaries) -> None:
        self._base = base
        self._dictionaries = dictionaries
        self._current_at: datetime | None = None
        self.trained = 0  # dictionaries this process trained and stored

    def load_current(self) -> None:
        """Compress with the newest stored dictionary, if there is one newer than ours."""
        query = (
            select(_TABLE.c.dict_id, _TABLE.c.data, _TABLE.c.created_at)
            .order_by(_TABLE.c.created_at.desc(), _TABLE.c.dict_id.desc())
            .limit(1)
        )
        with self._base._read() as session:
            row = session.execute(query).first()
        if row is not None and row.dict_id != self._dictionaries.current_id:
            self._dictionaries.adopt(int(row.dict_id), bytes(row.data))
            self._current_at = row.created_at

    def load(self, dict_id: int) -> None:
        """Make dictionary ``dict_id`` known for decoding; :class:`StoreDataError` if absent."""
        query = select(_TABLE.c.data).where(_TABLE.c.dict_id == dict_id)
        with self._base._read() as session:
            data = session.execute(query).scalar()
        if data is None:
            raise StoreDataError(
                f"a stored payload names zstd dictionary {dict_id}, which is not in the "
                "payload_dictionary table; the table was edited or the payload copied from "
                "another store — restore the dictionary row from a backup",
                database=self._base.database,
            )
        self._dictionaries.add(dict_id, bytes(data))

    def maintain(self) -> TrainReason | None:
        """Pick up another worker's dictionary now and then; train one when it is due.

        Returns why a dictionary was trained, or None. Cheap when nothing is due: call it
        after every committed batch.
        """
        dictionaries = self._dictionaries
        now = time.monotonic()
        if now >= dictionaries.next_refresh:
            dictionaries.next_refresh = now + dictionaries.settings.refresh_seconds
            self.load_current()
        reason = dictionaries.due()
        if reason is None:
            return None
        try:
            trained = dictionaries.train(reason)
        except zstandard.ZstdError as exc:
            log.info("payload dictionary not trained yet (%s); waiting for more payloads", exc)
            dictionaries.wait_for_more()
            return None
        self._store(trained)
        return reason

    def _store(self, trained: TrainedDictionary) -> None:
        level = self._dictionaries.settings.level
        with self._base._write_rows() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LOCK_KEY})
            newer = self._newer_than_ours(conn)
            row = _row(trained)
            if newer is None:
                conn.execute(insert(_TABLE), [row])
                conn.execute(
                    update(_PAYLOAD)
                    .where(_PAYLOAD.c.hash == bindparam("h"))
                    .values(data=bindparam("new_data"), stored_size=bindparam("new_size")),
                    trained.recompressed(level),
                )
        if newer is not None:
            self._dictionaries.adopt(newer[0], newer[1])
            self._current_at = newer[2]
            return
        self._dictionaries.adopt(trained.dict_id, trained.data)
        self._current_at = row["created_at"]  # type: ignore[assignment]
        self.trained += 1
        log.info(
            "trained payload dictionary %s (%s, %d samples, ratio %.3f)",
            trained.dict_id,
            trained.reason,
            len(trained.samples),
            trained.ratio,
        )

    def _newer_than_ours(self, conn: Connection) -> tuple[int, bytes, datetime] | None:
        """Another worker's dictionary stored after the one we compress with, if any."""
        query = select(_TABLE.c.dict_id, _TABLE.c.data, _TABLE.c.created_at)
        if self._current_at is not None:
            query = query.where(_TABLE.c.created_at > self._current_at)
        row = conn.execute(query.order_by(_TABLE.c.created_at.desc()).limit(1)).first()
        if row is None or row.dict_id == self._dictionaries.current_id:
            return None
        return int(row.dict_id), bytes(row.data), row.created_at

    def stored_bytes(self) -> int:
        """Bytes of all stored dictionaries (counted in the store's storage figures)."""
        with self._base._read() as session:
            return int(session.execute(select(func.coalesce(func.sum(_TABLE.c.size), 0))).one()[0])


def _row(trained: TrainedDictionary) -> dict[str, object]:
    return {
        "dict_id": trained.dict_id,
        "data": trained.data,
        "size": len(trained.data),
        "samples": len(trained.samples),
        "sample_bytes": trained.sample_bytes,
        "ratio": trained.ratio,
        "reason": trained.reason,
        "created_at": utcnow(),
    }
