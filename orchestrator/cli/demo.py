"""``steptrace demo``: the reference pipeline over seeded issues, with faults injected.

Everything is embedded and fresh: a Temporal dev server, the sandbox, and the trace
store. The faults show every kind of trouble: transient ones that Temporal's retries
absorb (the retries stay visible), a silent one that only QC catches (a damaged title,
pinned to the step it came from), and a schema change in Airtable that fails the later
runs. Each failure is diagnosed; the first loud one is escalated to Slack, where the demo
plays the on-call people: "why did this fail?" in the alert's thread, then "Approve fix &
replay" — and the replay, with the verified patch, succeeds.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel

from connectors.sandbox.faults import Fault
from orchestrator.cli.demo_loop import LoopResult, play_on_call
from orchestrator.diagnosis.diagnoser import stored_diagnosis
from orchestrator.humanloop.alerts import TranscriptMessage
from orchestrator.service.stack import StackOptions, open_stack
from orchestrator.spec.pipeline import load_pipeline
from tracer.diagnosis_model import Diagnosis
from tracer.run_views import RunView, run_view
from tracer.store import TraceStore

REFERENCE_PIPELINE = Path(__file__).resolve().parents[2] / "pipelines" / "linear-triage-sync.yaml"
DEMO_ISSUES = tuple(f"ENG-{n}" for n in range(101, 109))
DEMO_FAULTS = (
    # Airtable has a bad minute: two 503s, absorbed by retries in run 2.
    Fault(service="airtable", kind="http_error", status=503, times=2, from_run=2),
    # Slack rate-limits one post in run 3; the retry waits the second Slack asks for.
    Fault(service="slack", kind="rate_limit", retry_after=1, times=1, from_run=3),
    # Run 5: Linear hands over a damaged title. Nothing fails; QC catches it.
    Fault(service="linear", kind="corrupt_value", target="title", from_run=5, until_run=5),
    # From run 6 someone renames the Airtable field "Priority": the upsert fails.
    Fault(
        service="airtable", kind="rename_field", target="Priority", to="Priority Level", from_run=6
    ),
)


class DemoRun(BaseModel):
    view: RunView
    diagnosis: Diagnosis | None = None
    qc_failed: list[str] = []


class DemoReport(BaseModel):
    pipeline: str
    faults: list[str]
    database: str
    runs: list[DemoRun]
    loop: LoopResult | None = None

    @property
    def transcript(self) -> list[TranscriptMessage]:
        return self.loop.transcript if self.loop else []

    def as_json(self) -> dict[str, Any]:
        """The ``--json`` shape: runs (with diagnoses and QC), faults, the Slack transcript."""
        return {
            "runs": [_run_json(run) for run in self.runs],
            "faults": self.faults,
            "slack_transcript": [
                {"channel": m.channel, "user": m.user, "text": m.text, "thread": m.thread}
                for m in self.transcript
            ],
        }


def _run_json(run: DemoRun) -> dict[str, Any]:
    view = run.view
    diagnosis = run.diagnosis
    return {
        "run_id": view.run_id,
        "pipeline": view.pipeline,
        "kind": view.kind,
        "parent_run_id": view.parent_run_id,
        "trigger": view.trigger,
        "status": view.status,
        "failed_step": view.failed_step,
        "onset_step": diagnosis.onset_step if diagnosis else None,
        "fault_class": diagnosis.fault_class if diagnosis else None,
        "proposed_fix": diagnosis.proposed_fix.model_dump() if diagnosis else None,
        "qc_failed": run.qc_failed,
        "steps": [
            {
                "id": s.id,
                "status": s.status,
                "attempts": s.attempts,
                "inner_retries": s.inner_retries,
                "input_bytes": s.input_bytes,
                "output_bytes": s.output_bytes,
            }
            for s in view.steps
        ],
    }


async def run_demo(*, seed: int = 7, database_url: str | None = None) -> DemoReport:
    """Run the demo and return what it did, read back from the trace store.

    The runs go into the configured store (``.steptrace/trace.db`` by default), so
    ``steptrace runs``, ``show``, ``why``, ``qc`` and ``diff`` can look at them afterwards.
    """
    pipeline = load_pipeline(REFERENCE_PIPELINE)
    options = StackOptions(seed=seed, faults=DEMO_FAULTS, database_url=database_url, escalate=True)
    async with open_stack(options) as stack:
        assert stack.store is not None and stack.sandbox is not None
        run_ids = []
        for index, issue in enumerate(DEMO_ISSUES, start=1):
            stack.sandbox.begin_run(index)
            outcome = await stack.run(pipeline, {"issue": issue})
            run_ids.append(outcome.run_id)
        first_failed = next((r for r in run_ids if _status(stack.store, r) == "failed"), None)
        loop = await play_on_call(stack, pipeline.spec, first_failed) if first_failed else None
        if loop is not None and loop.replay_run_id:
            run_ids.append(loop.replay_run_id)
        return DemoReport(
            pipeline=pipeline.spec.name,
            faults=[fault.describe() for fault in DEMO_FAULTS],
            database=stack.store.database,
            runs=[_demo_run(stack.store, run_id) for run_id in run_ids],
            loop=loop,
        )


def _status(store: TraceStore, run_id: str) -> str | None:
    run = store.get_run(run_id)
    return run.status.value if run else None


def _demo_run(store: TraceStore, run_id: str) -> DemoRun:
    run = store.get_run(run_id)
    if run is None:
        raise LookupError(f"run {run_id} is not in the trace store")
    failed = [r.rubric_id for r in store.rubric_results(run_id) if r.outcome == "fail"]
    return DemoRun(
        view=run_view(store, run),
        diagnosis=stored_diagnosis(store, run_id),
        qc_failed=failed,
    )
