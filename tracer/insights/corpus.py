"""The data layer: the whole corpus of runs in DuckDB, so that questions are queries.

:func:`load_corpus` reads the trace store's tables once (through :mod:`.source`) into an
in-memory DuckDB database with these tables, one row per

- ``runs``: run (pipeline, ``version`` = spec version, status, start, day, hour, weekday);
- ``attempts``: step attempt (step, op, ``tool``, attempt, status, error fields, duration);
- ``steps``: step of a run, its attempts folded: final status, ``absorbed`` (a failed
  attempt followed by a successful one), the first error, the final duration and output;
- ``rubrics``: rubric result that did not pass (fail, error, …);
- ``diagnoses``: run's newest diagnosis (onset step, fault class, fix kind, verified);
- ``writes``: external write of a failed run (tool, object) — the objects a group touched;
- ``leaves``: low-cardinality leaf value of a run's trigger or of a step's output
  (``source`` is ``trigger`` or the step id), for the paths listed in ``Corpus.paths``;
- ``attrs``: the attributes explanations and cohorts may use, ``(run_id, attr, value)``:
  the trigger leaves plus ``version``, ``hour``, ``weekday`` and ``retries`` (extra
  attempts on steps other than the failed one: a cause may be upstream, never the
  symptom itself).

Payloads are decoded once per distinct hash (content addressing makes that far fewer
than runs), never per run. Everything after loading is SQL over these tables.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import duckdb
import pyarrow as pa

from tracer.insights.errors import CorpusUnavailableError
from tracer.insights.leaves import flatten
from tracer.insights.source import Columns, StoreReader, open_reader
from tracer.payloads import decode

__all__ = ["MIN_RUNS", "ChosenPath", "Corpus", "load_corpus"]

MIN_RUNS = 2
_BATCH = 500
_RUN_COLUMNS = ("run_id", "pipeline", "version_hash", "status", "kind", "started", "ended")
_RUN_COLUMNS_REST = ("failed_step", "trigger_hash")
_ATTEMPT_COLUMNS = (
    "run_id", "step_id", "step_index", "op", "attempt", "status", "output_hash", "error",
    "duration_ms", "started",
)  # fmt: skip


@dataclass(frozen=True)
class ChosenPath:
    """A payload path kept for analysis, with the reason it was kept."""

    pipeline: str
    source: str
    path: str
    values: int
    coverage: float

    @property
    def attr(self) -> str:
        return f"{self.source}.{self.path}"

    def describe(self) -> str:
        return (
            f"{self.pipeline}: {self.attr} — {self.values} distinct values in "
            f"{self.coverage:.0%} of its runs"
        )


@dataclass
class Corpus:
    """The loaded corpus: a DuckDB connection over the tables above, and what was chosen."""

    con: duckdb.DuckDBPyConnection
    database: str
    runs: int
    paths: list[ChosenPath] = field(default_factory=list)
    since: datetime | None = None
    pipeline: str | None = None

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Rows of a query over the corpus tables."""
        return self.con.execute(sql, list(params)).fetchall()

    def close(self) -> None:
        self.con.close()


def load_corpus(
    url: str,
    *,
    since: datetime | None = None,
    pipeline: str | None = None,
    max_values: int = 20,
    min_coverage: float = 0.05,
) -> Corpus:
    """Load the finished pipeline runs of the store at ``url`` (optionally started at or
    after ``since``, of one ``pipeline``) into DuckDB.

    Raises :class:`CorpusUnavailableError` for a missing, empty or one-run store, or one
    that is not at the current schema.
    """
    with open_reader(url) as reader:
        where, params = _run_filter(reader, since, pipeline)
        runs = reader.columns(
            f"SELECT run_id, pipeline, version_hash, status, kind, {reader.ts('started_at')}, "
            f"{reader.ts('ended_at')}, failed_step, trigger_hash FROM run WHERE {where}",
            _RUN_COLUMNS + _RUN_COLUMNS_REST,
            params,
        )
        _check_size(len(runs["run_id"]), reader.database, since, pipeline)
        con = duckdb.connect(config={"threads": 2})
        con.execute("SET enable_progress_bar = false")
        _load_runs(con, runs)
        _load_attempts(con, reader, where, params)
        _load_small_tables(con, reader, where, params)
        paths = _load_leaves(con, reader, max_values, min_coverage)
        _build_attrs(con)
        return Corpus(con, reader.database, len(runs["run_id"]), paths, since, pipeline)


def _run_filter(
    reader: StoreReader, since: datetime | None, pipeline: str | None
) -> tuple[str, list[Any]]:
    clauses = ["kind IN ('pipeline', 'workflow')", "status <> 'running'"]
    params: list[Any] = []
    if since is not None:
        clauses.append(f"started_at >= {reader.mark}")
        params.append(since.strftime("%Y-%m-%d %H:%M:%S") if reader.dialect == "sqlite" else since)
    if pipeline is not None:
        clauses.append(f"pipeline = {reader.mark}")
        params.append(pipeline)
    return " AND ".join(clauses), params


def _check_size(count: int, database: str, since: datetime | None, pipeline: str | None) -> None:
    if count >= MIN_RUNS:
        return
    scope = "".join(
        [
            f" of pipeline {pipeline!r}" if pipeline else "",
            f" since {since:%Y-%m-%d}" if since else "",
        ]
    )
    what = "no finished runs" if count == 0 else "one finished run"
    raise CorpusUnavailableError(
        f"{database} holds {what}{scope}: insights compare runs with each other and need "
        f"at least {MIN_RUNS}. Widen --since or --pipeline, or run the pipelines first"
    )


def _arrow(columns: Columns) -> pa.Table:
    return pa.table({name: pa.array(values) for name, values in columns.items()})


def _load_runs(con: duckdb.DuckDBPyConnection, runs: Columns) -> None:
    raw = _arrow(runs)
    con.register("raw_runs", raw)
    con.execute("""
        CREATE TABLE runs AS SELECT
            run_id, pipeline, coalesce(substr(version_hash, 1, 8), '-') AS version,
            status, kind, CAST(started AS TIMESTAMP) AS started_at,
            CAST(ended AS TIMESTAMP) AS ended_at, failed_step, trigger_hash,
            CAST(CAST(started AS TIMESTAMP) AS DATE) AS day,
            hour(CAST(started AS TIMESTAMP)) AS hour,
            dayname(CAST(started AS TIMESTAMP)) AS weekday,
            status IN ('failed', 'qc_failed') AS failed
        FROM raw_runs""")
    con.unregister("raw_runs")


def _load_attempts(
    con: duckdb.DuckDBPyConnection, reader: StoreReader, where: str, params: list[Any]
) -> None:
    attempts = reader.columns(
        f"SELECT run_id, step_id, step_index, op, attempt, status, output_hash, "
        f"{reader.text('error')}, duration_ms, {reader.ts('started_at')} FROM step_attempt "
        f"WHERE run_id IN (SELECT run_id FROM run WHERE {where})",
        _ATTEMPT_COLUMNS,
        params,
    )
    con.register("raw_attempts", _arrow(attempts))
    con.execute("""
        CREATE TABLE attempts AS SELECT
            run_id, step_id, step_index, op, split_part(op, '.', 1) AS tool, attempt, status,
            output_hash, json_extract_string(error, '$.error_class') AS error_class,
            json_extract_string(error, '$.code') AS error_code,
            CAST(json_extract(error, '$.status') AS INTEGER) AS error_status,
            json_extract_string(error, '$.message') AS error_message,
            duration_ms, CAST(started AS TIMESTAMP) AS started_at
        FROM raw_attempts""")
    con.unregister("raw_attempts")
    con.execute("""
        CREATE TABLE steps AS SELECT
            run_id, step_id, min(step_index) AS step_index, any_value(op) AS op,
            any_value(tool) AS tool, count(*) AS attempts,
            arg_max(status, attempt) AS final_status,
            bool_or(status = 'failed') AND arg_max(status, attempt) = 'succeeded' AS absorbed,
            arg_min(error_class, attempt) FILTER (WHERE status = 'failed') AS error_class,
            arg_min(error_code, attempt) FILTER (WHERE status = 'failed') AS error_code,
            arg_min(error_status, attempt) FILTER (WHERE status = 'failed') AS error_status,
            arg_max(error_class, attempt) FILTER (WHERE status = 'failed') AS last_error_class,
            arg_max(error_message, attempt) FILTER (WHERE status = 'failed')
                AS last_error_message,
            arg_max(duration_ms, attempt) AS duration_ms,
            arg_max(output_hash, attempt) FILTER (WHERE status = 'succeeded') AS output_hash
        FROM attempts GROUP BY run_id, step_id""")


def _load_small_tables(
    con: duckdb.DuckDBPyConnection, reader: StoreReader, where: str, params: list[Any]
) -> None:
    in_runs = f"run_id IN (SELECT run_id FROM run WHERE {where})"
    rubrics = reader.columns(
        "SELECT run_id, rubric_id, outcome, severity, step_id FROM rubric_result "
        f"WHERE outcome NOT IN ('pass', 'not_applicable', 'not_judged') AND {in_runs}",
        ("run_id", "rubric_id", "outcome", "severity", "step_id"),
        params,
    )
    con.register("raw_rubrics", _arrow(rubrics))
    con.execute("CREATE TABLE rubrics AS SELECT * FROM raw_rubrics")
    diagnoses = reader.columns(
        f"SELECT id, run_id, {reader.text('body')} FROM diagnosis WHERE {in_runs}",
        ("id", "run_id", "body"),
        params,
    )
    con.register("raw_diagnoses", _arrow(diagnoses))
    con.execute("""
        CREATE TABLE diagnoses AS SELECT
            run_id, json_extract_string(body, '$.onset_step') AS onset_step,
            json_extract_string(body, '$.fault_class') AS fault_class,
            json_extract_string(body, '$.proposed_fix.kind') AS fix_kind,
            CAST(json_extract(body, '$.proposed_fix.verified') AS BOOLEAN) AS fix_verified,
            json_extract_string(body, '$.proposed_fix.patched_version') AS patched_version,
            json_extract_string(body, '$.proposed_fix.detail') AS fix_detail
        FROM raw_diagnoses QUALIFY row_number() OVER (PARTITION BY run_id ORDER BY id DESC) = 1
    """)
    failed = (
        f"run_id IN (SELECT run_id FROM run WHERE {where} AND status IN ('failed', 'qc_failed'))"
    )
    writes = reader.columns(
        f"SELECT run_id, {reader.text('external_writes')} FROM step_attempt WHERE {failed}",
        ("run_id", "writes"),
        params,
    )
    con.register("raw_writes", _arrow(writes))
    con.execute("""
        CREATE TABLE writes AS SELECT DISTINCT run_id,
            json_extract_string(w, '$.tool') AS tool,
            json_extract_string(w, '$.object_id') AS object_id
        FROM (SELECT run_id, unnest(CAST(writes AS JSON[])) AS w FROM raw_writes
              WHERE writes IS NOT NULL AND writes <> '[]')""")
    for name in ("raw_rubrics", "raw_diagnoses", "raw_writes"):
        con.unregister(name)


def _load_leaves(
    con: duckdb.DuckDBPyConnection, reader: StoreReader, max_values: int, min_coverage: float
) -> list[ChosenPath]:
    con.execute("""
        CREATE TABLE uses AS
        SELECT run_id, pipeline, 'trigger' AS source, trigger_hash AS hash FROM runs
            WHERE trigger_hash IS NOT NULL
        UNION ALL
        SELECT s.run_id, r.pipeline, s.step_id, s.output_hash FROM steps s
            JOIN runs r USING (run_id) WHERE s.output_hash IS NOT NULL""")
    hashes = [row[0] for row in con.execute("SELECT DISTINCT hash FROM uses").fetchall()]
    con.register("raw_leaves", _arrow(_decode_leaves(reader, hashes)))
    con.execute("CREATE TABLE hash_leaves AS SELECT * FROM raw_leaves")
    con.unregister("raw_leaves")
    rows = con.execute(
        """
        WITH hash_runs AS (
            SELECT pipeline, source, hash, count(*) AS runs FROM uses GROUP BY ALL),
        pipeline_runs AS (SELECT pipeline, count(*) AS n FROM runs GROUP BY ALL),
        path_hashes AS (SELECT DISTINCT hash, path FROM hash_leaves),
        coverage AS (
            SELECT h.pipeline, h.source, p.path, sum(h.runs) AS runs
            FROM hash_runs h JOIN path_hashes p USING (hash) GROUP BY ALL),
        cardinality AS (
            SELECT h.pipeline, h.source, l.path, count(DISTINCT l.value) AS values
            FROM (SELECT DISTINCT pipeline, source, hash FROM hash_runs) h
            JOIN hash_leaves l USING (hash) GROUP BY ALL)
        SELECT c.pipeline, c.source, c.path, k.values, c.runs / n.n AS coverage
        FROM coverage c JOIN cardinality k USING (pipeline, source, path)
        JOIN pipeline_runs n USING (pipeline)
        WHERE k.values BETWEEN 2 AND ? AND c.runs / n.n >= ? AND c.runs >= 3 * k.values
        ORDER BY c.pipeline, c.source, c.path""",
        [max_values, min_coverage],
    ).fetchall()
    paths = [ChosenPath(p, s, path, int(v), float(c)) for p, s, path, v, c in rows]
    con.register(
        "chosen",
        _arrow(
            {
                "pipeline": [p.pipeline for p in paths],
                "source": [p.source for p in paths],
                "path": [p.path for p in paths],
            }
        ),
    )
    con.execute("""
        CREATE TABLE hash_chosen AS SELECT DISTINCT u.pipeline, u.source, u.hash, l.path, l.value
        FROM (SELECT DISTINCT pipeline, source, hash FROM uses) u JOIN hash_leaves l USING (hash)
        SEMI JOIN chosen c ON c.pipeline = u.pipeline AND c.source = u.source
            AND c.path = l.path""")
    con.execute("""
        CREATE TABLE leaves AS SELECT u.run_id, u.pipeline, u.source, h.path, h.value
        FROM uses u JOIN hash_chosen h USING (pipeline, source, hash)""")
    con.unregister("chosen")
    return paths


def _decode_leaves(reader: StoreReader, hashes: list[str]) -> Columns:
    out: Columns = {"hash": [], "path": [], "value": []}
    for start in range(0, len(hashes), _BATCH):
        batch = hashes[start : start + _BATCH]
        marks = ", ".join(reader.mark for _ in batch)
        for hash_, data in reader.rows(
            f"SELECT hash, data FROM payload WHERE hash IN ({marks})", batch
        ):
            for path, value in flatten(decode(bytes(data))):
                out["hash"].append(hash_)
                out["path"].append(path)
                out["value"].append(value)
    return out


def _build_attrs(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("""
        CREATE TABLE attrs AS
        SELECT run_id, 'trigger.' || path AS attr, value FROM leaves WHERE source = 'trigger'
        UNION ALL SELECT run_id, 'version', version FROM runs
        UNION ALL SELECT run_id, 'hour', lpad(CAST(hour AS VARCHAR), 2, '0') FROM runs
        UNION ALL SELECT run_id, 'weekday', weekday FROM runs
        UNION ALL
        SELECT r.run_id, 'retries',
            CASE WHEN coalesce(x.extra, 0) = 0 THEN '0' WHEN x.extra = 1 THEN '1' ELSE '2+' END
        FROM runs r LEFT JOIN (
            SELECT s.run_id, sum(s.attempts - 1) AS extra FROM steps s JOIN runs r
                ON r.run_id = s.run_id AND s.step_id IS DISTINCT FROM r.failed_step
            GROUP BY s.run_id
        ) x USING (run_id)""")
