"""``steptrace scenario run`` as a user runs it: a child process, JSON on stdout, progress
on stderr, and exit 2 with one line for a file that cannot run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.scenarios.conftest import ScenarioWriter

STEPTRACE = Path(sys.executable).with_name("steptrace")

SMALL = """\
name: small-rename
pipeline: pipelines/linear-triage-sync.yaml
seed: 7
runs: {issues: [ENG-101, ENG-103, ENG-104]}
faults:
  - {service: airtable, kind: http_error, status: 503, times: 1, from_run: 2}
  - {service: airtable, kind: rename_field, target: Priority, to: Priority Level, from_run: 3}
expect:
  - {run: 1, status: succeeded}
  - {run: 2, status: succeeded}
  - {run: 3, status: failed, onset_step: upsert_airtable,
     fault_class: destination_schema_drift, fix_kind: spec_patch}
"""


def steptrace(*args: str, temporal_address: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("STEPTRACE_")}
    if temporal_address:
        env["STEPTRACE_TEMPORAL_ADDRESS"] = temporal_address
    return subprocess.run(
        [str(STEPTRACE), *args], capture_output=True, text=True, env=env, check=False
    )


def test_scenario_run_prints_the_design_object(
    write_scenario: ScenarioWriter, temporal_address: str
) -> None:
    path = write_scenario(SMALL)
    done = steptrace("scenario", "run", str(path), "--json", temporal_address=temporal_address)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["scenario"] == "small-rename"
    assert [r["status"] for r in result["runs"]] == ["succeeded", "succeeded", "failed"]
    assert [r["trigger"] for r in result["runs"]] == [
        {"issue": "ENG-101"},
        {"issue": "ENG-103"},
        {"issue": "ENG-104"},
    ]
    first, second, third = result["runs"]
    assert [r["index"] for r in result["runs"]] == [1, 2, 3]
    assert {"run_id", "failed_step", "diagnosis", "qc"} <= set(third)
    assert third["failed_step"] == "upsert_airtable"
    assert first["diagnosis"] is None and second["diagnosis"] is None
    # the 503 in run 2 was absorbed by a retry, and the retry is visible
    upsert = next(step for step in second["steps"] if step["id"] == "upsert_airtable")
    assert upsert["attempts"] - 1 + len(upsert["inner_retries"]) == 1
    assert third["baselines"]["raised_step"] == "upsert_airtable"
    assert third["baselines"]["last_good_run"] == second["run_id"]
    if third["diagnosis"] is not None:  # stored by the workflow for every failed run
        assert {"onset_step", "fault_class", "explanation", "proposed_fix"} <= set(
            third["diagnosis"]
        )
        assert {"kind", "patch", "verified"} <= set(third["diagnosis"]["proposed_fix"])
    totals = result["score"]["totals"]
    assert totals["status"] == {"right": 3, "of": 3}
    assert totals["onset_step"]["of"] == 1
    assert "small-rename: run 3/3 ENG-104" in done.stderr


def test_a_file_that_cannot_run_exits_2_with_one_line(write_scenario: ScenarioWriter) -> None:
    path = write_scenario(SMALL.replace("kind: rename_field", "kind: rename"))
    done = steptrace("scenario", "run", str(path))
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.startswith(f"steptrace: {path}: fault #2 (line 7): unknown kind 'rename'")
    assert done.stderr.count("\n") == 1
    missing = path.with_name("missing.yaml")
    done = steptrace("scenario", "run", str(missing), "--json")
    assert (done.returncode, done.stderr) == (2, f"steptrace: {missing}: no such scenario file\n")
