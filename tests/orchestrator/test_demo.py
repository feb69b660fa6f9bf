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

    assert [r["trigger"]["issue"] for r in runs] == [f"ENG-{n}" for n in range(101, 109)]
    assert [r["status"] for r in runs] == ["succeeded"] * 5 + ["failed"] * 3
    assert {r["failed_step"] for r in runs[5:]} == {"upsert_airtable"}
    attempts = {s["id"]: s["attempts"] for s in runs[1]["steps"]}
    assert attempts["upsert_airtable"] == 3  # two 503s absorbed by retries, and visible
    for run in runs:
        for step in run["steps"]:
            assert step["input_bytes"] > 0, (run["run_id"], step)
            if step["status"] == "succeeded":
                assert step["output_bytes"] > 0, (run["run_id"], step)
            else:
                assert step["output_bytes"] is None
    assert (tmp_path / "trace.db").exists()
