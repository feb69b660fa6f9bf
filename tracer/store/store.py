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

import json
from collections.abc import Iterable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, bindparam, func, insert, update
from sqlalchemy import select as core_select
from sqlmodel import col, select

from tracer.fingerprint import Fingerprint, of_diagnosis
from tracer.payloads import EncodedPayload, RedactionPolicy, content_hash, redact_json
from tracer.payloads import redact_text as _redact_text
from tracer.store import migrate
from tracer.store.base import StoreBase
from tracer.store.dictionaries import DictionarySettings
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
    FailureGroupRecord,
    HumanActionRecord,
    NewRun,
    PipelineVersionRecord,
    RubricResultRecord,
    RunRecord,
    RunStatus,
)
from tracer.store.writes import RunFinish, RunSchemaLink, Writes

__all__ = ["TraceStore"]

# Statements built once: a diagnosis makes these reads by the hundred.
_PAYLOAD_DATA = select(Payload.data).where(Payload.hash == bindparam("hash"))
_RUN = select(Run).where(Run.run_id == bindparam("run_id"))
_RUNS_ATTEMPTS = (
    select(StepAttempt)
    .where(col(StepAttempt.run_id).in_(bindparam("run_ids", expanding=True)))
    .order_by(col(StepAttempt.step_index), col(StepAttempt.attempt), col(StepAttempt.id))
)
_RUN_DIAGNOSES = (
    select(DiagnosisRow)
    .where(DiagnosisRow.run_id == bindparam("run_id"))
    .order_by(col(DiagnosisRow.id))
)
_RUN_SCHEMAS = select(RunSchema.step_id, RunSchema.schema_hash).where(
    RunSchema.run_id == bindparam("run_id")
)
_RUN_PIPELINE = core_select(col(Run.pipeline)).where(col(Run.run_id) == bindparam("run_id"))
_INSERT_DIAGNOSIS = insert(DiagnosisRow).returning(col(DiagnosisRow.id))
_SET_FAILURE_GROUP = (
    update(Run)
    .where(col(Run.run_id) == bindparam("target_run"))
    .values(failure_group=bindparam("new_group"))
)


SCHEMA_LOOKBACK = 1000
"""How many of a pipeline's newest good runs a diagnosis looks through for the last one
that recorded a step's schema (a worker records each container's at least every few
seconds while runs go on, so the last one is far nearer)."""


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
        read_only: bool = False,
        dictionaries: DictionarySettings | None = None,
    ) -> TraceStore:
        """Open (creating and migrating as needed) the store at ``url``.

        ``url`` defaults to ``sqlite:///<root>/trace.db``, ``root`` relative to the current
        directory. The caller decides the URL (e.g. from ``STEPTRACE_DATABASE_URL``).
        ``read_only``: for commands that only read — nothing is created or migrated, no
        write lock is ever taken (a writer holding the lock does not block them), and any
        write fails; a missing store or an older schema is a clear error instead.
        ``dictionaries`` says when payload dictionaries are trained (the defaults suit
        handoff payloads; ``DictionarySettings(enabled=False)`` trains none, and payloads
        compressed with an existing one stay readable either way; a read-only store
        trains none).
        """
        engine = create_store_engine(
            url or default_url(root), busy_timeout_ms=busy_timeout_ms, read_only=read_only
        )
        if read_only:
            dictionaries = DictionarySettings(enabled=False)
        store = cls(engine, policy=policy, dictionaries=dictionaries)
        store._busy_timeout_ms = busy_timeout_ms
        try:
            if read_only:
                migrate.check_current(engine)
            else:
                migrate.upgrade(engine)
            store._remember_file()
            store._dictionary_rows.load_current()
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
        """The JSON data stored under ``hash``; :class:`PayloadNotFoundError` if none.

        Each call returns a new value (the caller may change it). Payloads never change
        once stored, so their JSON is cached: a diagnosis reads the same snapshots of
        the last good runs again and again.
        """
        raw = self._raw_cache.get(hash)
        if raw is None:
            with self._read_rows() as conn:
                data = conn.execute(_PAYLOAD_DATA, {"hash": hash}).scalar()
            if data is None:
                raise PayloadNotFoundError(
                    f"no payload with hash {hash}; it was never stored, or this is another store",
                    database=self.database,
                )
            raw = self._raw_cache.put(hash, self._decompress(data))
        return json.loads(raw)

    def get_payloads(self, hashes: Iterable[str]) -> dict[str, Any]:
        """The JSON data of each stored payload among ``hashes``, in one query (a page
        that shows a run's handoffs needs them all); unknown hashes are left out."""
        wanted = sorted(set(hashes))
        if not wanted:
            return {}
        found, missing = self._raw_cache.values(wanted)
        if missing:
            query = select(Payload.hash, Payload.data).where(col(Payload.hash).in_(missing))
            with self._read_rows() as conn:
                rows = list(conn.execute(query))
            for digest, data in rows:
                found[digest] = json.loads(self._raw_cache.put(digest, self._decompress(data)))
        return found

    def stored_bytes(self) -> int:
        """Compressed bytes of all payloads, and of the dictionaries they need (for the
        storage-ratio budget)."""
        with self._read() as session:
            payloads = session.exec(select(func.coalesce(func.sum(Payload.stored_size), 0))).one()
        return int(payloads) + self._dictionary_rows.stored_bytes()

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
        # The text stored first under this hash wins (insert-or-ignore): read it back
        # rather than assume it is ours.
        self._specs.pop(version, None)
        return version

    def get_pipeline_spec(self, version_hash: str) -> str | None:
        """The spec text stored under ``version_hash``, or None."""
        cached = self._specs.get(version_hash)
        if cached is not None:
            return cached
        query = select(PipelineVersion.spec).where(PipelineVersion.hash == version_hash)
        with self._read_rows() as conn:
            spec = conn.execute(query).scalar()
        if spec is None:
            return None
        self._specs[version_hash] = str(spec)
        return str(spec)

    def cached_pipeline_spec(self, version_hash: str) -> str | None:
        """The spec of ``version_hash`` if this process has already read or saved it; no
        I/O, so an event loop may ask before deciding to go to a thread. A version's
        text never changes once stored."""
        return self._specs.get(version_hash)

    def start_run(self, run: NewRun, *, trigger: EncodedPayload | None = None) -> None:
        """Register a running run (and store its trigger payload). A known run id is a no-op."""
        if trigger is not None and run.trigger_hash not in (None, trigger.hash):
            raise ValueError(f"run {run.run_id}: trigger_hash does not match the trigger payload")
        if trigger is not None and run.trigger_hash is None:
            run = run.model_copy(update={"trigger_hash": trigger.hash})
        self.write(Writes(payloads=[trigger] if trigger else [], runs=[run]))

    def finish_run(
        self,
        run_id: str,
        status: RunStatus,
        failed_step: str | None = None,
        *,
        ended_at: datetime | None = None,
    ) -> None:
        """Set a run's final status; :class:`StoreDataError` if the run is unknown."""
        finish = RunFinish(run_id, RunStatus(status), failed_step, ended_at or utcnow())
        self.write(Writes(finishes=[finish]))

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
        self.write(Writes(payloads=list(payloads), attempts=list(records)))

    def write(self, writes: Writes, *, busy_timeout_ms: int | None = None) -> None:
        """Commit ``writes`` (payloads, run starts, attempts, run ends) in one transaction.

        Idempotent like the methods it serves: known payloads, runs and attempts are
        skipped and a run end writes the same values again. The end of a run that is not
        stored (nor started in ``writes``) raises :class:`StoreDataError`, and nothing of
        ``writes`` is written. ``busy_timeout_ms`` waits that long (SQLite) for another
        connection's write lock instead of the store's own ``busy_timeout``.

        Payloads this process remembers as stored are skipped; but ``steptrace prune`` (in
        another process) may have deleted one since. On a refusal, the write is tried once
        more with every payload before giving up.
        """
        run_rows = [_run_row(r) for r in writes.runs]
        attempt_rows = [self._attempt_row(r) for r in writes.attempts]
        payloads = list(writes.payloads)
        for trust_known in (True, False):
            payload_rows = self._new_payload_rows(payloads, trust_known=trust_known)
            try:
                with self._write_rows(busy_timeout_ms) as conn:
                    with self._pipelined(conn):
                        self._insert_ignore(conn, Payload, payload_rows)
                        self._insert_ignore(conn, Run, run_rows)
                        self._insert_ignore(conn, StepAttempt, attempt_rows)
                        self._insert_ignore(conn, RunSchema, _schema_rows(writes.schemas))
                    for finish in writes.finishes:  # each needs its rowcount: not pipelined
                        self._finish(conn, finish)
            except StoreDataError:
                if not trust_known or len(payload_rows) == len({p.hash for p in payloads}):
                    raise
                continue
            self._mark_known(r["hash"] for r in payload_rows)
            return

    def _finish(self, conn: Connection, finish: RunFinish) -> None:
        # One UPDATE statement, no ORM load: this runs once per run on the traced path.
        statement = (
            update(Run)
            .where(col(Run.run_id) == finish.run_id)
            .values(
                status=finish.status.value,
                failed_step=finish.failed_step,
                ended_at=finish.ended_at,
            )
        )
        if conn.execute(statement).rowcount == 0:
            raise StoreDataError(
                f"cannot finish run {finish.run_id!r}: no such run; call start_run first",
                database=self.database,
            )

    def _attempt_row(self, record: AttemptRecord) -> dict[str, Any]:
        row = record.model_dump(exclude={"error", "external_writes", "inner_retries"})
        row["status"] = record.status.value
        row["error"] = (
            redact_json(record.error.model_dump(mode="json"), self._policy)
            if record.error
            else None
        )
        row["external_writes"] = [
            redact_json(w.model_dump(mode="json"), self._policy) for w in record.external_writes
        ]
        row["inner_retries"] = [redact_json(r, self._policy) for r in record.inner_retries]
        return row

    def find_run(self, workflow_id: str) -> RunRecord | None:
        """The newest run of a Temporal workflow id (a run id without its ``/run`` part)."""
        query = (
            select(Run)
            .where(Run.workflow_id == workflow_id)
            .order_by(col(Run.started_at).desc())
            .limit(1)
        )
        with self._read_rows() as conn:
            row = conn.execute(query).first()
            return _run_record(row) if row else None

    def match_runs(self, fragment: str, limit: int = 5) -> list[RunRecord]:
        """Runs whose id starts with ``fragment``, or whose workflow id has a part (after a
        ``-``) starting with it: what a short id, as ``steptrace runs`` prints it, names."""
        escaped = fragment.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = (
            select(Run)
            .where(
                col(Run.run_id).like(f"{escaped}%", escape="\\")
                | col(Run.workflow_id).like(f"%-{escaped}%", escape="\\")
            )
            .order_by(col(Run.started_at).desc())
            .limit(limit)
        )
        with self._read() as session:
            return [_run_record(r) for r in session.exec(query)]

    def payload_sizes(self, hashes: Iterable[str]) -> dict[str, int]:
        """The raw (uncompressed JSON) size of each stored payload, without decoding it."""
        wanted = sorted(set(hashes))
        if not wanted:
            return {}
        query = select(Payload.hash, Payload.raw_size).where(col(Payload.hash).in_(wanted))
        with self._read_rows() as conn:
            return {h: int(size) for h, size in conn.execute(query)}

    def get_run(self, run_id: str) -> RunRecord | None:
        with self._read_rows() as conn:
            row = conn.execute(_RUN, {"run_id": run_id}).first()
            return _run_record(row) if row else None

    def list_runs(
        self,
        *,
        status: RunStatus | None = None,
        pipeline: str | None = None,
        limit: int = 50,
        since: datetime | None = None,
        before: datetime | None = None,
        failed_step: str | None = None,
        version_hash: str | None = None,
        parent_run_id: str | None = None,
        failure_group: str | None = None,
    ) -> list[RunRecord]:
        """Runs, newest first, optionally of one status and/or one pipeline, started at or
        after ``since`` and strictly before ``before`` (the console pages with it), failed
        at ``failed_step``, of one spec version, replays/rollbacks of one run, or of one
        failure group (:mod:`tracer.fingerprint`; one probe on its own index).

        Without a status, one indexed probe per status (each ``limit`` long, merged):
        the run table has no index on the start time alone, and every index that orders
        by it starts with the status, so this beats one query that must sort the table.
        """
        query = select(Run)
        if pipeline is not None:
            query = query.where(Run.pipeline == pipeline)
        if since is not None:
            query = query.where(col(Run.started_at) >= since)
        if before is not None:
            query = query.where(col(Run.started_at) < before)
        if failed_step is not None:
            query = query.where(Run.failed_step == failed_step)
        if version_hash is not None:
            query = query.where(Run.version_hash == version_hash)
        if parent_run_id is not None:
            query = query.where(Run.parent_run_id == parent_run_id)
        if failure_group is not None:
            query = query.where(Run.failure_group == failure_group)
        statuses = list(RunStatus) if status is None else [RunStatus(status)]
        if (parent_run_id is not None or failure_group is not None) and status is None:
            statuses = []  # one query on their own index: children, or a group newest first
        newest = col(Run.started_at).desc()
        with self._read() as session:
            if not statuses:
                rows = list(session.exec(query.order_by(newest).limit(limit)))
            else:
                rows = []
                for one in statuses:
                    probe = query.where(Run.status == one.value).order_by(newest).limit(limit)
                    rows.extend(session.exec(probe))
            found = [_run_record(r) for r in rows]
        return sorted(found, key=lambda r: r.started_at, reverse=True)[:limit]

    def attempts(self, run_id: str) -> list[AttemptRecord]:
        """A run's attempts in step order, then attempt order."""
        return self.attempts_of([run_id])[run_id]

    def attempts_of(self, run_ids: Sequence[str]) -> dict[str, list[AttemptRecord]]:
        """The attempts of each run (in step order, then attempt order), in one query: a
        diagnosis reads the failed run's and those of its last good runs."""
        found: dict[str, list[AttemptRecord]] = {run_id: [] for run_id in run_ids}
        with self._read_rows() as conn:
            for row in conn.execute(_RUNS_ATTEMPTS, {"run_ids": list(found)}):
                found[row.run_id].append(AttemptRecord.from_stored(row._mapping))
        return found

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
        with self._read_rows() as conn:
            return [_run_record(row) for row in conn.execute(query)]

    def latest_failed_run(self, pipeline: str | None = None) -> RunRecord | None:
        """The newest run that failed loudly (``failed``) or silently (``qc_failed``)."""
        newest: list[RunRecord] = []
        with self._read_rows() as conn:
            # One indexed probe per status beats one IN query that must sort.
            for status in FAILED_STATUSES:
                query = select(Run).where(Run.status == status.value)
                if pipeline is not None:
                    query = query.where(Run.pipeline == pipeline)
                row = conn.execute(query.order_by(col(Run.started_at).desc()).limit(1)).first()
                if row is not None:
                    newest.append(_run_record(row))
        return max(newest, key=lambda r: r.started_at, default=None)

    # ------------------------------------------------------------------ schemas a run depended on

    def add_run_schemas(self, run_id: str, schemas: dict[str, EncodedPayload]) -> None:
        """Link ``run_id``'s steps to the schema snapshots they depended on (by step id).

        Schemas are payloads: one already stored is not stored again. Recording the same
        step twice keeps the first link (a retried activity is a no-op)."""
        links = [RunSchemaLink(run_id, step, p.hash) for step, p in schemas.items()]
        self.write(Writes(payloads=list(schemas.values()), schemas=links))

    def step_schema_baselines(
        self,
        pipeline: str,
        version_hash: str | None,
        before: datetime,
        steps: Iterable[str],
        *,
        status: RunStatus | None = RunStatus.SUCCEEDED,
        within: int = SCHEMA_LOOKBACK,
    ) -> dict[str, tuple[str, Any]]:
        """For each of ``steps``: the id of the newest run of ``pipeline`` (and version,
        unless None; and ``status``, unless None) started before ``before`` that recorded
        a schema for it, with that schema. Good runs may skip recording a schema read
        moments before, so each step looks back to the last run that did, among the
        newest ``within`` such runs (their oldest found once): one query per step,
        reading the run index newest first and probing ``run_schema``'s key until a run
        has it, never the whole history."""

        def of_runs(query: Any) -> Any:
            query = query.where(Run.pipeline == pipeline, col(Run.started_at) < before)
            if status is not None:
                query = query.where(Run.status == status.value)
            return query if version_hash is None else query.where(Run.version_hash == version_hash)

        runs = of_runs(
            select(Run.run_id, RunSchema.schema_hash).join(
                RunSchema, col(RunSchema.run_id) == Run.run_id
            )
        )
        floor = of_runs(select(Run.started_at))
        found: dict[str, tuple[str, Any]] = {}
        with self._read_rows() as conn:
            oldest = conn.execute(
                floor.order_by(col(Run.started_at).desc()).offset(within - 1).limit(1)
            ).scalar()
            if oldest is not None:
                runs = runs.where(col(Run.started_at) >= oldest)
            for step in steps:
                newest = runs.where(RunSchema.step_id == step)
                row = conn.execute(newest.order_by(col(Run.started_at).desc()).limit(1)).first()
                if row is not None:
                    found[step] = (row.run_id, row.schema_hash)
        return {step: (run_id, self.get_payload(h)) for step, (run_id, h) in found.items()}

    def run_schemas(self, run_id: str) -> dict[str, Any]:
        """The schema snapshots ``run_id`` recorded, by step id (empty if none)."""
        with self._read_rows() as conn:
            rows = list(conn.execute(_RUN_SCHEMAS, {"run_id": run_id}))
        return {step: self.get_payload(hash) for step, hash in rows}

    # ------------------------------------------------------------------ diagnoses, QC, audit

    def add_diagnosis(self, run_id: str, body: dict[str, Any]) -> DiagnosisRecord:
        """Store a diagnosis with its fingerprint (:mod:`tracer.fingerprint`, from the body
        before redaction, as the alert computes it); the run joins that failure group.

        Bare statements in one transaction (no ORM session: ``steptrace why`` stores the
        diagnosis it has just made, and a session's bookkeeping cost more than the write)."""
        with self._write_rows() as conn:
            pipeline = conn.execute(_RUN_PIPELINE, {"run_id": run_id}).scalar()
            if pipeline is None:
                raise StoreDataError(
                    f"no run {run_id} to attach a diagnosis to; register the run first",
                    database=self.database,
                )
            found = of_diagnosis(pipeline, body)
            row: dict[str, Any] = {
                "run_id": run_id,
                "body": redact_json(body, self._policy),
                "group_id": found.id,
                "signature": str(redact_json(found.signature, self._policy)),
                "created_at": utcnow(),
            }
            row["id"] = conn.execute(_INSERT_DIAGNOSIS, row).scalar_one()
            conn.execute(_SET_FAILURE_GROUP, {"target_run": run_id, "new_group": found.id})
        return DiagnosisRecord.model_validate(row)

    def latest_diagnoses(self, run_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        """The newest stored diagnosis body of each run that has one, by run id."""
        wanted = sorted(set(run_ids))
        if not wanted:
            return {}
        query = (
            select(DiagnosisRow)
            .where(col(DiagnosisRow.run_id).in_(wanted))
            .order_by(col(DiagnosisRow.id))
        )
        with self._read() as session:
            return {row.run_id: row.body for row in session.exec(query)}

    def failure_groups(
        self, limit: int = 200, *, group_id: str | None = None
    ) -> list[FailureGroupRecord]:
        """The failure groups of the store's runs (each run in its newest diagnosis's
        group), the biggest first, or the one ``group_id``: counts from the run index,
        the fingerprint from each group's newest diagnosis."""
        counts = (
            select(
                Run.failure_group,
                func.count().label("runs"),
                func.min(Run.started_at).label("first"),
                func.max(Run.started_at).label("last"),
            )
            .where(
                col(Run.failure_group).is_not(None)
                if group_id is None
                else col(Run.failure_group) == group_id
            )
            .group_by(col(Run.failure_group))
            .order_by(func.count().desc(), col(Run.failure_group))
            .limit(limit)
        )
        with self._read_rows() as conn:
            groups = list(conn.execute(counts))
            newest = (
                select(func.max(DiagnosisRow.id))
                .where(col(DiagnosisRow.group_id).in_([g.failure_group for g in groups]))
                .group_by(col(DiagnosisRow.group_id))
            )
            latest = (
                core_select(
                    col(Run.pipeline),
                    col(Run.run_id),
                    col(DiagnosisRow.group_id),
                    col(DiagnosisRow.body),
                    col(DiagnosisRow.signature),
                )
                .join(Run, col(Run.run_id) == col(DiagnosisRow.run_id))
                .where(col(DiagnosisRow.id).in_(newest.scalar_subquery()))
            )
            found = {row.group_id: row for row in conn.execute(latest)}
        return [
            FailureGroupRecord(
                group_id=g.failure_group,
                runs=g.runs,
                first_seen=g.first,
                last_seen=g.last,
                latest_run_id=found[g.failure_group].run_id,
                fingerprint=_stored_fingerprint(found[g.failure_group]),
            )
            for g in groups
            if g.failure_group in found
        ]

    def undiagnosed_failures(self) -> int:
        """How many failed runs have no diagnosis yet, so belong to no failure group."""
        query = select(func.count()).where(
            col(Run.status).in_([s.value for s in FAILED_STATUSES]),
            # an expression, so the planner walks the failed runs (status index), not
            # the many group-less good runs (group index)
            func.coalesce(Run.failure_group, "") == "",
        )
        with self._read_rows() as conn:
            return int(conn.execute(query).scalar_one())

    def pipeline_names(self) -> list[str]:
        """The pipelines that have a stored spec version, sorted."""
        query = select(PipelineVersion.pipeline).distinct().order_by(col(PipelineVersion.pipeline))
        with self._read() as session:
            return list(session.exec(query))

    def pipeline_versions(self, pipeline: str | None = None) -> list[PipelineVersionRecord]:
        """Stored spec versions (oldest first), each with how many runs used it."""
        counts = (
            select(Run.version_hash, func.count().label("runs"))
            .group_by(col(Run.version_hash))
            .subquery()
        )
        query = select(PipelineVersion, counts.c.runs).join(
            counts, counts.c.version_hash == PipelineVersion.hash, isouter=True
        )
        if pipeline is not None:
            query = query.where(PipelineVersion.pipeline == pipeline)
        with self._read() as session:
            rows = session.exec(query.order_by(col(PipelineVersion.created_at)))
            return [
                PipelineVersionRecord(
                    hash=row.hash,
                    pipeline=row.pipeline,
                    spec=row.spec,
                    created_at=row.created_at,
                    runs=int(runs or 0),
                )
                for row, runs in rows
            ]

    def diagnoses(self, run_id: str) -> list[DiagnosisRecord]:
        with self._read_rows() as conn:
            rows = conn.execute(_RUN_DIAGNOSES, {"run_id": run_id})
            return [DiagnosisRecord.model_validate(r, from_attributes=True) for r in rows]

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
        with self._read_rows() as conn:
            rows = conn.execute(query.order_by(col(RubricResultRow.id)))
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


def _schema_rows(links: Sequence[RunSchemaLink]) -> list[dict[str, Any]]:
    now = utcnow()
    return [
        {"run_id": x.run_id, "step_id": x.step_id, "schema_hash": x.schema_hash, "created_at": now}
        for x in links
    ]


def _run_row(run: NewRun) -> dict[str, Any]:
    return run.model_dump() | {"status": RunStatus.RUNNING.value, "kind": run.kind.value}


def _stored_fingerprint(row: Any) -> Fingerprint:
    """A diagnosis's fingerprint as stored: the signature column is the redacted one."""
    found = of_diagnosis(row.pipeline, row.body)
    return found.model_copy(update={"signature": row.signature or found.signature})


def _run_record(row: Any) -> RunRecord:
    return RunRecord.model_validate(row, from_attributes=True)
