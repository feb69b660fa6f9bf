"""The escalation workflow on a real Temporal dev server, posting to the Slack sandbox.

Hours-long acknowledgement timeouts are crossed with the server's per-workflow time
skipping (``TimeSkipper.fast_forward``), so each test takes seconds of real time.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.testing import TimeSkipper

from connectors.sandbox.server import Sandbox
from orchestrator.humanloop.alerts import ALERT_EVENT_TYPE, slack_transcript
from orchestrator.humanloop.escalation.model import ActionRequest, EscalationState, refusal_reason
from orchestrator.humanloop.escalation.workflow import EscalationWorkflow
from orchestrator.runtime.devserver import DevServer
from orchestrator.runtime.escalation_handoff import rollback_target, starting_tier
from orchestrator.spec.pipeline import EscalationSpec, PipelineSpecError, parse_pipeline
from tests.human.escalation_fixtures import *  # noqa: F403  (its fixtures, found by name)
from tests.human.escalation_fixtures import (
    ADA,
    BRUNO,
    CHIDI,
    DANA,
    RUN_ID,
    STEPS,
    RecordingActions,
    started,
    state,
)
from tracer.diagnosis_model import Diagnosis


@pytest.fixture(scope="module")
def temporal_address() -> Iterator[str]:
    """This module's dev server: the same as the session's, with time skipping switched on."""
    server = DevServer(time_skipping=True)
    loop = asyncio.new_event_loop()
    try:
        loop.run_until_complete(server.start())
        yield server.address
    finally:
        loop.run_until_complete(server.stop())
        loop.close()


def messages(sandbox: Sandbox, channel: str) -> list[dict[str, Any]]:
    snapshot = sandbox.state("slack")
    return [m for m in snapshot["messages"] if m["channel_name"] == channel]


async def test_an_unacknowledged_alert_climbs_to_the_next_tier(
    temporal: Client,
    task_queue: str,
    sandbox: Sandbox,
    diagnosis: Diagnosis,
    escalation_spec: EscalationSpec,
) -> None:
    handle = await started(temporal, task_queue, diagnosis, escalation_spec)
    [alert] = messages(sandbox, "ops-alerts")
    assert alert["metadata"]["event_type"] == ALERT_EVENT_TYPE
    assert alert["metadata"]["event_payload"]["run_id"] == RUN_ID

    await TimeSkipper(temporal).fast_forward(handle, timedelta(hours=2, minutes=1))

    now = await state(handle)
    assert (now.tier, now.tier_name, now.status) == (2, "engineering on call", "open")
    [note] = [m for m in messages(sandbox, "ops-alerts") if m.get("thread_ts") == alert["ts"]][1:]
    assert "No acknowledgement within 2h at tier 1 (ops)" in note["text"]
    assert "tier 2 (engineering on call) in #eng-oncall" in note["text"]
    [page] = messages(sandbox, "eng-oncall")
    assert page["metadata"]["event_payload"]["tier"] == 2
    assert f"<@{CHIDI}>" in str(page["blocks"])
    await handle.terminate("test over")


async def test_an_acknowledgement_stops_the_climbing(
    temporal: Client,
    task_queue: str,
    sandbox: Sandbox,
    diagnosis: Diagnosis,
    escalation_spec: EscalationSpec,
) -> None:
    handle = await started(temporal, task_queue, diagnosis, escalation_spec)
    await handle.execute_update(
        EscalationWorkflow.act, ActionRequest(action="acknowledge", user=DANA)
    )

    await TimeSkipper(temporal).fast_forward(handle, timedelta(hours=7))

    now = await state(handle)
    assert (now.tier, now.status, now.acknowledged_by) == (1, "acknowledged", DANA)
    assert messages(sandbox, "eng-oncall") == []
    thread = [m["text"] for m in messages(sandbox, "ops-alerts")]
    assert f"<@{DANA}> acknowledged: the alert stays at tier 1 (ops)." in thread
    await handle.terminate("test over")


async def test_an_approver_approves_and_the_replay_runs(
    temporal: Client,
    task_queue: str,
    sandbox: Sandbox,
    diagnosis: Diagnosis,
    escalation_spec: EscalationSpec,
    actions: RecordingActions,
) -> None:
    handle = await started(temporal, task_queue, diagnosis, escalation_spec)

    await handle.execute_update(EscalationWorkflow.act, ActionRequest(action="approve", user=ADA))
    result = await handle.result()

    assert actions.calls == [("approve", RUN_ID, "upsert_airtable")]
    assert result.status == "resolved"
    assert result.outcome is not None and result.outcome.run_id == f"{RUN_ID}-replay"
    [alert] = result.alerts
    transcript = slack_transcript(sandbox.state("slack"), "#ops-alerts", alert.ts)
    assert [m.text for m in transcript[1:]] == [
        f"<@{ADA}> approved the fix; replaying…",
        f"Done (run {RUN_ID}-replay): replay with the spec_patch succeeded",
    ]
    assert {m.thread for m in transcript[1:]} == {alert.ts}


async def test_someone_who_is_not_an_approver_is_refused(
    temporal: Client,
    task_queue: str,
    diagnosis: Diagnosis,
    escalation_spec: EscalationSpec,
    actions: RecordingActions,
) -> None:
    handle = await started(temporal, task_queue, diagnosis, escalation_spec)

    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await handle.execute_update(
            EscalationWorkflow.act, ActionRequest(action="rollback", user=CHIDI)
        )

    assert "only the approvers of tier 1 (ops) may roll back" in str(refused.value.cause)
    assert actions.calls == []
    assert (await state(handle)).status == "open"
    await handle.execute_update(
        EscalationWorkflow.act, ActionRequest(action="rollback", user=BRUNO)
    )
    await handle.result()
    assert actions.calls == [("rollback", RUN_ID, "normalize")]


async def test_a_transient_fault_pages_tier_one_saying_retries_did_not_help(
    temporal: Client,
    task_queue: str,
    sandbox: Sandbox,
    diagnosis: Diagnosis,
    escalation_spec: EscalationSpec,
) -> None:
    transient = diagnosis.model_copy(update={"fault_class": "transient"})
    handle = await started(temporal, task_queue, transient, escalation_spec)

    [alert] = messages(sandbox, "ops-alerts")
    assert "automatic retries (tier 0) did not fix it" in str(alert["blocks"])
    await handle.terminate("test over")


def test_the_fault_class_picks_the_starting_tier(escalation_spec: EscalationSpec) -> None:
    assert starting_tier(escalation_spec, "transient") == 0
    assert starting_tier(escalation_spec, "auth") == 2
    assert starting_tier(escalation_spec, "mapping_error") == 1  # default_start


def test_rollback_goes_to_the_step_before_the_onset() -> None:
    assert rollback_target(STEPS, "upsert_airtable") == "normalize"
    assert rollback_target(STEPS, "fetch_issue") is None
    assert rollback_target(STEPS, None) is None


def test_only_the_current_tiers_approvers_may_approve(escalation_spec: EscalationSpec) -> None:
    tier = escalation_spec.tiers[1]
    now = EscalationState(
        run_id=RUN_ID, tier=1, tier_name="ops", status="open", approvers=tier.approvers
    )
    assert refusal_reason(now, tier, ActionRequest(action="approve", user=ADA)) is None
    assert refusal_reason(now, tier, ActionRequest(action="acknowledge", user=DANA)) is None
    refused = refusal_reason(now, tier, ActionRequest(action="approve", user=DANA))
    assert refused == f"only the approvers of tier 1 (ops) may approve: <@{ADA}>, <@{BRUNO}>"
    done = now.model_copy(update={"status": "resolved"})
    assert refusal_reason(done, tier, ActionRequest(action="approve", user=ADA)) == (
        f"run {RUN_ID} is already resolved"
    )


SPEC_HEAD = """
name: p
steps:
  - id: fetch
    op: linear.get_issue
    args: {id: trigger.issue}
escalation:
"""


@pytest.mark.parametrize(
    ("escalation", "expected"),
    [
        (
            "  tiers:\n    - notify: ['#a']\n      ack_timeout: 1h\n    - automatic: true\n",
            "tier 0 is the automatic one",
        ),
        (
            "  tiers:\n    - automatic: true\n    - notify: ['#a']\n      ack_timeout: soon\n",
            "'soon' is not a duration",
        ),
        (
            "  tiers:\n    - automatic: true\n    - notify: [U0A2OJVXRPU]\n      ack_timeout: 1h\n",
            "a tier must notify a channel",
        ),
        (
            "  tiers:\n    - automatic: true\n    - notify: ['#a']\n      ack_timeout: 1h\n"
            "  start: {auth: 3}\n",
            "start auth: no tier 3 (tiers 0..1)",
        ),
    ],
)
def test_bad_escalation_sections_are_refused_with_the_reason(
    escalation: str, expected: str
) -> None:
    with pytest.raises(PipelineSpecError) as error:
        parse_pipeline(SPEC_HEAD + escalation, source="p.yaml")
    assert expected in str(error.value)
    assert "p.yaml:" in str(error.value)


def test_a_spec_without_escalation_keeps_its_version() -> None:
    """Adding the optional key must not change the version of the specs stored before."""
    loaded = parse_pipeline(SPEC_HEAD.replace("escalation:\n", ""))
    data = loaded.spec.model_dump(mode="json", by_alias=True)
    assert data.pop("escalation") is None
    # Nor do the keys added after it (triggers, schedule).
    assert data.pop("triggers") == [] and data.pop("schedule") is None
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"))
    assert loaded.version == hashlib.sha256(canonical.encode()).hexdigest()[:16]
