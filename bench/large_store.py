"""One way to make a large trace store for the benchmarks: real runs, cloned with bare SQL.

``bench why``, ``bench console`` and ``bench insights`` all need a store of 100 000 runs
(or 1 000 000) that looks like production's. Running that many pipelines through Temporal
would take days, so every one of them builds it the same way:

1. **Templates.** :func:`record_templates` runs a few scenarios from ``scenarios/`` for
   real on one Temporal dev server into a fresh SQLite store: good and failed runs of
   five pipelines and spec versions, with every attempt, retry, payload, external write
   and the diagnosis the workflow stores.
2. **Clones.** :func:`load_templates` reads them back; :func:`clone` turns one into the
   rows of a new run (its own run id, workflow id, timestamps shifted to a new start,
   the template's payloads referenced, as content addressing shares identical snapshots
   in production); :class:`RowWriter` inserts rows in batches, in one transaction.

:func:`fill` is the plain use (``bench why`` and ``bench console``): clones of random
templates, ~10 % failed, until the store holds ``runs`` runs. ``bench insights``
(:mod:`bench.insights_corpus`) varies its clones to plant patterns.
"""

from __future__ import annotations

import random
import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from orchestrator.scenarios import SCENARIOS_DIR, Progress, load_scenario, run_scenario

__all__ = [
    "SQLITE_TIME",
    "TEMPLATE_SCENARIOS",
    "RowWriter",
    "Template",
    "clone",
    "fill",
    "load_templates",
    "record_templates",
    "shift",
]

TEMPLATE_SCENARIOS = (
    "airtable-field-renamed.yaml",
    "linear-due-date-dropped.yaml",
    "wrong-priority-map.yaml",
    "intake-filed-option-removed.yaml",
    "digest-unexplained-refusal.yaml",
)
SQLITE_TIME = "%Y-%m-%d %H:%M:%S.%f"
FAILED_SHARE = 0.10
FIRST_CLONE_AT = datetime(2026, 9, 1, tzinfo=UTC)
CLONE_EVERY = timedelta(seconds=53)
_FLUSH_ROWS = 20_000


async def record_templates(database_url: str, progress: Progress) -> None:
    """Run the template scenarios for real into the store at ``database_url``."""
    from orchestrator.runtime.devserver import DevServer

    server = DevServer()
    await server.start()
    try:
        for name in TEMPLATE_SCENARIOS:
            scenario = load_scenario(SCENARIOS_DIR / name)
            await run_scenario(
                scenario,
                temporal_address=server.address,
                database_url=database_url,
                progress=progress,
            )
    finally:
        await server.stop()


@dataclass(frozen=True)
class Template:
    """A recorded run: its row, its attempt rows (in order) and its newest diagnosis."""

    run: dict[str, Any]
    attempts: list[dict[str, Any]]
    diagnosis: str | None

    @property
    def good(self) -> bool:
        return bool(self.run["status"] == "succeeded")

    @property
    def failed(self) -> bool:
        return self.run["status"] in ("failed", "qc_failed")


def load_templates(db: sqlite3.Connection) -> list[Template]:
    """The store's recorded runs, oldest first, each with its attempts and diagnosis."""
    db.row_factory = sqlite3.Row
    try:
        out = []
        for row in db.execute("SELECT * FROM run ORDER BY started_at"):
            run = dict(row)
            attempts = [
                dict(a)
                for a in db.execute(
                    "SELECT * FROM step_attempt WHERE run_id = ? ORDER BY id", (run["run_id"],)
                )
            ]
            for attempt in attempts:
                attempt.pop("id")
            diagnosis = db.execute(
                "SELECT body FROM diagnosis WHERE run_id = ? ORDER BY id DESC", (run["run_id"],)
            ).fetchone()
            out.append(Template(run, attempts, diagnosis[0] if diagnosis else None))
        return out
    finally:
        db.row_factory = None


def parse_time(text: str) -> datetime:
    return datetime.strptime(text, SQLITE_TIME).replace(tzinfo=UTC)


def shift(text: str | None, delta: timedelta) -> str | None:
    """A stored timestamp moved by ``delta`` (``None`` stays ``None``)."""
    return None if text is None else (parse_time(text) + delta).strftime(SQLITE_TIME)


def clone(
    template: Template, workflow_id: str, number: int, started: datetime
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The run row and attempt rows of a copy of ``template`` that starts at ``started``:
    run id ``<workflow_id>/<uuid of number + 1>``, every timestamp shifted alike."""
    temporal_run_id = str(uuid.UUID(int=number + 1))
    run_id = f"{workflow_id}/{temporal_run_id}"
    delta = started - parse_time(template.run["started_at"])
    ids = {"workflow_id": workflow_id, "temporal_run_id": temporal_run_id, "run_id": run_id}
    run = {
        **template.run,
        **ids,
        "started_at": started.strftime(SQLITE_TIME),
        "ended_at": shift(template.run["ended_at"], delta),
    }
    attempts = [
        {
            **attempt,
            **ids,
            "started_at": shift(attempt["started_at"], delta),
            "ended_at": shift(attempt["ended_at"], delta),
        }
        for attempt in template.attempts
    ]
    return run, attempts


class RowWriter:
    """Inserts rows into the store's tables in batches (``executemany`` per table)."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db
        self._pending: dict[str, list[dict[str, Any]]] = {}
        self._count = 0

    def add(self, table: str, rows: list[dict[str, Any]]) -> None:
        if not rows:
            return
        self._pending.setdefault(table, []).extend(rows)
        self._count += len(rows)
        if self._count >= _FLUSH_ROWS:
            self.flush()

    def flush(self) -> None:
        # Tables in the order they were first written to: a run before its attempts.
        for table, rows in self._pending.items():
            for columns, batch in _by_columns(rows):
                marks = ", ".join("?" for _ in columns)
                self.db.executemany(
                    f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})",
                    [tuple(row[c] for c in columns) for row in batch],
                )
        self._pending.clear()
        self._count = 0


def _by_columns(
    rows: list[dict[str, Any]],
) -> Iterator[tuple[tuple[str, ...], list[dict[str, Any]]]]:
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(tuple(row), []).append(row)
    yield from groups.items()


@contextmanager
def writing(path: Path) -> Iterator[tuple[sqlite3.Connection, RowWriter]]:
    """The store at ``path`` open for one transaction of clones; flushed and committed
    at the end (rolled back on an error: no half-built store)."""
    db = sqlite3.connect(path)
    try:
        with db:
            writer = RowWriter(db)
            yield db, writer
            writer.flush()
    finally:
        db.close()


def fill(path: Path, runs: int, *, seed: int = 7) -> int:
    """Clone the store's recorded runs until it holds ``runs`` runs; return the count of
    failed clones. One transaction, bare SQL, the store's own tables. Clones get no
    stored diagnosis (``bench why`` computes them)."""
    with writing(path) as (db, writer):
        templates = load_templates(db)
        good = [t for t in templates if t.good]
        failed = [t for t in templates if t.failed]
        if not good or not failed:
            raise RuntimeError(f"{path}: the templates need good and failed runs")
        have = db.execute("SELECT count(*) FROM run").fetchone()[0]
        rng = random.Random(seed)
        failed_clones = 0
        for number in range(max(0, runs - have)):
            is_failed = rng.random() < FAILED_SHARE
            template = rng.choice(failed if is_failed else good)
            workflow_id = f"{template.run['pipeline']}-c{number:07d}"
            run, attempts = clone(
                template, workflow_id, number, FIRST_CLONE_AT + number * CLONE_EVERY
            )
            writer.add("run", [run])
            writer.add("step_attempt", attempts)
            failed_clones += int(is_failed)
        return failed_clones
