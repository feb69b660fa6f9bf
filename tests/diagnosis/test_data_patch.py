"""A data patch takes its value from the same record only: its own earlier good run, or
the source read again now; never another record's value (the labels of another issue)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from orchestrator.diagnosis.fix_context import FixContext
from orchestrator.diagnosis.fixes import propose
from orchestrator.spec.pipeline import load_pipeline
from tracer.diagnose import Implicated, Localization, Probe, RunSnapshot, StepSnapshot
from tracer.lineage import OUTPUT, Node

PIPELINE = load_pipeline(Path(__file__).resolve().parents[2] / "pipelines/linear-triage-sync.yaml")
FOCUS = Node("fetch_issue", OUTPUT, ("labels",))


def issue_run(run_id: str, issue: str, labels: list[str]) -> RunSnapshot:
    fetch = StepSnapshot(
        step="fetch_issue",
        index=0,
        op="linear.get_issue",
        kind="read",
        status="succeeded",
        input={"id": issue},
        output={
            "identifier": issue,
            "title": "t",
            "url": f"https://linear.app/x/{issue}",
            "priority": 2,
            "state": {"name": "Todo", "type": "unstarted"},
            "assignee": None,
            "due_date": None,
            "labels": labels,
        },
    )
    return RunSnapshot(run_id=run_id, trigger={"issue": issue}, steps={"fetch_issue": fetch})


def finding(good: Any, now: Any) -> Localization:
    return Localization(
        onset_step="fetch_issue",
        fault_class="invalid_source_data",
        reason="bad_source_value",
        implicated=(Implicated(FOCUS, good, now, "value"),),
        focus=FOCUS,
    )


def test_another_records_value_is_never_proposed() -> None:
    failed = issue_run("bad", "ENG-103", ["f\u00c3\u00a9ature"])
    other = issue_run("good", "ENG-101", ["incident"])
    ctx = FixContext(PIPELINE, failed, None, "upsert_airtable", good=other, good_runs=(other,))
    fix = propose(finding(["incident"], ["f\u00c3\u00a9ature"]), ctx)
    assert fix.kind == "data_patch" and fix.verified is None
    patch = json.loads(fix.patch or "{}")
    assert patch["ask"] is True and patch["field"] == "labels" and patch["object"] == "ENG-103"
    assert ["incident"] not in patch["candidates"]
    assert "set" not in patch


def test_the_same_records_own_history_and_a_fresh_read_are_candidates() -> None:
    failed = issue_run("bad", "ENG-103", ["broken"])
    own = issue_run("good-own", "ENG-103", ["billing", "feature"])
    other = issue_run("good-other", "ENG-101", ["incident"])
    ctx = FixContext(PIPELINE, failed, None, "upsert_airtable", good=other, good_runs=(other, own))
    fix = propose(finding(["incident"], ["broken"]), ctx)
    patch = json.loads(fix.patch or "{}")
    assert patch["set"] == ["billing", "feature"], fix
    assert "good-own" in fix.detail

    fresh = {"fetch_issue": Probe(ok=True, output={"labels": ["billing"]})}
    ctx = FixContext(
        PIPELINE, failed, None, "upsert_airtable", good=other, good_runs=(other,), fresh=fresh
    )
    patch = json.loads(propose(finding(["incident"], ["broken"]), ctx).patch or "{}")
    assert patch["set"] == ["billing"]
