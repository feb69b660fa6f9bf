"""Replay from a step: recorded outputs stand in for the earlier steps, the rest runs.

Pure tests of the unified-diff applier, then real runs: real Temporal, the sandbox on
loopback (its request journal shows which tools were called), a real SQLite store.
"""

from __future__ import annotations

import asyncio
import difflib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connectors.sandbox.faults import Fault
from orchestrator.humanloop.replay.plan import ReplayError, plan_replay
from orchestrator.service.stack import Stack
from orchestrator.spec.pipeline import LoadedPipeline
from orchestrator.spec.unified_diff import PatchApplyError, apply_unified_diff
from tests.orchestrator.conftest import StackFactory
from tracer.store import RunKind, RunStatus

STEPTRACE = Path(sys.executable).with_name("steptrace")


def unified(old: str, new: str) -> str:
    """A unified diff as ``diff -u`` writes it (difflib leaves out the marker of a last
    line without a newline, and runs that line into the next)."""
    lines = difflib.unified_diff(
        old.splitlines(keepends=True), new.splitlines(keepends=True), "a/x", "b/x"
    )
    return "".join(
        line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in lines
    )


# --- the unified-diff applier ----------------------------------------------------------

lines = st.lists(st.sampled_from(["a", "b", "c", "", "  key: value", "- item"]), max_size=12)


@settings(deadline=None)
@given(lines, lines, st.booleans())
def test_a_diff_applied_to_its_source_gives_its_target(
    old: list[str], new: list[str], final_newline: bool
) -> None:
    end = "\n" if final_newline else ""
    before = "\n".join(old) + (end if old else "")
    after = "\n".join(new) + (end if new else "")
    patch = unified(before, after)
    if not patch:
        return
    assert apply_unified_diff(before, patch) == after


def test_a_missing_final_newline_is_kept_or_added_as_the_patch_says() -> None:
    assert apply_unified_diff("a\nb", unified("a\nb", "a\nb\n")) == "a\nb\n"
    assert apply_unified_diff("a\nb\n", unified("a\nb\n", "a\nc")) == "a\nc"


def test_several_hunks_apply_in_order() -> None:
    old = "".join(f"line {i}\n" for i in range(40))
    new = old.replace("line 3\n", "line three\n").replace("line 30\n", "line 30\nextra\n")
    patch = unified(old, new)
    assert patch.count("@@ -") == 2
    assert apply_unified_diff(old, patch) == new


def test_a_patch_whose_context_differs_is_refused_naming_the_line() -> None:
    patch = unified("a\nb\nc\n", "a\nB\nc\n")
    with pytest.raises(PatchApplyError, match=r"hunk 1 .* line 2: the text has 'x'"):
        apply_unified_diff("a\nx\nc\n", patch)


def test_a_patch_past_the_end_of_the_text_is_refused() -> None:
    patch = unified("a\nb\nc\nd\n", "a\nb\nc\nD\n")
    with pytest.raises(PatchApplyError, match="the text has 2 lines"):
        apply_unified_diff("a\nb\n", patch)


def test_hunks_out_of_order_are_refused() -> None:
    old = "".join(f"line {i}\n" for i in range(40))
    new = old.replace("line 3\n", "line three\n").replace("line 30\n", "line thirty\n")
    first, second = unified(old, new).split("@@ -")[1:]
    with pytest.raises(PatchApplyError, match=r"hunk 2 .* precedes the hunk before it"):
        apply_unified_diff(old, "@@ -" + second + "@@ -" + first)


def test_a_patch_without_hunks_or_cut_short_is_refused() -> None:
    with pytest.raises(PatchApplyError, match="no hunk"):
        apply_unified_diff("a\n", "--- a/x\n+++ b/x\n")
    with pytest.raises(PatchApplyError, match="cut short"):
        apply_unified_diff("a\nb\n", "@@ -1,2 +1,2 @@\n a\n")
    with pytest.raises(PatchApplyError, match="starts with '#'"):
        apply_unified_diff("a\nb\n", "@@ -1,2 +1,2 @@\n a\n# b\n")


# --- replays of real runs --------------------------------------------------------------


def linear_calls(stack: Stack) -> int:
    assert stack.sandbox is not None
    return len(stack.sandbox.journal.list("linear"))


async def test_a_replay_from_a_write_step_calls_no_earlier_tool_and_succeeds(
    make_stack: StackFactory, reference: LoadedPipeline
) -> None:
    async with make_stack() as stack:
        assert stack.store is not None
        original = await stack.run(reference, {"issue": "ENG-101"})
        assert original.status == "succeeded", original.error
        calls = linear_calls(stack)
        replay = await stack.replay(original.run_id, "upsert_airtable")
        assert linear_calls(stack) == calls, "the replay must not call Linear"
        run = stack.store.get_run(replay.run_id)
        attempts = stack.store.attempts(replay.run_id)
        first = stack.store.attempts(original.run_id)

    assert replay.status == "succeeded", replay.error
    assert replay.reused_steps == ["fetch_issue", "normalize"]
    assert run is not None and run.kind is RunKind.REPLAY
    assert run.parent_run_id == original.run_id and run.status is RunStatus.SUCCEEDED
    assert [a.step_id for a in attempts] == [s.id for s in reference.spec.steps]
    # the reused steps are traced with the original's input and output handoffs
    assert [(a.input_hash, a.output_hash) for a in attempts[:2]] == [
        (a.input_hash, a.output_hash) for a in first[:2]
    ]
    assert [w.action for a in attempts[2:4] for w in a.external_writes] == [
        "unchanged",
        "unchanged",
    ]


async def test_a_replay_with_an_approved_spec_patch_runs_the_patched_version(
    make_stack: StackFactory, reference: LoadedPipeline
) -> None:
    fault = Fault(
        service="airtable", kind="rename_field", target="Priority", to="Priority Level", from_run=2
    )
    async with make_stack(faults=[fault]) as stack:
        assert stack.store is not None and stack.sandbox is not None
        good = await stack.run(reference, {"issue": "ENG-103"})
        stack.sandbox.begin_run(2)
        failed = await stack.run(reference, {"issue": "ENG-101"})
        assert (good.status, failed.status) == ("succeeded", "failed")
        (diagnosis,) = stack.store.diagnoses(failed.run_id)
        fix = diagnosis.body["proposed_fix"]
        assert fix["kind"] == "spec_patch", diagnosis.body
        calls = linear_calls(stack)
        assert diagnosis.id is not None
        replay = await stack.replay(failed.run_id, "upsert_airtable", fix_id=diagnosis.id)
        assert linear_calls(stack) == calls
        run = stack.store.get_run(replay.run_id)
        spec = stack.store.get_pipeline_spec(replay.version)

    assert replay.status == "succeeded", replay.error
    assert replay.version != reference.version
    assert fix["patched_version"] in (None, replay.version)
    assert run is not None and run.version_hash == replay.version
    assert run.parent_run_id == failed.run_id
    assert spec is not None and "Priority Level: normalize.priority" in spec
    assert replay.outputs["upsert_airtable"]["fields"]["Priority Level"] == "No priority"


async def test_replay_requests_that_cannot_run_are_refused_with_the_reason(
    make_stack: StackFactory, reference: LoadedPipeline
) -> None:
    async with make_stack() as stack:
        store = stack.store
        assert store is not None
        done = await stack.run(reference, {"issue": "ENG-101"})
        retry = store.add_diagnosis(done.run_id, {"proposed_fix": {"kind": "retry"}})
        text = store.get_pipeline_spec(reference.version)
        assert text is not None
        stale = unified(text.replace("fetch_issue.title", "fetch_issue.name"), text)
        changes_normalize = text.replace("title: fetch_issue.title", "title: fetch_issue.url")
        bad_patch = store.add_diagnosis(
            done.run_id, {"proposed_fix": {"kind": "spec_patch", "patch": stale}}
        )

        with pytest.raises(LookupError, match="no run 'nope'"):
            plan_replay(store, "nope", "normalize")
        with pytest.raises(ReplayError, match="no step 'upsert' in pipeline"):
            plan_replay(store, done.run_id, "upsert")
        with pytest.raises(ReplayError, match="a 'retry' fix, not a spec_patch"):
            plan_replay(store, done.run_id, "upsert_airtable", fix_id=retry.id)
        with pytest.raises(ReplayError, match="no diagnosis 999"):
            plan_replay(store, done.run_id, "upsert_airtable", fix_id=999)
        with pytest.raises(PatchApplyError, match="does not apply"):
            plan_replay(store, done.run_id, "upsert_airtable", fix_id=bad_patch.id)
        with pytest.raises(ReplayError, match="changes step `normalize`, which comes before"):
            plan_replay(store, done.run_id, "sync_monday", patched_spec_text=changes_normalize)
        with pytest.raises(ReplayError, match="does not load"):
            plan_replay(store, done.run_id, "normalize", patched_spec_text="name: [")
        # without --from: the first step the patch changes
        plan = plan_replay(store, done.run_id, patched_spec_text=changes_normalize)
        assert plan.from_step == "normalize" and plan.reused_steps == ["fetch_issue"]


async def test_a_replay_needs_the_earlier_steps_to_have_succeeded(
    make_stack: StackFactory, reference: LoadedPipeline
) -> None:
    fault = Fault(service="airtable", kind="rename_field", target="Priority", to="Priority Level")
    async with make_stack(faults=[fault]) as stack:
        assert stack.store is not None
        failed = await stack.run(reference, {"issue": "ENG-101"})
        assert failed.status == "failed"
        with pytest.raises(ReplayError, match="step `upsert_airtable` has no recorded output"):
            plan_replay(stack.store, failed.run_id, "sync_monday")
        # by default a replay starts where the run failed
        assert plan_replay(stack.store, failed.run_id).from_step == "upsert_airtable"


def steptrace(
    tmp_path: Path, temporal_address: str, *args: str
) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "STEPTRACE_DATABASE_URL": f"sqlite:///{tmp_path / 'trace.db'}",
        "STEPTRACE_TEMPORAL_ADDRESS": temporal_address,
    }
    return subprocess.run(
        [str(STEPTRACE), *args], capture_output=True, text=True, env=env, check=False
    )


async def test_the_cli_replays_and_rolls_back_a_stored_run(
    make_stack: StackFactory, reference: LoadedPipeline, tmp_path: Path, temporal_address: str
) -> None:
    async with make_stack() as stack:  # the store is tmp_path/trace.db
        done = await stack.run(reference, {"issue": "ENG-101"})
    assert done.status == "succeeded"

    replayed = await asyncio.to_thread(
        steptrace,
        tmp_path,
        temporal_address,
        "replay",
        done.run_id,
        "--from",
        "sync_monday",
        "--json",
    )
    assert replayed.returncode == 0, replayed.stderr
    outcome = json.loads(replayed.stdout)
    assert outcome["status"] == "succeeded" and outcome["parent_run_id"] == done.run_id
    assert outcome["reused_steps"] == ["fetch_issue", "normalize", "upsert_airtable"]

    # the command's own sandbox is fresh: what the run wrote is not there, nothing to undo
    rolled = await asyncio.to_thread(
        steptrace, tmp_path, temporal_address, "rollback", done.run_id, "--to", "normalize"
    )
    assert rolled.returncode == 0, rolled.stderr
    assert rolled.stdout.count("already_undone") == 3

    unknown = await asyncio.to_thread(
        steptrace, tmp_path, temporal_address, "replay", "nope", "--from", "normalize"
    )
    assert unknown.returncode == 2 and "no run 'nope'" in unknown.stderr
