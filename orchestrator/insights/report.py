"""The insights report: findings ranked by impact, rendered for a terminal, Markdown or
JSON, and the spec-derived hints (value-map defaults) the analysis watches.

Every number and run id in a report comes from :func:`tracer.insights.analyse`; nothing
here computes a statistic.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from tracer.insights import Analysis, InsightsError, analyse, load_corpus
from tracer.insights.silent import DefaultHint

__all__ = [
    "build_cohort_report",
    "build_report",
    "command_output",
    "default_hints",
    "render_json",
    "render_markdown",
    "render_text",
]

TOP = 20
DEFAULT_STORE = ".steptrace/trace.db"


def default_hints(store_url: str) -> list[DefaultHint]:
    """(pipeline, step, field, default) of every value-map default in the stored specs.

    Read from the ``pipeline_version`` table as YAML: a ``transform`` step's ``map``
    entry with a ``default`` is a value the pipeline fills in silently.
    """
    from tracer.insights.source import open_reader

    hints: set[DefaultHint] = set()
    with open_reader(store_url) as reader:
        for pipeline, spec in reader.rows("SELECT pipeline, spec FROM pipeline_version"):
            try:
                data = yaml.safe_load(spec) or {}
            except yaml.YAMLError:
                continue
            for step in data.get("steps", []) if isinstance(data, dict) else []:
                for name, entry in (step.get("map") or {}).items():
                    if isinstance(entry, dict) and "default" in entry:
                        hints.add((pipeline, step["id"], name, _text(entry["default"])))
    return sorted(hints)


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "∅" if value in (None, "") else str(value)


def build_report(
    store_url: str, *, since: datetime | None = None, pipeline: str | None = None
) -> Analysis:
    """Analyse the store (raises :class:`tracer.insights.InsightsError` on bad input)."""
    return analyse(store_url, since=since, pipeline=pipeline, hints=default_hints(store_url))


def build_cohort_report(
    store_url: str,
    cohort: str,
    versus: str,
    *,
    since: datetime | None = None,
    pipeline: str | None = None,
) -> Analysis:
    """Compare two cohorts (raises :class:`tracer.insights.CohortSyntaxError` on an
    expression that does not parse, before the store is read)."""
    from tracer.insights.cohort import compare_cohorts
    from tracer.insights.cohort_parse import parse

    parse(cohort)
    parse(versus)
    corpus = load_corpus(store_url, since=since, pipeline=pipeline)
    try:
        findings = compare_cohorts(corpus, cohort, versus)
        return Analysis(corpus.runs, corpus.database, corpus.paths, [], findings)
    finally:
        corpus.close()


def command_output(
    *,
    since: str | None,
    pipeline: str | None,
    cohort: str | None,
    vs: str | None,
    fmt: str,
    question: str | None = None,
    env: Mapping[str, str] | None = None,
) -> str:
    """What ``steptrace insights`` prints, for the store of ``STEPTRACE_DATABASE_URL``
    (default ``.steptrace/trace.db``); :class:`InsightsError` on any bad input (and for
    ``question`` without a judge configured)."""
    try:
        start = datetime.strptime(since, "%Y-%m-%d").replace(tzinfo=UTC) if since else None
    except ValueError as exc:
        raise InsightsError(
            f"--since {since!r} is not a date; write it as YYYY-MM-DD, e.g. 2026-09-01"
        ) from exc
    if (cohort is None) != (vs is None):
        raise InsightsError(
            "--cohort and --vs go together: name both cohorts, e.g. "
            "--cohort \"day >= '2026-09-14'\" --vs \"day < '2026-09-14'\""
        )
    environ = os.environ if env is None else env
    url = environ.get("STEPTRACE_DATABASE_URL") or f"sqlite:///{Path(DEFAULT_STORE).absolute()}"
    if question is not None:
        return _question_output(url, question, environ, since=start, pipeline=pipeline)
    if cohort is not None and vs is not None:
        analysis = build_cohort_report(url, cohort, vs, since=start, pipeline=pipeline)
    else:
        analysis = build_report(url, since=start, pipeline=pipeline)
    if fmt == "json":
        return render_json(analysis)
    return render_markdown(analysis) if fmt == "md" else render_text(analysis)


def _question_output(
    url: str,
    question: str,
    env: Mapping[str, str],
    *,
    since: datetime | None,
    pipeline: str | None,
) -> str:
    from orchestrator.insights.question import answer_question, render_answer
    from rubrics.judge import ENV_VAR, JudgeConfigError, judge_from_env

    try:
        judge = judge_from_env(env)
    except JudgeConfigError as exc:
        raise InsightsError(str(exc)) from exc
    if judge is None:
        raise InsightsError(
            f"--question needs an LLM to write the query: set {ENV_VAR}=provider:model "
            "(e.g. openai:gpt-4o-mini); every other report works without one"
        )
    qa = answer_question(url, question, judge.model, since=since, pipeline=pipeline)
    return render_answer(qa)


def render_json(analysis: Analysis) -> str:
    return json.dumps(
        {
            "runs": analysis.runs,
            "database": analysis.database,
            "paths": [p.describe() for p in analysis.paths],
            "groups": [g.model_dump(mode="json") for g in analysis.groups],
            "findings": [f.model_dump(mode="json") for f in analysis.findings],
        }
    )


def render_text(analysis: Analysis, top: int = TOP) -> str:
    lines = [f"Insights over {analysis.runs} runs ({analysis.database})", ""]
    for number, finding in enumerate(analysis.findings[:top], 1):
        lines.append(f"{number}. [{finding.kind}] {finding.sentence}")
        lines.append(f"   runs: {', '.join(finding.cited_runs[:3])}")
    if not analysis.findings:
        lines.append("No finding: no pattern of three runs or more is significant.")
    if analysis.groups:
        lines += ["", f"Failure groups ({len(analysis.groups)}):"]
        lines += [
            f"  {g.id}  {g.prevalence.text()}  {g.pipeline} at {g.onset_step or '-'}: "
            f"{g.fault_class}: {g.signature}"
            for g in analysis.groups[:top]
        ]
    lines += ["", f"Analysed paths ({len(analysis.paths)}; low-cardinality leaves):"]
    lines += [f"  {p.describe()}" for p in analysis.paths[:40]]
    return "\n".join(lines)


def render_markdown(analysis: Analysis, top: int = TOP) -> str:
    lines = [f"# Insights over {analysis.runs} runs", ""]
    for finding in analysis.findings[:top]:
        runs = ", ".join(f"`{r}`" for r in finding.cited_runs[:3])
        lines.append(f"- **{finding.kind}** — {finding.sentence} (runs: {runs})")
    lines += ["", "## Paths analysed", ""]
    lines += [f"- {p.describe()}" for p in analysis.paths]
    return "\n".join(lines) + "\n"
