"""Silent patterns, cohort expressions and cohort comparison on tiny real SQLite stores."""

from __future__ import annotations

import re

import pytest

from tests.tracer.insights.corpus import fill_store
from tracer.insights import CohortSyntaxError, analyse, load_corpus
from tracer.insights.cohort import compare_cohorts, compile_cohort
from tracer.insights.cohort_parse import And, Compare, Not, Or, parse
from tracer.store import DictionarySettings, TraceStore


def test_silent_patterns(sqlite_store: TraceStore, sqlite_url: str) -> None:
    fill_store(sqlite_store, runs=160, silent=True)
    analysis = analyse(sqlite_url, hints=[("p", "read", "priority", "0")])
    by_kind = {f.kind: f for f in analysis.findings}
    retry = by_kind["retry_absorbed"]
    assert retry.step == "read"
    assert retry.prevalence.k == 40  # every 4th of 160
    default = by_kind["default_taken"]
    assert (default.path, default.value) == ("priority", "0")
    assert default.change_day is not None
    assert default.before == 0.0
    assert all(len(f.cited_runs) >= 3 for f in analysis.findings)
    assert "read" in {p.source for p in analysis.paths}  # the chosen paths are listed


def test_payloads_compressed_with_the_stores_dictionary_are_read(sqlite_url: str) -> None:
    small = DictionarySettings(
        first_after_payloads=20, first_after_bytes=1024, drift_window=20, refresh_seconds=0
    )
    with TraceStore.open(sqlite_url, dictionaries=small) as store:
        fill_store(store, runs=160, silent=True)
        assert store.codec.current_id != 0  # the later payloads name a trained dictionary
    analysis = analyse(sqlite_url, hints=[("p", "read", "priority", "0")])
    default = next(f for f in analysis.findings if f.kind == "default_taken")
    assert (default.path, default.value) == ("priority", "0")


def test_parse_tree() -> None:
    tree = parse("not (day >= '2026-09-10' or hour < 3) and trigger.team in ('OPS', \"ENG\")")
    assert isinstance(tree, And)
    assert isinstance(tree.parts[0], Not)
    assert isinstance(tree.parts[0].inner, Or)
    assert tree.parts[1] == Compare("trigger.team", "in", ("OPS", "ENG"))


@pytest.mark.parametrize(
    ("text", "problem", "position"),
    [
        ("version =", "expected a value", 9),
        ("(a = 1", "expected `)`", 6),
        ("a = 1 b = 2", "unexpected text", 6),
        ("a ~ 1", "unexpected character", 2),
        ("", "empty", 0),
        ("a not = 1", "expected `in`", 6),
    ],
)
def test_parse_errors_point_at_the_problem(text: str, problem: str, position: int) -> None:
    with pytest.raises(CohortSyntaxError, match=re.escape(problem)) as caught:
        parse(text)
    assert caught.value.position == position


def test_cohorts(sqlite_store: TraceStore, sqlite_url: str) -> None:
    failing = fill_store(sqlite_store, runs=120)
    corpus = load_corpus(sqlite_url)
    try:
        with pytest.raises(CohortSyntaxError, match="unknown field `team`"):
            compile_cohort(corpus, "team = 'OPS'")
        findings = compare_cohorts(corpus, "trigger.team = 'OPS'", "trigger.team != 'OPS'")
    finally:
        corpus.close()
    failed = next(f for f in findings if f.key == "cohort|failed")
    assert failed.prevalence.k == failed.prevalence.n == len(failing)
    assert failed.before == 0.0
    assert set(failed.cited_runs) <= failing
