"""Diagnoses of real failed runs: real Temporal, the sandbox on loopback, a real store.

Two good runs are the baseline; the third run meets a fault. The workflow stores a
diagnosis before it ends; ``steptrace why`` reads it back.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from connectors.sandbox.faults import Fault
from orchestrator.diagnosis.diagnoser import diagnose_run, stored_diagnosis
from orchestrator.service.stack import Stack
from orchestrator.spec.pipeline import LoadedPipeline
from tests.orchestrator.conftest import StackFactory
from tracer.diagnosis_model import Diagnosis

ISSUES = ("ENG-101", "ENG-103", "ENG-104")
STEPTRACE = Path(sys.executable).with_name("steptrace")


def why_cli(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "STEPTRACE_DATABASE_URL": f"sqlite:///{tmp_path / 'trace.db'}"}
    return subprocess.run(
        [str(STEPTRACE), "why", *args], capture_output=True, text=True, env=env, check=False
    )


async def third_run_diagnosis(stack: Stack, pipeline: LoadedPipeline) -> Diagnosis:
    assert stack.sandbox is not None and stack.store is not None
    outcome = None
    for index, issue in enumerate(ISSUES, start=1):
        stack.sandbox.begin_run(index)
        outcome = await stack.run(pipeline, {"issue": issue})
        assert outcome.status == ("failed" if index == 3 else "succeeded"), outcome.error
    assert outcome is not None
    found = stored_diagnosis(stack.store, outcome.run_id)
    assert found is not None, "the workflow stores a diagnosis for every failed run"
    return found


async def test_a_renamed_airtable_field_gets_a_verified_rename_patch(
    make_stack: StackFactory, reference: LoadedPipeline, tmp_path: Path
) -> None:
    fault = Fault(
        service="airtable", kind="rename_field", target="Priority", to="Priority Level", from_run=3
    )
    async with make_stack(faults=[fault]) as stack:
        diagnosis = await third_run_diagnosis(stack, reference)
    assert (diagnosis.failed_step, diagnosis.onset_step) == ("upsert_airtable", "upsert_airtable")
    assert diagnosis.fault_class == "destination_schema_drift"
    fix = diagnosis.proposed_fix
    assert fix.kind == "spec_patch" and fix.verified is True
    assert fix.patch is not None
    assert "-        Priority: normalize.priority" in fix.patch
    assert "+        Priority Level: normalize.priority" in fix.patch
    assert fix.patched_version and fix.patched_version != reference.version
    assert diagnosis.explanation.count(". ") <= 2

    done = why_cli(tmp_path, "latest", "--json")
    assert done.returncode == 0, done.stderr
    shown = json.loads(done.stdout)
    assert shown["onset_step"] == "upsert_airtable"
    assert set(shown) >= {
        "run_id",
        "status",
        "failed_step",
        "onset_step",
        "fault_class",
        "explanation",
        "evidence",
        "proposed_fix",
        "links",
    }
    text = why_cli(tmp_path, "latest")
    assert text.returncode == 0 and "Priority Level" in text.stdout


async def test_a_removed_monday_label_is_destination_drift_and_the_patch_is_checked(
    make_stack: StackFactory, reference: LoadedPipeline
) -> None:
    fault = Fault(
        service="monday", kind="remove_option", target="Status", value="Triage", from_run=3
    )
    async with make_stack(faults=[fault]) as stack:
        diagnosis = await third_run_diagnosis(stack, reference)
        assert stack.store is not None
        offline = await diagnose_run(stack.store, diagnosis.run_id)
    assert (diagnosis.onset_step, diagnosis.fault_class) == (
        "sync_monday",
        "destination_schema_drift",
    )
    assert diagnosis.proposed_fix.kind == "spec_patch"
    # No remaining label is close to "Triage": the patch maps it to nothing, which writes
    # Status empty. Accepted by Monday, but data dropped: never verified.
    assert diagnosis.proposed_fix.verified is False
    assert "would write `Status` empty (data dropped)" in diagnosis.proposed_fix.detail
    assert any("no longer offers `Triage`" in c for c in diagnosis.evidence.schema_diff)
    assert offline.proposed_fix.verified is not True, "without live schemas nothing is claimed"


async def test_a_revoked_token_asks_for_a_credential_and_an_outage_for_a_retry(
    make_stack: StackFactory, reference: LoadedPipeline
) -> None:
    faults = [
        Fault(service="slack", kind="revoke_token", from_run=3),
    ]
    async with make_stack(faults=faults) as stack:
        diagnosis = await third_run_diagnosis(stack, reference)
    assert (diagnosis.onset_step, diagnosis.fault_class) == ("notify_slack", "auth")
    assert diagnosis.proposed_fix.kind == "credential"
    assert diagnosis.proposed_fix.verified is None


async def test_a_rename_is_found_by_field_id_and_the_schema_diff_is_shown(
    make_stack: StackFactory, reference: LoadedPipeline
) -> None:
    fault = Fault(
        service="airtable", kind="rename_field", target="Priority", to="Urgency", from_run=3
    )
    async with make_stack(faults=[fault]) as stack:
        diagnosis = await third_run_diagnosis(stack, reference)
        assert stack.store is not None
        recorded = stack.store.run_schemas(diagnosis.run_id)
    assert "upsert_airtable" in recorded, "every run records the schemas it depended on"
    assert any("renamed `Priority` → `Urgency`" in c for c in diagnosis.evidence.schema_diff)
    fix = diagnosis.proposed_fix
    assert fix.kind == "spec_patch" and fix.verified is True, fix
    assert fix.patch is not None and "+        Urgency: normalize.priority" in fix.patch
    assert "same id" in fix.detail
    assert diagnosis.confidence is not None and diagnosis.confidence >= 0.9


async def test_a_dropped_destination_field_is_never_a_verified_fix(
    make_stack: StackFactory, reference: LoadedPipeline
) -> None:
    fault = Fault(service="airtable", kind="drop_field", target="Priority", from_run=3)
    async with make_stack(faults=[fault]) as stack:
        diagnosis = await third_run_diagnosis(stack, reference)
    assert diagnosis.fault_class == "destination_schema_drift"
    assert any("removed" in c for c in diagnosis.evidence.schema_diff)
    fix = diagnosis.proposed_fix
    assert fix.verified is not True, "stopping to write a field drops data"
    if fix.kind == "spec_patch":
        assert "data dropped" in fix.detail or "no longer write" in fix.detail, fix
