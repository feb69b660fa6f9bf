"""Cohort comparison: two sets of runs named by expressions, and what differs between
them, significantly.

Fields an expression may name: the run's own columns (``pipeline``, ``version`` — the
first 8 characters of the spec version, a longer hash is cut to them — ``status``,
``kind``, ``day`` (YYYY-MM-DD), ``hour``, ``weekday``, ``failed_step``), the attributes
of explanations (``retries``, ``trigger.<path>``) and the analysed leaves of the step
outputs (``<step>.<path>``, as listed in the report's paths). The metrics compared:
the failure rate, each failure group's rate, each absorbed retry's rate and each analysed
output value's rate; a difference is reported when its Benjamini–Hochberg q-value is
≤ ``alpha`` and it is at least ``min_diff`` (absolute).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from tracer.insights.cohort_parse import And, Compare, Expr, Not, Or, parse
from tracer.insights.corpus import Corpus
from tracer.insights.errors import CohortSyntaxError
from tracer.insights.groups import build_group_table
from tracer.insights.models import Finding, Prevalence, Ratio
from tracer.insights.source import quote
from tracer.insights.stats import benjamini_hochberg, risk_ratio, two_proportions

__all__ = ["compare_cohorts", "compile_cohort"]

_RUN_FIELDS = {
    "pipeline": "r.pipeline",
    "version": "r.version",
    "status": "r.status",
    "kind": "r.kind",
    "day": "CAST(r.day AS VARCHAR)",
    "hour": "r.hour",
    "weekday": "r.weekday",
    "failed_step": "r.failed_step",
}
_NUMERIC = {"hour"}
_SQL_OPS = {"=": "=", "!=": "<>", "<": "<", "<=": "<=", ">": ">", ">=": ">="}


def compile_cohort(corpus: Corpus, expression: str) -> str:
    """A SQL predicate over ``runs r`` for ``expression``; :class:`CohortSyntaxError`
    when it does not parse or names a field the corpus does not have."""
    tree = parse(expression)
    attrs = {row[0] for row in corpus.query("SELECT DISTINCT attr FROM attrs")}
    leaves = {p.attr: (p.source, p.path) for p in corpus.paths if p.source != "trigger"}
    return _sql(tree, lambda c: _compare(c, expression, attrs, leaves))


def _sql(tree: Expr, leaf: Callable[[Compare], str]) -> str:
    if isinstance(tree, Compare):
        return leaf(tree)
    if isinstance(tree, Not):
        return f"NOT ({_sql(tree.inner, leaf)})"
    joiner = " AND " if isinstance(tree, And) else " OR "
    assert isinstance(tree, And | Or)
    return "(" + joiner.join(_sql(part, leaf) for part in tree.parts) + ")"


def _compare(
    c: Compare, expression: str, attrs: set[str], leaves: dict[str, tuple[str, str]]
) -> str:
    values = [v[:8] if c.field == "version" else v for v in c.values]
    if c.field in _RUN_FIELDS:
        column = _RUN_FIELDS[c.field]
        literal = (
            (lambda v: str(int(v)) if v.isdigit() else quote(v)) if c.field in _NUMERIC else quote
        )
        return _condition(column, c, [literal(v) for v in values])
    if c.field in attrs:
        inner = _condition("a.value", c, [quote(v) for v in values], negate=False)
        found = (
            f"EXISTS (SELECT 1 FROM attrs a WHERE a.run_id = r.run_id AND a.attr = "
            f"{quote(c.field)} AND {inner})"
        )
        return f"NOT {found}" if c.negated else found
    if c.field in leaves:
        source, path = leaves[c.field]
        inner = _condition("l.value", c, [quote(v) for v in values], negate=False)
        found = (
            f"EXISTS (SELECT 1 FROM leaves l WHERE l.run_id = r.run_id AND l.source = "
            f"{quote(source)} AND l.path = {quote(path)} AND {inner})"
        )
        return f"NOT {found}" if c.negated else found
    known = sorted(_RUN_FIELDS) + sorted(attrs - set(_RUN_FIELDS)) + sorted(leaves)[:10]
    raise CohortSyntaxError(
        expression,
        max(0, expression.find(c.field)),
        f"unknown field `{c.field}` (known: {', '.join(known)}, …)",
    )


def _condition(column: str, c: Compare, literals: list[str], negate: bool = True) -> str:
    if c.op == "in":
        text = f"{column} IN ({', '.join(literals)})"
        return f"NOT ({text})" if c.negated and negate else text
    return f"{column} {_SQL_OPS[c.op]} {literals[0]}"


@dataclass(frozen=True)
class _Metric:
    key: str
    label: str
    k1: int
    n1: int
    k2: int
    n2: int
    runs_sql: str  # SELECT run_id of runs exhibiting the metric


def compare_cohorts(
    corpus: Corpus, cohort: str, versus: str, *, alpha: float = 0.01, min_diff: float = 0.01
) -> list[Finding]:
    """What differs between the runs matching ``cohort`` and those matching ``versus``."""
    a_sql, b_sql = compile_cohort(corpus, cohort), compile_cohort(corpus, versus)
    build_group_table(corpus)
    corpus.con.execute(
        f"""CREATE OR REPLACE TEMP TABLE cohorts AS SELECT r.run_id, r.pipeline,
            coalesce({a_sql}, false) AS in_a, coalesce({b_sql}, false) AS in_b FROM runs r"""
    )
    n1, n2 = corpus.query("SELECT count(*) FILTER (in_a), count(*) FILTER (in_b) FROM cohorts")[0]
    for count, expression in ((n1, cohort), (n2, versus)):
        if count == 0:
            raise CohortSyntaxError(expression, 0, "no run matches this cohort")
    metrics = _metrics(corpus, int(n1), int(n2))
    q_values = benjamini_hochberg([two_proportions(m.k1, m.n1, m.k2, m.n2)[3] for m in metrics])
    findings = []
    for metric, q in zip(metrics, q_values, strict=True):
        diff, low, high, _ = two_proportions(metric.k1, metric.n1, metric.k2, metric.n2)
        if q > alpha or abs(diff) < min_diff:
            continue
        findings.append(_finding(corpus, metric, q, diff, low, high, cohort, versus))
    return sorted(findings, key=lambda f: -f.impact)


def _metrics(corpus: Corpus, n1: int, n2: int) -> list[_Metric]:
    out = []
    k1, k2 = corpus.query(
        "SELECT count(*) FILTER (in_a AND r.failed), count(*) FILTER (in_b AND r.failed) "
        "FROM cohorts JOIN runs r USING (run_id)"
    )[0]
    out.append(
        _Metric("failed", "runs failed", k1, n1, k2, n2, "SELECT run_id FROM runs WHERE failed")
    )
    for gid, label, k1, k2 in corpus.query(
        """SELECT f.group_id, any_value(f.pipeline || ' ' || f.onset_step || ' ' || f.signature),
            count(*) FILTER (in_a), count(*) FILTER (in_b)
        FROM failures f JOIN cohorts USING (run_id) GROUP BY f.group_id"""
    ):
        out.append(
            _Metric(f"group {gid}", f"failure group {gid} ({label})", k1, n1, k2, n2,
                    f"SELECT run_id FROM failures WHERE group_id = {quote(gid)}")
        )  # fmt: skip
    for pipeline, step, k1, k2 in corpus.query(
        """SELECT c.pipeline, s.step_id, count(*) FILTER (in_a), count(*) FILTER (in_b)
        FROM steps s JOIN cohorts c USING (run_id) WHERE s.absorbed GROUP BY ALL"""
    ):
        out.append(
            _Metric(f"retry {pipeline} {step}", f"{pipeline}: retries absorbed at `{step}`",
                    k1, n1, k2, n2,
                    f"SELECT run_id FROM steps WHERE absorbed AND step_id = {quote(step)}")
        )  # fmt: skip
    for source, path, value, k1, k2 in corpus.query(
        """SELECT u.source, h.path, h.value, count(DISTINCT u.run_id) FILTER (in_a),
            count(DISTINCT u.run_id) FILTER (in_b)
        FROM uses u JOIN hash_chosen h USING (pipeline, source, hash) JOIN cohorts c
            USING (run_id) WHERE u.source <> 'trigger' AND (in_a OR in_b) GROUP BY ALL"""
    ):
        out.append(
            _Metric(f"value {source}.{path}={value}", f"`{source}.{path}` = {value!r}",
                    k1, n1, k2, n2,
                    f"SELECT run_id FROM leaves WHERE source = {quote(source)} AND path = "
                    f"{quote(path)} AND value = {quote(value)}")
        )  # fmt: skip
    return out


def _finding(
    corpus: Corpus,
    m: _Metric,
    q: float,
    diff: float,
    low: float,
    high: float,
    cohort: str,
    versus: str,
) -> Finding:
    first, second = Prevalence.of(m.k1, m.n1), Prevalence.of(m.k2, m.n2)
    rr = risk_ratio(m.k1, m.n1, m.k1 + m.k2, m.n1 + m.n2)
    side = "in_a" if diff > 0 else "in_b"
    cited = [
        row[0]
        for row in corpus.query(
            f"SELECT run_id FROM ({m.runs_sql}) x JOIN cohorts USING (run_id) WHERE {side} "
            "ORDER BY hash(run_id) LIMIT 5"
        )
    ]
    return Finding(
        kind="cohort_difference",
        key=f"cohort|{m.key}",
        sentence=(
            f"{m.label}: {first.text()} in `{cohort}` against {second.text()} in `{versus}` "
            f"(difference {100 * diff:+.1f} pp, CI {100 * low:+.1f} to {100 * high:+.1f} pp, "
            f"q={q:.1g})"
        ),
        prevalence=first,
        ratio=Ratio(value=rr.ratio, low=rr.low, high=rr.high, q_value=q),
        before=second.rate,
        after=first.rate,
        cited_runs=cited,
        impact=abs(diff) * (m.n1 + m.n2),
    )
