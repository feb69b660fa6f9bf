"""The human loop end to end, through real HTTP and real Temporal.

A real stack (pipeline worker, diagnosis, escalation, replay and rollback, all on a real
Temporal dev server; the four tools in the sandbox on loopback; a SQLite trace store)
with ``escalate=True``, and the real Slack bot served on 127.0.0.1. People are played as
Slack plays them: their messages go into the Slack sandbox, and what Slack would deliver
to the bot (the mention, the click, the slash command) is sent to it, signed with the
app's signing secret. The bot's own Web API calls go to the same Slack sandbox, so the
conversation is read back from it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from temporalio.testing import TimeSkipper

from connectors.airtable.models import RecordUpdate
from connectors.linear.models import IssueUpdate
from connectors.sandbox.faults import Fault
from connectors.sandbox.seed import SLACK_BOT_USER_ID
from orchestrator.config.settings import Settings
from orchestrator.humanloop.alerts import slack_transcript
from orchestrator.runtime.devserver import DevServer
from orchestrator.service.stack import RunOutcome, Stack, StackOptions, open_stack
from orchestrator.spec.pipeline import LoadedPipeline
from orchestrator.tools.clients import ToolClients
from tests.human.escalation_fixtures import DANA
from tests.human.loop_fixtures import (
    alert_for,
    bot_replies,
    bot_reply_containing,
    end_escalation,
    ephemeral,
    ephemeral_for,
    escalation,
    escalation_state,
    replies,
    sandbox_of,
    serve_bot,
)
from tests.orchestrator.conftest import StackFactory
from tracer.store import AttemptRecord, RunKind, RunRecord, RunStatus, TraceStore

# From run 2 on, Airtable's `Priority` field is called `Priority Level`.
PRIORITY_RENAMED = Fault(
    service="airtable", kind="rename_field", target="Priority", to="Priority Level", from_run=2
)
# From run 2 on, the channels the pipeline posts to are gone (renamed): the run fails at
# its last step, after it wrote to Airtable and Monday.
CHANNELS_RENAMED = [
    Fault(service="slack", kind="rename_field", target=name, to=f"{name}-old", from_run=2)
    for name in ("triage", "incidents")
]
QUESTION = f"<@{SLACK_BOT_USER_ID}> why did this fail?"


def store_of(stack: Stack) -> TraceStore:
    assert stack.store is not None
    return stack.store


def tier_approvers(pipeline: LoadedPipeline, tier: int) -> list[str]:
    assert pipeline.spec.escalation is not None
    return pipeline.spec.escalation.tiers[tier].approvers


def linked_runs(stack: Stack, run_id: str) -> list[RunRecord]:
    """The replays and rollbacks of ``run_id``."""
    return [r for r in store_of(stack).list_runs(limit=50) if r.parent_run_id == run_id]


def written(stack: Stack, run_id: str, step: str) -> AttemptRecord:
    (attempt,) = [
        a for a in store_of(stack).attempts(run_id) if a.step_id == step and a.output_hash
    ]
    return attempt


def recorded(stack: Stack, payload_hash: str | None) -> Any:
    assert payload_hash is not None
    return store_of(stack).get_payload(payload_hash)


def without_clock(item: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in item.items() if k != "updated_at"}


def issues_records(stack: Stack, linear_id: str) -> list[dict[str, Any]]:
    """The records of Airtable's Issues table for one Linear issue, as the sandbox stores
    them (its schema as created: the fault renames what the API shows, not the store)."""
    [base] = sandbox_of(stack).state("airtable")["bases"]
    [issues] = [t for t in base["tables"] if t["name"] == "Issues"]
    return [r for r in issues["records"] if r["fields"].get("Linear ID") == linear_id]


@contextlib.asynccontextmanager
async def tools(stack: Stack) -> AsyncIterator[ToolClients]:
    """The connectors, as a person's own script would use them."""
    async with httpx.AsyncClient() as http:
        yield ToolClients.from_settings(stack.settings, http)


async def good_then_failed(stack: Stack, pipeline: LoadedPipeline) -> RunOutcome:
    """Run 1 (ENG-103) is the baseline; run 2 (ENG-101) meets the Airtable rename."""
    good = await stack.run(pipeline, {"issue": "ENG-103"})
    sandbox_of(stack).begin_run(2)
    failed = await stack.run(pipeline, {"issue": "ENG-101"})
    assert (good.status, failed.status) == ("succeeded", "failed"), (good.error, failed.error)
    return failed


# -- 1. alert, "why?", approval, replay ---------------------------------------------------


async def test_a_failure_is_alerted_explained_approved_and_replayed(
    make_stack: StackFactory, reference: LoadedPipeline
) -> None:
    approver = tier_approvers(reference, 1)[0]
    async with (
        make_stack(faults=[PRIORITY_RENAMED], escalate=True) as stack,
        serve_bot(stack) as slack,
    ):
        failed = await good_then_failed(stack, reference)
        assert issues_records(stack, "ENG-101") == []
        try:
            alert = await alert_for(stack, failed.run_id, "ops-alerts")
            question = sandbox_of(stack).post_as_person(
                DANA, "ops-alerts", QUESTION, thread_ts=alert["ts"]
            )
            await slack.mention(DANA, alert["channel"], question)
            answer = await bot_reply_containing(stack, alert, "Started at")

            await slack.click("steptrace_approve", approver, alert)
            result = await bot_reply_containing(stack, alert, "Done (run ")
            state = await escalation_state(stack, failed.run_id)
        finally:
            await end_escalation(stack, failed.run_id)
        [replay] = linked_runs(stack, failed.run_id)
        upsert = written(stack, replay.run_id, "upsert_airtable").external_writes[0]
        base, _, table = (upsert.container or "").partition("/")
        async with tools(stack) as clients:
            through_api = await clients.airtable.get_record(base, table, upsert.object_id)
        stored = issues_records(stack, "ENG-101")
        assert replay.version_hash is not None
        spec = store_of(stack).get_pipeline_spec(replay.version_hash)
        transcript = slack_transcript(sandbox_of(stack).state("slack"), "#ops-alerts", alert["ts"])

    assert "Started at `upsert_airtable`, failed at `upsert_airtable`" in answer
    assert "Priority Level" in answer
    assert (replay.kind, replay.status) == (RunKind.REPLAY, RunStatus.SUCCEEDED)
    assert replay.parent_run_id == failed.run_id
    assert replay.version_hash != reference.version
    assert spec is not None and "Priority Level: normalize.priority" in spec
    assert result == f"Done (run {replay.run_id}): replay from `upsert_airtable` succeeded"
    assert state.status == "resolved" and state.outcome is not None and state.outcome.ok
    # the conversation, as Slack shows it in the alert's thread
    assert [(m.user_id, m.text) for m in transcript] == [
        (SLACK_BOT_USER_ID, alert["text"]),
        (DANA, QUESTION),
        (SLACK_BOT_USER_ID, answer),
        (SLACK_BOT_USER_ID, f"<@{approver}> approved the fix; replaying…"),
        (SLACK_BOT_USER_ID, result),
    ]
    # the record now exists: under the renamed field through the API, in the sandbox's store
    assert upsert.action == "created"
    assert through_api.fields["Priority Level"] == "No priority"
    assert "Priority" not in through_api.fields
    assert [r["id"] for r in stored] == [upsert.object_id]
    # the sandbox keeps values by field id and snapshots the schema as created
    assert stored[0]["fields"]["Priority"] == "No priority"


# -- 2. authorization and audit ----------------------------------------------------------


async def test_a_disallowed_user_is_refused_and_both_clicks_are_audited(
    make_stack: StackFactory, reference: LoadedPipeline
) -> None:
    approvers = tier_approvers(reference, 1)
    assert DANA not in approvers
    async with (
        make_stack(faults=[PRIORITY_RENAMED], escalate=True) as stack,
        serve_bot(stack) as slack,
    ):
        failed = await good_then_failed(stack, reference)
        try:
            alert = await alert_for(stack, failed.run_id, "ops-alerts")
            await slack.click("steptrace_approve", DANA, alert)
            [refusal] = await ephemeral_for(stack, DANA)
            refused_state = await escalation_state(stack, failed.run_id)
            ran_after_refusal = linked_runs(stack, failed.run_id)
            said_after_refusal = bot_replies(stack, alert)

            await slack.click("steptrace_approve", approvers[0], alert)
            await bot_reply_containing(stack, alert, "Done (run ")
        finally:
            await end_escalation(stack, failed.run_id)
        audit = store_of(stack).human_actions(failed.run_id)
        [replay] = linked_runs(stack, failed.run_id)
        shown_to_approver = ephemeral(stack, approvers[0])

    mentions = ", ".join(f"<@{user}>" for user in approvers)
    assert refusal == f"Not done: only the approvers of tier 1 (ops) may approve: {mentions}"
    assert shown_to_approver == []
    # nothing ran and nothing was said in the thread for the refused click
    assert ran_after_refusal == [] and said_after_refusal == []
    assert refused_state.status == "open"
    assert [(a.slack_user_id, a.action, a.allowed) for a in audit] == [
        (DANA, "approve", False),
        (approvers[0], "approve", True),
    ]
    assert all(a.at is not None and a.detail["source"] == "button" for a in audit)
    assert "only the approvers of tier 1" in audit[0].detail["refused"]
    assert "accepted at tier 1" in audit[1].detail["accepted"]
    assert replay.status is RunStatus.SUCCEEDED


# -- 3. no acknowledgement: the next tier ------------------------------------------------


@pytest.fixture(scope="module")
def skipping_temporal_address() -> Iterator[str]:
    """A dev server of this module's own, with per-workflow time skipping switched on,
    so the 2h acknowledgement timeout passes in a moment."""
    server = DevServer(time_skipping=True)
    loop = asyncio.new_event_loop()
    try:
        loop.run_until_complete(server.start())
        yield server.address
    finally:
        loop.run_until_complete(server.stop())
        loop.close()


async def test_an_unacknowledged_alert_climbs_to_the_next_tier(
    skipping_temporal_address: str,
    tmp_path: Path,
    capture_errors: list[BaseException],
    reference: LoadedPipeline,
) -> None:
    options = StackOptions(
        faults=[PRIORITY_RENAMED],
        escalate=True,
        database_url=f"sqlite:///{tmp_path / 'trace.db'}",
        on_capture_error=capture_errors.append,
    )
    settings = Settings(temporal_address=skipping_temporal_address)
    tier_1 = tier_approvers(reference, 1)
    [on_call] = tier_approvers(reference, 2)
    async with open_stack(options, settings) as stack, serve_bot(stack) as slack:
        failed = await good_then_failed(stack, reference)
        try:
            alert = await alert_for(stack, failed.run_id, "ops-alerts")
            handle = escalation(stack, failed.run_id)
            await TimeSkipper(stack.client).fast_forward(handle, timedelta(hours=2, minutes=1))

            page = await alert_for(stack, failed.run_id, "eng-oncall")
            note = [m["text"] for m in replies(stack, alert)]
            state = await escalation_state(stack, failed.run_id)
            # tier 1's approvers may no longer approve: the alert is tier 2's now
            await slack.click("steptrace_approve", tier_1[0], page)
            [refusal] = await ephemeral_for(stack, tier_1[0])
        finally:
            await end_escalation(stack, failed.run_id)
        linked = linked_runs(stack, failed.run_id)

    assert (state.tier, state.tier_name, state.status) == (2, "engineering on call", "open")
    assert note == [
        "No acknowledgement within 2h at tier 1 (ops): escalated to tier 2 "
        "(engineering on call) in #eng-oncall."
    ]
    assert page["metadata"]["event_payload"]["tier"] == 2
    assert f"<@{on_call}>" in str(page["blocks"])
    assert refusal == (
        f"Not done: only the approvers of tier 2 (engineering on call) may approve: <@{on_call}>"
    )
    assert linked == []


# -- 4. rollback: exact restore, and no clobbering of a person's edit --------------------


async def updated_then_failed(
    stack: Stack, pipeline: LoadedPipeline, clients: ToolClients
) -> tuple[RunOutcome, dict[str, Any]]:
    """Run 1 syncs ENG-101; a person changes the issue in Linear; run 2 updates the Airtable
    record and the Monday item, then fails at ``notify_slack`` (its channel is gone).
    Also returns what the sandbox's Airtable held between the runs."""
    first = await stack.run(pipeline, {"issue": "ENG-101"})
    assert first.status == "succeeded", first.error
    await clients.linear.update_issue(
        "ENG-101", IssueUpdate(title="Notification emails time out", priority=1)
    )
    sandbox = sandbox_of(stack)
    between = sandbox.state("airtable")
    sandbox.begin_run(2)
    failed = await stack.run(pipeline, {"issue": "ENG-101"})
    assert failed.status == "failed", failed.error
    run = store_of(stack).get_run(failed.run_id)
    assert run is not None and run.failed_step == "notify_slack"
    for step in ("upsert_airtable", "sync_monday"):
        assert [w.action for w in written(stack, failed.run_id, step).external_writes] == [
            "updated"
        ]
    return failed, between


async def test_rollback_from_slack_restores_airtable_and_monday_exactly(
    make_stack: StackFactory, reference: LoadedPipeline
) -> None:
    approver = tier_approvers(reference, 1)[1]
    async with (
        make_stack(faults=CHANNELS_RENAMED, escalate=True) as stack,
        serve_bot(stack) as slack,
        tools(stack) as clients,
    ):
        failed, airtable_between = await updated_then_failed(stack, reference, clients)
        airtable = written(stack, failed.run_id, "upsert_airtable").external_writes[0]
        monday = written(stack, failed.run_id, "sync_monday").external_writes[0]
        try:
            alert = await alert_for(stack, failed.run_id, "ops-alerts")
            await slack.command(f"rollback {failed.run_id} normalize", approver, alert["channel"])
            [started] = await ephemeral_for(stack, approver)
            result = await bot_reply_containing(stack, alert, "Done (run ")
            state = await escalation_state(stack, failed.run_id)
        finally:
            await end_escalation(stack, failed.run_id)
        base, _, table = (airtable.container or "").partition("/")
        record = await clients.airtable.get_record(base, table, airtable.object_id)
        item = await clients.monday.get_item(monday.object_id)
        airtable_now = sandbox_of(stack).state("airtable")
        [rollback] = linked_runs(stack, failed.run_id)
        original = store_of(stack).get_run(failed.run_id)
        audit = store_of(stack).human_actions(failed.run_id)
        thread = bot_replies(stack, alert)

    assert started == (
        f"Rolling back run {failed.run_id} to `normalize`; the result goes to the alert's thread."
    )
    assert result == f"Done (run {rollback.run_id}): rollback to `normalize` succeeded: 2 undone"
    assert f"<@{approver}> is rolling back to `normalize`…" in thread
    # exactly the before-images the tracer recorded with run 2's writes
    assert record.image() == recorded(stack, airtable.before_hash)
    assert item is not None
    assert without_clock(item.image()) == without_clock(recorded(stack, monday.before_hash))
    assert airtable_now == airtable_between
    assert (rollback.kind, rollback.status) == (RunKind.ROLLBACK, RunStatus.SUCCEEDED)
    assert original is not None and original.status is RunStatus.ROLLED_BACK
    assert state.status == "resolved"
    [action] = audit
    assert (action.slack_user_id, action.action, action.allowed) == (approver, "rollback", True)
    assert (action.detail["source"], action.detail["to_step"]) == ("command", "normalize")


async def test_rollback_from_slack_leaves_a_persons_later_edit_untouched(
    make_stack: StackFactory, reference: LoadedPipeline
) -> None:
    approver = tier_approvers(reference, 1)[0]
    async with (
        make_stack(faults=CHANNELS_RENAMED, escalate=True) as stack,
        serve_bot(stack) as slack,
        tools(stack) as clients,
    ):
        failed, _ = await updated_then_failed(stack, reference, clients)
        airtable = written(stack, failed.run_id, "upsert_airtable").external_writes[0]
        monday = written(stack, failed.run_id, "sync_monday").external_writes[0]
        base, _, table = (airtable.container or "").partition("/")
        # a person fixes the priority by hand after our write
        edit = RecordUpdate(id=airtable.object_id, fields={"Priority": "High"})
        await clients.airtable.update_records(base, table, [edit])
        edited = await clients.airtable.get_record(base, table, airtable.object_id)
        try:
            alert = await alert_for(stack, failed.run_id, "ops-alerts")
            await slack.command(f"rollback {failed.run_id} normalize", approver, alert["channel"])
            result = await bot_reply_containing(stack, alert, "Failed (run ")
            state = await escalation_state(stack, failed.run_id)
        finally:
            await end_escalation(stack, failed.run_id)
        record = await clients.airtable.get_record(base, table, airtable.object_id)
        item = await clients.monday.get_item(monday.object_id)
        [rollback] = linked_runs(stack, failed.run_id)
        original = store_of(stack).get_run(failed.run_id)

    assert result.startswith(
        f"Failed (run {rollback.run_id}): rollback to `normalize` escalated: 1 undone; "
        f"left for a person: airtable record {airtable.object_id} (conflict: "
    )
    assert "Priority: ours 'Urgent', now 'High'" in result
    # the person's edit is left as they made it; Monday, untouched by anyone, is restored
    assert record.image() == edited.image()
    assert item is not None
    assert without_clock(item.image()) == without_clock(recorded(stack, monday.before_hash))
    assert (rollback.kind, rollback.status) == (RunKind.ROLLBACK, RunStatus.ESCALATED)
    assert original is not None and original.status is RunStatus.FAILED
    # the alert stays open for a person
    assert state.status == "open" and state.outcome is not None and not state.outcome.ok
