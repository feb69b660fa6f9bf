"""Actions from the console go the Slack buttons' way: the escalation workflow decides,
every outcome is audited, an approval replays the run with the fix."""

from __future__ import annotations

import re

import httpx
from pydantic import SecretStr

from orchestrator.service.stack import Stack
from orchestrator.spec.pipeline import LoadedPipeline
from tests.console.conftest import console_for
from tests.console.test_pages import PRIORITY_RENAMED, good_then_failed, store_of
from tests.human.loop_fixtures import alert_for, end_escalation, escalation_state, eventually
from tests.orchestrator.conftest import StackFactory
from tracer.store import RunKind, RunStatus, TraceStore

OUTSIDER = "UOUTSIDER01"


def tier_one_approver(pipeline: LoadedPipeline) -> str:
    assert pipeline.spec.escalation is not None
    return pipeline.spec.escalation.tiers[1].approvers[0]


async def csrf_of(client: httpx.AsyncClient, path: str) -> str:
    page = await client.get(path)
    found = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert found is not None, page.text
    return found.group(1)


async def test_a_non_approver_is_refused_and_audited_an_approver_replays(
    make_stack: StackFactory, reference: LoadedPipeline, secret: SecretStr
) -> None:
    approver = tier_one_approver(reference)
    async with make_stack(faults=[PRIORITY_RENAMED], escalate=True) as stack:
        _, failed = await good_then_failed(stack, reference)
        store = store_of(stack)
        confirm = f"/act/approve/{failed.run_id}"
        try:
            await alert_for(stack, failed.run_id)
            async with console_for(stack, secret, OUTSIDER) as outsider:
                token = await csrf_of(outsider, confirm)
                refused = await outsider.post(confirm, data={"csrf": token})
                shown = await outsider.get(refused.headers["location"])
            async with console_for(stack, secret, approver) as person:
                token = await csrf_of(person, confirm)
                done = await person.post(confirm, data={"csrf": token})
                await eventually(lambda: bool(store.list_runs(parent_run_id=failed.run_id)))
                [replay] = store.list_runs(parent_run_id=failed.run_id)
                await eventually(lambda: ended(store, replay.run_id))
                await eventually(lambda: resolved(stack, failed.run_id))
                state = await escalation_state(stack, failed.run_id)
                page = await person.get(f"/run/{failed.run_id}")
        finally:
            await end_escalation(stack, failed.run_id)
        audit = store.human_actions(failed.run_id)
        replayed = store.get_run(replay.run_id)

    assert refused.status_code == 303 and "only the approvers of tier 1" in shown.text
    assert done.status_code == 303
    assert [(a.slack_user_id, a.action, a.allowed) for a in audit] == [
        (OUTSIDER, "approve", False),
        (approver, "approve", True),
    ]
    assert audit[0].detail["source"] == "console"
    assert "only the approvers of tier 1" in audit[0].detail["refused"]
    assert replayed is not None and replayed.kind is RunKind.REPLAY
    assert replayed.status is RunStatus.SUCCEEDED
    assert state.status == "resolved"
    assert "replay from `upsert_airtable` succeeded" in page.text
    assert "refused" in page.text and OUTSIDER in page.text  # the audit trail
    # the alert's Slack thread, read back from the sandbox
    assert f"&lt;@{approver}&gt; approved the fix; replaying" in page.text
    assert "Alert thread in Slack" in page.text


def ended(store: TraceStore, run_id: str) -> bool:
    run = store.get_run(run_id)
    return run is not None and run.status is not RunStatus.RUNNING


async def resolved(stack: Stack, run_id: str) -> bool:
    return (await escalation_state(stack, run_id)).status == "resolved"
