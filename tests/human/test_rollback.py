"""Rollback to a prior step: real runs, a real Temporal ``RollbackWorkflow``, the sandbox on
loopback. What the tools hold afterwards is compared with the recorded before-images and
with the emulators' own state; a person's edit is made through the connectors, over HTTP.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from connectors.airtable.models import RecordUpdate
from connectors.linear.models import IssueUpdate
from orchestrator.humanloop.rollback.plan import RollbackError, RollbackResult, plan_rollback
from orchestrator.service.stack import Stack
from orchestrator.spec.pipeline import LoadedPipeline, parse_pipeline
from orchestrator.tools.clients import ToolClients
from tests.orchestrator.conftest import StackFactory
from tracer.run_model import find_run
from tracer.store import AttemptRecord, NewRun, RunKind, RunStatus, StoreDataError, TraceStore

STEPTRACE = Path(sys.executable).with_name("steptrace")


@contextlib.asynccontextmanager
async def tools(stack: Stack) -> AsyncIterator[ToolClients]:
    """The connectors, as a person's own script would use them."""
    async with httpx.AsyncClient() as http:
        yield ToolClients.from_settings(stack.settings, http)


def written(stack: Stack, run_id: str, step: str) -> AttemptRecord:
    assert stack.store is not None
    (attempt,) = [a for a in stack.store.attempts(run_id) if a.step_id == step and a.output_hash]
    return attempt


def image(stack: Stack, hash: str | None) -> Any:
    assert stack.store is not None and hash is not None
    return stack.store.get_payload(hash)


def outcomes(result: RollbackResult) -> list[tuple[str, str]]:
    return [(r.step_id, r.outcome) for r in result.results]


def without_clock(item: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in item.items() if k != "updated_at"}


def slack_timestamps(stack: Stack) -> set[str]:
    assert stack.sandbox is not None
    return {m["ts"] for m in stack.sandbox.state("slack")["messages"] if not m["deleted"]}


async def test_rolling_back_a_run_that_created_records_removes_them_exactly(
    make_stack: StackFactory, reference: LoadedPipeline
) -> None:
    async with make_stack() as stack:
        assert stack.sandbox is not None and stack.store is not None
        airtable_before = stack.sandbox.state("airtable")
        monday_before = stack.sandbox.state("monday")["boards"]
        run = await stack.run(reference, {"issue": "ENG-101"})
        assert run.status == "succeeded", run.error
        posted = written(stack, run.run_id, "notify_slack").external_writes[0].object_id
        assert posted in slack_timestamps(stack)

        result = await stack.rollback(run.run_id, "fetch_issue")
        again = await stack.rollback(run.run_id, "fetch_issue")

        assert stack.sandbox.state("airtable") == airtable_before
        assert stack.sandbox.state("monday")["boards"] == monday_before
        assert posted not in slack_timestamps(stack)
        original = stack.store.get_run(run.run_id)
        traced = stack.store.get_run(result.run_id)
        undo_attempts = stack.store.attempts(result.run_id)

    assert result.status == "succeeded" and not result.left_over
    assert outcomes(result) == [
        ("notify_slack", "deleted"),
        ("sync_monday", "deleted"),
        ("upsert_airtable", "deleted"),
    ]
    assert all(r.verified for r in result.results)
    assert original is not None and original.status is RunStatus.ROLLED_BACK
    assert traced is not None and traced.kind is RunKind.ROLLBACK
    assert traced.parent_run_id == run.run_id and traced.status is RunStatus.SUCCEEDED
    assert [(a.step_id, [w.action for w in a.external_writes]) for a in undo_attempts] == [
        ("undo_notify_slack", ["deleted"]),
        ("undo_sync_monday", ["deleted"]),
        ("undo_upsert_airtable", ["deleted"]),
    ]
    # a second rollback finds everything undone and changes nothing
    assert again.status == "succeeded"
    assert {r.outcome for r in again.results} == {"already_undone"}


async def test_rolling_back_an_update_restores_the_before_images(
    make_stack: StackFactory, reference: LoadedPipeline
) -> None:
    async with make_stack() as stack, tools(stack) as clients:
        assert stack.sandbox is not None
        first = await stack.run(reference, {"issue": "ENG-101"})
        await clients.linear.update_issue(
            "ENG-101", IssueUpdate(title="Notification emails time out", priority=1)
        )
        airtable_between = stack.sandbox.state("airtable")
        second = await stack.run(reference, {"issue": "ENG-101"})
        assert (first.status, second.status) == ("succeeded", "succeeded"), second.error
        monday = written(stack, second.run_id, "sync_monday").external_writes[0]
        airtable = written(stack, second.run_id, "upsert_airtable").external_writes[0]
        assert (monday.action, airtable.action) == ("updated", "updated")
        posted = written(stack, second.run_id, "notify_slack").external_writes[0].object_id
        kept = written(stack, first.run_id, "notify_slack").external_writes[0].object_id

        result = await stack.rollback(second.run_id, "normalize")

        item = await clients.monday.get_item(monday.object_id)
        base, _, table = (airtable.container or "").partition("/")
        record = await clients.airtable.get_record(base, table, airtable.object_id)
        assert stack.sandbox.state("airtable") == airtable_between
        messages = slack_timestamps(stack)

    assert result.status == "succeeded", result.results
    assert outcomes(result) == [
        ("notify_slack", "deleted"),
        ("sync_monday", "restored"),
        ("upsert_airtable", "restored"),
    ]
    assert record.image() == image(stack, airtable.before_hash)
    assert item is not None
    assert without_clock(item.image()) == without_clock(image(stack, monday.before_hash))
    assert posted not in messages and kept in messages


async def test_a_persons_later_edit_is_a_conflict_and_is_left_untouched(
    make_stack: StackFactory, reference: LoadedPipeline
) -> None:
    async with make_stack() as stack, tools(stack) as clients:
        assert stack.store is not None
        run = await stack.run(reference, {"issue": "ENG-101"})
        airtable = written(stack, run.run_id, "upsert_airtable").external_writes[0]
        monday = written(stack, run.run_id, "sync_monday").external_writes[0]
        base, _, table = (airtable.container or "").partition("/")
        edit = RecordUpdate(id=airtable.object_id, fields={"Priority": "Urgent"})
        await clients.airtable.update_records(base, table, [edit])
        await clients.monday.change_column_values(
            monday.container or "", monday.object_id, {"Status": "Stuck"}
        )

        result = await stack.rollback(run.run_id, "normalize")

        record = await clients.airtable.get_record(base, table, airtable.object_id)
        item = await clients.monday.get_item(monday.object_id)
        original = stack.store.get_run(run.run_id)
        traced = stack.store.get_run(result.run_id)

    assert result.status == "escalated"
    assert outcomes(result) == [
        ("notify_slack", "deleted"),
        ("sync_monday", "conflict"),
        ("upsert_airtable", "conflict"),
    ]
    assert [c.object_id for c in result.conflicts] == [monday.object_id, airtable.object_id]
    assert "Priority: ours 'No priority', now 'Urgent'" in result.conflicts[1].detail
    assert record.fields["Priority"] == "Urgent"
    assert item is not None and item.text("status") == "Stuck"
    assert traced is not None and traced.status is RunStatus.ESCALATED
    assert original is not None and original.status is RunStatus.SUCCEEDED


UPSERT_ISSUE = """
name: issue-upkeep
steps:
  - id: prepare
    op: transform
    map:
      title: trigger.title
  - id: upsert_issue
    op: linear.upsert_issue
    args:
      key: "'upkeep-1'"
      team: "'ENG'"
      title: prepare.title
"""


async def test_a_linear_update_is_restored_and_a_created_issue_is_reported(
    make_stack: StackFactory,
) -> None:
    pipeline = parse_pipeline(UPSERT_ISSUE)
    async with make_stack() as stack, tools(stack) as clients:
        created = await stack.run(pipeline, {"title": "Rotate the keys"})
        updated = await stack.run(pipeline, {"title": "Rotate the signing keys"})
        issue_id = written(stack, created.run_id, "upsert_issue").external_writes[0].object_id

        restored = await stack.rollback(updated.run_id, "prepare")
        title_after_restore = (await clients.linear.get_issue(issue_id)).title
        left = await stack.rollback(created.run_id, "prepare")
        still_there = (await clients.linear.get_issue(issue_id)).title

    assert restored.status == "succeeded" and outcomes(restored) == [("upsert_issue", "restored")]
    assert title_after_restore == "Rotate the keys"
    assert left.status == "escalated"
    assert outcomes(left) == [("upsert_issue", "not_undoable")]
    assert "archive it in Linear" in left.results[0].detail
    assert still_there == "Rotate the keys"


async def test_rollback_requests_that_cannot_run_are_refused_with_the_reason(
    make_stack: StackFactory, reference: LoadedPipeline, tmp_path: Path
) -> None:
    async with make_stack() as stack:
        store = stack.store
        assert store is not None
        done = await stack.run(reference, {"issue": "ENG-101"})
        run = find_run(store, done.run_id)
        with pytest.raises(RollbackError, match=r"has no step 'fetch' \(its steps: fetch_issue"):
            plan_rollback(store, run, "fetch")
        with pytest.raises(RollbackError, match="nothing ran after step `notify_slack`"):
            plan_rollback(store, run, "notify_slack")
        with pytest.raises(LookupError, match="no run 'nope'"):
            await stack.rollback("nope", "fetch_issue")

    env = {**os.environ, "STEPTRACE_DATABASE_URL": f"sqlite:///{tmp_path / 'trace.db'}"}
    cli = await asyncio.to_thread(
        subprocess.run,
        [str(STEPTRACE), "rollback", done.run_id, "--to", "fetch"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert cli.returncode == 2 and "has no step 'fetch'" in cli.stderr


def test_a_runs_status_can_change_after_it_ended(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    with TraceStore.open(f"sqlite:///{tmp_path / 'trace.db'}") as store:
        store.start_run(NewRun(run_id="w/1", pipeline="p", started_at=datetime.now(UTC)))
        store.finish_run("w/1", RunStatus.FAILED, "upsert_airtable")
        ended = store.get_run("w/1")
        store.set_run_status("w/1", RunStatus.ROLLED_BACK)
        after = store.get_run("w/1")
        with pytest.raises(StoreDataError, match="no such run"):
            store.set_run_status("w/2", RunStatus.ROLLED_BACK)
    assert ended is not None and after is not None
    assert after.status is RunStatus.ROLLED_BACK
    assert (after.failed_step, after.ended_at) == (ended.failed_step, ended.ended_at)
