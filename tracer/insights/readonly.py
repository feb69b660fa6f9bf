"""Questions as queries: a SELECT over the corpus, run read-only with limits, and the
check of an answer against the rows it came from.

The corpus is built in a DuckDB file (:func:`tracer.insights.corpus.load_corpus` with
``file=``) and reopened with ``read_only=True``, external access off and the
configuration locked, so a query can neither write nor read files. One statement, a
SELECT (DuckDB's own parser says which), at most ``rows`` rows and ``seconds`` seconds
(the connection is interrupted). Whoever wrote the query — a person or a model — gets a
:class:`QueryRefusedError` with the reason.

:func:`check_answer` holds a sentence written from the result to the result: every
number in it must be a value of the result (as is, or as a percentage of a share), and
every run it cites must exist in the corpus and be a row of the result — the query's
conditions are what the run is claimed to exhibit.
"""

from __future__ import annotations

import math
import re
import threading
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import duckdb

from tracer.insights.errors import InsightsError

__all__ = [
    "QueryRefusedError",
    "QueryResult",
    "check_answer",
    "describe_views",
    "open_readonly",
    "run_query",
]

VIEWS = (
    "runs",
    "attempts",
    "steps",
    "rubrics",
    "diagnoses",
    "writes",
    "leaves",
    "attrs",
    "failures",
)
_RUN_ID = re.compile(r"[A-Za-z0-9_.:-]+/[A-Za-z0-9-]*[A-Za-z0-9]")  # workflow id / run id
_NUMBER = re.compile(r"(?<![\w.])-?\d+(?:[.,]\d+)*(?:\.\d+)?(?![\w])")


class QueryRefusedError(InsightsError):
    """The query was not run (it writes, is not one SELECT) or failed or ran too long."""


@dataclass(frozen=True)
class QueryResult:
    sql: str
    columns: list[str]
    rows: list[tuple[Any, ...]]
    truncated: bool


def open_readonly(path: Path) -> duckdb.DuckDBPyConnection:
    """The corpus file at ``path``, read-only, no file or network access, settings locked."""
    return duckdb.connect(
        str(path),
        read_only=True,
        config={
            "threads": 2,
            "enable_external_access": False,
            "autoinstall_known_extensions": False,
            "autoload_known_extensions": False,
            "lock_configuration": True,
        },
    )


def describe_views(con: duckdb.DuckDBPyConnection) -> str:
    """The tables and views a query may read, one line each with its columns."""
    lines = []
    for name in VIEWS:
        try:
            columns = con.execute(f"DESCRIBE {name}").fetchall()
        except duckdb.Error:
            continue
        lines.append(f"{name}(" + ", ".join(f"{c[0]} {c[1]}" for c in columns) + ")")
    return "\n".join(lines)


def run_query(
    con: duckdb.DuckDBPyConnection, sql: str, *, rows: int = 200, seconds: float = 10.0
) -> QueryResult:
    """Run one SELECT on the read-only corpus; :class:`QueryRefusedError` says why not."""
    text = sql.strip().rstrip(";").strip()
    try:
        statements = con.extract_statements(text)
    except duckdb.Error as exc:
        raise QueryRefusedError(f"the query does not parse ({_first_line(exc)}): {text}") from exc
    if len(statements) != 1:
        raise QueryRefusedError(
            f"the query is {len(statements)} statements; only one SELECT is run: {text}"
        )
    kind = statements[0].type
    if kind != duckdb.StatementType.SELECT:
        raise QueryRefusedError(
            f"the query is a {kind.name} statement; the corpus is read-only and only a "
            f"SELECT over its views runs: {text}"
        )
    timer = threading.Timer(seconds, con.interrupt)
    timer.start()
    try:
        cursor = con.execute(f"SELECT * FROM ({text}) AS answer LIMIT {rows + 1}")
        found = cursor.fetchall()
        columns = [d[0] for d in cursor.description or []]
    except duckdb.InterruptException as exc:
        raise QueryRefusedError(
            f"the query ran longer than {seconds:.0f} s and was stopped: {text}"
        ) from exc
    except duckdb.Error as exc:
        raise QueryRefusedError(f"the query failed ({_first_line(exc)}): {text}") from exc
    finally:
        timer.cancel()
    return QueryResult(text, columns, found[:rows], len(found) > rows)


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0]


@dataclass
class AnswerCheck:
    """What :func:`check_answer` found: the runs cited and every problem."""

    cited_runs: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def check_answer(con: duckdb.DuckDBPyConnection, answer: str, result: QueryResult) -> AnswerCheck:
    """Hold ``answer`` to ``result``: its numbers are values of the result, its runs
    exist and are rows of the result."""
    check = AnswerCheck()
    cells = [cell for row in result.rows for cell in row]
    texts = {_text(c) for c in cells if c is not None}
    in_result = {t for t in texts if "/" in t}
    rest = answer
    for run_id in dict.fromkeys(_RUN_ID.findall(answer)):
        rest = rest.replace(run_id, " ")
        full = run_id if run_id in in_result else _expand(run_id, in_result)
        exists = con.execute(
            "SELECT count(*) FROM runs WHERE run_id = ? OR starts_with(run_id, ?)",
            [full or run_id, run_id],
        ).fetchall()[0][0]
        if not exists:
            check.problems.append(f"cites run {run_id}, which is not in the corpus")
        elif full is None:
            check.problems.append(f"cites run {run_id}, which is not a row of the query's result")
        else:
            check.cited_runs.append(full)
    for token in sorted(t for t in texts if not _is_number(t)):
        rest = rest.replace(token, " ")  # names, dates: values of the result, not numbers
    numbers = [float(c) for c in cells if isinstance(c, int | float) and not isinstance(c, bool)]
    for token in _NUMBER.findall(rest):
        if not _number_in(token, numbers):
            check.problems.append(f"states {token}, which is no value of the query's result")
    return check


def _text(cell: Any) -> str:
    if isinstance(cell, datetime | date):
        return cell.isoformat(sep=" ") if isinstance(cell, datetime) else cell.isoformat()
    return str(cell)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _expand(short: str, run_ids: set[str]) -> str | None:
    """The result's run id that ``short`` abbreviates (a prefix), if exactly one."""
    matches = [r for r in run_ids if r.startswith(short)]
    return matches[0] if len(matches) == 1 else None


def _number_in(token: str, numbers: list[float]) -> bool:
    text = token.replace(",", "")
    value = float(text)
    decimals = len(text.split(".")[1]) if "." in text else 0
    tolerance = 0.5 * 10**-decimals + 1e-9
    return any(
        math.isclose(value, n, abs_tol=tolerance) or math.isclose(value, 100 * n, abs_tol=tolerance)
        for n in numbers
    )
