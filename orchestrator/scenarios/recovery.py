"""Does the proposed fix recover the run? Checked the hard way, for the benchmark.

For every failed run whose diagnosis proposes a ``spec_patch``: the patch is applied to
the pipeline and the same trigger runs again against the **faulted** sandbox (the same
run index, so the same faults are in force). What it writes is compared with what a
**fault-free twin** — the same scenario without faults, the same triggers — wrote for
that trigger: every field the twin wrote must be written with the same value. Fields
the destination renamed are matched by their stable id (the schemas both runs
recorded, or for a good run that skipped the read, the newest recorded before it). A fix
that was reported ``verified`` but does not recover is *harmful*.

Data patches, retries and escalations are applied by a person or by time; they are not
replayed here (``recovers`` stays ``None``).
"""

from __future__ import annotations

import asyncio
import contextlib
import tempfile
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from orchestrator.scenarios.results import Recovery, RunResult
from orchestrator.scenarios.spec import LoadedScenario
from orchestrator.spec.ops import OPS
from orchestrator.spec.pipeline import PipelineSpecError, parse_pipeline
from orchestrator.spec.unified_diff import PatchApplyError, apply_unified_diff
from orchestrator.tools.destinations import FIELD_ARGS
from tracer.run_model import read_run
from tracer.schemas import ContainerSchema
from tracer.store import RunRecord, TraceStore

if TYPE_CHECKING:
    from orchestrator.scenarios.runner import _ScenarioStack

Written = dict[str, dict[str, Any]]
"""Write step id → the fields it wrote (a record write's field map, else its args)."""


async def check_recovery(
    scenario: LoadedScenario,
    stack: _ScenarioStack,
    results: list[RunResult],
    triggers: list[Any],
    temporal_address: str | None,
) -> list[RunResult]:
    """``results`` with ``recovery`` filled in for every failed run with a spec patch."""
    todo = [r for r in results if _patch_of(r) is not None]
    if not todo:
        return results
    twin = await _twin_writes(scenario, triggers, temporal_address)
    done: dict[int, Recovery] = {}
    for result in todo:
        done[result.index] = await _recover(scenario, stack, result, twin.get(result.index))
    return [r.model_copy(update={"recovery": done.get(r.index, r.recovery)}) for r in results]


def _patch_of(result: RunResult) -> str | None:
    fix = result.diagnosis.proposed_fix if result.diagnosis else None
    if result.status not in ("failed", "qc_failed") or fix is None:
        return None
    return fix.patch if fix.kind == "spec_patch" and fix.patch else None


async def _recover(
    scenario: LoadedScenario,
    stack: _ScenarioStack,
    result: RunResult,
    twin: tuple[Written, dict[str, ContainerSchema]] | None,
) -> Recovery:
    patch = _patch_of(result)
    assert patch is not None
    try:
        text = apply_unified_diff(scenario.pipeline.text, patch)
        patched = parse_pipeline(text, source=f"{scenario.pipeline.source} (patched)")
    except (PatchApplyError, PipelineSpecError) as exc:
        return Recovery(recovers=False, detail=f"the patch does not apply: {exc}")
    if twin is None:
        return Recovery(recovers=None, detail="the fault-free twin did not run this trigger")
    assert stack.stack.sandbox is not None
    stack.stack.sandbox.begin_run(result.index)
    outcome = await stack.stack.run(patched, result.trigger)
    if outcome.status != "succeeded":
        return Recovery(recovers=False, detail=f"the patched run ended {outcome.status}")
    written, schemas = await asyncio.to_thread(_writes_of, stack.store, outcome.run_id)
    problem = compare(twin[0], twin[1], written, schemas)
    if problem is not None:
        return Recovery(recovers=False, detail=problem)
    return Recovery(recovers=True, detail="the patched run wrote what the fault-free twin wrote")


def compare(
    twin: Written,
    twin_schemas: dict[str, ContainerSchema],
    written: Written,
    schemas: dict[str, ContainerSchema],
) -> str | None:
    """Why ``written`` differs from what the twin wrote, or ``None`` when it does not."""
    for step, fields in twin.items():
        mine = written.get(step)
        if mine is None:
            return f"step `{step}` wrote nothing"
        for name, value in fields.items():
            here = _name_now(name, twin_schemas.get(step), schemas.get(step))
            if here not in mine:
                return f"step `{step}` no longer writes `{name}`"
            if mine[here] != value:
                return f"step `{step}` wrote `{here}` = {mine[here]!r}, the twin {value!r}"
    return None


def _name_now(name: str, then: ContainerSchema | None, now: ContainerSchema | None) -> str:
    """The name the twin's field ``name`` has in the faulted destination (same id)."""
    field = then.by_name(name) if then else None
    moved = now.by_id(field.id) if now and field else None
    return moved.name if moved else name


def _writes_of(store: TraceStore, run_id: str) -> tuple[Written, dict[str, ContainerSchema]]:
    run = store.get_run(run_id)
    if run is None:
        return {}, {}
    recorded = read_run(store, run)
    written: Written = {}
    for step in recorded.steps:
        op = OPS.get(step.op)
        args = recorded.input(step)
        if op is None or not op.writes or not isinstance(args, dict):
            continue
        key = FIELD_ARGS.get(step.op)
        fields = args.get(key) if key else args
        written[step.step_id] = dict(fields) if isinstance(fields, dict) else {}
    return written, _schemas_seen(store, run, written)


def _schemas_seen(
    store: TraceStore, run: RunRecord, written: Written
) -> dict[str, ContainerSchema]:
    """The schema each write step saw: the run's own, or, for a good run that skipped
    reading one its worker had just read, the newest one recorded for that step before."""
    recorded = store.run_schemas(run.run_id)
    missing = [step for step in written if step not in recorded]
    if missing:
        earlier = store.step_schema_baselines(
            run.pipeline, None, run.started_at, missing, status=None
        )
        recorded.update({step: data for step, (_, data) in earlier.items()})
    return {
        step: ContainerSchema.from_json(data)
        for step, data in recorded.items()
        if isinstance(data, dict)
    }


async def _twin_writes(
    scenario: LoadedScenario, triggers: list[Any], temporal_address: str | None
) -> dict[int, tuple[Written, dict[str, ContainerSchema]]]:
    """What a fault-free twin of the scenario wrote, by run index."""
    from orchestrator.scenarios.runner import scenario_stack

    twin = replace(scenario, faults=(), pipeline=scenario.twin or scenario.pipeline)
    found: dict[int, tuple[Written, dict[str, ContainerSchema]]] = {}
    async with _scratch_url() as url, scenario_stack(twin, url, temporal_address) as stack:
        for index, trigger in enumerate(triggers, start=1):
            assert stack.stack.sandbox is not None
            stack.stack.sandbox.begin_run(index)
            outcome = await stack.stack.run(twin.pipeline, trigger)
            if outcome.status == "succeeded":
                found[index] = await asyncio.to_thread(_writes_of, stack.store, outcome.run_id)
    return found


@contextlib.asynccontextmanager
async def _scratch_url() -> AsyncIterator[str]:
    with tempfile.TemporaryDirectory(prefix="steptrace-twin-") as folder:
        yield f"sqlite:///{Path(folder) / 'trace.db'}"
