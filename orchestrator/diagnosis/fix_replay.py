"""Checking a proposed fix before anyone sees it: replay the pure steps on the snapshots.

The patched spec is run over the failed run's recorded handoffs: steps that talk to a
tool are not called again, their recorded outputs are reused; ``transform`` steps are
recomputed with the patch; and the arguments every write step would now send are checked
against what the destination accepts today (its live schema). A fix is *verified* only
when every write from the first patched value onwards would be accepted; it is
*refuted* when one would be refused or the patched spec does not load or map; and it is
*unknown* (``None``) when a destination's schema could not be read.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from jmespath.exceptions import JMESPathError
from pydantic import ValidationError

from orchestrator.diagnosis.fix_guard import Guard, Verdict
from orchestrator.spec.ops import OPS
from orchestrator.spec.pipeline import (
    PipelineSpec,
    PipelineSpecError,
    StepSpec,
    parse_pipeline,
    step_expressions,
)
from orchestrator.spec.transform import TransformError, evaluate_args, run_transform
from orchestrator.tools.destinations import LiveDestinations
from tracer.diagnose import RunSnapshot
from tracer.lineage import expression_reads


@dataclass(frozen=True)
class ReplayCheck:
    verified: bool | None
    detail: str


@dataclass(frozen=True)
class LengthLimit:
    """A write argument that must fit a size limit the tool named (``name`` ≤ 255)."""

    step: str
    path: tuple[str | int, ...]
    limit: int


def check_spec_patch(
    patched_text: str,
    source: str,
    run: RunSnapshot,
    destinations: LiveDestinations | None,
    length: LengthLimit | None = None,
    guard: Guard | None = None,
) -> ReplayCheck:
    try:
        spec = parse_pipeline(patched_text, source=source).spec
    except PipelineSpecError as exc:
        return ReplayCheck(False, f"the patched spec does not load: {exc.problems[0]}")
    return replay(spec, run, destinations, {}, length, guard)


def check_data_patch(
    spec: PipelineSpec,
    run: RunSnapshot,
    destinations: LiveDestinations | None,
    step: str,
    path: tuple[str | int, ...],
    value: Any,
    guard: Guard | None = None,
) -> ReplayCheck:
    """Replay with the source value at ``step``/``path`` replaced by ``value``."""
    recorded = run.steps[step].output
    patched = copy.deepcopy(recorded)
    try:
        _set(patched, path, value)
    except (KeyError, IndexError, TypeError):
        where = ".".join(str(p) for p in path)
        return ReplayCheck(None, f"`{step}.{where}` cannot be patched in the recorded output")
    return replay(spec, run, destinations, {step: patched}, None, guard)


def replay(
    spec: PipelineSpec,
    run: RunSnapshot,
    destinations: LiveDestinations | None,
    overrides: dict[str, Any],
    length: LengthLimit | None = None,
    guard: Guard | None = None,
) -> ReplayCheck:
    """Replay ``spec`` on ``run``'s snapshots; with ``guard``, also check that the fix
    harms nothing and removes the symptom (see :mod:`orchestrator.diagnosis.fix_guard`)."""
    context: dict[str, Any] = {"trigger": run.trigger}
    checked: set[str] = set()
    doubts: list[str] = []
    for step in spec.steps:
        op = OPS[step.op]
        if op.tool is None and step.map is not None:
            try:
                context[step.id] = run_transform(step.id, step.map, context)
            except TransformError as exc:
                return ReplayCheck(False, f"the patched transform still fails: {exc}")
            continue
        if _reads_unknown(step, context):
            continue  # it reads a step that never ran: nothing to check it against
        if length is not None and step.id == length.step:
            fits = _check_length(step, context, length)
            if fits.verified is not True:
                return fits
            checked.add(step.id)
        if op.writes or _failed_on_arguments(run, step.id):
            verdict = _check_write(step, context, destinations, run)
            if verdict is not None:
                if verdict.verified is not True:
                    return verdict
                checked.add(step.id)
                harm = _harm(guard, step, context)
                if harm.ok is False:
                    return ReplayCheck(False, harm.detail)
                if harm.ok is None:
                    doubts.append(harm.detail)
        recorded = run.steps.get(step.id)
        if step.id in overrides:
            context[step.id] = overrides[step.id]
        elif recorded is not None and recorded.status == "succeeded":
            context[step.id] = recorded.output
    if not checked:
        return ReplayCheck(None, "no write could be checked against a destination schema")
    if guard is not None:
        gone = guard.symptom(checked, context, spec)
        if gone.ok is False:
            return ReplayCheck(False, gone.detail)
        if gone.ok is None:
            doubts.append(gone.detail)
    if doubts:
        return ReplayCheck(None, f"not verified: {doubts[0]}")
    return ReplayCheck(
        True,
        f"replayed on the recorded snapshots; {len(checked)} write(s) accepted, "
        "no field dropped" + (", the failed rubrics pass" if guard and guard.rubrics else ""),
    )


def _harm(guard: Guard | None, step: StepSpec, context: dict[str, Any]) -> Verdict:
    if guard is None:
        return Verdict(True)
    try:
        args = evaluate_args(step.args, context)
    except JMESPathError:
        return Verdict(True)  # already refused by the write check
    context[f"{step.id}.args"] = args
    return guard.write(step.id, step.op, args)


def _reads_unknown(step: StepSpec, context: dict[str, Any]) -> bool:
    roots: set[str] = set()
    for _, expression in step_expressions(step):
        roots |= expression_reads(expression).roots
    return any(root not in context for root in roots)


def _failed_on_arguments(run: RunSnapshot, step: str) -> bool:
    """The step failed because its arguments were invalid: validating them is the check."""
    recorded = run.steps.get(step)
    errors = recorded.errors if recorded else ()
    return bool(errors) and errors[-1].error_class == "InvalidArguments"


def _check_write(
    step: StepSpec,
    context: dict[str, Any],
    destinations: LiveDestinations | None,
    run: RunSnapshot,
) -> ReplayCheck | None:
    op = OPS[step.op]
    try:
        args = evaluate_args(step.args, context)
    except JMESPathError as exc:
        return ReplayCheck(False, f"step `{step.id}`: its arguments do not evaluate: {exc}")
    try:
        assert op.args is not None
        op.args.model_validate(args)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        message = f"step `{step.id}` would get invalid arguments: {where}: {first['msg']}"
        return ReplayCheck(False, message)
    problems = destinations.problems(step.id, args) if destinations else None
    if problems is None:
        return ReplayCheck(True, "") if _failed_on_arguments(run, step.id) else None
    if problems:
        return ReplayCheck(False, f"step `{step.id}` would still be refused: {problems[0]}")
    return ReplayCheck(True, "")


def _check_length(step: StepSpec, context: dict[str, Any], length: LengthLimit) -> ReplayCheck:
    try:
        args = evaluate_args(step.args, context)
    except JMESPathError as exc:
        return ReplayCheck(False, f"step `{step.id}`: its arguments do not evaluate: {exc}")
    value: Any = args
    for segment in length.path:
        value = value.get(segment) if isinstance(value, dict) else None
    size = len(str(value)) if value is not None else 0
    if size > length.limit:
        return ReplayCheck(False, f"step `{step.id}` would still send {size} > {length.limit}")
    return ReplayCheck(True, "")


def _set(target: Any, path: tuple[str | int, ...], value: Any) -> None:
    for segment in path[:-1]:
        target = target[segment]
    if path:
        target[path[-1]] = value
