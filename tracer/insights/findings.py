"""From the corpus to findings: failure groups, their explanations and silent patterns,
each a sentence with ``k/N (x %, CI)``, a risk ratio where one applies, and cited runs.

:func:`analyse` is the one entry point the reports use; every number in a finding is
computed here from the data layer, never typed by a person or a model.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from tracer.insights.corpus import ChosenPath, Corpus, load_corpus
from tracer.insights.explain import DiffSettings, Explanation, diff
from tracer.insights.groups import groups_of
from tracer.insights.models import Condition, FailureGroup, Finding, Prevalence, Ratio
from tracer.insights.silent import DefaultHint, SilentSettings, silent_patterns

__all__ = ["Analysis", "analyse", "analyse_corpus", "failure_groups"]

CITATIONS = 5
MIN_CITED = 3


@dataclass
class Analysis:
    """Everything one report shows."""

    runs: int
    database: str
    paths: list[ChosenPath]
    groups: list[FailureGroup]
    findings: list[Finding] = field(default_factory=list)


def failure_groups(
    store_url: str, *, since: datetime | None = None, pipeline: str | None = None
) -> list[FailureGroup]:
    """The failure groups of the store at ``store_url``, largest first (stable ids).

    The function the web console calls. Raises
    :class:`tracer.insights.errors.CorpusUnavailableError` for an empty, one-run or
    mid-migration store.
    """
    corpus = load_corpus(store_url, since=since, pipeline=pipeline, attempts=False)
    try:
        return groups_of(corpus)
    finally:
        corpus.close()


def analyse(
    store_url: str,
    *,
    since: datetime | None = None,
    pipeline: str | None = None,
    hints: Iterable[DefaultHint] = (),
) -> Analysis:
    """Load the corpus and compute every finding, ranked by impact."""
    corpus = load_corpus(store_url, since=since, pipeline=pipeline, attempts=False)
    try:
        return analyse_corpus(corpus, hints=hints)
    finally:
        corpus.close()


def analyse_corpus(
    corpus: Corpus,
    *,
    hints: Iterable[DefaultHint] = (),
    diff_settings: DiffSettings | None = None,
    silent_settings: SilentSettings | None = None,
) -> Analysis:
    """Every finding of an already loaded corpus."""
    groups = groups_of(corpus)
    by_id = {g.id: g for g in groups}
    findings = [_group_finding(g) for g in groups]
    findings += [
        _explanation_finding(corpus, e, by_id[e.group_id]) for e in diff(corpus, diff_settings)
    ]
    findings += silent_patterns(corpus, hints, silent_settings)
    # A finding stands on at least MIN_CITED runs; smaller groups stay in ``groups``.
    findings = [f for f in findings if len(f.cited_runs) >= MIN_CITED]
    findings.sort(key=lambda f: -f.impact)
    return Analysis(corpus.runs, corpus.database, corpus.paths, groups, findings)


def describe_group(group: FailureGroup) -> str:
    where = f"at `{group.onset_step}`" if group.onset_step else "before any step"
    return f"{group.pipeline} fails {where} ({group.fault_class}: {group.signature})"


def _group_finding(group: FailureGroup) -> Finding:
    fix = ""
    if group.fix is not None and group.fix.verified:
        fix = f"; verified fix: {group.fix.kind}"
    return Finding(
        kind="failure_group",
        key=f"failure_group|{group.id}",
        sentence=(
            f"{describe_group(group)} in {group.prevalence.text()} of its runs, "
            f"first {group.first_seen:%Y-%m-%d}, last {group.last_seen:%Y-%m-%d}{fix}"
        ),
        pipeline=group.pipeline,
        prevalence=group.prevalence,
        group_id=group.id,
        step=group.onset_step,
        cited_runs=group.representative_runs,
        impact=float(group.count),
    )


def _explanation_finding(corpus: Corpus, e: Explanation, group: FailureGroup) -> Finding:
    conditions = [Condition(attr=a, value=v) for a, v in e.items]
    prevalence = Prevalence.of(e.outliers_with, e.runs)
    rate = Prevalence.of(e.outliers_with, e.runs_with)
    ratio = Ratio(value=e.ratio.ratio, low=e.ratio.low, high=e.ratio.high, q_value=e.q_value)
    when = " and ".join(c.text() for c in conditions)
    others = e.outliers - e.outliers_with
    return Finding(
        kind="explanation",
        key="explanation|" + group.id + "|" + "&".join(f"{a}={v}" for a, v in sorted(e.items)),
        sentence=(
            f"{describe_group(group)} when {when}: {prevalence.text()} runs of the pipeline "
            f"fail so; {100 * rate.rate:.1f} % of runs with the condition fail, against "
            f"{100 * others / max(1, e.runs - e.runs_with):.2f} % without ({ratio.text()})"
        ),
        pipeline=group.pipeline,
        prevalence=prevalence,
        ratio=ratio,
        conditions=conditions,
        group_id=group.id,
        step=group.onset_step,
        cited_runs=_cite(corpus, group.id, e.items),
        impact=e.outliers_with * min(e.ratio.ratio, 100.0) / 10,
    )


def _cite(corpus: Corpus, group_id: str, items: tuple[tuple[str, str], ...]) -> list[str]:
    clauses = " ".join(
        "AND f.run_id IN (SELECT run_id FROM attrs WHERE attr = ? AND value = ?)" for _ in items
    )
    params: list[str] = [group_id]
    for attr, value in items:
        params += [attr, value]
    rows = corpus.query(
        f"SELECT f.run_id FROM failures f WHERE f.group_id = ? {clauses} "
        f"ORDER BY hash(f.run_id) LIMIT {CITATIONS}",
        params,
    )
    return [row[0] for row in rows]


def prevalence_of(k: int, n: int) -> Prevalence:
    return Prevalence.of(k, n)
