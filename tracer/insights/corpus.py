"""The data layer: the whole corpus of runs in DuckDB, so that questions are queries.

:func:`load_corpus` reads the trace store's tables once (through :mod:`.source`) into an
in-memory DuckDB database with these tables, one row per

- ``runs``: run (pipeline, ``version`` = spec version, status, start, day, hour, weekday);
- ``attempts``: step attempt (step, op, ``tool``, attempt, status, error fields, duration);
- ``steps``: step of a run, its attempts folded: final status, ``absorbed`` (a failed
  attempt followed by a successful one), the first error, the final duration and output;
- ``rubrics``: rubric result that did not pass (fail, error, …);
- ``diagnoses``: run's newest diagnosis (onset step, fault class, fix kind, verified,
  fingerprint id and signature);
- ``writes``: external write of a failed run (tool, object) — the objects a group touched;
- ``leaves`` (a view): low-cardinality leaf value of a run's trigger or of a step's
  output (``source`` is ``trigger`` or the step id), for the paths in ``Corpus.paths``;
  it joins ``uses`` (run, source, payload hash) with ``hash_chosen`` (hash, path,
  value), so aggregate over ``uses`` first when counting runs;
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
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from tracer.insights.errors import CorpusUnavailableError
from tracer.insights.leaves import flatten
from tracer.insights.source import StoreReader, open_reader, quote
from tracer.payloads import decode

__all__ = ["MIN_RUNS", "RUN_ATTRS", "ChosenPath", "Corpus", "attr_names", "load_corpus"]

MIN_RUNS = 2
_BATCH = 500
Columns = dict[str, list[Any]]


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
    file: Path | None = None,
    attempts: bool = True,
) -> Corpus:
    """Load the finished pipeline runs of the store at ``url`` (optionally started at or
    after ``since``, of one ``pipeline``) into DuckDB.

    The database is in memory, or the DuckDB ``file`` when one is named (every table
    then lives in the file, so that it can be reopened read-only: ``--question``).
    ``attempts=False`` leaves the ``attempts`` view out once ``steps`` is built: the
    findings read ``steps`` only, and the attempts' Arrow columns are a fifth of the
    memory of a large corpus.

    Raises :class:`CorpusUnavailableError` for a missing, empty or one-run store, or one
    that is not at the current schema.
    """
    with open_reader(url) as reader:
        where = _run_filter(reader, since, pipeline, "run")
        runs = reader.arrow(
            f"SELECT run_id, pipeline, coalesce(version_hash, '') AS version_hash, status, "
            f"kind, {reader.ts('started_at')} AS started, {reader.ts('ended_at')} AS ended, "
            "coalesce(failed_step, '') AS failed_step, coalesce(trigger_hash, '') AS "
            f"trigger_hash FROM run WHERE {where}"
        )
        _check_size(runs.num_rows, reader.database, since, pipeline)
        con = duckdb.connect(str(file) if file else ":memory:", config={"threads": 2})
        con.execute("SET enable_progress_bar = false")
        _load_runs(con, runs)
        # Only a narrowed corpus is filtered in the store; the whole one is read in one
        # scan and semi-joined here, which is cheaper than an index probe per attempt.
        narrowed = since is not None or pipeline is not None
        joined = _run_filter(reader, since, pipeline, "r") if narrowed else None
        scoped = narrowed or _store_has_more(reader, runs.num_rows)
        _load_attempts(con, reader, joined, scoped, kept=file is not None)
        if not attempts and file is None:
            con.execute("DROP VIEW attempts")
            con.execute("DROP VIEW corpus_attempts")
            con.unregister("raw_attempts")
        _load_small_tables(con, reader, joined)
        paths = _load_leaves(con, reader, max_values, min_coverage)
        _build_attrs(con)
        return Corpus(con, reader.database, runs.num_rows, paths, since, pipeline)


def _run_filter(
    reader: StoreReader, since: datetime | None, pipeline: str | None, alias: str
) -> str:
    """The SQL condition on the ``run`` table (as ``alias``) that selects the corpus."""
    clauses = [f"{alias}.kind IN ('pipeline', 'workflow')", f"{alias}.status <> 'running'"]
    if since is not None:
        text = since.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")
        clauses.append(
            f"{alias}.started_at >= {quote(text)}"
            if reader.dialect == "sqlite"
            else f"{alias}.started_at >= CAST({quote(text + '+00')} AS TIMESTAMPTZ)"
        )
    if pipeline is not None:
        clauses.append(f"{alias}.pipeline = {quote(pipeline)}")
    return " AND ".join(clauses)


def _store_has_more(reader: StoreReader, corpus_runs: int) -> bool:
    """Whether the store holds runs outside the corpus (running ones, activities)."""
    return int(reader.rows("SELECT count(*) FROM run")[0][0]) > corpus_runs


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


def _of_runs(reader: StoreReader, table: str, where: str | None, extra: str = "") -> str:
    """FROM/WHERE of a query over ``table`` restricted to the corpus's runs (when the
    corpus is narrowed; else DuckDB semi-joins)."""
    if where is None:
        return f"FROM {table} t WHERE 1 = 1 {extra}"
    return f"FROM {table} t JOIN run r ON r.run_id = t.run_id WHERE {where} {extra}"


def _arrow(columns: Columns) -> pa.Table:
    return pa.table({name: pa.array(values, pa.string()) for name, values in columns.items()})


def _load_runs(con: duckdb.DuckDBPyConnection, runs: pa.Table) -> None:
    con.register("raw_runs", runs)
    con.execute("""
        CREATE TABLE runs AS SELECT
            run_id, pipeline, coalesce(substr(nullif(version_hash, ''), 1, 8), '-') AS version,
            status, kind, CAST(started AS TIMESTAMP) AS started_at,
            CAST(nullif(ended, '') AS TIMESTAMP) AS ended_at,
            nullif(failed_step, '') AS failed_step, nullif(trigger_hash, '') AS trigger_hash,
            CAST(CAST(started AS TIMESTAMP) AS DATE) AS day,
            hour(CAST(started AS TIMESTAMP)) AS hour,
            dayname(CAST(started AS TIMESTAMP)) AS weekday,
            status IN ('failed', 'qc_failed') AS failed
        FROM raw_runs""")
    con.unregister("raw_runs")


def _load_attempts(
    con: duckdb.DuckDBPyConnection,
    reader: StoreReader,
    where: str | None,
    narrowed: bool,
    *,
    kept: bool,
) -> None:
    attempts = reader.arrow(
        "SELECT t.run_id, t.step_id, t.step_index, t.op, t.attempt, t.status, "
        "coalesce(t.output_hash, '') AS output_hash, "
        # only a failed attempt's error is read: the others carry none
        f"CASE WHEN t.status = 'failed' THEN {reader.text('t.error')} ELSE '' END AS error, "
        f"t.duration_ms {_of_runs(reader, 'step_attempt', where)}"
    )
    # A view over the Arrow table the driver returned: no second copy of every attempt.
    con.register("raw_attempts", attempts)
    # Semi-joined with the corpus's runs unless the corpus is every run of the store.
    scope = "SEMI JOIN runs USING (run_id)" if narrowed else ""
    # ``kept``: a table in the database file, which outlives this process's Arrow table.
    kind = "TABLE" if kept else "VIEW"
    con.execute(f"CREATE {kind} corpus_attempts AS SELECT * FROM raw_attempts {scope}")
    con.execute(f"""
        CREATE VIEW attempts AS SELECT
            run_id, step_id, step_index, op, split_part(op, '.', 1) AS tool, attempt, status,
            nullif(output_hash, '') AS output_hash, {_ERROR_COLUMNS}, duration_ms
        FROM corpus_attempts""")
    # Most steps run once: only the retried ones are folded (grouped); the rest are
    # copied as they are, which is most of the rows at a fraction of the cost.
    con.execute(f"""
        CREATE TABLE steps AS
        WITH retried AS (SELECT DISTINCT run_id, step_id FROM corpus_attempts WHERE attempt > 1),
        once AS (
            SELECT run_id, step_id, step_index, op, split_part(op, '.', 1) AS tool,
                1 AS attempts, status AS final_status, false AS absorbed,
                error_class, error_code, error_status, error_class AS last_error_class,
                error_message AS last_error_message, duration_ms,
                CASE WHEN status = 'succeeded' THEN output_hash END AS output_hash
            FROM (SELECT run_id, step_id, step_index, op, status, duration_ms,
                    nullif(output_hash, '') AS output_hash, {_ERROR_COLUMNS}
                FROM corpus_attempts ANTI JOIN retried USING (run_id, step_id) WHERE attempt = 1)
        ),
        folded AS (
            SELECT run_id, step_id, min(step_index) AS step_index, any_value(op) AS op,
                any_value(tool) AS tool, count(*) AS attempts,
                arg_max(status, attempt) AS final_status,
                bool_or(status = 'failed') AND arg_max(status, attempt) = 'succeeded'
                    AS absorbed,
                arg_min(error_class, attempt) FILTER (WHERE status = 'failed') AS error_class,
                arg_min(error_code, attempt) FILTER (WHERE status = 'failed') AS error_code,
                arg_min(error_status, attempt) FILTER (WHERE status = 'failed')
                    AS error_status,
                arg_max(error_class, attempt) FILTER (WHERE status = 'failed')
                    AS last_error_class,
                arg_max(error_message, attempt) FILTER (WHERE status = 'failed')
                    AS last_error_message,
                arg_max(duration_ms, attempt) AS duration_ms,
                arg_max(output_hash, attempt) FILTER (WHERE status = 'succeeded')
                    AS output_hash
            FROM attempts SEMI JOIN retried USING (run_id, step_id) GROUP BY run_id, step_id)
        SELECT * FROM once UNION ALL SELECT * FROM folded""")


_ERROR_COLUMNS = """
    json_extract_string(nullif(error, ''), '$.error_class') AS error_class,
    json_extract_string(nullif(error, ''), '$.code') AS error_code,
    CAST(json_extract(nullif(error, ''), '$.status') AS INTEGER) AS error_status,
    json_extract_string(nullif(error, ''), '$.message') AS error_message"""


def _load_small_tables(
    con: duckdb.DuckDBPyConnection, reader: StoreReader, where: str | None
) -> None:
    rubrics = reader.arrow(
        "SELECT t.run_id, t.rubric_id, t.outcome, t.severity, "
        "coalesce(t.step_id, '') AS step_id "
        + _of_runs(
            reader,
            "rubric_result",
            where,
            "AND t.outcome NOT IN ('pass', 'not_applicable', 'not_judged')",
        )
    )
    con.register("raw_rubrics", rubrics)
    con.execute("""CREATE TABLE rubrics AS SELECT run_id, rubric_id, outcome, severity,
        nullif(step_id, '') AS step_id FROM raw_rubrics SEMI JOIN runs USING (run_id)""")
    diagnoses = reader.arrow(
        f"SELECT t.id, t.run_id, t.group_id, t.signature, {reader.text('t.body')} AS body "
        + _of_runs(reader, "diagnosis", where)
    )
    con.register("raw_diagnoses", diagnoses)
    con.execute("""
        CREATE TABLE diagnoses AS SELECT
            run_id, json_extract_string(body, '$.onset_step') AS onset_step,
            json_extract_string(body, '$.fault_class') AS fault_class,
            json_extract_string(body, '$.proposed_fix.kind') AS fix_kind,
            CAST(json_extract(body, '$.proposed_fix.verified') AS BOOLEAN) AS fix_verified,
            json_extract_string(body, '$.proposed_fix.patched_version') AS patched_version,
            json_extract_string(body, '$.proposed_fix.detail') AS fix_detail,
            CAST(group_id AS VARCHAR) AS fingerprint_id,
            CAST(signature AS VARCHAR) AS fingerprint_signature
        FROM raw_diagnoses SEMI JOIN runs USING (run_id)
        QUALIFY row_number() OVER (PARTITION BY run_id ORDER BY id DESC) = 1
    """)
    failed = con.execute("SELECT count(*) FROM runs WHERE failed").fetchall()[0]
    writes = (
        reader.arrow(
            f"SELECT t.run_id, {reader.text('t.external_writes')} AS writes "
            + _of_runs(
                reader,
                "step_attempt",
                where,
                "AND t.run_id IN (SELECT run_id FROM run WHERE status IN ('failed', 'qc_failed'))",
            )
        )
        if failed and failed[0]
        else pa.table({"run_id": pa.array([], pa.string()), "writes": pa.array([], pa.string())})
    )
    con.register("raw_writes", writes)
    con.execute("""
        CREATE TABLE writes AS SELECT DISTINCT run_id,
            json_extract_string(w, '$.tool') AS tool,
            json_extract_string(w, '$.object_id') AS object_id
        FROM (SELECT run_id, unnest(CAST(writes AS JSON[])) AS w FROM raw_writes
              SEMI JOIN runs USING (run_id) WHERE writes NOT IN ('', '[]'))""")
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
    # A view, not a table: a run's leaves are its payloads' leaves, and payloads are
    # shared, so counting goes through ``uses`` (run -> hash) and ``hash_chosen``.
    con.execute("""
        CREATE VIEW leaves AS SELECT u.run_id, u.pipeline, u.source, h.path, h.value
        FROM uses u JOIN hash_chosen h USING (pipeline, source, hash)""")
    con.unregister("chosen")
    return paths


def _decode_leaves(reader: StoreReader, hashes: list[str]) -> Columns:
    out: Columns = {"hash": [], "path": [], "value": []}
    codec = reader.payload_codec()
    for start in range(0, len(hashes), _BATCH):
        batch = ", ".join(quote(h) for h in hashes[start : start + _BATCH])
        table = reader.arrow(f"SELECT hash, data FROM payload WHERE hash IN ({batch})")
        for hash_, data in zip(
            table.column("hash").to_pylist(), table.column("data").to_pylist(), strict=True
        ):
            for path, value in flatten(decode(data, codec)):
                out["hash"].append(hash_)
                out["path"].append(path)
                out["value"].append(value)
    return out


def _build_attrs(con: duckdb.DuckDBPyConnection) -> None:
    # Only steps that were retried count, so filter before grouping: most steps never are.
    con.execute("""
        CREATE TABLE retries AS
        SELECT s.run_id, sum(s.attempts - 1) AS extra FROM steps s JOIN runs r
            ON r.run_id = s.run_id AND s.step_id IS DISTINCT FROM r.failed_step
        WHERE s.attempts > 1 GROUP BY s.run_id""")
    # A view: DIFF reads the attributes pivoted (``itemsets.load_wide``) from the tables
    # below, so a long (run, attr, value) table would be built for the few lookups only.
    con.execute(f"""
        CREATE VIEW attrs AS
        SELECT u.run_id, 'trigger.' || h.path AS attr, h.value FROM uses u
            JOIN hash_chosen h USING (pipeline, source, hash) WHERE u.source = 'trigger'
        UNION ALL SELECT run_id, 'version', version FROM runs
        UNION ALL SELECT run_id, 'hour', {HOUR_SQL} FROM runs
        UNION ALL SELECT run_id, 'weekday', weekday FROM runs
        UNION ALL SELECT r.run_id, 'retries', {RETRIES_SQL}
            FROM runs r LEFT JOIN retries x USING (run_id)""")


HOUR_SQL = "lpad(CAST(hour AS VARCHAR), 2, '0')"
RETRIES_SQL = "CASE WHEN coalesce(x.extra, 0) = 0 THEN '0' WHEN x.extra = 1 THEN '1' ELSE '2+' END"
RUN_ATTRS = ("hour", "retries", "version", "weekday")


def attr_names(corpus: Corpus) -> list[str]:
    """The attributes of ``attrs`` (sorted): the chosen trigger paths, then the run's own."""
    trigger = {f"trigger.{p.path}" for p in corpus.paths if p.source == "trigger"}
    return sorted(trigger | set(RUN_ATTRS))
