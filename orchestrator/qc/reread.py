"""A second look at the source for QC: the objects recent good runs read, read again.

A read field that always had a value and is null in this run is either optional data
left empty on this record or a field the tool stopped sending (a value map's default
then hides it all the way to the destination). The run alone cannot tell which; the
tool can. The objects the last good runs read had a value there: if, read again now,
they have none either, the source changed; if they still have one, this record is
simply empty. It is the diagnosis's source probe (the same
:func:`~orchestrator.runtime.reread.reread`) asked one step earlier, while the run is
still under review, and only when such a null is there: a clean run costs no call.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from typing import Any

from orchestrator.qc.review import recent_good_runs
from orchestrator.runtime.activities import StepActivity
from orchestrator.runtime.reread import reread
from rubrics.evidence import PipelineParams, RunEvidence, path_key, path_kind
from rubrics.model import Segment
from rubrics.process import null_after_values
from tracer.run_model import read_run
from tracer.store import RunRecord, TraceStore

REREAD_OBJECTS = 3
"""How many distinct objects of recent good runs are read again per read step."""

Paths = dict[str, list[tuple[Segment, ...]]]


def nulls_to_check(evidence: RunEvidence, params: PipelineParams) -> Paths:
    """Per read step of the run, the read paths null now that always had a value."""
    found: Paths = {}
    for step_params in params.steps:
        step = evidence.step(step_params.id)
        if not step_params.reads or step is None or step.status != "succeeded":
            continue
        history = evidence.read_history.get(step_params.id, [])
        paths = null_after_values(step.output, history, step_params.read_paths)
        if paths:
            found[step_params.id] = paths
    return found


def good_inputs(
    store: TraceStore, good: list[RunRecord], own: Mapping[str, Any]
) -> dict[str, list[Any]]:
    """Per step of ``own`` (step id -> this run's arguments), the distinct arguments the
    given good runs (newest first) called it with, at most :data:`REREAD_OBJECTS` each.
    This run's own object is left out: a record cannot vouch for itself (a person may
    have cleared the field on it since a good run read it)."""
    step_ids = set(own)
    inputs: dict[str, list[Any]] = {}
    seen = {(step_id, _key(args)) for step_id, args in own.items()}
    for run in good:
        recorded = read_run(store, run)
        for step_id in step_ids:
            step = recorded.step(step_id)
            if step is None or not step.succeeded or len(inputs.get(step_id, [])) >= REREAD_OBJECTS:
                continue
            args = recorded.input(step)
            key = (step_id, _key(args))
            if key not in seen:
                seen.add(key)
                inputs.setdefault(step_id, []).append(args)
    return inputs


def _key(args: Any) -> str:
    return json.dumps(args, sort_keys=True, default=str)


async def reread_kinds(
    evidence: RunEvidence,
    paths: Paths,
    inputs: dict[str, list[Any]],
    readers: Mapping[str, StepActivity],
) -> dict[str, list[dict[str, str]]]:
    """Per step, the JSON kind at each path in each good object as the tool shows it now.
    An object that cannot be read again (gone, refused) says nothing and is left out."""
    kinds: dict[str, list[dict[str, str]]] = {}
    for step_id, step_paths in paths.items():
        step = evidence.step(step_id)
        method = readers.get(step.op) if step is not None else None
        if method is None:
            continue
        for args in inputs.get(step_id, []):
            probe = await reread(method, step_id, step.op if step else "", args)
            if probe.ok:
                kinds.setdefault(step_id, []).append(
                    {path_key(p): path_kind(probe.output, p) for p in step_paths}
                )
    return kinds


async def with_rereads(
    store: TraceStore,
    evidence: RunEvidence,
    params: PipelineParams,
    readers: Mapping[str, StepActivity],
) -> RunEvidence:
    """``evidence`` with the good runs' source objects read again, when a read field that
    always had a value is null in this run."""
    paths = nulls_to_check(evidence, params)
    if not paths:
        return evidence
    own = {step_id: step.input for step_id in paths if (step := evidence.step(step_id))}
    inputs = await asyncio.to_thread(_good_inputs_of, store, evidence.run_id, own)
    kinds = await reread_kinds(evidence, paths, inputs, readers)
    return evidence.model_copy(update={"reread": kinds})


def _good_inputs_of(store: TraceStore, run_id: str, own: dict[str, Any]) -> dict[str, list[Any]]:
    return good_inputs(store, recent_good_runs(store, run_id), own)
