"""One sandbox request in five fails (5xx or 429), some writes land and then time out:
every run still completes, and no external record is duplicated.

This is the everyday weather of ops automations. The connectors say which errors a retry
can fix and when; Temporal retries; the writes are idempotent upserts (Airtable's
``performUpsert``, Monday's lookup by the Linear ID column, Linear's derived issue id,
Slack's idempotency key in the message metadata), so a retry after a write that landed
finds it instead of writing it again.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

import yaml

from connectors.sandbox.faults import Fault, Service
from connectors.sandbox.server import Sandbox
from orchestrator.service.stack import RunOutcome, Stack
from orchestrator.spec.pipeline import LoadedPipeline, load_pipeline, parse_pipeline
from tests.orchestrator.conftest import PIPELINES, StackFactory
from tests.orchestrator.ledger import (
    airtable_linear_ids,
    linear_issues,
    monday_linear_ids,
    repeated,
    slack_idempotency_keys,
    stored_attempts,
)
from tracer.store import AttemptStatus

# Runs per issue. Distinct issues run concurrently; the runs of one issue run one after
# another (two concurrent runs of one issue race as they would in production, which is
# not what this test is about).
ISSUES = {
    "ENG-121": 2,
    "ENG-122": 1,
    "ENG-123": 1,
    "ENG-124": 2,
    "ENG-125": 1,
    "ENG-126": 1,
    "ENG-127": 2,
}
INTAKE_RUNS = (2, 1, 1)  # runs per intake row
# Two server errors and one rate limit per service: about 19 % of requests fail.
SERVER_ERRORS: dict[Service, tuple[int, int]] = {
    "linear": (500, 503),
    "airtable": (503, 502),
    "monday": (502, 500),
    "slack": (503, 500),
}
WRITES_THAT_TIME_OUT: dict[Service, str] = {
    "linear": "issueCreate",
    "airtable": "upsert_records",
    "monday": "create_item",
    "slack": "chat.postMessage",
}
PATIENT_RETRY = {
    "maximum_attempts": 25,
    "initial_interval_seconds": 0.05,
    "backoff": 1.5,
    "maximum_interval_seconds": 0.5,
}


def weather() -> list[Fault]:
    faults: list[Fault] = []
    for service, statuses in SERVER_ERRORS.items():
        faults += [
            Fault(service=service, kind="http_error", status=status, rate=0.05)
            for status in statuses
        ]
        # Airtable's own 429 asks for 30 s; a short retry_after keeps the test fast.
        faults.append(Fault(service=service, kind="rate_limit", rate=0.1, retry_after=0.05))
    for service, operation in WRITES_THAT_TIME_OUT.items():
        faults.append(
            Fault(service=service, kind="duplicate_on_timeout", operation=operation, times=2)
        )
    return faults


def patient(pipeline: LoadedPipeline) -> LoadedPipeline:
    """``pipeline`` with steps that retry often and quickly."""
    spec: dict[str, Any] = pipeline.spec.model_dump(mode="json", by_alias=True)
    for step in spec["steps"]:
        step["retry"] = dict(PATIENT_RETRY)
    return parse_pipeline(
        yaml.safe_dump(spec, sort_keys=False), source=f"patient {pipeline.source}"
    )


async def test_a_fifth_of_requests_failing_loses_no_run_and_doubles_no_record(
    make_stack: StackFactory, reference: LoadedPipeline
) -> None:
    triage = patient(reference)
    intake = patient(load_pipeline(PIPELINES / "airtable-intake-to-linear.yaml"))
    async with make_stack(faults=weather()) as stack:
        assert stack.sandbox is not None and stack.store is not None
        linear_before = linear_issues(stack.sandbox.state("linear"))
        rows = _new_intake_rows(stack.sandbox.state("airtable"))[: len(INTAKE_RUNS)]
        chains = [_repeat(stack, triage, {"issue": i}, n) for i, n in ISSUES.items()]
        chains += [
            _repeat(stack, intake, {"record_id": row}, n)
            for row, n in zip(rows, INTAKE_RUNS, strict=True)
        ]
        outcomes = [outcome for chain in await asyncio.gather(*chains) for outcome in chain]
        sandbox = stack.sandbox
        attempts = stored_attempts(stack.store, [o.run_id for o in outcomes])

    assert [o.status for o in outcomes] == ["succeeded"] * len(outcomes), [
        o.error for o in outcomes
    ]
    _assert_faults_fired(sandbox)
    failed = [a for a in attempts if a.status is AttemptStatus.FAILED]
    inner = [retry for a in attempts for retry in a.inner_retries]
    assert inner, "no inner retries recorded; did any fault fire?"
    # Each fault is absorbed by a retry inside the attempt or of the attempt, and recorded.
    statuses = Counter(a.error.status for a in failed if a.error is not None)
    statuses.update(retry.get("status") for retry in inner)
    assert {429, 500, 502, 503, 504} <= set(statuses), statuses
    assert any(retry.get("reconciled") for retry in inner), "no lost write was read back"
    assert all(a.error is not None and a.error.retryable for a in failed), failed
    _assert_no_duplicates(sandbox, outcomes, linear_before, len(rows))


async def _repeat(
    stack: Stack, pipeline: LoadedPipeline, trigger: dict[str, Any], times: int
) -> list[RunOutcome]:
    """Run ``pipeline`` on ``trigger`` ``times`` times, one run after the other."""
    return [await stack.run(pipeline, trigger) for _ in range(times)]


def _new_intake_rows(state: dict[str, Any]) -> list[str]:
    """Intake rows with a title that are not filed yet."""
    return [
        record["id"]
        for base in state["bases"]
        for table in base["tables"]
        if table["name"] == "Intake"
        for record in table["records"]
        if record["fields"].get("Title") and record["fields"].get("Status") == "New"
    ]


def _assert_faults_fired(sandbox: Sandbox) -> None:
    entries = sandbox.journal.list()
    faulted = [e for e in entries if e.fault in {"http_error", "rate_limit"}]
    share = len(faulted) / len(entries)
    assert len(entries) >= 200, f"only {len(entries)} requests; the test is too small"
    assert 0.1 <= share <= 0.3, f"{share:.0%} of {len(entries)} requests failed"
    timed_out = [e for e in entries if e.fault == "duplicate_on_timeout"]
    assert len(timed_out) == 2 * len(WRITES_THAT_TIME_OUT), timed_out
    assert {e.service for e in faulted} == set(SERVER_ERRORS)


def _assert_no_duplicates(
    sandbox: Sandbox,
    outcomes: list[RunOutcome],
    linear_before: list[dict[str, Any]],
    intake_rows: int,
) -> None:
    airtable = airtable_linear_ids(sandbox.state("airtable"))
    assert sorted(airtable) == sorted(ISSUES), airtable
    monday = monday_linear_ids(sandbox.state("monday"))
    assert not repeated(monday) and set(ISSUES) <= set(monday), monday
    slack = slack_idempotency_keys(sandbox.state("slack"))
    assert sorted(slack) == sorted(f"{o.run_id}:notify_slack" for o in outcomes), slack
    linear = linear_issues(sandbox.state("linear"))
    created = [issue for issue in linear if issue not in linear_before]
    assert len(linear) == len(linear_before) + intake_rows, [i["title"] for i in created]
    assert not repeated(issue["id"] for issue in linear)
