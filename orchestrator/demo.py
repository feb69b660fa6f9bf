"""``steptrace demo``: the reference pipeline over seeded issues, with faults injected.

Everything is embedded and fresh: a Temporal dev server, the sandbox, and a trace store
in a temporary folder. A few faults are injected so the demo shows both kinds of
trouble: transient ones that Temporal's retries absorb (the retries stay visible), and a
schema change in Airtable that fails the later runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel

from connectors.sandbox.faults import Fault
from orchestrator.pipeline import load_pipeline
from orchestrator.stack import StackOptions, open_stack
from orchestrator.views import RunView, run_view

REFERENCE_PIPELINE = (
    Path(__file__).resolve().parent.parent / "pipelines" / "linear-triage-sync.yaml"
)
DEMO_ISSUES = tuple(f"ENG-{n}" for n in range(101, 109))
DEMO_FAULTS = (
    # Airtable has a bad minute: two 503s, absorbed by retries in run 2.
    Fault(service="airtable", kind="http_error", status=503, times=2, from_run=2),
    # Slack rate-limits one post in run 3; the retry waits the second Slack asks for.
    Fault(service="slack", kind="rate_limit", retry_after=1, times=1, from_run=3),
    # From run 6 someone renames the Airtable field "Priority": the upsert fails.
    Fault(
        service="airtable", kind="rename_field", target="Priority", to="Priority Level", from_run=6
    ),
)


class DemoReport(BaseModel):
    pipeline: str
    faults: list[str]
    database: str
    runs: list[RunView]

    def as_json(self) -> dict[str, Any]:
        """The ``--json`` shape: ``{"runs": [{run_id, pipeline, trigger, status, steps}]}``."""
        return {
            "runs": [
                {
                    "run_id": run.run_id,
                    "pipeline": run.pipeline,
                    "trigger": run.trigger,
                    "status": run.status,
                    "failed_step": run.failed_step,
                    "steps": [
                        {
                            "id": s.id,
                            "status": s.status,
                            "attempts": s.attempts,
                            "input_bytes": s.input_bytes,
                            "output_bytes": s.output_bytes,
                        }
                        for s in run.steps
                    ],
                }
                for run in self.runs
            ],
            "faults": self.faults,
        }


async def run_demo(*, seed: int = 7, database_url: str | None = None) -> DemoReport:
    """Run the demo and return what it did, read back from the trace store.

    The runs go into the configured store (``.steptrace/trace.db`` by default), so
    ``steptrace runs``, ``show`` and ``diff`` can look at them afterwards.
    """
    pipeline = load_pipeline(REFERENCE_PIPELINE)
    options = StackOptions(seed=seed, faults=DEMO_FAULTS, database_url=database_url)
    async with open_stack(options) as stack:
        assert stack.store is not None and stack.sandbox is not None
        run_ids = []
        for index, issue in enumerate(DEMO_ISSUES, start=1):
            stack.sandbox.begin_run(index)
            outcome = await stack.run(pipeline, {"issue": issue})
            run_ids.append(outcome.run_id)
        views = []
        for run_id in run_ids:
            run = stack.store.get_run(run_id)
            if run is not None:
                views.append(run_view(stack.store, run))
        return DemoReport(
            pipeline=pipeline.spec.name,
            faults=[fault.describe() for fault in DEMO_FAULTS],
            database=stack.store.database,
            runs=views,
        )
