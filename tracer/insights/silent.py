"""Silent patterns: what never fails a run but changes what it does, as rates over time.

- **defaults taken** — a value the caller names as a default (``hints``: the orchestrator
  reads them from the spec's value maps) at a step's output path, at any rate;
- **value shifts** — any low-cardinality output value (``∅`` = the field became empty)
  whose daily rate has a significant change point;
- **retries absorbed** — a step whose failed attempt was followed by a successful one,
  per error, at any rate;
- **latency shifts** — a step whose geometric mean duration moved by half or more.

Rates are per day over the pipeline's runs; a change point is the best single split
(:mod:`.changepoint`); p-values of all series are corrected together (Benjamini–Hochberg).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from tracer.insights.changepoint import level_change, rate_change
from tracer.insights.corpus import Corpus
from tracer.insights.leaves import EMPTY
from tracer.insights.models import Finding, FindingKind, Prevalence
from tracer.insights.stats import benjamini_hochberg

__all__ = ["DefaultHint", "SilentSettings", "silent_patterns"]

DefaultHint = tuple[str, str, str, str]
"""(pipeline, step id, output path, value as text) of a spec default."""


@dataclass(frozen=True)
class SilentSettings:
    alpha: float = 0.01
    min_runs: int = 5
    min_rate: float = 0.002
    min_shift: float = 0.01  # absolute change of a rate
    min_factor: float = 2.0  # relative change of a rate
    latency_factor: float = 1.5
    citations: int = 5


@dataclass
class _Series:
    kind: str
    pipeline: str
    step: str
    path: str | None
    value: str | None
    days: list[date]
    ks: list[int]
    ns: list[int]


def silent_patterns(
    corpus: Corpus, hints: Iterable[DefaultHint] = (), settings: SilentSettings | None = None
) -> list[Finding]:
    """Every significant silent pattern of the corpus."""
    s = settings or SilentSettings()
    defaults = set(hints)
    series = _value_series(corpus, s) + _retry_series(corpus, s)
    scored = []
    for one in series:
        change = rate_change(one.ks, one.ns)
        scored.append((one, change, change.p_value if change else 1.0))
    q_values = benjamini_hochberg([p for _, _, p in scored])
    findings: list[Finding] = []
    for (one, change, _), q in zip(scored, q_values, strict=True):
        key = (one.pipeline, one.step, one.path or "", one.value or "")
        shifted = change is not None and q <= s.alpha and _moved(change.before, change.after, s)
        if one.kind == "value" and key not in defaults and not shifted:
            continue
        start = change.at if shifted and change else 0
        finding = _finding(corpus, one, start if shifted else None, q, key in defaults, s)
        if finding is not None:
            findings.append(finding)
    findings.extend(_latency(corpus, s))
    return _dedupe(findings)


def _moved(before: float, after: float, s: SilentSettings) -> bool:
    high, low = max(before, after), min(before, after)
    return high - low >= s.min_shift and high >= s.min_factor * max(low, 1e-9)


def _value_series(corpus: Corpus, s: SilentSettings) -> list[_Series]:
    rows = corpus.query(
        """
        WITH present AS (
            SELECT r.pipeline, st.step_id, r.day, count(*) AS n FROM steps st
            JOIN runs r USING (run_id) WHERE st.output_hash IS NOT NULL GROUP BY ALL),
        hash_days AS (
            SELECT u.pipeline, u.source, u.hash, r.day, count(*) AS runs FROM uses u
            JOIN runs r USING (run_id) WHERE u.source <> 'trigger' GROUP BY ALL),
        hits AS (
            SELECT d.pipeline, d.source, h.path, h.value, d.day, sum(d.runs) AS k
            FROM hash_days d JOIN hash_chosen h USING (pipeline, source, hash) GROUP BY ALL),
        totals AS (
            SELECT pipeline, source, path, value, sum(k) AS k FROM hits GROUP BY ALL),
        steps_n AS (SELECT pipeline, step_id AS source, sum(n) AS n FROM present GROUP BY ALL)
        SELECT h.pipeline, h.source, h.path, h.value,
            list(p.day ORDER BY p.day), list(coalesce(h2.k, 0) ORDER BY p.day),
            list(p.n ORDER BY p.day)
        FROM totals h JOIN steps_n t USING (pipeline, source)
        JOIN present p ON p.pipeline = h.pipeline AND p.step_id = h.source
        LEFT JOIN hits h2 ON h2.pipeline = h.pipeline AND h2.source = h.source
            AND h2.path = h.path AND h2.value = h.value AND h2.day = p.day
        WHERE h.k >= ? AND h.k >= ? * t.n
        GROUP BY ALL""",
        [s.min_runs, s.min_rate],
    )
    return [
        _Series("value", p, step, path, value, list(days), list(ks), list(ns))
        for p, step, path, value, days, ks, ns in rows
    ]


def _retry_series(corpus: Corpus, s: SilentSettings) -> list[_Series]:
    rows = corpus.query(
        """
        WITH days AS (SELECT pipeline, day, count(*) AS n FROM runs GROUP BY ALL),
        hits AS (
            SELECT r.pipeline, st.step_id,
                coalesce(st.error_class, '?') || coalesce(' ' || st.error_code, '') ||
                coalesce(' (' || st.error_status || ')', '') AS error, r.day, count(*) AS k
            FROM steps st JOIN runs r USING (run_id) WHERE st.absorbed GROUP BY ALL)
        SELECT h.pipeline, h.step_id, h.error, list(d.day ORDER BY d.day),
            list(coalesce(x.k, 0) ORDER BY d.day), list(d.n ORDER BY d.day)
        FROM (SELECT pipeline, step_id, error FROM hits GROUP BY ALL HAVING sum(k) >= ?) h
        JOIN days d USING (pipeline)
        LEFT JOIN hits x ON x.pipeline = h.pipeline AND x.step_id = h.step_id
            AND x.error = h.error AND x.day = d.day
        GROUP BY ALL""",
        [s.min_runs],
    )
    return [
        _Series("retry", p, step, None, error, list(days), list(ks), list(ns))
        for p, step, error, days, ks, ns in rows
    ]


def _finding(
    corpus: Corpus, one: _Series, start: int | None, q: float, is_default: bool, s: SilentSettings
) -> Finding | None:
    first = start or 0
    k, n = sum(one.ks[first:]), sum(one.ns[first:])
    if k < s.min_runs or k < s.min_rate * n:
        return None
    since = one.days[start] if start is not None else None
    before = sum(one.ks[:first]) / max(1, sum(one.ns[:first])) if start else None
    prevalence = Prevalence.of(k, n)
    cited = _cite(corpus, one, since, s.citations)
    when = f" since {since}" if since else ""
    was = f" (was {100 * before:.1f} % before)" if before is not None else ""
    kind: FindingKind
    if one.kind == "retry":
        kind = "retry_absorbed"
        sentence = (
            f"{one.pipeline}: step `{one.step}` absorbed {one.value} with a retry in "
            f"{prevalence.text()} runs{when}{was}"
        )
    elif is_default:
        kind = "default_taken"
        sentence = (
            f"{one.pipeline}: step `{one.step}` silently took the default "
            f"{one.path} = {one.value!r} in {prevalence.text()} runs{when}{was}"
        )
    else:
        kind = "value_shift"
        what = "became empty" if one.value == EMPTY else f"= {one.value!r}"
        sentence = (
            f"{one.pipeline}: `{one.step}.{one.path}` {what} in {prevalence.text()} runs{when}{was}"
        )
    return Finding(
        kind=kind,
        key=f"{kind}|{one.pipeline}|{one.step}|{one.path or ''}|{one.value}",
        sentence=sentence,
        pipeline=one.pipeline,
        prevalence=prevalence,
        step=one.step,
        path=one.path,
        value=one.value,
        change_day=since,
        before=before,
        after=k / n if n else None,
        cited_runs=cited,
        impact=float(k) * (1 + (math.log10(1 / max(q, 1e-12)) if since else 0) / 10),
    )


def _cite(corpus: Corpus, one: _Series, since: date | None, limit: int) -> list[str]:
    day = since or date.min
    if one.kind == "retry":
        rows = corpus.query(
            """SELECT st.run_id FROM steps st JOIN runs r USING (run_id)
            WHERE r.pipeline = ? AND st.step_id = ? AND st.absorbed AND r.day >= ?
            AND coalesce(st.error_class, '?') || coalesce(' ' || st.error_code, '') ||
                coalesce(' (' || st.error_status || ')', '') = ?
            ORDER BY hash(st.run_id) LIMIT ?""",
            [one.pipeline, one.step, day, one.value, limit],
        )
    else:
        rows = corpus.query(
            """SELECT DISTINCT l.run_id, hash(l.run_id) FROM leaves l JOIN runs r USING (run_id)
            WHERE l.pipeline = ? AND l.source = ? AND l.path = ? AND l.value = ? AND r.day >= ?
            ORDER BY hash(l.run_id) LIMIT ?""",
            [one.pipeline, one.step, one.path, one.value, day, limit],
        )
    return [row[0] for row in rows]


def _latency(corpus: Corpus, s: SilentSettings) -> list[Finding]:
    rows = corpus.query(
        """SELECT r.pipeline, st.step_id, r.day, count(*), sum(ln(greatest(st.duration_ms, 1))),
            sum(ln(greatest(st.duration_ms, 1)) ^ 2)
        FROM steps st JOIN runs r USING (run_id) WHERE st.final_status = 'succeeded'
        GROUP BY ALL ORDER BY 1, 2, 3"""
    )
    by_step: dict[tuple[str, str], list[tuple[date, int, float, float]]] = {}
    for pipeline, step, day, count, total, squares in rows:
        by_step.setdefault((pipeline, step), []).append(
            (day, int(count), float(total), float(squares))
        )
    findings = []
    for (pipeline, step), days in by_step.items():
        change = level_change([d[1] for d in days], [d[2] for d in days], [d[3] for d in days])
        if change is None or change.p_value > s.alpha:
            continue
        factor = math.exp(change.after - change.before)  # of the geometric means
        if max(factor, 1 / factor) < s.latency_factor:
            continue
        since = days[change.at][0]
        findings.append(_latency_finding(corpus, pipeline, step, since, change, s))
    return findings


def _latency_finding(
    corpus: Corpus, pipeline: str, step: str, since: date, change: object, s: SilentSettings
) -> Finding:
    before_ms, after_ms, k, n, cited = corpus.query(
        """WITH d AS (SELECT st.run_id, st.duration_ms, r.day >= ? AS after
            FROM steps st JOIN runs r USING (run_id)
            WHERE r.pipeline = ? AND st.step_id = ? AND st.final_status = 'succeeded'),
        t AS (SELECT median(duration_ms) FILTER (WHERE NOT after) AS b,
                     median(duration_ms) FILTER (WHERE after) AS a FROM d)
        SELECT any_value(t.b), any_value(t.a),
            count(*) FILTER (WHERE d.after AND (d.duration_ms - t.b) * (t.a - t.b) > 0
                AND abs(d.duration_ms - t.b) >= abs(t.a - t.b) / 2),
            count(*) FILTER (WHERE d.after),
            list(d.run_id ORDER BY hash(d.run_id)) FILTER (WHERE d.after
                AND abs(d.duration_ms - t.b) >= abs(t.a - t.b) / 2)[1:5]
        FROM d, t""",
        [since, pipeline, step],
    )[0]
    prevalence = Prevalence.of(int(k), int(n))
    return Finding(
        kind="latency_shift",
        key=f"latency_shift|{pipeline}|{step}",
        sentence=(
            f"{pipeline}: step `{step}` p50 latency went from {before_ms:.0f} ms to "
            f"{after_ms:.0f} ms since {since}; {prevalence.text()} runs since then are that slow"
        ),
        pipeline=pipeline,
        prevalence=prevalence,
        step=step,
        change_day=since,
        before=float(before_ms),
        after=float(after_ms),
        cited_runs=list(cited or []),
        impact=float(k),
    )


def _dedupe(findings: list[Finding]) -> list[Finding]:
    """One root cause seen at several downstream paths: keep one per (pipeline, kind,
    change day, run count within 5 %) — the first in step order as the data flowed."""
    kept: list[Finding] = []
    for f in findings:
        twin = next(
            (
                k
                for k in kept
                if f.kind == k.kind == "value_shift"
                and f.pipeline == k.pipeline
                and f.change_day == k.change_day
                and f.value == k.value
                and abs(f.prevalence.k - k.prevalence.k) <= 0.05 * max(f.prevalence.k, 1)
            ),
            None,
        )
        if twin is None:
            kept.append(f)
    return kept
