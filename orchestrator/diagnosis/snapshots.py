"""A stored run as the diagnosis reads it: snapshots per step, and the spec's lineage.

The tracer's diagnosis knows no ops and no spec format; this module translates: each
step's kind comes from the op catalogue (a tool op that writes, one that reads, or a
pure one), and the lineage from the JMESPath of the spec's arguments and map entries.
"""

from __future__ import annotations

from dataclasses import replace

from orchestrator.runtime.pipeline_workflow import QC_REVIEW_OP
from orchestrator.spec.ops import OPS
from orchestrator.spec.pipeline import MapEntry, PipelineSpec, StepSpec, step_expressions
from tracer.diagnose import RunSnapshot, StepKind, StepSnapshot
from tracer.lineage import Derivation, Lineage, Path, StepExpressions
from tracer.store import AttemptRecord, RunRecord, TraceStore


def step_kind(op: str) -> StepKind:
    spec = OPS.get(op)
    if spec is None:
        return "other"
    if spec.tool is None:
        return "pure"
    return "write" if spec.writes else "read"


def load_snapshot(
    store: TraceStore, run: RunRecord, spec: PipelineSpec | None = None
) -> RunSnapshot:
    """The last attempt of every step of ``run``, with every attempt's error.

    With ``spec``, the steps a QC review saw *planned* (not run yet: a Slack message
    checked before it was posted) are included, with the arguments they were to get.
    """
    by_step: dict[str, list[AttemptRecord]] = {}
    for attempt in store.attempts(run.run_id):
        by_step.setdefault(attempt.step_id, []).append(attempt)
    steps = {step_id: _step(store, tries) for step_id, tries in by_step.items()}
    if any(step.index < 0 for step in steps.values()):
        steps = _in_order_run(steps, by_step)
    if spec is not None:
        steps.update(_planned(spec, steps))
    trigger = store.get_payload(run.trigger_hash) if run.trigger_hash else None
    return RunSnapshot(run_id=run.run_id, trigger=trigger, steps=steps)


def _in_order_run(
    steps: dict[str, StepSnapshot], by_step: dict[str, list[AttemptRecord]]
) -> dict[str, StepSnapshot]:
    """A hand-written workflow's activities carry no step index: number them in the
    order their first attempts started."""
    first = sorted(by_step, key=lambda step: min(a.started_at for a in by_step[step]))
    return {step: replace(steps[step], index=index) for index, step in enumerate(first)}


def _planned(spec: PipelineSpec, ran: dict[str, StepSnapshot]) -> dict[str, StepSnapshot]:
    planned: dict[str, StepSnapshot] = {}
    for snapshot in ran.values():
        args = snapshot.input if snapshot.op == QC_REVIEW_OP else None
        plan = args.get("planned") if isinstance(args, dict) else None
        for step_id, step_args in (plan or {}).items():
            if step_id in ran or not _has_step(spec, step_id):
                continue
            step = spec.step(step_id)
            planned[step_id] = StepSnapshot(
                step=step_id,
                index=spec.steps.index(step),
                op=step.op,
                kind=step_kind(step.op),
                status="planned",
                input=step_args,
                output=None,
            )
    return planned


def _has_step(spec: PipelineSpec, step_id: str) -> bool:
    return any(step.id == step_id for step in spec.steps)


def _step(store: TraceStore, tries: list[AttemptRecord]) -> StepSnapshot:
    tries = sorted(tries, key=lambda a: a.attempt)
    last = tries[-1]
    return StepSnapshot(
        step=last.step_id,
        index=last.step_index,
        op=last.op,
        kind=step_kind(last.op),
        status=last.status.value,
        input=store.get_payload(last.input_hash),
        output=store.get_payload(last.output_hash) if last.output_hash else None,
        errors=tuple(a.error for a in tries if a.error is not None),
    )


def spec_lineage(spec: PipelineSpec) -> Lineage:
    return Lineage(_expressions(step) for step in spec.steps)


def _expressions(step: StepSpec) -> StepExpressions:
    outputs: dict[Path, Derivation] = {}
    for name, entry in (step.map or {}).items():
        outputs[(name,)] = _derivation(entry)
    inputs = {
        path[1:]: Derivation(expression)
        for path, expression in step_expressions(step)
        if path[0] == "args"
    }
    return StepExpressions(step=step.id, outputs=outputs, inputs=inputs)


def _derivation(entry: MapEntry | str) -> Derivation:
    if isinstance(entry, str):
        return Derivation(entry)
    changes = entry.values is not None or entry.date_format or entry.max_length
    domain = frozenset(entry.values) if entry.values is not None else None
    derived = bool(changes or "default" in entry.model_fields_set)
    return Derivation(entry.source, derived=derived, domain=domain)
