"""Schema evidence, both sides of a refusal, and how sure a diagnosis is.

The walk (:func:`tracer.diagnose.locate`) judges from the recorded handoffs. The schemas
the runs recorded are a second, independent witness: when the failing write step's
destination renamed or dropped the refused field, or stopped offering a refused option
(element-wise for lists), *the destination changed*, whatever the value's producer looks
like — :func:`reconcile` says so. :func:`with_confidence` adds the schema diff, the
evidence chain and a confidence to the diagnosis, and abstains (``unknown`` +
``escalate``, with the ranked hypotheses) when the two witnesses contradict each other.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from tracer.diagnose import Localization, RunSnapshot, Symptom
from tracer.diagnosis_model import Diagnosis, Hypothesis, ProposedFix
from tracer.lineage import INPUT, Node
from tracer.schemas import ContainerSchema, SchemaChange, SchemaDiff, diff_schemas

DESTINATION_REASONS = ("field_gone", "option_gone", "accepted_before", "type_changed")


@dataclass(frozen=True)
class SchemaEvidence:
    then: Mapping[str, ContainerSchema] = field(default_factory=dict)
    now: Mapping[str, ContainerSchema] = field(default_factory=dict)
    diff: Mapping[str, SchemaDiff] = field(default_factory=dict)


def schema_evidence(
    then: Mapping[str, ContainerSchema],
    now: Mapping[str, ContainerSchema],
    then_runs: str | Mapping[str, str] | None,
) -> SchemaEvidence:
    """The per-step schema diff (by id) between the good run that recorded each step's
    schema (``then_runs``: one run for all, or one per step) and now. A step whose
    container is not the one it has now (its arguments chose another table) has no
    baseline: it is left out of ``then``."""
    same = {step: old for step, old in then.items() if step not in now or _same(old, now[step])}
    diffs = {
        step: found
        for step, old in same.items()
        if step in now and (found := diff_schemas(old, now[step], _run_of(then_runs, step))).changes
    }
    return SchemaEvidence(same, now, diffs)


def _same(then: ContainerSchema, now: ContainerSchema) -> bool:
    return (then.tool, then.container) == (now.tool, now.container)


def _run_of(then_runs: str | Mapping[str, str] | None, step: str) -> str | None:
    if then_runs is None or isinstance(then_runs, str):
        return then_runs
    return then_runs.get(step)


def reconcile(
    finding: Localization, symptom: Symptom, run: RunSnapshot, evidence: SchemaEvidence
) -> Localization:
    """The destination's own schema history, judged beside the walk's finding."""
    step = symptom.step
    if step is None or symptom.error is None or step not in evidence.diff:
        return finding
    if finding.fault_class == "destination_schema_drift" and finding.onset_step == step:
        return finding
    if finding.fault_class in ("auth", "rate_limited", "transient", "payload_limit"):
        return finding
    for node, value in _refused(run, step, finding):
        name = str(node.path[-1])
        for change in evidence.diff[step].changes:
            if change.name != name and change.to != name:
                continue
            if change.kind in ("renamed", "dropped") and change.name == name:
                return _destination(finding, step, "field_gone", node, change)
            if change.kind == "option_removed" and change.to in _elements(value):
                now = evidence.now[step].by_name(name)
                options = list(now.option_names()) if now else []
                return _destination(
                    finding, step, "option_gone", node, change, value=change.to, options=options
                )
    return finding


def _refused(run: RunSnapshot, step: str, finding: Localization) -> list[tuple[Node, Any]]:
    """The failing step's written values the finding implicates (field → value)."""
    nodes = [i.node for i in finding.implicated if i.node.step == step and i.node.side == INPUT]
    snapshot = run.steps.get(step)
    if not nodes and snapshot is not None and isinstance(snapshot.input, dict):
        nodes = [Node(step, INPUT, path) for path in _leaf_fields(snapshot.input)]
    return [(n, run.value(n)[1]) for n in nodes if n.path]


def _leaf_fields(args: dict[str, Any]) -> list[tuple[str | int, ...]]:
    found: list[tuple[str | int, ...]] = []
    for key, value in args.items():
        if isinstance(value, dict):
            found.extend((key, inner) for inner in value)
        else:
            found.append((key,))
    return found


def _elements(value: Any) -> list[str]:
    values = value if isinstance(value, list) else [value]
    return [str(v) for v in values if v is not None]


def _destination(
    finding: Localization,
    step: str,
    reason: str,
    node: Node,
    change: SchemaChange,
    **detail: Any,
) -> Localization:
    return replace(
        finding,
        onset_step=step,
        fault_class="destination_schema_drift",
        reason=reason,
        focus=node,
        detail={**finding.detail, **detail, "schema_change": change.sentence()},
    )


def with_confidence(
    diagnosis: Diagnosis, finding: Localization, schemas: SchemaEvidence
) -> Diagnosis:
    """Add the schema diff, the evidence chain and a confidence; abstain on conflict."""
    diff = schemas.diff
    changes = [c.sentence() for d in diff.values() for c in d.changes]
    chain = _chain(diagnosis, finding, diff)
    confidence = _confidence(finding, diff)
    evidence = diagnosis.evidence.model_copy(update={"schema_diff": changes, "chain": chain})
    updated = diagnosis.model_copy(update={"evidence": evidence, "confidence": confidence})
    if _conflicts(finding, schemas):
        return _abstain(updated, finding)
    return updated


def _chain(
    diagnosis: Diagnosis, finding: Localization, diff: Mapping[str, SchemaDiff]
) -> list[str]:
    chain = []
    if diagnosis.evidence.error:
        chain.append(f"symptom: {diagnosis.evidence.error.get('message', '')[:160]}")
    if diagnosis.evidence.rubrics:
        chain.append(f"symptom: QC rubric(s) {', '.join(diagnosis.evidence.rubrics)} failed")
    for item in diagnosis.evidence.implicated:
        if item.change not in ("none", ""):
            chain.append(f"{item.path}: {item.change} ({item.last_good!r} → {item.now!r})")
    for step, found in diff.items():
        chain.append(
            f"schema of `{step}` since {found.then_run or 'the last good run'}: {found.text()}"
        )
    chain.append(f"finding: {finding.fault_class} at `{finding.onset_step}` ({finding.reason})")
    return chain


def _confidence(finding: Localization, diff: Mapping[str, SchemaDiff]) -> float:
    if finding.reason.startswith("error:"):
        return 0.95  # the tool said what happened
    if finding.fault_class == "destination_schema_drift" and finding.onset_step in diff:
        return 0.95  # the walk and the schema history agree
    if finding.fault_class == "unknown":
        return 0.2
    if finding.reason == "structural":
        return 0.85
    return 0.7


def _conflicts(finding: Localization, schemas: SchemaEvidence) -> bool:
    """The walk blames a destination change that the destination's own schema history
    (recorded then and now, by id) does not show — at a field we can name."""
    if finding.fault_class != "destination_schema_drift" or finding.reason not in (
        "field_gone",
        "option_gone",
    ):
        return False
    step = finding.onset_step or ""
    known = step in schemas.then and step in schemas.now
    return known and step not in schemas.diff


def _abstain(diagnosis: Diagnosis, finding: Localization) -> Diagnosis:
    hypotheses = [
        Hypothesis(
            onset_step=finding.onset_step,
            fault_class=finding.fault_class,
            score=0.4,
            why=f"the walk's finding ({finding.reason})",
        ),
        Hypothesis(
            onset_step=diagnosis.failed_step,
            fault_class="mapping_error",
            score=0.3,
            why="the destination's schema did not change since the last good run",
        ),
    ]
    fix = ProposedFix(
        kind="escalate",
        detail="The evidence conflicts (the walk blames a destination change its recorded "
        "schemas do not show); a person must decide. Ranked hypotheses are attached.",
    )
    return diagnosis.model_copy(
        update={
            "fault_class": "unknown",
            "proposed_fix": fix,
            "hypotheses": hypotheses,
            "confidence": 0.3,
        }
    )
