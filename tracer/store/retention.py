"""Retention: ``steptrace prune --older-than`` keeps the store bounded and consistent.

A run that started before the cutoff is deleted with everything that hangs off it (its
step attempts, diagnoses, rubric results, human actions) unless something still needs
it. Kept are:

- runs that have not finished (``running``) or wait on a person (``escalated``);
- one exemplar per failure group — the run of each group's newest diagnosis (the
  fingerprint of :mod:`tracer.fingerprint`) — so every kind of failure ever seen keeps a
  run to show;
- the newest good run of each pipeline version: the baseline the next diagnosis of that
  version compares against;
- runs in ``protect`` (what other findings cite);
- and, transitively, every run a kept run cites: its parent (a replay's or rollback's
  original) and any run id in its diagnoses (the last good run the diagnosis compared
  with).

Payloads no remaining row refers to are then deleted. Work is done in batches, one
transaction each, so the store is consistent after every batch: a prune that stops
half-way leaves a smaller consistent store, and running it again finishes the job.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from tracer.store.errors import translate_errors
from tracer.store.models import (
    DiagnosisRow,
    HumanAction,
    Payload,
    RubricResultRow,
    Run,
    StepAttempt,
)
from tracer.store.records import RunStatus
from tracer.store.store import TraceStore

BATCH = 500
OPEN_STATUSES = (RunStatus.RUNNING.value, RunStatus.ESCALATED.value)

RUN = Run.__table__  # type: ignore[attr-defined]
ATTEMPT = StepAttempt.__table__  # type: ignore[attr-defined]
PAYLOAD = Payload.__table__  # type: ignore[attr-defined]
DIAGNOSIS = DiagnosisRow.__table__  # type: ignore[attr-defined]
CHILDREN = (
    ATTEMPT,
    DIAGNOSIS,
    RubricResultRow.__table__,  # type: ignore[attr-defined]
    HumanAction.__table__,  # type: ignore[attr-defined]
)


@dataclass
class PruneResult:
    """What a prune deleted (or, with ``dry_run``, would delete) and what it kept."""

    cutoff: datetime
    runs_deleted: int = 0
    runs_kept: int = 0
    attempts_deleted: int = 0
    payloads_deleted: int = 0
    bytes_freed: int = 0
    dry_run: bool = False
    kept_because: dict[str, int] = field(default_factory=dict)


def count_runs(store: TraceStore, status: RunStatus) -> int:
    """How many runs have ``status`` (e.g. the open escalations gauge)."""
    query = sa.select(sa.func.count()).select_from(RUN).where(RUN.c.status == status.value)
    with translate_errors(store.database), store.engine.connect() as conn:
        return int(conn.execute(query).scalar_one())


def prune(
    store: TraceStore,
    older_than: timedelta,
    *,
    now: datetime | None = None,
    protect: Iterable[str] = (),
    dry_run: bool = False,
) -> PruneResult:
    """Delete runs that started more than ``older_than`` before ``now``, but for those
    still needed (see the module docstring)."""
    if older_than <= timedelta(0):
        raise ValueError(f"--older-than must be positive, got {older_than}")
    cutoff = (now or datetime.now(UTC)) - older_than
    result = PruneResult(cutoff=cutoff, dry_run=dry_run)
    with translate_errors(store.database), store.engine.connect() as conn:
        old = _old_runs(conn, cutoff)
        kept = _kept(conn, old, set(protect), result.kept_because)
    doomed = sorted(set(old) - kept)
    result.runs_kept = len(set(old) & kept)
    result.runs_deleted = len(doomed)
    if dry_run:
        return result
    candidates: set[str] = set()
    for batch in _chunks(doomed, BATCH):
        with translate_errors(store.database), store.engine.begin() as conn:
            candidates |= _payload_refs(conn, batch)
            result.attempts_deleted += _delete_runs(conn, batch)
    # An unreferenced payload is garbage, not an inconsistency: swept once, at the end.
    with translate_errors(store.database), store.engine.begin() as conn:
        orphans = sorted(candidates - _still_referenced(conn, candidates))
        for chunk in _chunks(orphans, BATCH):
            sizes = sa.select(sa.func.coalesce(sa.func.sum(PAYLOAD.c.stored_size), 0))
            result.bytes_freed += int(
                conn.execute(sizes.where(PAYLOAD.c.hash.in_(chunk))).scalar_one()
            )
            conn.execute(PAYLOAD.delete().where(PAYLOAD.c.hash.in_(chunk)))
    result.payloads_deleted = len(orphans)
    return result


def _old_runs(conn: Connection, cutoff: datetime) -> dict[str, dict[str, Any]]:
    query = sa.select(
        RUN.c.run_id, RUN.c.pipeline, RUN.c.version_hash, RUN.c.status, RUN.c.parent_run_id
    ).where(RUN.c.started_at < cutoff)
    return {row.run_id: dict(row._mapping) for row in conn.execute(query)}


def _kept(
    conn: Connection, old: dict[str, dict[str, Any]], protect: set[str], why: dict[str, int]
) -> set[str]:
    """The old runs something still needs, with the reason counted for the report."""
    reasons = {
        "open": {r for r, row in old.items() if row["status"] in OPEN_STATUSES},
        "protected": protect & old.keys(),
        "failure_group_exemplar": _group_exemplars(conn),
        "last_good_of_version": _last_good_per_version(conn),
    }
    kept: set[str] = set()
    for reason, runs in reasons.items():
        runs &= old.keys()
        why[reason] = len(runs - kept)
        kept |= runs
    # Everything a remaining run cites stays too: the young runs cite as well.
    cited = _cited_closure(conn, old, kept)
    why["cited"] = len(cited - kept)
    return kept | cited


def _group_exemplars(conn: Connection) -> set[str]:
    """The run of each failure group's newest diagnosis (the group index answers it)."""
    newest = sa.select(sa.func.max(DIAGNOSIS.c.id)).group_by(DIAGNOSIS.c.group_id)
    query = sa.select(DIAGNOSIS.c.run_id).where(DIAGNOSIS.c.id.in_(newest.scalar_subquery()))
    return set(conn.execute(query).scalars())


def _last_good_per_version(conn: Connection) -> set[str]:
    newest = (
        sa.select(RUN.c.version_hash, sa.func.max(RUN.c.started_at).label("started"))
        .where(RUN.c.status == RunStatus.SUCCEEDED.value)
        .group_by(RUN.c.version_hash)
        .subquery()
    )
    query = sa.select(RUN.c.run_id).join(
        newest,
        sa.and_(
            RUN.c.version_hash.is_not_distinct_from(newest.c.version_hash),
            RUN.c.started_at == newest.c.started,
        ),
    )
    query = query.where(RUN.c.status == RunStatus.SUCCEEDED.value)
    return set(conn.execute(query).scalars())


def _cited_closure(conn: Connection, old: dict[str, dict[str, Any]], kept: set[str]) -> set[str]:
    """Old runs cited, directly or through other cited runs, by any run that stays."""
    cites = _citations(conn, old.keys())
    staying = [r for r in cites if r not in old or r in kept]
    cited: set[str] = set()
    while staying:
        run_id = staying.pop()
        for target in cites.get(run_id, ()):
            if target in old and target not in kept and target not in cited:
                cited.add(target)
                staying.append(target)
    return cited


def _citations(conn: Connection, old_ids: Iterable[str]) -> dict[str, set[str]]:
    """run id -> the old run ids it cites (as parent, or anywhere in its diagnoses)."""
    old_set = set(old_ids)
    cites: dict[str, set[str]] = {}
    parents = sa.select(RUN.c.run_id, RUN.c.parent_run_id).where(RUN.c.parent_run_id.is_not(None))
    for row in conn.execute(parents):
        if row.parent_run_id in old_set:
            cites.setdefault(row.run_id, set()).add(row.parent_run_id)
    for row in conn.execute(sa.select(DIAGNOSIS.c.run_id, DIAGNOSIS.c.body)):
        found = {s for s in _strings(row.body) if s in old_set and s != row.run_id}
        if found:
            cites.setdefault(row.run_id, set()).update(found)
    return cites


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _delete_runs(conn: Connection, run_ids: Sequence[str]) -> int:
    """Delete one batch of runs and their rows; returns the attempts deleted."""
    attempts = 0
    for table in CHILDREN:
        deleted = conn.execute(table.delete().where(table.c.run_id.in_(run_ids))).rowcount
        attempts += deleted if table is ATTEMPT else 0
    # A pruned run may be the parent of another pruned run in a later batch.
    conn.execute(RUN.update().where(RUN.c.parent_run_id.in_(run_ids)).values(parent_run_id=None))
    conn.execute(RUN.delete().where(RUN.c.run_id.in_(run_ids)))
    return attempts


def _payload_refs(conn: Connection, run_ids: Sequence[str]) -> set[str]:
    refs: set[str] = set()
    triggers = sa.select(RUN.c.trigger_hash).where(RUN.c.run_id.in_(run_ids))
    refs.update(h for h in conn.execute(triggers).scalars() if h)
    query = sa.select(ATTEMPT.c.input_hash, ATTEMPT.c.output_hash, ATTEMPT.c.external_writes)
    for row in conn.execute(query.where(ATTEMPT.c.run_id.in_(run_ids))):
        refs.update(h for h in (row.input_hash, row.output_hash) if h)
        refs.update(_write_hashes(row.external_writes))
    return refs


def _write_hashes(writes: Any) -> Iterator[str]:
    for write in writes or []:
        for key in ("before_hash", "after_hash"):
            if isinstance(write, dict) and write.get(key):
                yield str(write[key])


def _still_referenced(conn: Connection, candidates: set[str]) -> set[str]:
    """Which candidate payloads a remaining run or attempt still refers to."""
    used: set[str] = set()
    for chunk in _chunks(sorted(candidates), BATCH):
        for column in (RUN.c.trigger_hash, ATTEMPT.c.input_hash, ATTEMPT.c.output_hash):
            used.update(conn.execute(sa.select(column).where(column.in_(chunk))).scalars())
    writes = sa.select(ATTEMPT.c.external_writes).where(
        sa.func.length(sa.cast(ATTEMPT.c.external_writes, sa.Text)) > 2
    )
    for external_writes in conn.execute(writes).scalars():
        used.update(h for h in _write_hashes(external_writes) if h in candidates)
    return used


def _chunks(items: Sequence[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(items), size):
        yield list(items[start : start + size])
