"""Run evidence built by hand, shaped like the reference pipeline's recorded handoffs
(fetch_issue -> normalize -> upsert_airtable -> sync_monday -> [qc] -> notify_slack)."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from orchestrator.qc.params import pipeline_params
from orchestrator.spec.pipeline import load_pipeline
from rubrics.evidence import PipelineParams, RunEvidence, StepEvidence, WriteEvidence

PIPELINES = Path(__file__).resolve().parents[2] / "pipelines"
URL = "https://linear.app/steptrace/issue/ENG-101/checkout-fails"
TITLE = "Checkout fails for Zoë in Zürich 😅"

ISSUE: dict[str, Any] = {
    "id": "b51ae128-b686-5454-a920-4ee75f4be2e1",
    "identifier": "ENG-101",
    "title": TITLE,
    "description": "Customer report via support: the page spins forever. 🚀",
    "priority": 1,
    "priority_label": "Urgent",
    "due_date": "2026-11-05",
    "url": URL,
    "state": {"name": "In Review", "type": "started"},
    "assignee": {"email": "dana.novak@example.com", "name": "Dana Novak"},
    "labels": ["incident", "bug"],
    "team": "ENG",
    "updated_at": "2026-11-02T19:09:00+00:00",
}
NORMALIZED: dict[str, Any] = {
    "linear_id": "ENG-101",
    "title": TITLE,
    "url": URL,
    "priority": "Urgent",
    "status": "In Review",
    "board_status": "Working on it",
    "board_priority": "Critical",
    "assignee_email": "dana.novak@example.com",
    "assignee_name": "Dana Novak",
    "due": "2026-11-05",
    "labels": ["incident", "bug"],
    "channel": "incidents",
}
AIRTABLE_FIELDS: dict[str, Any] = {
    "Linear ID": "ENG-101",
    "Title": TITLE,
    "Priority": "Urgent",
    "Status": "In Review",
    "Assignee": "dana.novak@example.com",
    "Due": "2026-11-05",
    "Labels": ["incident", "bug"],
    "URL": URL,
}
MONDAY_IN: dict[str, Any] = {
    "board": "Triage",
    "key_column": "Linear ID",
    "key_value": "ENG-101",
    "name": TITLE,
    "values": {
        "Status": "Working on it",
        "Priority": "Critical",
        "Due": "2026-11-05",
        "Owner": "dana.novak@example.com",
        "Link": URL,
        "Labels": "incident, bug",
    },
}
MONDAY_OUT: dict[str, Any] = {
    "id": "1801114397",
    "name": TITLE,
    "group": "Open",
    "values": {
        "Linear ID": "ENG-101",
        "Status": "Working on it",
        "Priority": "Critical",
        "Due": "2026-11-05",
        "Owner": "Dana Novak",
        "Link": f"{URL} - {URL}",
        "Labels": "incident, bug",
    },
}
SLACK_ARGS: dict[str, Any] = {
    "channel": "incidents",
    "text": f"*ENG-101* {TITLE} (Urgent, In Review) {URL}",
    "mention_email": "dana.novak@example.com",
}


def reference_params() -> PipelineParams:
    return pipeline_params(load_pipeline(PIPELINES / "linear-triage-sync.yaml").spec)


def intake_params() -> PipelineParams:
    return pipeline_params(load_pipeline(PIPELINES / "airtable-intake-to-linear.yaml").spec)


def _record(fields: dict[str, Any]) -> dict[str, Any]:
    return {"id": "recGgBQaDUGAjLGkz", "fields": {**fields, "Created": "2026-11-16T09:00:13.000Z"}}


def clean_run() -> dict[str, Any]:
    """The reference run stopped at its QC step, as plain JSON to mutate in tests."""
    steps = [
        StepEvidence(
            id="fetch_issue",
            op="linear.get_issue",
            index=0,
            input={"id": "ENG-101"},
            output=ISSUE,
            duration_ms=60,
        ),
        StepEvidence(
            id="normalize", op="transform", index=1, input={"fetch_issue": ISSUE}, output=NORMALIZED
        ),
        StepEvidence(
            id="upsert_airtable",
            op="airtable.upsert_record",
            index=2,
            input={"table": "Issues", "merge_on": ["Linear ID"], "fields": AIRTABLE_FIELDS},
            output=_record(AIRTABLE_FIELDS),
            duration_ms=20,
            writes=[
                WriteEvidence(
                    tool="airtable",
                    kind="record",
                    container="appX/Issues",
                    object_id="recGgBQaDUGAjLGkz",
                    action="created",
                    before=None,
                    after=_record(AIRTABLE_FIELDS),
                )
            ],
        ),
        StepEvidence(
            id="sync_monday",
            op="monday.upsert_item",
            index=3,
            input=MONDAY_IN,
            output=MONDAY_OUT,
            duration_ms=190,
            writes=[
                WriteEvidence(
                    tool="monday",
                    kind="item",
                    container="1800114250",
                    object_id="1801114397",
                    action="created",
                    before=None,
                    after={"id": "1801114397", "name": TITLE},
                )
            ],
        ),
    ]
    evidence = RunEvidence(
        run_id="wf/run",
        pipeline="linear-triage-sync",
        trigger={"issue": "ENG-101"},
        steps=steps,
        planned={"notify_slack": SLACK_ARGS},
    )
    return copy.deepcopy(evidence.model_dump(mode="json"))


def evidence(data: dict[str, Any]) -> RunEvidence:
    return RunEvidence.model_validate(data)


def step(data: dict[str, Any], step_id: str) -> dict[str, Any]:
    return next(s for s in data["steps"] if s["id"] == step_id)


INTAKE_ROW: dict[str, Any] = {
    "id": "recIntake0000001",
    "fields": {
        "Title": "Zoë can't export invoices",
        "Description": "Since Monday.",
        "Priority": "High",
        "Reporter": "ines.berg@example.com",
        "Status": "New",
    },
}
LINEAR_ISSUE_URL = "https://linear.app/steptrace/issue/ENG-161/zoe-cant-export"


def intake_run() -> dict[str, Any]:
    """The intake pipeline, run to its end."""
    created = {
        **ISSUE,
        "identifier": "ENG-161",
        "title": INTAKE_ROW["fields"]["Title"],
        "description": "Since Monday.",
        "priority": 2,
        "priority_label": "High",
        "url": LINEAR_ISSUE_URL,
        "assignee": None,
        "labels": [],
        "due_date": None,
        "state": {"name": "Triage", "type": "triage"},
    }
    normalized = {
        "row_id": INTAKE_ROW["id"],
        "title": created["title"],
        "description": "Since Monday.",
        "reporter": "ines.berg@example.com",
        "priority": 2,
    }
    filed = {"Status": "Filed", "Linear Issue": LINEAR_ISSUE_URL}
    steps = [
        StepEvidence(
            id="fetch_intake",
            op="airtable.get_record",
            index=0,
            input={"table": "Intake", "record_id": INTAKE_ROW["id"]},
            output=INTAKE_ROW,
        ),
        StepEvidence(
            id="normalize",
            op="transform",
            index=1,
            input={"fetch_intake": INTAKE_ROW},
            output=normalized,
        ),
        StepEvidence(
            id="create_issue",
            op="linear.upsert_issue",
            index=2,
            input={
                "key": f"airtable-intake:{INTAKE_ROW['id']}",
                "team": "ENG",
                "title": created["title"],
                "description": "Since Monday.",
                "priority": 2,
                "state": "Triage",
            },
            output=created,
            writes=[
                WriteEvidence(
                    tool="linear",
                    kind="issue",
                    container="ENG",
                    object_id=created["id"],
                    action="created",
                    after={"id": created["id"]},
                )
            ],
        ),
        StepEvidence(
            id="mark_filed",
            op="airtable.update_record",
            index=3,
            input={"table": "Intake", "record_id": INTAKE_ROW["id"], "fields": filed},
            output={"id": INTAKE_ROW["id"], "fields": {**INTAKE_ROW["fields"], **filed}},
            writes=[
                WriteEvidence(
                    tool="airtable",
                    kind="record",
                    container="appX/Intake",
                    object_id=INTAKE_ROW["id"],
                    action="updated",
                    before=INTAKE_ROW,
                    after={"id": INTAKE_ROW["id"], "fields": {**INTAKE_ROW["fields"], **filed}},
                )
            ],
        ),
    ]
    text = f"New intake filed as *ENG-161*: {created['title']} {LINEAR_ISSUE_URL}"
    steps.append(
        StepEvidence(
            id="notify_slack",
            op="slack.post_message",
            index=4,
            input={"channel": "triage", "text": text, "mention_email": "ines.berg@example.com"},
            output={"channel": "C1", "ts": "1.1", "text": text + " <@U1>", "thread_ts": None},
            writes=[
                WriteEvidence(
                    tool="slack",
                    kind="message",
                    container="C1",
                    object_id="1.1",
                    action="created",
                    after={"text": text},
                )
            ],
        )
    )
    data = RunEvidence(
        run_id="wf2/run",
        pipeline="airtable-intake-to-linear",
        trigger={"record_id": INTAKE_ROW["id"]},
        steps=steps,
    )
    return copy.deepcopy(data.model_dump(mode="json"))
