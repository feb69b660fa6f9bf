"""``TraceStore``: the synchronous, thread-safe API over the trace database.

Open one per process with :meth:`TraceStore.open` (it runs the migrations), share it
between threads, and close it at shutdown. Every write is one short transaction and is
idempotent: payloads are content-addressed (``INSERT … ON CONFLICT DO NOTHING`` on the
hash), attempts are keyed by (workflow id, Temporal run id, activity id, attempt), and
``start_run`` ignores a run id it already has. JSON columns (errors, diagnoses, evidence,
audit detail) go through the same redaction as payloads before they are written.

Callers on an event loop should not call the write methods directly: use
:class:`tracer.store.committer.GroupCommitter`, which batches concurrent attempts into
one transaction on a background thread. Database errors surface as the
:mod:`tracer.store.errors` tree, never as SQLAlchemy's.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, update
from sqlmodel import col, select

from tracer.payloads import EncodedPayload, RedactionPolicy, content_hash, decode, redact_json
from tracer.payloads import redact_text as _redact_text
from tracer.store import migrate
from tracer.store.base import StoreBase
from tracer.store.engine import DEFAULT_BUSY_TIMEOUT_MS, create_store_engine, default_url
from tracer.store.errors import PayloadNotFoundError, StoreDataError
from tracer.store.models import (
    DiagnosisRow,
    HumanAction,
    Payload,
    PipelineVersion,
    RubricResultRow,
    Run,
    RunSchema,
    StepAttempt,
    utcnow,
)
from tracer.store.records import (
    FAILED_STATUSES,
    AttemptRecord,
    DiagnosisRecord,
    HumanActionRecord,
    NewRun,
    RubricResultRecord,
    RunRecord,
    RunStatus,
)

__all__ = ["TraceStore"]


class TraceStore(StoreBase):
    """The trace store. Create it with :meth:`open`; all methods may be called from any thread."""

    @classmethod
    def open(
        cls,
        url: str | None = None,
        *,
        root: Path = Path(".steptrace"),
        busy_timeout_ms: int = DEFAULT_BUSY_TIMEOUT_MS,
        policy: RedactionPolicy | None = None,
    ) -> TraceStore:
        """Open (creating and migrating as needed) the store at ``url``.

        ``url`` defaults to ``sqlite:///<root>/trace.db``, ``root`` relative to the current
        directory. The caller decides the URL (e.g. from ``STEPTRACE_DATABASE_URL``).
        """
        engine = create_store_engine(url or default_url(root), busy_timeout_ms=busy_timeout_ms)
        store = cls(engine, policy=policy)
        try:
            migrate.upgrade(engine)
            store._remember_file()
        except BaseException:
            engine.dispose()
            raise
        return store

    # ------------------------------------------------------------------ payloads

    def put_payloads(self, payloads: Iterable[EncodedPayload]) -> None:
        """Store payloads; ones already stored are skipped."""
        rows = self._new_payload_rows(payloads)
        with self._write() as session:
            self._insert_ignore(session, Payload, rows)
        self._mark_known(r["hash"] for r in rows)

    def get_payload(self, hash: str) -> Any:
        """The JSON data stored under ``hash``; :class:`PayloadNotFoundError` if none."""
        with self._read() as session:
            data = session.exec(select(Payload.data).where(Payload.hash == hash)).first()
        if data is None:
            raise PayloadNotFoundError(
                f"no payload with hash {hash}; it was never stored, or this is another store",
                database=self.database,
            )
        return decode(data)

    def stored_bytes(self) -> int:
        """Compressed bytes of all payloads (for the storage-ratio budget)."""
        with self._read() as session:
            return int(session.exec(select(func.coalesce(func.sum(Payload.stored_size), 0))).one())

    def raw_bytes(self) -> int:
        """Canonical JSON bytes of all payloads before compression."""
        with self._read() as session:
            return int(session.exec(select(func.coalesce(func.sum(Payload.raw_size), 0))).one())

    # ------------------------------------------------------------------ pipeline versions, runs

    def save_pipeline_version(
        self, pipeline: str, spec_text: str, *, version: str | None = None
    ) -> str:
        """Store a pipeline spec (token-like strings redacted) and return its version hash.

        ``version`` is the caller's own content hash of the spec, when it has one (the
        orchestrator hashes the parsed spec, so a comment does not make a new version);
        by default it is the hash of the text.
        """
        spec, _ = _redact_text(spec_text)
        version = version or content_hash(spec.encode("utf-8"))
        row = {"hash": version, "pipeline": pipeline, "spec": spec, "created_at": utcnow()}
        with self._write() as session:
            self._insert_ignore(session, PipelineVersion, [row])
        return version

    def get_pipeline_spec(self, version_hash: str) -> str | None:
        with self._read() as session:
            return session.exec(
                select(PipelineVersion.spec).where(PipelineVersion.hash == version_hash)
            ).first()

    def start_run(self, run: NewRun, *, trigger: EncodedPayload | None = None) -> None:
        """Register a running run (and store its trigger payload). A known run id is a no-op."""
        if trigger is not None and run.trigger_hash not in (None, trigger.hash):
            raise ValueError(f"run {run.run_id}: trigger_hash does not match the trigger payload")
        row = run.model_dump() | {"status": RunStatus.RUNNING.value, "kind": run.kind.value}
        if trigger is not None:
            row["trigger_hash"] = trigger.hash
        payload_rows = self._new_payload_rows([trigger] if trigger else [])
        with self._write_rows() as session:
            self._insert_ignore(session, Payload, payload_rows)
            self._insert_ignore(session, Run, [row])
        self._mark_known(r["hash"] for r in payload_rows)

    def finish_run(
        self,
        run_id: str,
        status: RunStatus,
        failed_step: str | None = None,
        *,
        ended_at: datetime | None = None,
    ) -> None:
        """Set a run's final status; :class:`StoreDataError` if the run is unknown."""
        # One UPDATE statement, no ORM load: this runs once per run on the traced path.
        statement = (
            update(Run)
            .where(col(Run.run_id) == run_id)
            .values(
                status=RunStatus(status).value,
                failed_step=failed_step,
                ended_at=ended_at or utcnow(),
            )
        )
        with self._write_rows() as session:
            updated = session.execute(statement).rowcount
            if updated == 0:
                raise StoreDataError(
                    f"cannot finish run {run_id!r}: no such run; call start_run first",
                    database=self.database,
                )

    def set_run_status(self, run_id: str, status: RunStatus) -> None:
        """Change an ended run's status (a rollback leaves it ``rolled_back``), keeping its
        failed step and end time; :class:`StoreDataError` if the run is unknown."""
        statement = (
            update(Run).where(col(Run.run_id) == run_id).values(status=RunStatus(status).value)
        )
        with self._write_rows() as session:
            if session.execute(statement).rowcount == 0:
                raise StoreDataError(
                    f"cannot set the status of run {run_id!r}: no such run",
                    database=self.database,
                )

    def record_attempts(
        self, records: Sequence[AttemptRecord], payloads: Iterable[EncodedPayload] = ()
    ) -> None:
        """Write attempts and the payloads they refer to in one transaction.

        An attempt whose key is already stored is skipped, so retrying a batch is safe.
        A record referring to a payload that is neither passed nor stored raises
        :class:`StoreDataError` and nothing of the batch is written.
        """
        payload_rows = self._new_payload_rows(payloads)
        attempt_rows = [self._attempt_row(r) for r in records]
        with self._write_rows() as session:
            self._insert_ignore(session, Payload, payload_rows)
            self._insert_ignore(session, StepAttempt, attempt_rows)
        self._mark_known(r["hash"] for r in payload_rows)

    def _attempt_row(self, record: AttemptRecord) -> dict[str, Any]:
        row = record.model_dump(exclude={"error", "external_writes"})
        row["status"] = record.status.value
        row["error"] = (
            redact_json(record.error.model_dump(mode="json"), self._policy)
            if record.error
            else None
        )
        row["external_writes"] = [
            redact_json(w.model_dump(mode="json"), self._policy) for w in record.external_writes
        ]
        return row

    def find_run(self, workflow_id: str) -> RunRecord | None:
        """The newest run of a Temporal workflow id (a run id without its ``/run`` part)."""
        query = (
            select(Run)
            .where(Run.workflow_id == workflow_id)
            .order_by(col(Run.started_at).desc())
            .limit(1)
        )
        with self._read() as session:
            row = session.exec(query).first()
            return _run_record(row) if row else None

    def payload_sizes(self, hashes: Iterable[str]) -> dict[str, int]:
        """The raw (uncompressed JSON) size of each stored payload, without decoding it."""
        wanted = sorted(set(hashes))
        if not wanted:
            return {}
        query = select(Payload.hash, Payload.raw_size).where(col(Payload.hash).in_(wanted))
        with self._read() as session:
            return {h: int(size) for h, size in session.exec(query)}

    def get_run(self, run_id: str) -> RunRecord | None:
        with self._read() as session:
            row = session.get(Run, run_id)
            return _run_record(row) if row else None

    def list_runs(
        self,
        *,
        status: RunStatus | None = None,
        pipeline: str | None = None,
        limit: int = 50,
    ) -> list[RunRecord]:
        """Runs, newest first, optionally of one status and/or one pipeline."""
        query = select(Run)
        if status is not None:
            query = query.where(Run.status == RunStatus(status).value)
        if pipeline is not None:
            query = query.where(Run.pipeline == pipeline)
        query = query.order_by(col(Run.started_at).desc()).limit(limit)
        with self._read() as session:
            return [_run_record(r) for r in session.exec(query)]

    def attempts(self, run_id: str) -> list[AttemptRecord]:
        """A run's attempts in step order, then attempt order."""
        query = (
            select(StepAttempt)
            .where(StepAttempt.run_id == run_id)
            .order_by(col(StepAttempt.step_index), col(StepAttempt.attempt), col(StepAttempt.id))
        )
        with self._read() as session:
            return [
                AttemptRecord.model_validate(r, from_attributes=True) for r in session.exec(query)
            ]

    def last_good_run(
        self, pipeline: str, version_hash: str | None, before: datetime
    ) -> RunRecord | None:
        """The newest succeeded run of ``pipeline`` (and spec version, unless None)
        that started before ``before``: the baseline a failure is compared with."""
        found = self.good_runs(pipeline, version_hash, before, limit=1)
        return found[0] if found else None

    def good_runs(
        self, pipeline: str, version_hash: str | None, before: datetime, *, limit: int = 5
    ) -> list[RunRecord]:
        """Up to ``limit`` succeeded runs of ``pipeline`` (and version) before ``before``,
        newest first."""
        query = select(Run).where(
            Run.pipeline == pipeline,
            Run.status == RunStatus.SUCCEEDED.value,
            col(Run.started_at) < before,
        )
        if version_hash is not None:
            query = query.where(Run.version_hash == version_hash)
        query = query.order_by(col(Run.started_at).desc()).limit(limit)
        with self._read() as session:
            return [_run_record(row) for row in session.exec(query)]

    def latest_failed_run(self, pipeline: str | None = None) -> RunRecord | None:
        """The newest run that failed loudly (``failed``) or silently (``qc_failed``)."""
        newest: list[RunRecord] = []
        with self._read() as session:
            # One indexed probe per status beats one IN query that must sort.
            for status in FAILED_STATUSES:
                query = select(Run).where(Run.status == status.value)
                if pipeline is not None:
                    query = query.where(Run.pipeline == pipeline)
                row = session.exec(query.order_by(col(Run.started_at).desc()).limit(1)).first()
                if row is not None:
                    newest.append(_run_record(row))
        return max(newest, key=lambda r: r.started_at, default=None)

    # ------------------------------------------------------------------ schemas a run depended on

    def add_run_schemas(self, run_id: str, schemas: dict[str, EncodedPayload]) -> None:
        """Link ``run_id``'s steps to the schema snapshots they depended on (by step id).

        Schemas are payloads: one already stored is not stored again. Recording the same
        step twice keeps the first link (a retried activity is a no-op)."""
        if not schemas:
            return
        payload_rows = self._new_payload_rows(schemas.values())
        now = utcnow()
        links = [
            {"run_id": run_id, "step_id": step, "schema_hash": p.hash, "created_at": now}
            for step, p in schemas.items()
        ]
        with self._write() as session:
            self._insert_ignore(session, Payload, payload_rows)
            self._insert_ignore(session, RunSchema, links)
        self._mark_known(r["hash"] for r in payload_rows)

    def run_schemas(self, run_id: str) -> dict[str, Any]:
        """The schema snapshots ``run_id`` recorded, by step id (empty if none)."""
        query = select(RunSchema.step_id, RunSchema.schema_hash).where(RunSchema.run_id == run_id)
        with self._read() as session:
            rows = list(session.exec(query))
        return {step: self.get_payload(hash) for step, hash in rows}

    # ------------------------------------------------------------------ diagnoses, QC, audit

    def add_diagnosis(self, run_id: str, body: dict[str, Any]) -> DiagnosisRecord:
        row = DiagnosisRow(run_id=run_id, body=redact_json(body, self._policy))
        with self._write() as session:
            session.add(row)
            session.flush()
            return DiagnosisRecord.model_validate(row, from_attributes=True)

    def diagnoses(self, run_id: str) -> list[DiagnosisRecord]:
        query = (
            select(DiagnosisRow).where(DiagnosisRow.run_id == run_id).order_by(col(DiagnosisRow.id))
        )
        with self._read() as session:
            return [
                DiagnosisRecord.model_validate(r, from_attributes=True) for r in session.exec(query)
            ]

    def add_rubric_results(self, results: Sequence[RubricResultRecord]) -> None:
        rows = [
            RubricResultRow(
                **r.model_dump(exclude={"id", "created_at", "evidence"}),
                evidence=redact_json(r.evidence, self._policy),
            )
            for r in results
        ]
        with self._write() as session:
            session.add_all(rows)

    def rubric_results(self, run_id: str) -> list[RubricResultRecord]:
        query = select(RubricResultRow).where(RubricResultRow.run_id == run_id)
        with self._read() as session:
            rows = session.exec(query.order_by(col(RubricResultRow.id)))
            return [RubricResultRecord.model_validate(r, from_attributes=True) for r in rows]

    def add_human_action(self, action: HumanActionRecord) -> HumanActionRecord:
        row = HumanAction(
            **action.model_dump(exclude={"id", "at", "detail"}),
            detail=redact_json(action.detail, self._policy),
            at=action.at or utcnow(),
        )
        with self._write() as session:
            session.add(row)
            session.flush()
            return HumanActionRecord.model_validate(row, from_attributes=True)

    def human_actions(self, run_id: str) -> list[HumanActionRecord]:
        query = select(HumanAction).where(HumanAction.run_id == run_id)
        with self._read() as session:
            rows = session.exec(query.order_by(col(HumanAction.id)))
            return [HumanActionRecord.model_validate(r, from_attributes=True) for r in rows]


def _run_record(row: Run) -> RunRecord:
    return RunRecord.model_validate(row, from_attributes=True)
