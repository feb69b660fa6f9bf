"""Good runs that skip re-reading a schema their worker read moments before leave the
diagnosis as sure as before: a rename after several of them is still found by field id,
against the schema the newest good run that did read it recorded, and the fix it
proposes writes what a fault-free twin writes (no harmful verified fix).

End to end: real Temporal, the sandbox over HTTP, a fresh SQLite store, the benchmark's
recovery check. The re-read window is widened so every good run after the first skips,
however slowly the machine runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import NoReturn

import pytest

from orchestrator.diagnosis import schema_record
from orchestrator.diagnosis.diagnoser import stored_diagnosis
from orchestrator.scenarios import load_scenario, run_scenario
from tests.scenarios.conftest import ScenarioWriter
from tracer.store import TraceStore

PIPELINE = Path(__file__).resolve().parents[2] / "pipelines" / "linear-triage-sync.yaml"
RENAMED_AT_RUN = 6


def _no_read_back(*_: object) -> NoReturn:
    raise AssertionError("a run's end read its steps back from the store")


async def test_a_rename_after_schema_skipping_good_runs_is_found_by_id(
    temporal_address: str,
    tmp_path: Path,
    write_scenario: ScenarioWriter,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(schema_record, "REREAD_AFTER", 3600.0)
    # The workflow names the steps it called at the run's end: nothing is read back.
    monkeypatch.setattr(schema_record, "tool_steps", _no_read_back)
    issues = ", ".join(f"ENG-{101 + n}" for n in range(RENAMED_AT_RUN))
    scenario = load_scenario(
        write_scenario(
            f"name: rename-after-skips\npipeline: {PIPELINE}\nseed: 7\n"
            f"runs: {{issues: [{issues}]}}\n"
            "faults:\n  - {service: airtable, kind: rename_field, target: Priority, "
            f"to: Priority Level, from_run: {RENAMED_AT_RUN}}}\n"
        )
    )
    url = f"sqlite:///{tmp_path}/trace.db"
    result = await run_scenario(
        scenario, temporal_address=temporal_address, database_url=url, check_recovery=True
    )

    *good, failed = result.runs
    assert [r.status for r in good] == ["succeeded"] * (RENAMED_AT_RUN - 1)
    assert failed.status == "failed" and failed.failed_step == "upsert_airtable"
    with TraceStore.open(url) as store:
        recorded = [store.run_schemas(r.run_id) for r in result.runs]
        diagnosis = stored_diagnosis(store, failed.run_id)
    assert "upsert_airtable" in recorded[0], "the first good run reads the schema"
    assert all("upsert_airtable" not in r for r in recorded[1:-1]), "the later ones skip"
    assert "upsert_airtable" in recorded[-1], "a failed run always reads"

    assert diagnosis is not None
    assert (diagnosis.onset_step, diagnosis.fault_class) == (
        "upsert_airtable",
        "destination_schema_drift",
    )
    changes = diagnosis.evidence.schema_diff
    assert any("renamed `Priority` → `Priority Level`" in c for c in changes), changes
    baseline = f"since {good[0].run_id}"
    assert any(baseline in c for c in diagnosis.evidence.chain), "compared with run 1's"
    fix = diagnosis.proposed_fix
    assert fix.kind == "spec_patch" and fix.verified is True, fix
    assert failed.recovery is not None and failed.recovery.recovers is True, failed.recovery
