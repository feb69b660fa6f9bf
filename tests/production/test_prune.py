"""``prune --older-than``: what it deletes, what it keeps and why, and that the store
stays consistent — on SQLite and on PostgreSQL.

The store is built through the store's own API: runs 100 days old and 1 day old, good
and failed, diagnosed into failure groups, a replay linking to an old failure, an
external write whose before-image is shared with a kept run.
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from tracer.payloads import encode
from tracer.store import (
    AttemptRecord,
    AttemptStatus,
    HumanActionRecord,
    NewRun,
    RunKind,
    RunStatus,
    TraceStore,
    WriteRecord,
)
from tracer.store.retention import prune

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
OLD, YOUNG = NOW - timedelta(days=100), NOW - timedelta(days=1)
SHARED_IMAGE = {"record": "rec1", "Priority": "High"}


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'trace.db'}"
    return str(request.getfixturevalue("pg_url"))


def add_run(
    store: TraceStore,
    run_id: str,
    started: datetime,
    status: RunStatus,
    *,
    version: str,
    parent: str | None = None,
    write_image: dict[str, str] | None = None,
) -> None:
    trigger = encode({"issue": run_id})
    store.start_run(
        NewRun(
            run_id=run_id,
            pipeline="sync",
            version_hash=version,
            started_at=started,
            kind=RunKind.REPLAY if parent else RunKind.PIPELINE,
            parent_run_id=parent,
        ),
        trigger=trigger,
    )
    payloads = [encode({"in": run_id}), encode({"out": run_id})]
    writes: tuple[WriteRecord, ...] = ()
    if write_image is not None:
        image = encode(write_image)
        payloads.append(image)
        writes = (
            WriteRecord(
                tool="airtable",
                object_kind="record",
                object_id="rec1",
                action="update",
                before_hash=image.hash,
                after_hash=payloads[1].hash,
            ),
        )
    store.record_attempts(
        [
            AttemptRecord(
                workflow_id=run_id,
                temporal_run_id="t",
                activity_id="1",
                attempt=1,
                run_id=run_id,
                step_id="fetch",
                step_index=0,
                op="linear.get_issue",
                status=AttemptStatus.SUCCEEDED,
                input_hash=payloads[0].hash,
                output_hash=payloads[1].hash,
                external_writes=writes,
                started_at=started,
                ended_at=started,
                duration_ms=0,
            )
        ],
        payloads,
    )
    if status != RunStatus.RUNNING:
        store.finish_run(run_id, status, "fetch" if status == RunStatus.FAILED else None)


def diagnose(store: TraceStore, run_id: str, fault: str, last_good: str | None) -> None:
    store.add_diagnosis(
        run_id,
        {
            "run_id": run_id,
            "onset_step": "fetch",
            "fault_class": fault,
            "evidence": {"last_good_run": last_good},
        },
    )


def build(store: TraceStore) -> None:
    for version in ("v1", "v2"):
        store.save_pipeline_version("sync", f"name: sync # {version}", version=version)
    add_run(store, "good-oldest", OLD, RunStatus.SUCCEEDED, version="v1", write_image=SHARED_IMAGE)
    add_run(store, "good-cited", OLD + timedelta(hours=1), RunStatus.SUCCEEDED, version="v1")
    add_run(store, "good-plain", OLD + timedelta(hours=2), RunStatus.SUCCEEDED, version="v1")
    add_run(store, "good-last-v1", OLD + timedelta(hours=3), RunStatus.SUCCEEDED, version="v1")
    add_run(store, "fail-x-1", OLD + timedelta(hours=4), RunStatus.FAILED, version="v1")
    add_run(store, "fail-x-replayed", OLD + timedelta(hours=5), RunStatus.FAILED, version="v1")
    add_run(store, "fail-x-2", OLD + timedelta(hours=6), RunStatus.FAILED, version="v1")
    add_run(store, "fail-y", OLD + timedelta(hours=7), RunStatus.FAILED, version="v1")
    add_run(store, "still-running", OLD + timedelta(hours=8), RunStatus.RUNNING, version="v1")
    add_run(store, "young-good", YOUNG, RunStatus.SUCCEEDED, version="v2", write_image=SHARED_IMAGE)
    add_run(
        store, "young-replay", YOUNG, RunStatus.SUCCEEDED, version="v2", parent="fail-x-replayed"
    )
    diagnose(store, "fail-x-1", "transient", "good-last-v1")
    diagnose(store, "fail-x-replayed", "transient", "good-last-v1")
    diagnose(store, "fail-x-2", "transient", "good-last-v1")
    diagnose(store, "fail-y", "mapping_error", "good-cited")
    store.add_human_action(
        HumanActionRecord(
            run_id="fail-x-1",
            slack_user_id="U1",
            action="approve",
            allowed=True,
        )
    )


KEPT = {
    "good-cited",  # cited by fail-y's diagnosis
    "good-last-v1",  # the last good run of v1 (and cited)
    "fail-x-replayed",  # the parent of a young replay
    "fail-x-2",  # newest of failure group (sync, fetch, transient)
    "fail-y",  # only run of failure group (sync, fetch, mapping_error)
    "still-running",
    "young-good",
    "young-replay",
}
DELETED = {"good-oldest", "good-plain", "fail-x-1"}


def test_prune_keeps_what_is_needed_and_the_store_stays_consistent(store_url: str) -> None:
    with TraceStore.open(store_url) as store:
        build(store)
        dry = prune(store, timedelta(days=30), now=NOW, dry_run=True)
        assert dry.runs_deleted == len(DELETED) and run_ids(store) == KEPT | DELETED

        result = prune(store, timedelta(days=30), now=NOW)

        assert run_ids(store) == KEPT
        assert result.runs_deleted == len(DELETED) and result.attempts_deleted == len(DELETED)
        assert result.kept_because == {
            "open": 1,
            "protected": 0,
            "failure_group_exemplar": 2,
            "last_good_of_version": 1,
            "cited": 2,
        }
        assert result.payloads_deleted == 3 * len(DELETED)  # trigger, input, output each
        assert_consistent(store)
        assert store.get_payload(encode(SHARED_IMAGE).hash) == SHARED_IMAGE  # young-good uses it
        assert prune(store, timedelta(days=30), now=NOW).runs_deleted == 0  # nothing left to do

        # This process remembered the pruned payloads as stored; writing them again works.
        add_run(store, "good-plain", NOW, RunStatus.SUCCEEDED, version="v1")
        assert store.get_payload(encode({"in": "good-plain"}).hash) == {"in": "good-plain"}
        assert_consistent(store)


def test_protected_runs_are_kept(store_url: str) -> None:
    with TraceStore.open(store_url) as store:
        build(store)
        prune(store, timedelta(days=30), now=NOW, protect={"good-plain"})
        assert run_ids(store) == KEPT | {"good-plain"}


def test_the_cli_prunes_and_reports(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'trace.db'}"
    with TraceStore.open(url) as store:
        build(store)
    env = {"STEPTRACE_DATABASE_URL": url, "PATH": ""}
    command = [sys.executable, "-m", "orchestrator.cli.app", "prune", "--older-than", "30d"]
    done = subprocess.run([*command, "--json"], capture_output=True, text=True, env=env, check=True)
    assert json.loads(done.stdout)["runs_deleted"] >= len(DELETED)  # now is later than NOW
    bad = subprocess.run([*command[:-1], "soon"], capture_output=True, text=True, env=env)
    assert bad.returncode == 2 and "positive duration such as 30d" in bad.stderr


def run_ids(store: TraceStore) -> set[str]:
    with store.engine.connect() as conn:
        return set(conn.execute(sa.text("SELECT run_id FROM run")).scalars())


def assert_consistent(store: TraceStore) -> None:
    """Every reference resolves: no row points at a run or payload that is gone."""
    checks = {
        "attempt without run": "SELECT count(*) FROM step_attempt a "
        "WHERE NOT EXISTS (SELECT 1 FROM run r WHERE r.run_id = a.run_id)",
        "attempt input missing": "SELECT count(*) FROM step_attempt a "
        "WHERE NOT EXISTS (SELECT 1 FROM payload p WHERE p.hash = a.input_hash)",
        "attempt output missing": "SELECT count(*) FROM step_attempt a WHERE a.output_hash "
        "IS NOT NULL AND NOT EXISTS (SELECT 1 FROM payload p WHERE p.hash = a.output_hash)",
        "trigger missing": "SELECT count(*) FROM run r WHERE r.trigger_hash IS NOT NULL "
        "AND NOT EXISTS (SELECT 1 FROM payload p WHERE p.hash = r.trigger_hash)",
        "parent missing": "SELECT count(*) FROM run r WHERE r.parent_run_id IS NOT NULL "
        "AND NOT EXISTS (SELECT 1 FROM run q WHERE q.run_id = r.parent_run_id)",
    }
    for table in ("diagnosis", "rubric_result", "human_action"):
        checks[f"{table} without run"] = (
            f"SELECT count(*) FROM {table} t "
            "WHERE NOT EXISTS (SELECT 1 FROM run r WHERE r.run_id = t.run_id)"
        )
    with store.engine.connect() as conn:
        for what, query in checks.items():
            assert conn.execute(sa.text(query)).scalar_one() == 0, what
    for run_id in run_ids(store):
        for attempt in store.attempts(run_id):
            for write in attempt.external_writes:
                for digest in (write.before_hash, write.after_hash):
                    assert digest is None or store.get_payload(digest) is not None
