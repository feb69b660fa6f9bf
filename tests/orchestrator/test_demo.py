"""`steptrace demo --json`: the command a newcomer runs first, as a real subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

STEPTRACE = Path(sys.executable).with_name("steptrace")


def test_demo_json_shows_traced_runs_retries_and_the_failure(tmp_path: Path) -> None:
    env = {**os.environ, "STEPTRACE_DATABASE_URL": f"sqlite:///{tmp_path / 'trace.db'}"}
    env.pop("STEPTRACE_TEMPORAL_ADDRESS", None)
    done = subprocess.run(
        [str(STEPTRACE), "demo", "--json"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=240,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)  # stdout is exactly one JSON object
    runs = report["runs"]

    pipeline_runs, replay = runs[:8], runs[8]
    assert [r["trigger"]["issue"] for r in pipeline_runs] == [f"ENG-{n}" for n in range(101, 109)]
    statuses = [r["status"] for r in pipeline_runs]
    assert statuses == ["succeeded"] * 4 + ["qc_failed"] + ["failed"] * 3
    assert {r["failed_step"] for r in pipeline_runs[5:]} == {"upsert_airtable"}

    # The silent failure: QC caught the damaged title and pinned it to the source read.
    silent = pipeline_runs[4]
    assert "integrity.unicode_intact" in silent["qc_failed"]
    assert (silent["onset_step"], silent["fault_class"]) == ("fetch_issue", "invalid_source_data")
    # The loud one: diagnosed, with a verified patch; approved in Slack and replayed.
    loud = pipeline_runs[5]
    assert (loud["onset_step"], loud["fault_class"]) == (
        "upsert_airtable",
        "destination_schema_drift",
    )
    assert loud["proposed_fix"]["kind"] == "spec_patch" and loud["proposed_fix"]["verified"]
    assert all(r["parent_run_id"] is None for r in pipeline_runs)
    assert (replay["kind"], replay["parent_run_id"], replay["status"]) == (
        "replay",
        loud["run_id"],
        "succeeded",
    )
    transcript = report["slack_transcript"]
    assert {m["channel"] for m in transcript} == {"#ops-alerts"}
    alert, *thread = transcript
    assert alert["thread"] is None and loud["run_id"] in alert["text"]
    texts = [m["text"] for m in thread]
    assert any("why did this fail?" in t for t in texts)
    assert any("upsert_airtable" in t for t in texts[1:])  # the bot's answer names the onset
    assert any("approved" in t for t in texts) and "succeeded" in texts[-1]
    upsert = next(s for s in pipeline_runs[1]["steps"] if s["id"] == "upsert_airtable")
    # two 503s absorbed by retries (inside the attempt or of it), and visible
    assert upsert["attempts"] - 1 + len(upsert["inner_retries"]) == 2
    for run in runs:
        for step in run["steps"]:
            assert step["input_bytes"] > 0, (run["run_id"], step)
            if step["status"] == "succeeded":
                assert step["output_bytes"] > 0, (run["run_id"], step)
            else:
                assert step["output_bytes"] is None
    assert (tmp_path / "trace.db").exists()
