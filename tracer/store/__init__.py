"""The trace store: runs, step attempts and content-addressed payloads in SQLite or PostgreSQL.

Use :class:`TraceStore` (``TraceStore.open(url)``) for everything, and
:class:`GroupCommitter` to record attempts from many concurrent activities. Callers see
only the pydantic records re-exported here and the :class:`TraceStoreError` tree; the
SQLModel tables in :mod:`tracer.store.models` are the store's own business.

Commands that only read (``runs``, ``show``, ``why``) use :func:`open_reader`
(:mod:`tracer.store.reader`), which reads through the database driver alone. So that
importing this package for the records does not load SQLAlchemy's ORM, the store, the
committer and their settings are imported on first use (PEP 562).
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from tracer.store.errors import (
    PayloadNotFoundError,
    StoreDataError,
    StoreLockedError,
    StoreMigrationError,
    StoreUnavailableError,
    TraceStoreError,
)
from tracer.store.records import (
    FAILED_STATUSES,
    AttemptError,
    AttemptRecord,
    AttemptStatus,
    DiagnosisRecord,
    FailureGroupRecord,
    HumanActionRecord,
    NewRun,
    PipelineVersionRecord,
    RubricResultRecord,
    RunKind,
    RunRecord,
    RunStatus,
    WriteRecord,
    run_id_for,
)

if TYPE_CHECKING:
    from tracer.store.committer import CommitStats, GroupCommitter
    from tracer.store.dictionaries import DictionarySettings
    from tracer.store.reader import RunSource, TraceReader, open_reader
    from tracer.store.store import TraceStore
    from tracer.store.writes import RunFinish, RunSchemaLink, Writes

_LAZY = {
    "CommitStats": "tracer.store.committer",
    "GroupCommitter": "tracer.store.committer",
    "DictionarySettings": "tracer.store.dictionaries",
    "RunSource": "tracer.store.reader",
    "TraceReader": "tracer.store.reader",
    "open_reader": "tracer.store.reader",
    "TraceStore": "tracer.store.store",
    "RunFinish": "tracer.store.writes",
    "RunSchemaLink": "tracer.store.writes",
    "Writes": "tracer.store.writes",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value


__all__ = [
    "FAILED_STATUSES",
    "AttemptError",
    "AttemptRecord",
    "AttemptStatus",
    "CommitStats",
    "DiagnosisRecord",
    "DictionarySettings",
    "FailureGroupRecord",
    "GroupCommitter",
    "HumanActionRecord",
    "NewRun",
    "PayloadNotFoundError",
    "PipelineVersionRecord",
    "RubricResultRecord",
    "RunFinish",
    "RunKind",
    "RunRecord",
    "RunSchemaLink",
    "RunSource",
    "RunStatus",
    "StoreDataError",
    "StoreLockedError",
    "StoreMigrationError",
    "StoreUnavailableError",
    "TraceReader",
    "TraceStore",
    "TraceStoreError",
    "WriteRecord",
    "Writes",
    "open_reader",
    "run_id_for",
]
