"""The store reads the console needs: runs by time, failed step, version and parent
(each status probed on its own index), versions with their run counts, the newest
diagnosis of many runs, many payloads in one query."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from tests.tracer.conftest import T0
from tracer.payloads import encode
from tracer.store import NewRun, RunStatus, TraceStore


def test_list_runs_filters_by_time_step_version_and_parent_newest_first(
    store: TraceStore, make_run: Callable[..., NewRun]
) -> None:
    version = store.save_pipeline_version("p", "name: p\n")
    runs = [
        make_run(
            f"wf-{i}", pipeline="p", started_at=T0 + timedelta(minutes=i), version_hash=version
        )
        for i in range(4)
    ]
    store.finish_run(runs[0].run_id, RunStatus.SUCCEEDED)
    store.finish_run(runs[1].run_id, RunStatus.FAILED, failed_step="upsert")
    store.finish_run(runs[2].run_id, RunStatus.QC_FAILED, failed_step="post")
    child = make_run(
        "wf-child", pipeline="p", started_at=T0 - timedelta(minutes=1), parent_run_id=runs[1].run_id
    )

    def ids(**filters: object) -> list[str]:
        return [r.run_id for r in store.list_runs(**filters)]  # type: ignore[arg-type]

    newest_first = [runs[3].run_id, runs[2].run_id, runs[1].run_id, runs[0].run_id]
    assert ids(pipeline="p") == [*newest_first, child.run_id]
    assert ids(pipeline="p", limit=2) == newest_first[:2]
    assert ids(since=T0 + timedelta(minutes=2)) == newest_first[:2]
    assert ids(before=T0 + timedelta(minutes=2), pipeline="p") == [
        runs[1].run_id,
        runs[0].run_id,
        child.run_id,
    ]
    assert ids(failed_step="upsert") == [runs[1].run_id]
    assert ids(version_hash=version) == newest_first
    assert ids(parent_run_id=runs[1].run_id) == [child.run_id]


def test_versions_count_their_runs_and_names_are_listed(
    store: TraceStore, make_run: Callable[..., NewRun]
) -> None:
    first = store.save_pipeline_version("p", "name: p\n")
    second = store.save_pipeline_version("p", "name: p\nsteps: []\n")
    store.save_pipeline_version("q", "name: q\n")
    for i in range(3):
        make_run(f"wf-{i}", pipeline="p", version_hash=second if i else first)
    versions = store.pipeline_versions("p")
    assert [(v.hash, v.runs) for v in versions] == [(first, 1), (second, 2)]
    assert store.pipeline_names() == ["p", "q"]
    assert [v.runs for v in store.pipeline_versions("q")] == [0]


def test_latest_diagnoses_and_payloads_in_one_query(
    store: TraceStore, make_run: Callable[..., NewRun]
) -> None:
    a, b = make_run("wf-a"), make_run("wf-b")
    store.add_diagnosis(a.run_id, {"fault_class": "transient"})
    store.add_diagnosis(a.run_id, {"fault_class": "auth"})
    assert store.latest_diagnoses([a.run_id, b.run_id]) == {a.run_id: {"fault_class": "auth"}}
    payloads = [encode({"n": i}) for i in range(3)]
    store.put_payloads(payloads)
    got = store.get_payloads([p.hash for p in payloads] + ["0" * 64])
    assert got == {p.hash: {"n": i} for i, p in enumerate(payloads)}
    assert store.get_payloads([]) == {}
