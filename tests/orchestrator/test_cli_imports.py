"""Reading commands load only what they need: ``why``, ``show`` and ``runs`` answer from
the trace store without Temporal, Alembic, DuckDB, the web stack or SQLAlchemy's ORM and
the SQLModel tables (they read through the lean reader); ``qc`` on a reviewed run and
``codec-key`` without Temporal.

Behaviour, not timing: each command runs in a fresh interpreter exactly as the console
script runs it, and reports which modules it loaded. The store holds a failed run with a
stored diagnosis (what ``steptrace demo`` leaves), written through the store's own API.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tracer.diagnosis_model import Diagnosis, Evidence, Links, ProposedFix
from tracer.store import NewRun, RubricResultRecord, RunStatus, TraceStore

FORBIDDEN = ("temporalio", "alembic", "duckdb", "starlette", "jinja2", "deepdiff", "langchain_core")
READ_PATH_FORBIDDEN = (*FORBIDDEN, "sqlmodel", "sqlalchemy.orm")

# Runs the real entry point, then prints the modules it loaded on stdout's last line
# (the command's own output comes first).
PROBE = """
import json
import sys
from orchestrator.cli.app import main
sys.argv = ["steptrace", *sys.argv[1:]]
try:
    main()
except SystemExit as exit:
    code = exit.code
else:
    code = 0
print()
print(json.dumps({"code": code, "loaded": sorted(sys.modules)}))
"""


@pytest.fixture
def store_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'trace.db'}"
    with TraceStore.open(url) as store:
        run = NewRun(
            run_id="wf-1/r-1",
            workflow_id="wf-1",
            temporal_run_id="r-1",
            pipeline="linear-triage-sync",
            started_at=datetime(2026, 12, 1, tzinfo=UTC),
        )
        store.start_run(run)
        store.finish_run(run.run_id, RunStatus.FAILED, failed_step="upsert_airtable")
        diagnosis = Diagnosis(
            run_id=run.run_id,
            status="failed",
            failed_step="upsert_airtable",
            onset_step="upsert_airtable",
            fault_class="destination_schema_drift",
            explanation="The destination no longer has a field it had in the last good run.",
            evidence=Evidence(),
            proposed_fix=ProposedFix(kind="spec_patch", patch="-a\n+b\n", verified=True),
            links=Links(run="http://127.0.0.1/runs/wf-1"),
        )
        store.add_diagnosis(run.run_id, diagnosis.model_dump(mode="json"))
        store.add_rubric_results(
            [
                RubricResultRecord(
                    run_id=run.run_id,
                    rubric_id="no-empty-title",
                    rubric_version="1",
                    outcome="fail",
                    severity="major",
                    evidence={"path": "issue.title"},
                )
            ]
        )
    return url


@pytest.mark.parametrize(
    ("command", "shown", "forbidden"),
    [
        (["why", "latest"], "wf-1/r-1", READ_PATH_FORBIDDEN),
        (["why", "wf-1"], "fix id 1", READ_PATH_FORBIDDEN),
        (
            ["why", "wf-1", "--json"],
            '"fault_class":"destination_schema_drift"',
            READ_PATH_FORBIDDEN,
        ),
        (["show", "latest"], "Steps of wf-1/r-1", READ_PATH_FORBIDDEN),
        (["runs"], "upsert_airtable", READ_PATH_FORBIDDEN),
        (["runs", "--json"], '"run_id": "wf-1/r-1"', READ_PATH_FORBIDDEN),
        (["qc", "wf-1"], "no-empty-title", ("temporalio",)),
        (["codec-key", "--id", "k9"], "k9=", ("temporalio",)),
    ],
)
def test_reading_commands_load_no_engine_no_migrations_no_web_stack(
    command: list[str], shown: str, forbidden: tuple[str, ...], store_url: str, tmp_path: Path
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("STEPTRACE_")}
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *command],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env | {"STEPTRACE_DATABASE_URL": store_url},
        timeout=120,
        check=False,
    )
    *output, last = done.stdout.rstrip("\n").split("\n")
    assert last.startswith("{"), (done.stderr[-3000:], done.stdout[-2000:])
    report = json.loads(last)
    assert report["code"] == 0, (done.stderr, output)
    assert shown in "\n".join(output)  # it did its work
    loaded = [
        m for m in report["loaded"] if any(m == f or m.startswith(f"{f}.") for f in forbidden)
    ]
    assert not loaded, loaded
