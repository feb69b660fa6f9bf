"""The trace store: runs, step attempts and content-addressed payloads in SQLite or PostgreSQL.

Use :class:`TraceStore` (``TraceStore.open(url)``) for everything, and
:class:`GroupCommitter` to record attempts from many concurrent activities. Callers see
only the pydantic records re-exported here and the :class:`TraceStoreError` tree; the
SQLModel tables in :mod:`tracer.store.models` are the store's own business.
"""

from tracer.store.committer import CommitStats, GroupCommitter
from tracer.store.dictionaries import DictionarySettings
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
from tracer.store.store import TraceStore
from tracer.store.writes import RunFinish, RunSchemaLink, Writes

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
    "RunStatus",
    "StoreDataError",
    "StoreLockedError",
    "StoreMigrationError",
    "StoreUnavailableError",
    "TraceStore",
    "TraceStoreError",
    "WriteRecord",
    "Writes",
    "run_id_for",
]
