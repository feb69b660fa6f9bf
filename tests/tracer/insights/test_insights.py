"""Insights over tiny real stores (SQLite, and PostgreSQL through ``store_url``)."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.tracer.insights.corpus import fill_store
from tracer.fingerprint import undiagnosed
from tracer.insights import CorpusUnavailableError, analyse, failure_groups
from tracer.insights.stats import benjamini_hochberg, hypergeom_sf, wilson
from tracer.store import TraceStore


def test_groups_and_explanation(store: TraceStore, store_url: str) -> None:
    failing = fill_store(store)
    groups = failure_groups(store_url)
    assert len(groups) == 1
    group = groups[0]
    assert group.count == len(failing)
    assert group.signature == "UnknownFieldError: bad field _"  # numbers normalised
    # the one fingerprint, computed from one run's parts, names the same group
    error = {"error_class": "UnknownFieldError", "message": "bad field 17"}
    assert undiagnosed("p", "write", error).id == group.id
    assert set(group.representative_runs) <= failing
    analysis = analyse(store_url)
    explanations = [f for f in analysis.findings if f.kind == "explanation"]
    assert [(c.attr, c.value) for c in explanations[0].conditions] == [("trigger.team", "OPS")]
    assert len(explanations) == 1  # region is chance: not reported
    assert len(explanations[0].cited_runs) >= 3
    assert set(explanations[0].cited_runs) <= failing
    assert explanations[0].prevalence.k == len(failing)


def test_since_and_pipeline_narrow_the_corpus(store: TraceStore, store_url: str) -> None:
    failing = fill_store(store, runs=120)  # 2 hours apart: 10 days
    since = datetime(2026, 9, 6, tzinfo=UTC)
    later = {r for r in failing if int(r.split("-")[1].split("/")[0]) >= 60}
    (group,) = failure_groups(store_url, since=since, pipeline="p")
    assert group.count == len(later)
    assert group.prevalence.n == 60
    with pytest.raises(CorpusUnavailableError, match="of pipeline 'q'"):
        failure_groups(store_url, pipeline="q")


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(CorpusUnavailableError, match="does not exist"):
        failure_groups(f"sqlite:///{tmp_path / 'none.db'}")


def test_empty_and_one_run_stores(sqlite_store: TraceStore, sqlite_url: str) -> None:
    with pytest.raises(CorpusUnavailableError, match="no finished runs"):
        analyse(sqlite_url)
    fill_store(sqlite_store, runs=1)
    with pytest.raises(CorpusUnavailableError, match="one finished run"):
        analyse(sqlite_url)


def test_store_mid_migration(sqlite_store: TraceStore, sqlite_url: str) -> None:
    fill_store(sqlite_store, runs=3)
    db = sqlite3.connect(sqlite_url.removeprefix("sqlite:///"))
    with db:
        db.execute("UPDATE alembic_version SET version_num = '0000'")
    db.close()
    with pytest.raises(CorpusUnavailableError, match="mid-migration"):
        analyse(sqlite_url)


def test_statistics() -> None:
    low, high = wilson(5, 100)
    assert low < 0.05 < high
    assert benjamini_hochberg([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.04, 0.04])
    assert hypergeom_sf(0, 10, 3, 4) == 1.0
    assert hypergeom_sf(3, 10, 3, 3) == pytest.approx(1 / 120)
