"""Failure groups: runs that failed the same way, grouped by fingerprint like Sentry issues.

The fingerprint is :mod:`tracer.fingerprint`'s — (pipeline, onset step, fault class,
normalised error or failed rubrics) — so a group's id is the same in every report, alert
and console page. A diagnosed run's comes stored with its newest diagnosis; a failed run
no diagnosis has looked at yet gets :func:`tracer.fingerprint.undiagnosed`, computed
here by the same Python functions (registered with DuckDB), never re-implemented in SQL.
"""

from __future__ import annotations

from datetime import UTC
from typing import Any

from duckdb import DuckDBPyConnection
from duckdb.func import SPECIAL
from duckdb.sqltypes import VARCHAR

from tracer import fingerprint
from tracer.insights.corpus import Corpus
from tracer.insights.models import DayCount, FailureGroup, GroupFix, Prevalence

__all__ = ["REPRESENTATIVES", "build_group_table", "groups_of"]

REPRESENTATIVES = 5


def _error_signature(error_class: str | None, message: str | None, rubrics: str | None) -> str:
    """:func:`tracer.fingerprint.signature` over the columns of a failed step and QC."""
    error = {"error_class": error_class, "message": message} if error_class or message else None
    return fingerprint.signature(error, rubrics.split("\x1f") if rubrics else ())


def _register(con: DuckDBPyConnection) -> None:
    con.create_function(
        "fp_signature",
        _error_signature,
        [VARCHAR, VARCHAR, VARCHAR],
        VARCHAR,
        null_handling=SPECIAL,
        side_effects=False,
    )
    con.create_function(
        "fp_group_id", fingerprint.group_id, [VARCHAR] * 4, VARCHAR, side_effects=False
    )


def build_group_table(corpus: Corpus) -> None:
    """Create ``failures(run_id, group_id, pipeline, onset_step, fault_class, signature,
    status, started_at)``, one row per failed run. Idempotent."""
    if corpus.query("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'failures'")[0][0]:
        return
    _register(corpus.con)
    corpus.con.execute(f"""
        CREATE TABLE failures AS
        WITH qc AS (
            SELECT run_id, string_agg(DISTINCT rubric_id, '\x1f' ORDER BY rubric_id) AS rubrics
            FROM rubrics GROUP BY run_id),
        parts AS (
            SELECT r.run_id, r.pipeline, r.status, r.started_at,
                coalesce(d.onset_step, r.failed_step, '-') AS onset_step,
                coalesce(d.fault_class, '{fingerprint.UNDIAGNOSED}') AS fault_class,
                d.fingerprint_id AS stored_group,
                coalesce(d.fingerprint_signature, fp_signature(s.last_error_class,
                    s.last_error_message,
                    CASE WHEN r.status = 'qc_failed' THEN coalesce(q.rubrics, '?') END))
                    AS signature
            FROM runs r LEFT JOIN diagnoses d USING (run_id) LEFT JOIN qc q USING (run_id)
            LEFT JOIN steps s ON s.run_id = r.run_id AND s.step_id = r.failed_step
            WHERE r.failed),
        -- The key function runs once per distinct fingerprint, not once per failed run.
        keys AS (SELECT DISTINCT pipeline, onset_step, fault_class, signature FROM parts
            WHERE stored_group IS NULL),
        keyed AS (SELECT *, fp_group_id(pipeline, onset_step, fault_class, signature)
            AS computed FROM keys)
        SELECT p.* EXCLUDE (stored_group), coalesce(p.stored_group, k.computed) AS group_id
        FROM parts p LEFT JOIN keyed k USING (pipeline, onset_step, fault_class, signature)""")


def groups_of(corpus: Corpus) -> list[FailureGroup]:
    """Every failure group of the corpus, the largest first."""
    build_group_table(corpus)
    rows = corpus.query("""
        SELECT f.group_id, any_value(f.pipeline), any_value(f.onset_step),
            any_value(f.fault_class), any_value(f.signature), any_value(f.status), count(*),
            any_value(n.n), min(f.started_at), max(f.started_at)
        FROM failures f JOIN (SELECT pipeline, count(*) AS n FROM runs GROUP BY ALL) n
            USING (pipeline)
        GROUP BY f.group_id ORDER BY count(*) DESC, f.group_id""")
    trends = _trends(corpus)
    objects = _objects(corpus)
    representatives = _representatives(corpus)
    fixes = _fixes(corpus)
    groups = []
    for gid, pipeline, onset, cls, signature, status, count, n, first, last in rows:
        names, object_count = objects.get(gid, ([], 0))
        groups.append(
            FailureGroup(
                id=gid,
                pipeline=pipeline,
                onset_step=None if onset == "-" else onset,
                fault_class=cls,
                signature=signature,
                status=status,
                count=count,
                prevalence=Prevalence.of(count, n),
                first_seen=first.replace(tzinfo=UTC),
                last_seen=last.replace(tzinfo=UTC),
                trend=trends.get(gid, []),
                affected_objects=names,
                affected_object_count=object_count,
                representative_runs=representatives.get(gid, []),
                fix=fixes.get(gid),
            )
        )
    return groups


def _trends(corpus: Corpus) -> dict[str, list[DayCount]]:
    rows = corpus.query("""
        WITH days AS (SELECT pipeline, day, count(*) AS runs FROM runs GROUP BY ALL)
        SELECT f.group_id, f.day, count(*), any_value(d.runs)
        FROM (SELECT group_id, pipeline, CAST(started_at AS DATE) AS day FROM failures) f
        JOIN days d USING (pipeline, day) GROUP BY ALL ORDER BY 1, 2""")
    out: dict[str, list[DayCount]] = {}
    for gid, day, count, runs in rows:
        out.setdefault(gid, []).append(DayCount(day=day, count=count, runs=runs))
    return out


def _objects(corpus: Corpus) -> dict[str, tuple[list[str], int]]:
    rows = corpus.query("""
        SELECT group_id, list(DISTINCT tool || ':' || object_id ORDER BY tool || ':' || object_id)
        FROM failures JOIN writes USING (run_id) GROUP BY group_id""")
    return {gid: (list(names)[:10], len(names)) for gid, names in rows}


def _representatives(corpus: Corpus) -> dict[str, list[str]]:
    """Up to five runs per group spread over its time span (oldest, quartiles, newest)."""
    rows = corpus.query(f"""
        WITH ranked AS (
            SELECT group_id, run_id, row_number() OVER w AS rn, count(*) OVER (
                PARTITION BY group_id) AS n
            FROM failures WINDOW w AS (PARTITION BY group_id ORDER BY started_at, run_id))
        SELECT group_id, list(run_id ORDER BY rn) FROM ranked
        WHERE n <= {REPRESENTATIVES} OR rn IN (1, n, greatest(1, n // 4), greatest(1, n // 2),
            greatest(1, (3 * n) // 4))
        GROUP BY group_id""")
    return {gid: list(runs)[:REPRESENTATIVES] for gid, runs in rows}


def _fixes(corpus: Corpus) -> dict[str, GroupFix]:
    rows: list[Any] = corpus.query("""
        SELECT group_id, fix_kind, coalesce(fix_verified, false), patched_version,
            any_value(fix_detail), count(*) AS runs
        FROM failures JOIN diagnoses USING (run_id) WHERE fix_kind IS NOT NULL
        GROUP BY ALL ORDER BY group_id, 3 DESC, runs DESC""")
    out: dict[str, GroupFix] = {}
    for gid, kind, verified, patched, detail, runs in rows:
        out.setdefault(
            gid,
            GroupFix(
                kind=kind,
                verified=verified,
                patched_version=patched,
                detail=detail or "",
                runs=runs,
            ),
        )
    return out
