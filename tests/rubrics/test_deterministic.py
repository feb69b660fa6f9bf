"""Every deterministic rubric: one run that makes it fail, one that makes it pass.

Runs are plain RunEvidence shaped like the reference pipeline's recorded handoffs
(tests/rubrics/evidence_data.py); parameters come from the real pipeline specs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from orchestrator.qc.params import pipeline_params
from orchestrator.spec.pipeline import load_pipeline
from rubrics.evidence import PipelineParams, RunEvidence, StepEvidence
from rubrics.model import Outcome, RubricResult, parse_path
from rubrics.process import null_after_values
from rubrics.registry import RUBRICS
from rubrics.review import review
from tests.rubrics.evidence_data import (
    PIPELINES,
    URL,
    clean_run,
    evidence,
    intake_params,
    intake_run,
    reference_params,
    step,
)

Data = dict[str, Any]


def run_one(rubric_id: str, data: Data, params: PipelineParams | None = None) -> RubricResult:
    [result] = review(evidence(data), params or reference_params(), select=[rubric_id])
    return result


# --- how to break each rubric ---------------------------------------------------------


def wrong_priority_map(data: Data) -> None:  # a value map sending Urgent to Low
    step(data, "normalize")["output"]["priority"] = "Low"
    step(data, "upsert_airtable")["input"]["fields"]["Priority"] = "Low"
    step(data, "upsert_airtable")["output"]["fields"]["Priority"] = "Low"


def dropped_assignee(data: Data) -> None:
    step(data, "upsert_airtable")["output"]["fields"]["Assignee"] = None


def other_title(data: Data) -> None:
    step(data, "sync_monday")["output"]["name"] = "Something else"


def done_status(data: Data) -> None:
    step(data, "sync_monday")["output"]["values"]["Status"] = "Done"


def shifted_due(data: Data) -> None:
    step(data, "upsert_airtable")["output"]["fields"]["Due"] = "2026-11-04"


def lost_label(data: Data) -> None:
    step(data, "sync_monday")["output"]["values"]["Labels"] = "incident"


def no_source_id(data: Data) -> None:
    step(data, "upsert_airtable")["output"]["fields"]["Linear ID"] = "ENG-999"


def duplicate_record(data: Data) -> None:
    step(data, "upsert_airtable")["writes"][0]["earlier_object_ids"] = ["recOLDER00000001"]


def truncated_title(data: Data) -> None:
    step(data, "upsert_airtable")["output"]["fields"]["Title"] = "Checkout fails for Zo"


def mangled_emoji(data: Data) -> None:
    step(data, "upsert_airtable")["output"]["fields"]["Title"] = (
        "Checkout fails for Zo? in Z?rich ?"
    )


def off_schema(data: Data) -> None:
    data["schemas"] = {
        "appX/Issues": {"Priority": {"type": "singleSelect", "options": ["High", "Low"]}}
    }


def stale_overwrite(data: Data) -> None:
    write = step(data, "upsert_airtable")["writes"][0]
    write["action"] = "updated"
    write["previous_after"] = {"fields": {"Priority": "Urgent", "Status": "Todo"}}
    write["before"] = {"fields": {"Priority": "Urgent", "Status": "Done"}}  # a person closed it
    write["after"] = {"fields": {"Priority": "Urgent", "Status": "In Review"}}
    write["previous_run"] = "wf/earlier"


def empty_key(data: Data) -> None:
    step(data, "sync_monday")["output"]["values"]["Linear ID"] = ""


def secret_in_text(data: Data) -> None:
    data["planned"]["notify_slack"]["text"] += " token xoxb-1234567890-abcdefghijkl"


def stored_secret(data: Data) -> None:
    step(data, "upsert_airtable")["output"]["fields"]["Title"] = "see [redacted: Slack token]"


def email_in_channel(data: Data) -> None:
    data["planned"]["notify_slack"]["text"] += " ping dana.novak@example.com"


def phone_in_channel(data: Data) -> None:
    data["planned"]["notify_slack"]["text"] += " call +44 20 7946 0958"


def wrong_channel(data: Data) -> None:
    data["planned"]["notify_slack"]["channel"] = "triage"


def no_mention(data: Data) -> None:
    data["planned"]["notify_slack"]["mention_email"] = None


def many_retries(data: Data) -> None:
    step(data, "sync_monday")["attempts"] = 4


def slow_step(data: Data) -> None:
    step(data, "sync_monday")["duration_ms"] = 25_000


def empty_handoff(data: Data) -> None:
    step(data, "normalize")["output"] = {k: None for k in step(data, "normalize")["output"]}


def unrecorded_write(data: Data) -> None:
    step(data, "sync_monday")["writes"] = []


BREAK: dict[str, list[Callable[[Data], None]]] = {
    "integrity.source_id_recorded": [no_source_id],
    "integrity.title_agrees": [other_title],
    "integrity.priority_agrees": [wrong_priority_map],
    "integrity.status_agrees": [done_status],
    "integrity.assignee_agrees": [dropped_assignee],
    "integrity.due_date_agrees": [shifted_due],
    "integrity.labels_agree": [lost_label],
    "integrity.one_record_per_source": [duplicate_record],
    "integrity.no_truncation": [truncated_title],
    "integrity.unicode_intact": [mangled_emoji],
    "integrity.schema_conforms": [off_schema],
    "integrity.no_stale_overwrite": [stale_overwrite],
    "integrity.required_fields_present": [empty_key],
    "safety.no_secrets": [secret_in_text, stored_secret],
    "safety.no_personal_data_in_channels": [email_in_channel, phone_in_channel],
    "safety.right_channel": [wrong_channel],
    "safety.assignee_mentioned": [no_mention],
    "process.retries_within_budget": [many_retries],
    "process.latency_within_budget": [slow_step],
    "process.no_empty_handoff": [empty_handoff],
    "process.writes_recorded": [unrecorded_write],
}
CASES = [(rid, fn) for rid, fns in BREAK.items() for fn in fns]


def test_every_deterministic_rubric_has_a_failing_case() -> None:
    deterministic = {r.id for r in RUBRICS if r.kind == "deterministic"}
    separately = {
        "integrity.backlink_recorded",
        "process.projections_resolve",
        "process.reads_still_there",
    }
    assert deterministic - separately == set(BREAK)


@pytest.mark.parametrize(
    ("rubric_id", "defect"), CASES, ids=[f"{r}-{f.__name__}" for r, f in CASES]
)
def test_defect_fails_the_rubric(rubric_id: str, defect: Callable[[Data], None]) -> None:
    data = clean_run()
    defect(data)
    result = run_one(rubric_id, data)
    assert result.outcome == Outcome.FAIL, result
    assert result.evidence, "a failure cites the values it looked at"
    for item in result.evidence:
        assert item.path == item.step or item.path.startswith(f"{item.step}.")
        assert parse_path(item.path)[0] == item.step


def test_defect_fails_only_its_own_family() -> None:
    """The wrong value map is caught by priority_agrees and by nothing unrelated."""
    data = clean_run()
    wrong_priority_map(data)
    failed = {
        r.rubric_id for r in review(evidence(data), reference_params()) if r.outcome == Outcome.FAIL
    }
    assert failed == {"integrity.priority_agrees"}


def test_clean_run_passes_or_is_not_applicable() -> None:
    results = review(evidence(clean_run()), reference_params())
    deterministic = [r for r in results if r.kind == "deterministic"]
    assert {r.outcome for r in deterministic} <= {Outcome.PASS, Outcome.NOT_APPLICABLE}
    passed = {r.rubric_id for r in deterministic if r.outcome == Outcome.PASS}
    assert passed >= set(BREAK) - {"integrity.schema_conforms", "integrity.no_stale_overwrite"}


def test_schema_and_stale_overwrite_pass_when_they_have_something_to_read() -> None:
    data = clean_run()
    data["schemas"] = {
        "appX/Issues": {
            "Priority": {"type": "singleSelect", "options": ["Urgent", "Low"]},
            "Due": {"type": "date"},
        }
    }
    write = step(data, "upsert_airtable")["writes"][0]
    write.update(
        action="updated",
        before={"fields": {"Status": "Todo"}},
        after={"fields": {"Status": "In Review"}},
        previous_after={"fields": {"Status": "Todo"}},
    )
    assert run_one("integrity.schema_conforms", data).outcome == Outcome.PASS
    assert run_one("integrity.no_stale_overwrite", data).outcome == Outcome.PASS


def test_failure_points_at_the_destination_step() -> None:
    data = clean_run()
    wrong_priority_map(data)
    result = run_one("integrity.priority_agrees", data)
    assert result.step_id == "upsert_airtable"
    assert "upsert_airtable.fields.Priority" in {i.path for i in result.evidence}


def test_routing_rule_points_at_the_planned_channel() -> None:
    data = clean_run()
    wrong_channel(data)
    result = run_one("safety.right_channel", data)
    assert result.evidence[0].path == "notify_slack.$input.channel"


def test_backlink_passes_and_fails_on_the_intake_pipeline() -> None:
    data = intake_run()
    assert run_one("integrity.backlink_recorded", data, intake_params()).outcome == Outcome.PASS
    step(data, "mark_filed")["output"]["fields"]["Linear Issue"] = (
        "https://linear.app/steptrace/issue/ENG-1"
    )
    result = run_one("integrity.backlink_recorded", data, intake_params())
    assert result.outcome == Outcome.FAIL
    assert "mark_filed.fields.Linear Issue" in {i.path for i in result.evidence}


def test_intake_run_has_no_false_alarm() -> None:
    results = review(evidence(intake_run()), intake_params())
    assert [r for r in results if r.outcome in (Outcome.FAIL, Outcome.ERROR)] == []


def test_nothing_to_read_is_not_applicable_never_pass() -> None:
    empty = evidence({"run_id": "r", "steps": []})
    results = review(empty, reference_params())
    deterministic = [r for r in results if r.kind == "deterministic"]
    assert all(r.outcome == Outcome.NOT_APPLICABLE for r in deterministic), [
        (r.rubric_id, r.outcome) for r in deterministic if r.outcome != Outcome.NOT_APPLICABLE
    ]


def test_unknown_rubric_id_is_named() -> None:
    with pytest.raises(KeyError, match=r"integrity\.nope"):
        review(evidence(clean_run()), reference_params(), select=["integrity.nope"])


def test_url_in_link_column_counts_as_carrying_it() -> None:
    assert URL in step(clean_run(), "sync_monday")["output"]["values"]["Link"]


def digest_run(status_key: str) -> RunEvidence:
    """A monday-digest run whose board items carry their status under ``status_key``."""
    items = [
        {"id": str(n), "name": f"Item {n}", "values": {status_key: label}}
        for n, label in enumerate(["Stuck", "Done", "Triage"])
    ]
    return RunEvidence(
        run_id="digest/1",
        pipeline="monday-digest",
        trigger={"date": "2026-11-23"},
        steps=[
            StepEvidence(
                id="read_board",
                op="monday.list_items",
                index=0,
                input={"board": "Triage"},
                output={"board": {"name": "Triage"}, "items": items},
                status="succeeded",
            )
        ],
    )


def test_projections_resolve_fails_when_no_item_has_the_field_any_more() -> None:
    params = pipeline_params(load_pipeline(PIPELINES / "monday-digest.yaml").spec)
    [fine] = review(digest_run("Status"), params, select=["process.projections_resolve"])
    assert fine.outcome == Outcome.PASS, fine
    [renamed] = review(digest_run("State"), params, select=["process.projections_resolve"])
    assert renamed.outcome == Outcome.FAIL, renamed
    assert renamed.evidence[0].path == "read_board.items.*.values.Status"
    assert parse_path(renamed.evidence[0].path) == (
        "read_board",
        "output",
        ("items", "*", "values", "Status"),
    )


def triage_read(due: Any, history: list[dict[str, str]]) -> RunEvidence:
    """A linear-triage-sync run whose issue carries ``due_date=due``, with read history."""
    issue = {"identifier": "ENG-1", "title": "t", "priority": 2, "due_date": due}
    if due is MISSING_KEY:
        del issue["due_date"]
    return RunEvidence(
        run_id="triage/1",
        pipeline="linear-triage-sync",
        trigger={"issue": "ENG-1"},
        steps=[
            StepEvidence(
                id="fetch_issue",
                op="linear.get_issue",
                index=0,
                input={"id": "ENG-1"},
                output=issue,
                status="succeeded",
            )
        ],
        read_history={"fetch_issue": history},
    )


MISSING_KEY = object()


@pytest.mark.parametrize(
    ("due", "was", "outcome"),
    [
        ("2026-12-01", ["string"] * 3, Outcome.PASS),
        (None, ["string"] * 5, Outcome.NOT_APPLICABLE),  # a null is optional data too
        (None, ["string"] * 3, Outcome.NOT_APPLICABLE),  # a null may be optional data
        (MISSING_KEY, ["string"] * 3, Outcome.FAIL),
        (20261201, ["string"] * 3, Outcome.FAIL),  # another kind
        (None, ["string", "null", "string"], Outcome.NOT_APPLICABLE),  # optional data
        (None, ["string"] * 2, Outcome.NOT_APPLICABLE),  # too little history to judge
    ],
)
def test_reads_still_there_catches_a_field_a_default_would_hide(
    due: Any, was: list[str], outcome: Outcome
) -> None:
    params = pipeline_params(load_pipeline(PIPELINES / "linear-triage-sync.yaml").spec)
    assert ("due_date",) in params.step("fetch_issue").read_paths  # type: ignore[union-attr]
    history = [{"due_date": kind} for kind in was]
    [result] = review(triage_read(due, history), params, select=["process.reads_still_there"])
    if outcome == Outcome.NOT_APPLICABLE:
        assert result.outcome != Outcome.FAIL, result
    else:
        assert result.outcome == outcome, result
    if outcome == Outcome.FAIL:
        assert result.evidence[0].path == "fetch_issue.due_date"


def test_reads_still_there_takes_an_absent_parent_for_optional_data() -> None:
    """An issue with no assignee has no assignee email: null, not a vanished field."""
    params = pipeline_params(load_pipeline(PIPELINES / "linear-triage-sync.yaml").spec)
    evidence = triage_read("2026-12-01", [{"due_date": "string"}] * 3)
    fetch = evidence.steps[0]
    output = {**fetch.output, "assignee": None}
    history = [{"due_date": "string", "assignee.email": "string"}] * 6
    evidence = evidence.model_copy(
        update={
            "steps": [fetch.model_copy(update={"output": output})],
            "read_history": {"fetch_issue": history},
        }
    )
    [result] = review(evidence, params, select=["process.reads_still_there"])
    assert result.outcome != Outcome.FAIL, result


@pytest.mark.parametrize(
    ("again", "outcome"),
    [
        ([], Outcome.PASS),  # no second look at the source: a null alone never alarms
        ([{"due_date": "string"}] * 3, Outcome.PASS),  # the source still sends it: optional
        ([{"due_date": "null"}, {"due_date": "string"}], Outcome.PASS),  # one still has it
        ([{"due_date": "null"}] * 3, Outcome.FAIL),  # gone from every object: drift
        ([{"due_date": "missing"}, {"due_date": "null"}], Outcome.FAIL),
        ([{"title": "string"}], Outcome.FAIL),  # the re-read object has no such key
    ],
)
def test_reads_still_there_judges_a_null_by_the_good_objects_read_again(
    again: list[dict[str, str]], outcome: Outcome
) -> None:
    """A null after values fails only when the objects of the good runs, read again,
    have no value there either."""
    params = pipeline_params(load_pipeline(PIPELINES / "linear-triage-sync.yaml").spec)
    evidence = triage_read(None, [{"due_date": "string"}] * 4).model_copy(
        update={"reread": {"fetch_issue": again}}
    )
    [result] = review(evidence, params, select=["process.reads_still_there"])
    assert result.outcome == outcome, result
    if outcome == Outcome.FAIL:
        assert result.step_id == "fetch_issue"
        assert [item.path for item in result.evidence] == ["fetch_issue.due_date"] * 2
        assert "stopped sending" in result.message


def test_a_second_look_never_turns_optional_history_into_an_alarm() -> None:
    """A field already null in a good run is optional: the re-read does not matter."""
    params = pipeline_params(load_pipeline(PIPELINES / "linear-triage-sync.yaml").spec)
    history = [{"due_date": "string"}, {"due_date": "null"}, {"due_date": "string"}]
    evidence = triage_read(None, history).model_copy(
        update={"reread": {"fetch_issue": [{"due_date": "null"}] * 3}}
    )
    [result] = review(evidence, params, select=["process.reads_still_there"])
    assert result.outcome != Outcome.FAIL, result


def test_only_nulls_after_values_need_a_second_look() -> None:
    params = pipeline_params(load_pipeline(PIPELINES / "linear-triage-sync.yaml").spec)
    read = params.step("fetch_issue")
    assert read is not None
    always = [{"due_date": "string", "title": "string"}] * 3
    output = {"due_date": None, "title": "t"}
    assert null_after_values(output, always, [("due_date",), ("title",)]) == [("due_date",)]
    assert null_after_values(output, always[:2], [("due_date",)]) == []  # too few runs
    assert null_after_values({"due_date": "2026-12-01"}, always, [("due_date",)]) == []
