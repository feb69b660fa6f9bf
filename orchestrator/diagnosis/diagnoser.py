""" "Why did this fail?": the diagnosis of one stored run, stored with it.

The walk itself is :func:`tracer.diagnose.locate`; this module feeds it (the run's
snapshots, its pipeline's lineage, the earlier good runs, the destinations' live
schemas), turns its finding into a verified fix (:mod:`orchestrator.diagnosis.fixes`), writes the
two-sentence explanation and the links, and stores the result. Every failed or
``qc_failed`` pipeline run is diagnosed by the ``steptrace.diagnose`` activity before
its workflow ends; ``steptrace why`` shows the stored diagnosis, or makes one.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar
from urllib.parse import quote

from jmespath.exceptions import JMESPathError
from temporalio import activity

from orchestrator.diagnosis.confidence import (
    SchemaEvidence,
    reconcile,
    schema_evidence,
    with_confidence,
)
from orchestrator.diagnosis.fix_context import FixContext
from orchestrator.diagnosis.fixes import propose
from orchestrator.diagnosis.rubric_replay import rubric_check_for
from orchestrator.diagnosis.schema_record import baseline_schemas, recorded_schemas
from orchestrator.diagnosis.snapshots import load_snapshot, spec_lineage
from orchestrator.diagnosis.source_probe import probe_own, probe_sources
from orchestrator.runtime.pipeline_workflow import DIAGNOSE_ACTIVITY
from orchestrator.spec.pipeline import LoadedPipeline, PipelineSpecError, parse_pipeline
from orchestrator.spec.transform import evaluate_args
from orchestrator.tools.clients import ToolClients
from orchestrator.tools.destinations import LiveDestinations, load_destinations
from rubrics.model import parse_path
from rubrics.registry import RUBRICS_BY_ID
from tracer.diagnose import Localization, RunSnapshot, Symptom, locate
from tracer.diagnosis_model import Diagnosis, Evidence, ImplicatedValue, Links
from tracer.lineage import INPUT, OUTPUT, Lineage, Node, step_level_lineage
from tracer.store import RunRecord, TraceStore
from tracer.store.records import AttemptError, RunStatus

GOOD_RUNS = 10
P = ParamSpec("P")
T = TypeVar("T")


class DiagnosisError(LookupError):
    """The run cannot be diagnosed (unknown, still running, or its spec is not stored)."""


def stored_diagnosis(store: TraceStore, run_id: str) -> Diagnosis | None:
    found = store.diagnoses(run_id)
    return Diagnosis.model_validate(found[-1].body) if found else None


async def diagnose_run(
    store: TraceStore,
    run_id: str,
    *,
    clients: ToolClients | None = None,
    temporal_ui: str | None = None,
    symptom: Symptom | None = None,
) -> Diagnosis:
    """Diagnose ``run_id`` from the store (and live schemas when ``clients`` is given).

    With ``clients`` (a worker's activity) the store's reads and writes run on a thread,
    so the worker's event loop keeps serving other activities; without (``steptrace
    why``) nothing else runs on the loop, and a thread hop would only add its cost."""
    off_loop = clients is not None
    run, pipeline, snapshot, good = await _call(off_loop, _gather, store, run_id)
    if symptom is None and run.status in (RunStatus.QC_FAILED, RunStatus.SUCCEEDED):
        symptom = await _call(off_loop, qc_symptom, store, run)
    symptom = symptom or _symptom(run, snapshot)
    destinations = await _destinations(clients, pipeline, snapshot) if clients else None
    lineage = spec_lineage(pipeline.spec) if pipeline else _ran_in_order(snapshot)
    probes = await probe_sources(clients, snapshot, good[0] if good else None) if clients else {}
    evidence = await _call(off_loop, _schema_evidence, store, run, good, destinations)
    finding = locate(snapshot, symptom, lineage, good, destinations, probes)
    finding = reconcile(finding, symptom, snapshot, evidence)
    good_run = good[0] if good else None
    fresh = await probe_own(clients, snapshot) if clients and _wants_fresh(finding) else {}
    context = (
        FixContext(
            pipeline,
            snapshot,
            destinations,
            symptom.step,
            finding.implicated,
            good_run,
            tuple(good),
            evidence.then,
            evidence.now,
            fresh,
            symptom.rubrics,
            rubric_check_for(store, run.run_id, pipeline.spec) if symptom.rubrics else None,
        )
        if pipeline is not None
        else None
    )
    diagnosis = _compose(run, context, snapshot, symptom, finding, temporal_ui)
    diagnosis = with_confidence(diagnosis, finding, evidence)
    diagnosis = diagnosis.model_copy(
        update={
            "evidence": diagnosis.evidence.model_copy(update={"last_good_run": _first_id(good)})
        }
    )
    await _call(off_loop, store.add_diagnosis, run.run_id, diagnosis.model_dump(mode="json"))
    return diagnosis


async def _call(off_loop: bool, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
    """``fn(*args, **kwargs)``, on a thread when ``off_loop``."""
    if off_loop:
        return await asyncio.to_thread(fn, *args, **kwargs)
    return fn(*args, **kwargs)


def _schema_evidence(
    store: TraceStore,
    run: RunRecord,
    good: list[RunSnapshot],
    destinations: LiveDestinations | None,
) -> SchemaEvidence:
    """The run's schemas (live beat recorded), each against the one the newest earlier
    good run that recorded that step's schema saw (good runs may skip the read)."""
    now = dict(recorded_schemas(store, run.run_id))
    if destinations is not None:
        now.update(destinations.schemas)  # live beats recorded
    tools = [s.step for s in good[0].steps.values() if s.kind in ("read", "write")] if good else []
    steps = {*now, *tools}
    found = baseline_schemas(store, run.pipeline, run.version_hash, run.started_at, steps)
    then = {step: schema for step, (_, schema) in found.items()}
    return schema_evidence(then, now, {step: run_id for step, (run_id, _) in found.items()})


def _ran_in_order(snapshot: RunSnapshot) -> Lineage:
    """Step-level lineage for a run without a spec (a hand-written workflow)."""
    ordered = sorted(snapshot.steps.values(), key=lambda s: s.index)
    return step_level_lineage(s.step for s in ordered)


def _gather(
    store: TraceStore, run_id: str
) -> tuple[RunRecord, LoadedPipeline | None, RunSnapshot, list[RunSnapshot]]:
    run = store.get_run(run_id)
    if run is None:
        raise DiagnosisError(f"no run {run_id!r} in the trace store")
    if run.status == RunStatus.RUNNING:
        raise DiagnosisError(f"run {run_id} is still running; diagnose it once it has ended")
    pipeline = _pipeline(store, run)
    spec = pipeline.spec if pipeline else None
    good_runs = store.good_runs(run.pipeline, run.version_hash, run.started_at, limit=GOOD_RUNS)
    attempts = store.attempts_of([run.run_id, *(g.run_id for g in good_runs)])
    snapshot = load_snapshot(store, run, spec, attempts[run.run_id])
    good = [load_snapshot(store, g, spec, attempts[g.run_id]) for g in good_runs]
    return run, pipeline, snapshot, good


def _pipeline(store: TraceStore, run: RunRecord) -> LoadedPipeline | None:
    text = store.get_pipeline_spec(run.version_hash) if run.version_hash else None
    if text is None:
        return None  # a hand-written workflow: step-level lineage only
    try:
        return parse_pipeline(text, source=f"pipelines/{run.pipeline}.yaml")
    except PipelineSpecError:
        return None


def qc_symptom(store: TraceStore, run: RunRecord) -> Symptom | None:
    """The failed blocker rubrics of a ``qc_failed`` run, as evidence nodes."""
    failed = [r for r in store.rubric_results(run.run_id) if r.outcome == "fail"]
    blockers = [r for r in failed if r.severity == "blocker"] or failed
    if not blockers:
        return None
    nodes: list[Node] = []
    for result in blockers:
        for item in result.evidence.get("items", []):
            step, side, path = parse_path(str(item.get("path", "")))
            if side == "write":
                path = ()
            nodes.append(Node(step, INPUT if side == "input" else OUTPUT, path))
    ids = tuple(r.rubric_id for r in blockers)
    suggests = [RUBRICS_BY_ID[i].suggests for i in ids if i in RUBRICS_BY_ID]
    suggested = next((fault for fault in suggests if fault), None)
    return Symptom(
        step=run.failed_step,
        nodes=tuple(dict.fromkeys(nodes)),
        rubrics=ids,
        suggested_class=suggested,
    )


def _symptom(run: RunRecord, snapshot: RunSnapshot) -> Symptom:
    step = run.failed_step
    if step is None:
        failed = [s for s in snapshot.steps.values() if s.status == "failed"]
        step = failed[-1].step if failed else None
    error = (
        snapshot.steps[step].errors[-1]
        if step in snapshot.steps and snapshot.steps[step].errors
        else None
    )
    return Symptom(step=step, error=error)


async def _destinations(
    clients: ToolClients, pipeline: LoadedPipeline | None, snapshot: RunSnapshot
) -> LiveDestinations | None:
    if pipeline is None:
        return None
    writes: dict[str, tuple[str, dict[str, Any]]] = {}
    context: dict[str, Any] = {"trigger": snapshot.trigger}
    for step in pipeline.spec.steps:
        recorded = snapshot.steps.get(step.id)
        if step.map is None:
            args = recorded.input if recorded else _planned_args(step.args, context)
            writes[step.id] = (step.op, args if isinstance(args, dict) else {})
        if recorded is not None and recorded.output is not None:
            context[step.id] = recorded.output
    return await load_destinations(clients, writes)


def _planned_args(args: dict[str, Any], context: dict[str, Any]) -> dict[str, Any]:
    """The arguments a step that never ran would have had; ``{}`` if they cannot be known."""
    try:
        return evaluate_args(args, context)
    except JMESPathError:
        return {}


def _first_id(good: list[RunSnapshot]) -> str | None:
    return good[0].run_id if good else None


def _wants_fresh(finding: Localization) -> bool:
    """Only a data patch reads the failed record again (for a value of its own)."""
    return finding.fault_class == "invalid_source_data"


def _compose(
    run: RunRecord,
    context: FixContext | None,
    snapshot: RunSnapshot,
    symptom: Symptom,
    finding: Localization,
    temporal_ui: str | None,
) -> Diagnosis:
    if context is not None:
        fix = propose(finding, context)
    else:
        from tracer.diagnosis_model import ProposedFix

        fix = ProposedFix(
            kind="escalate", detail="The run's spec is not stored; a person must look."
        )
    return Diagnosis(
        run_id=run.run_id,
        status=run.status.value,
        failed_step=symptom.step,
        onset_step=finding.onset_step,
        fault_class=finding.fault_class,
        explanation=explain(symptom, finding, snapshot),
        evidence=Evidence(
            error=symptom.error.model_dump(exclude_none=True) if symptom.error else None,
            rubrics=list(symptom.rubrics),
            implicated=[
                _implicated(i) for i in finding.implicated if i.change or i.node == finding.focus
            ],
            walked=list(finding.walked),
        ),
        proposed_fix=fix,
        links=links(run, finding.onset_step or symptom.step, temporal_ui),
    )


def _implicated(item: Any) -> ImplicatedValue:
    return ImplicatedValue(
        step=item.node.step,
        path=str(item.node),
        last_good=item.good,
        now=item.now,
        change=item.change or "none",
    )


def links(run: RunRecord, step: str | None, temporal_ui: str | None) -> Links:
    temporal = None
    if temporal_ui and run.workflow_id and run.temporal_run_id:
        temporal = (
            f"{temporal_ui.rstrip('/')}/namespaces/default/workflows/"
            f"{quote(run.workflow_id, safe='')}/{run.temporal_run_id}/history"
        )
    step_link = f"steptrace diff {run.run_id} {step}" if step else None
    return Links(run=f"steptrace show {run.run_id}", step=step_link, temporal=temporal)


# --- the explanation: two sentences ---------------------------------------------------


def explain(symptom: Symptom, finding: Localization, snapshot: RunSnapshot) -> str:
    return f"{_what_failed(symptom, snapshot)} {_where_it_started(symptom, finding)}"


def _what_failed(symptom: Symptom, snapshot: RunSnapshot) -> str:
    if symptom.rubrics:
        return f"QC rubric {', '.join(symptom.rubrics)} failed on this run's handoffs."
    step = symptom.step
    if step is None or symptom.error is None:
        return "The run failed without a recorded step error."
    op = snapshot.steps[step].op if step in snapshot.steps else "?"
    tries = len(snapshot.steps[step].errors) if step in snapshot.steps else 1
    return f"Step `{step}` ({op}) failed after {tries} attempt(s): {_short(symptom.error)}."


def _short(error: AttemptError) -> str:
    message = error.message.split("\n")[0].rstrip(".")
    return message if len(message) <= 160 else message[:157] + "…"


def _where_it_started(symptom: Symptom, finding: Localization) -> str:
    onset = finding.onset_step
    fault = finding.fault_class.replace("_", " ")
    focus = _focus_change(finding)
    if finding.reason == "structural" and focus:
        return f"It started upstream at `{onset}`, where {focus} ({fault})."
    reasons = {
        "accepted_before": "nothing upstream changed, and the destination refuses a value "
        "it accepted in the last good run",
        "field_gone": "nothing upstream changed, and the destination no longer has a field "
        "it had in the last good run",
        "option_gone": "nothing upstream changed, and the destination no longer offers "
        "the value the mapping produces",
        "field_unknown": "the spec writes a field the destination has never had",
        "type_changed": "nothing upstream changed, and the destination's field no longer "
        "takes this kind of value, which it took in the last good run",
        "missing_path": "the spec reads a path that its source step never outputs",
        "bad_mapping": "the mapping there produces a value the destination refuses",
        "bad_source_value": "the value came unchanged from the source, which holds a bad value",
        "no_value_named": "the tool refused the call itself, with no upstream value involved",
        "changed_by_destination": "the tool holds another value than the one we wrote, "
        "though it kept ours in the last good run",
        "arguments": "the step's own arguments leave out what the rubric looks for",
    }
    why = reasons.get(finding.reason)
    if why is None:
        return f"It started at `{onset}` ({fault}); nothing upstream is implicated."
    return f"It started at `{onset}`: {why} ({fault})."


def _focus_change(finding: Localization) -> str | None:
    for item in finding.implicated:
        if item.node == finding.focus and item.change:
            was = f"was {_brief(item.good)} in the last good run"
            return f"`{item.node}` {was} and is {_now(item)} now"
    return None


def _now(item: Any) -> str:
    return "missing" if item.change == "missing" else _brief(item.now)


def _brief(value: Any, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


# --- the activity -----------------------------------------------------------------------


class Diagnoser:
    """The ``steptrace.diagnose`` activity: diagnose a run that ended badly, and store it."""

    def __init__(
        self, store: TraceStore | None, clients: ToolClients | None, temporal_ui: str | None
    ) -> None:
        self.store = store
        self.clients = clients
        self.temporal_ui = temporal_ui

    @activity.defn(name=DIAGNOSE_ACTIVITY)
    async def diagnose(self, run_id: str) -> dict[str, Any] | None:
        if self.store is None:
            return None
        diagnosis = await diagnose_run(
            self.store, run_id, clients=self.clients, temporal_ui=self.temporal_ui
        )
        return diagnosis.model_dump(mode="json")
