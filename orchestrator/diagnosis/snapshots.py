"""A stored run as the diagnosis reads it: snapshots per step, and the spec's lineage.

The tracer's diagnosis knows no ops and no spec format; this module translates: each
step's kind comes from the op catalogue (a tool op that writes, one that reads, or a
pure one), and the lineage from the JMESPath of the spec's arguments and map entries.
"""

from __future__ import annotations

from orchestrator.spec.ops import OPS, QC_REVIEW_OP
from orchestrator.spec.pipeline import MapEntry, PipelineSpec, StepSpec, step_expressions
from tracer.diagnose import RunSnapshot, StepKind, StepSnapshot
from tracer.lineage import Derivation, Lineage, Path, StepExpressions
from tracer.run_model import RecordedRun, RecordedStep, read_run
from tracer.store import AttemptRecord, RunRecord, TraceStore


def step_kind(op: str) -> StepKind:
    spec = OPS.get(op)
    if spec is None:
        return "other"
    if spec.tool is None:
        return "pure"
    return "write" if spec.writes else "read"


def load_snapshot(
    store: TraceStore,
    run: RunRecord,
    spec: PipelineSpec | None = None,
    attempts: list[AttemptRecord] | None = None,
) -> RunSnapshot:
    """The last attempt of every step of ``run``, with every attempt's error (its
    ``attempts`` when already read).

    With ``spec``, the steps a QC review saw *planned* (not run yet: a Slack message
    checked before it was posted) are included, with the arguments they were to get.
    """
    recorded = read_run(store, run, attempts)
    steps = {step.step_id: _step(recorded, step) for step in recorded.steps}
    if spec is not None:
        steps.update(_planned(spec, steps))
    return RunSnapshot(run_id=run.run_id, trigger=recorded.trigger(), steps=steps)


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


def _step(run: RecordedRun, step: RecordedStep) -> StepSnapshot:
    return StepSnapshot(
        step=step.step_id,
        index=step.index,
        op=step.op,
        kind=step_kind(step.op),
        status=step.status.value,
        input=run.input(step),
        output=run.output(step),
        errors=step.errors,
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
