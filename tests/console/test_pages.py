"""Every page over a real failure: a good run, then the Airtable `Priority` rename.

One stack per test (the runs take a few seconds), many assertions over it: the runs list
and its filters, failure groups, the run page (timeline, onset, payload trees, handoff
diff, writes, diagnosis and fix), pipelines and version diffs, payloads, JSON forms and
the confirmation page.
"""

from __future__ import annotations

from urllib.parse import quote

import httpx
from pydantic import SecretStr

from connectors.sandbox.faults import Fault
from orchestrator.humanloop.actions import escalation_state
from orchestrator.service.stack import RunOutcome, Stack
from orchestrator.spec.pipeline import LoadedPipeline
from tests.console.conftest import console_for
from tests.human.loop_fixtures import alert_for, end_escalation
from tests.orchestrator.conftest import StackFactory
from tests.orchestrator.processes import poll_until
from tracer.insights import failure_groups
from tracer.store import TraceStore

PRIORITY_RENAMED = Fault(
    service="airtable", kind="rename_field", target="Priority", to="Priority Level", from_run=2
)
MAX_PAGE_BYTES = 300 * 1024


async def good_then_failed(stack: Stack, pipeline: LoadedPipeline) -> tuple[RunOutcome, RunOutcome]:
    good = await stack.run(pipeline, {"issue": "ENG-103"})
    assert stack.sandbox is not None
    stack.sandbox.begin_run(2)
    failed = await stack.run(pipeline, {"issue": "ENG-101"})
    assert (good.status, failed.status) == ("succeeded", "failed"), (good.error, failed.error)
    if stack.escalate:
        # The alert is raised by the failure's alert group after the run has ended: a
        # person can act once its escalation exists.
        await poll_until(lambda: _has_escalation(stack, failed.run_id), within=60, every=0.1)
    return good, failed


async def _has_escalation(stack: Stack, run_id: str) -> bool:
    return await escalation_state(stack.client, run_id) is not None


def store_of(stack: Stack) -> TraceStore:
    assert stack.store is not None
    return stack.store


async def test_the_pages_show_a_failure_from_the_list_to_the_fix(
    make_stack: StackFactory, reference: LoadedPipeline, secret: SecretStr
) -> None:
    async with make_stack(faults=[PRIORITY_RENAMED], escalate=True) as stack:
        good, failed = await good_then_failed(stack, reference)
        try:
            async with console_for(stack, secret, "U0A2OJVXRPU") as client:
                await _runs_list(client, good, failed)
                await _run_page(client, good, failed)
                await _groups_and_pipelines(client, failed, reference)
                await _one_group_everywhere(stack, client, failed)
                await _confirmation(client, failed)
        finally:
            await end_escalation(stack, failed.run_id)


async def _runs_list(client: httpx.AsyncClient, good: RunOutcome, failed: RunOutcome) -> None:
    page = await client.get("/runs")
    assert page.status_code == 200
    assert len(page.content) <= MAX_PAGE_BYTES
    assert f'href="/run/{quote(failed.run_id)}"' in page.text
    data = (await client.get("/runs.json")).json()
    assert [r["run_id"] for r in data["runs"]] == [failed.run_id, good.run_id]
    [failed_row] = [r for r in data["runs"] if r["status"] == "failed"]
    assert failed_row["fingerprint"]["onset_step"] == "upsert_airtable"
    only_failed = (await client.get("/runs.json", params={"status": "failed"})).json()
    assert [r["run_id"] for r in only_failed["runs"]] == [failed.run_id]
    other = (await client.get("/runs.json", params={"pipeline": "nope"})).json()
    assert other["runs"] == []
    group = failed_row["group_key"]
    members = (await client.get("/runs.json", params={"group": group})).json()
    assert [r["run_id"] for r in members["runs"]] == [failed.run_id]
    assert members["group"]["runs"] == 1
    assert members["group"]["fingerprint"] == failed_row["fingerprint"]
    assert (
        "destination_schema_drift started at upsert_airtable"
        in (await client.get("/runs", params={"group": group})).text
    )
    none = (await client.get("/runs.json", params={"group": "000000000000"})).json()
    assert none["runs"] == []
    later = (await client.get("/runs.json", params={"since": "2999-01-01T00:00"})).json()
    assert later["runs"] == []
    bad = await client.get("/runs", params={"status": "sleeping"})
    assert bad.status_code == 400 and "status" in bad.text


async def _one_group_everywhere(
    stack: Stack, client: httpx.AsyncClient, failed: RunOutcome
) -> None:
    """The failure's group id is the same in the store, the console, insights and the
    alert (which names it, to link its page)."""
    [stored] = store_of(stack).diagnoses(failed.run_id)
    data = (await client.get("/runs.json", params={"status": "failed"})).json()
    assert data["runs"][0]["group_key"] == stored.group_id
    url = store_of(stack).engine.url.render_as_string(hide_password=False)
    [group] = failure_groups(url)
    assert group.id == stored.group_id
    alert = await alert_for(stack, failed.run_id)
    assert f"failure group `{stored.group_id}`" in str(alert["blocks"])


async def _run_page(client: httpx.AsyncClient, good: RunOutcome, failed: RunOutcome) -> None:
    page = await client.get(f"/run/{failed.run_id}")
    html = page.text
    assert page.status_code == 200 and len(page.content) <= MAX_PAGE_BYTES
    assert 'class="step failed is-onset is-failed"' in html.replace("  ", " ")
    assert "onset: the failure started here" in html
    assert "Priority Level" in html  # the implicated value and the fix
    assert 'class="changed"' in html  # the handoff diff highlighted in the tree
    assert "Handoff diff against the last good run" in html
    assert f'href="/run/{quote(good.run_id)}"' in html
    assert "<ins>+" in html and "<del>-" in html  # the fix as a unified diff
    assert "http://temporal-ui.test/namespaces/default/workflows/" in html
    assert "Approve fix &amp; replay" in html
    data = (await client.get(f"/run/{failed.run_id}.json")).json()
    steps = {s["view"]["id"]: s for s in data["steps"]}
    assert steps["upsert_airtable"]["is_onset"] and steps["upsert_airtable"]["is_failed"]
    assert data["diagnosis"]["fault_class"] == "destination_schema_drift"
    assert data["escalation"]["tier"] == 1 and data["escalation"]["status"] == "open"
    [thread] = data["threads"]
    assert thread["messages"] and "upsert_airtable" in thread["messages"][0]["text"]
    assert data["last_good_run_id"] == good.run_id
    good_page = (await client.get(f"/run/{good.run_id}.json")).json()
    assert any(w["after"] for s in good_page["steps"] for w in s["writes"])
    digest = steps["upsert_airtable"]["input_hash"]
    payload = await client.get(f"/payload/{digest}")
    assert payload.status_code == 200 and isinstance(payload.json(), dict)
    missing = await client.get(f"/payload/{'0' * 64}")
    assert missing.status_code == 404


async def _groups_and_pipelines(
    client: httpx.AsyncClient, failed: RunOutcome, reference: LoadedPipeline
) -> None:
    groups = (await client.get("/groups.json")).json()["groups"]
    assert [(g["runs"], g["latest_run_id"]) for g in groups] == [(1, failed.run_id)]
    page = (await client.get("/groups")).text
    assert "destination_schema_drift" in page
    assert f'href="/runs?group={groups[0]["group_id"]}"' in page
    pipelines = (await client.get("/pipelines.json")).json()["pipelines"]
    [mine] = [p for p in pipelines if p["pipeline"] == reference.spec.name]
    assert mine["runs"] >= 2 and mine["versions"] >= 1
    page = await client.get(f"/pipeline/{reference.spec.name}")
    assert page.status_code == 200 and reference.version[:12] in page.text
    missing = await client.get("/pipeline/nope")
    assert missing.status_code == 404


async def _confirmation(client: httpx.AsyncClient, failed: RunOutcome) -> None:
    page = await client.get(f"/act/approve/{failed.run_id}")
    assert page.status_code == 200
    assert "A replay of run" in page.text and "escalation/" in page.text
    assert 'name="csrf"' in page.text
    data = (await client.get(f"/act/approve/{failed.run_id}.json")).json()
    assert data["fix"]["kind"] == "spec_patch" and data["problem"] is None
    assert data["request"] == {"action": "approve", "user": "U0A2OJVXRPU", "to_step": None}
    rollback = (
        await client.get(f"/act/rollback/{failed.run_id}.json", params={"to_step": "fetch_issue"})
    ).json()
    assert rollback["problem"] is None or "nothing" not in rollback["problem"]
    unknown = await client.get(f"/act/launch/{failed.run_id}")
    assert unknown.status_code == 404
