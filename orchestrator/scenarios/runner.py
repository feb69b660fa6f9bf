"""Running a scenario: a fresh stack (sandbox with the file's seed and faults, a SQLite
store of its own), one run after another, each read back with its diagnosis, its QC
verdict, its attempts and the two naive baselines of DESIGN §5."""

from __future__ import annotations

import asyncio
import contextlib
import tempfile
from collections.abc import AsyncIterator, Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from orchestrator.scenarios.results import (
    Baselines,
    QcView,
    RunResult,
    ScenarioResult,
    StepAttempts,
    diagnosis_view,
    score,
    short_trigger,
)
from orchestrator.scenarios.spec import LoadedScenario
from orchestrator.scenarios.triggers import intake_record_ids, plan_triggers
from tracer.diagnosis_model import Diagnosis
from tracer.run_model import RecordedRun, read_run
from tracer.run_views import step_views
from tracer.store import RunRecord, TraceStore

if TYPE_CHECKING:  # Temporal is loaded only to run, never to check a file
    from orchestrator.config.settings import Settings
    from orchestrator.service.stack import Stack
    from orchestrator.tools.clients import ToolClients

FAILED = ("failed", "qc_failed")
Progress = Callable[[str], None]


async def run_scenario(
    scenario: LoadedScenario,
    *,
    temporal_address: str | None = None,
    database_url: str | None = None,
    progress: Progress | None = None,
    check_recovery: bool = False,
) -> ScenarioResult:
    """Run every run of ``scenario`` on a fresh stack; diagnose failures; score.

    ``temporal_address`` shares one Temporal server between many scenarios (the
    benchmark); by default the environment's or an embedded dev server is used.
    ``database_url`` defaults to a SQLite file in a temporary folder, deleted after.
    ``check_recovery`` applies every proposed spec patch and compares what it writes with
    a fault-free twin (:mod:`orchestrator.scenarios.recovery`; the benchmark's check).
    """
    say = progress or (lambda _message: None)
    async with (
        _database(database_url) as url,
        scenario_stack(scenario, url, temporal_address) as stack,
    ):
        triggers = plan_triggers(scenario.spec.runs, scenario.pipeline.spec, stack.intake_ids())
        results = []
        for index, trigger in enumerate(triggers, start=1):
            say(f"{scenario.spec.name}: run {index}/{len(triggers)} {short_trigger(trigger)}")
            result = await stack.run(index, trigger)
            say(f"{scenario.spec.name}: run {index}: {_outcome(result)}")
            results.append(result)
        if check_recovery:
            from orchestrator.scenarios.recovery import check_recovery as recover

            say(f"{scenario.spec.name}: checking the proposed fixes against a fault-free twin")
            results = await recover(scenario, stack, results, triggers, temporal_address)
    return ScenarioResult(
        scenario=scenario.spec.name,
        file=str(scenario.path),
        pipeline=scenario.pipeline.spec.name,
        runs=results,
        score=score(scenario.spec.expect, results) if scenario.spec.expect else None,
    )


@contextlib.asynccontextmanager
async def _database(database_url: str | None) -> AsyncIterator[str]:
    if database_url is not None:
        yield database_url
        return
    with tempfile.TemporaryDirectory(prefix="steptrace-scenario-") as folder:
        yield f"sqlite:///{Path(folder) / 'trace.db'}"


def _outcome(result: RunResult) -> str:
    where = f" at {result.failed_step}" if result.failed_step else ""
    retried = [f"{s.id}×{s.attempts}" for s in result.steps if s.attempts > 1]
    extra = f" (retried: {', '.join(retried)})" if retried else ""
    return f"{result.status}{where}{extra}"


class _ScenarioStack:
    """One scenario's stack: runs the pipeline, reads back what a run left in the store."""

    def __init__(self, scenario: LoadedScenario, stack: Stack, clients: ToolClients) -> None:
        self.scenario = scenario
        self.stack = stack
        self.clients = clients

    @property
    def store(self) -> TraceStore:
        assert self.stack.store is not None
        return self.stack.store

    def intake_ids(self) -> list[str]:
        if self.stack.sandbox is None:
            return []
        return intake_record_ids(self.stack.sandbox.state("airtable"))

    async def run(self, index: int, trigger: Any) -> RunResult:
        assert self.stack.sandbox is not None
        self.stack.sandbox.begin_run(index)
        outcome = await self.stack.run(self.scenario.pipeline, trigger)
        record = await asyncio.to_thread(self.store.get_run, outcome.run_id)
        status = record.status.value if record else outcome.status
        failed_step = record.failed_step if record else None
        diagnosis = await self._diagnosis(outcome.run_id, status)
        steps, baselines = await asyncio.to_thread(self._read_back, outcome.run_id, record)
        return RunResult(
            index=index,
            run_id=outcome.run_id,
            trigger=trigger,
            status=status,
            failed_step=failed_step,
            diagnosis=diagnosis_view(diagnosis),
            qc=await asyncio.to_thread(qc_view, self.store, outcome.run_id),
            steps=steps,
            baselines=baselines,
        )

    async def _diagnosis(self, run_id: str, status: str) -> Diagnosis | None:
        """The stored diagnosis (the workflow stores one for every failed run); computed
        here only when a failed run has none."""
        from orchestrator.diagnosis.diagnoser import diagnose_run, stored_diagnosis

        stored = await asyncio.to_thread(stored_diagnosis, self.store, run_id)
        if stored is None and status in FAILED:
            stored = await diagnose_run(
                self.store, run_id, clients=self.clients, temporal_ui=self.stack.temporal_ui
            )
        return stored

    def _read_back(
        self, run_id: str, record: RunRecord | None
    ) -> tuple[list[StepAttempts], Baselines | None]:
        recorded = read_run(self.store, record or run_id)
        steps = [
            StepAttempts(
                id=v.id,
                status=v.status,
                attempts=v.attempts,
                errors=v.errors,
                inner_retries=v.inner_retries,
            )
            for v in step_views(recorded)
        ]
        if record is None:
            return steps, None
        return steps, baselines(self.store, record, recorded)


def qc_view(store: TraceStore, run_id: str) -> QcView:
    """Which rubrics failed; ``passed`` is None when no rubric ran on the run."""
    results = store.rubric_results(run_id)
    failed = sorted({r.rubric_id for r in results if r.outcome == "fail"})
    return QcView(passed=(not failed) if results else None, failed=failed)


def baselines(store: TraceStore, run: RunRecord, recorded: RecordedRun | None = None) -> Baselines:
    """The two naive answers for ``run``: the step that raised, and the first step whose
    recorded output differs from the last good run of the same pipeline version."""
    good = store.last_good_run(run.pipeline, run.version_hash, run.started_at)
    first_diff = None
    if good is not None:
        now = final_outputs(recorded or read_run(store, run))
        before = final_outputs(read_run(store, good))
        first_diff = first_differing_step(before, now)
    return Baselines(
        raised_step=run.failed_step,
        first_diff_step=first_diff,
        last_good_run=good.run_id if good else None,
    )


def final_outputs(run: RecordedRun) -> list[tuple[str, str | None]]:
    """(step id, output hash of its last attempt), in step order."""
    return [(step.step_id, step.last.output_hash) for step in run.steps]


def first_differing_step(
    good: Sequence[tuple[str, str | None]], now: Sequence[tuple[str, str | None]]
) -> str | None:
    """The first step of ``now`` whose output is missing or differs from ``good``'s."""
    before = dict(good)
    for step_id, output in now:
        if output is None or before.get(step_id) != output:
            return step_id
    return None


def _scenario_settings(temporal_address: str | None) -> Settings:
    """The environment's Temporal settings; tools are always the scenario's sandbox and
    the store always the scenario's own."""
    from orchestrator.config.settings import Settings

    env = Settings.from_env()
    return Settings(
        temporal_address=temporal_address or env.temporal_address,
        namespace=env.namespace,
        task_queue=env.task_queue,
        temporal_ui_url=env.temporal_ui_url if not temporal_address else None,
    )


@contextlib.asynccontextmanager
async def scenario_stack(
    scenario: LoadedScenario, database_url: str, temporal_address: str | None
) -> AsyncIterator[_ScenarioStack]:
    """A fresh stack with the scenario's seed and faults, and tool clients for diagnosis."""
    import httpx

    from orchestrator.service.stack import HTTP_TIMEOUT_SECONDS, StackOptions, open_stack
    from orchestrator.tools.clients import ToolClients

    options = StackOptions(
        seed=scenario.spec.seed, faults=scenario.faults, database_url=database_url
    )
    async with (
        open_stack(options, _scenario_settings(temporal_address)) as stack,
        httpx.AsyncClient(timeout=HTTP_TIMEOUT_SECONDS) as http,
    ):
        yield _ScenarioStack(scenario, stack, ToolClients.from_settings(stack.settings, http))
