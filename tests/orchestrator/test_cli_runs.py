"""`steptrace run`, then `runs`, `show` and `diff` reading what it stored, as a user would."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

STEPTRACE = Path(sys.executable).with_name("steptrace")
PIPELINE = Path(__file__).resolve().parents[2] / "pipelines" / "linear-triage-sync.yaml"


def steptrace(
    tmp_path: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "STEPTRACE_DATABASE_URL": f"sqlite:///{tmp_path / 'trace.db'}",
        **(env or {}),
    }
    env.pop("STEPTRACE_TEMPORAL_ADDRESS", None)
    return subprocess.run(
        [str(STEPTRACE), *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=180,
        check=False,
    )


def json_of(done: subprocess.CompletedProcess[str]) -> Any:
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_run_then_runs_show_and_diff(tmp_path: Path) -> None:
    first = json_of(
        steptrace(tmp_path, "run", str(PIPELINE), "--trigger", '{"issue": "ENG-101"}', "--json")
    )
    second = json_of(
        steptrace(tmp_path, "run", str(PIPELINE), "--trigger", '{"issue": "ENG-102"}', "--json")
    )
    assert (first["status"], second["status"]) == ("succeeded", "succeeded")
    assert [s["id"] for s in first["steps"]] == [
        "fetch_issue",
        "normalize",
        "upsert_airtable",
        "sync_monday",
        "qc",
        "notify_slack",
    ]

    listed = json_of(steptrace(tmp_path, "runs", "--json"))
    assert [r["run_id"] for r in listed] == [second["run_id"], first["run_id"]]

    shown = json_of(steptrace(tmp_path, "show", "latest", "--json"))
    assert shown["run_id"] == second["run_id"]
    assert all(step["attempts"] == 1 and step["output_bytes"] for step in shown["steps"])
    by_workflow = json_of(steptrace(tmp_path, "show", second["run_id"].split("/")[0], "--json"))
    assert by_workflow["run_id"] == second["run_id"]
    # The short id `runs` prints, or any unique prefix of it, names the run too.
    short = second["run_id"].split("/")[0].rsplit("-", 1)[-1]
    assert json_of(steptrace(tmp_path, "show", short[:6], "--json"))["run_id"] == second["run_id"]
    assert "ENG-102" in steptrace(tmp_path, "runs").stdout
    shown_in = json_of(
        steptrace(tmp_path, "show", short, "--step", "fetch_issue", "--payload", "in", "--json")
    )
    assert shown_in == {"id": "ENG-102"}
    shown_out = json_of(steptrace(tmp_path, "show", short, "--step", "normalize", "--json"))
    assert shown_out["linear_id"] == "ENG-102"
    writes = json_of(
        steptrace(tmp_path, "show", short, "--step", "upsert_airtable", "--payload", "writes")
    )
    assert [w["tool"] for w in writes] == ["airtable"] and writes[0]["after"]

    diff = json_of(steptrace(tmp_path, "diff", second["run_id"], "normalize", "--json"))
    assert diff["against_run_id"] == first["run_id"]
    assert diff["compared"] == "output"
    changed = {change["path"]: change for change in diff["changes"]}
    assert changed["root['linear_id']"]["old"] == "ENG-101"
    assert changed["root['linear_id']"]["new"] == "ENG-102"


def test_reading_commands_name_what_is_missing(tmp_path: Path) -> None:
    json_of(
        steptrace(tmp_path, "run", str(PIPELINE), "--trigger", '{"issue": "ENG-103"}', "--json")
    )
    unknown = steptrace(tmp_path, "show", "no-such-run")
    assert unknown.returncode == 2
    assert "no run 'no-such-run'" in unknown.stderr and "steptrace runs" in unknown.stderr
    no_baseline = steptrace(tmp_path, "diff", "latest", "normalize")
    assert no_baseline.returncode == 2
    assert "no succeeded run" in no_baseline.stderr and "--against" in no_baseline.stderr
    no_step = steptrace(tmp_path, "diff", "latest", "nope", "--against", "latest")
    assert no_step.returncode == 2
    assert "has no step 'nope'" in no_step.stderr and "normalize" in no_step.stderr
    no_such_step = steptrace(tmp_path, "show", "latest", "--step", "nope")
    assert no_such_step.returncode == 2 and "no step 'nope'" in no_such_step.stderr
    bad_config = steptrace(tmp_path, "run", str(PIPELINE), env={"STEPTRACE_LINEAR_URL": "http://x"})
    assert bad_config.returncode == 2
    assert bad_config.stderr.count("\n") == 1 and "STEPTRACE_LINEAR_TOKEN" in bad_config.stderr
    bad_judge = steptrace(tmp_path, "run", str(PIPELINE), env={"STEPTRACE_JUDGE": "nonsense"})
    assert bad_judge.returncode == 2
    assert bad_judge.stderr.count("\n") == 1 and "STEPTRACE_JUDGE" in bad_judge.stderr
    bad_status = steptrace(tmp_path, "runs", "--status", "broken")
    assert bad_status.returncode == 2
    assert "unknown status 'broken'" in bad_status.stderr and "succeeded" in bad_status.stderr
