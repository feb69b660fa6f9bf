"""Insights over tiny real stores (SQLite, and PostgreSQL through ``store_url``)."""

from __future__ import annotations

import random
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tracer.insights import CorpusUnavailableError, analyse, failure_groups
from tracer.insights.stats import benjamini_hochberg, hypergeom_sf, wilson
from tracer.payloads import encode
from tracer.store import AttemptError, AttemptRecord, AttemptStatus, NewRun, RunStatus, TraceStore

T0 = datetime(2026, 9, 1, tzinfo=UTC)


def _fill(store: TraceStore, runs: int = 120) -> set[str]:
    """Runs of one pipeline; those with team OPS fail at `write` (a planted condition)."""
    rng = random.Random(3)
    failing = set()
    for i in range(runs):
        team = rng.choice(["ENG", "OPS", "DATA"])
        run_id = f"p-{i}/r"
        trigger = encode({"team": team, "region": rng.choice(["eu", "us"])})
        started = T0 + timedelta(minutes=30 * i)
        store.start_run(
            NewRun(run_id=run_id, pipeline="p", started_at=started, trigger_hash=trigger.hash),
            trigger=trigger,
        )
        fails = team == "OPS"
        output = encode({"status": "ok", "team": team})
        records = [
            AttemptRecord(
                workflow_id=f"p-{i}", temporal_run_id="r", activity_id="1", attempt=1,
                run_id=run_id, step_id="read", step_index=0, op="linear.get_issue",
                status=AttemptStatus.SUCCEEDED, input_hash=trigger.hash,
                output_hash=output.hash, started_at=started, ended_at=started,
                duration_ms=5,
            ),
            AttemptRecord(
                workflow_id=f"p-{i}", temporal_run_id="r", activity_id="2", attempt=1,
                run_id=run_id, step_id="write", step_index=1, op="airtable.upsert_record",
                status=AttemptStatus.FAILED if fails else AttemptStatus.SUCCEEDED,
                input_hash=output.hash, output_hash=None if fails else output.hash,
                error=AttemptError(error_class="UnknownFieldError", message=f"bad field {i}")
                if fails else None,
                started_at=started, ended_at=started, duration_ms=7,
            ),
        ]  # fmt: skip
        store.record_attempts(records, [trigger, output])
        store.finish_run(
            run_id, RunStatus.FAILED if fails else RunStatus.SUCCEEDED,
            "write" if fails else None, ended_at=started,
        )  # fmt: skip
        if fails:
            failing.add(run_id)
    return failing


def test_groups_and_explanation(store: TraceStore, store_url: str) -> None:
    failing = _fill(store)
    groups = failure_groups(store_url)
    assert len(groups) == 1
    group = groups[0]
    assert group.count == len(failing)
    assert group.signature == "UnknownFieldError: bad field <n>"  # numbers normalised
    assert set(group.representative_runs) <= failing
    analysis = analyse(store_url)
    explanations = [f for f in analysis.findings if f.kind == "explanation"]
    assert [(c.attr, c.value) for c in explanations[0].conditions] == [("trigger.team", "OPS")]
    assert len(explanations) == 1  # region is chance: not reported
    assert len(explanations[0].cited_runs) >= 3
    assert set(explanations[0].cited_runs) <= failing
    assert explanations[0].prevalence.k == len(failing)


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(CorpusUnavailableError, match="does not exist"):
        failure_groups(f"sqlite:///{tmp_path / 'none.db'}")


def test_empty_and_one_run_stores(sqlite_store: TraceStore, sqlite_url: str) -> None:
    with pytest.raises(CorpusUnavailableError, match="no finished runs"):
        analyse(sqlite_url)
    _fill(sqlite_store, runs=1)
    with pytest.raises(CorpusUnavailableError, match="one finished run"):
        analyse(sqlite_url)


def test_store_mid_migration(sqlite_store: TraceStore, sqlite_url: str) -> None:
    _fill(sqlite_store, runs=3)
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
