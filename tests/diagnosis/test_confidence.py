"""Both sides judged: the destination's own schema history beside the walk's finding."""

from __future__ import annotations

from orchestrator.diagnosis.confidence import reconcile, schema_evidence, with_confidence
from tracer.diagnose import Implicated, Localization, RunSnapshot, StepSnapshot, Symptom
from tracer.diagnosis_model import Diagnosis, Evidence, Links, ProposedFix
from tracer.lineage import INPUT, Node
from tracer.schemas import ContainerSchema, FieldSchema, Option
from tracer.store.records import AttemptError

LABELS = Node("upsert", INPUT, ("fields", "Labels"))
ERROR = AttemptError(error_class="InvalidValueError", message="Insufficient permissions")


def labels_schema(*names: str) -> ContainerSchema:
    options = tuple(Option(f"sel{n}", n) for n in names)
    return ContainerSchema(
        "airtable", "app/tbl", (FieldSchema("fldL", "Labels", "multipleSelects", options),)
    )


def run(labels: list[str]) -> RunSnapshot:
    step = StepSnapshot(
        "upsert",
        2,
        "airtable.upsert_record",
        "write",
        "failed",
        {"fields": {"Labels": labels}},
        None,
        (ERROR,),
    )
    return RunSnapshot("r", {}, {"upsert": step})


def blamed_on_source() -> Localization:
    return Localization(
        "fetch",
        "invalid_source_data",
        "bad_source_value",
        (Implicated(LABELS, None, None, None),),
        Node("fetch", "out", ("labels",)),
    )


def test_a_refused_element_the_destination_stopped_offering_blames_the_destination() -> None:
    evidence = schema_evidence(
        {"upsert": labels_schema("bug", "feature")}, {"upsert": labels_schema("bug")}, "good"
    )
    found = reconcile(
        blamed_on_source(), Symptom("upsert", ERROR), run(["bug", "feature"]), evidence
    )
    assert (found.onset_step, found.fault_class, found.reason) == (
        "upsert",
        "destination_schema_drift",
        "option_gone",
    )
    assert found.detail["value"] == "feature"


def test_an_unchanged_destination_leaves_the_finding_alone() -> None:
    same = labels_schema("bug", "feature")
    evidence = schema_evidence({"upsert": same}, {"upsert": same}, "good")
    found = reconcile(blamed_on_source(), Symptom("upsert", ERROR), run(["bug", "zzz"]), evidence)
    assert found.fault_class == "invalid_source_data"


def test_a_destination_change_its_own_schema_history_does_not_show_abstains() -> None:
    same = labels_schema("bug")
    evidence = schema_evidence({"upsert": same}, {"upsert": same}, "good")
    finding = Localization("upsert", "destination_schema_drift", "option_gone", (), LABELS)
    diagnosis = Diagnosis(
        run_id="r",
        status="failed",
        failed_step="upsert",
        onset_step="upsert",
        fault_class="destination_schema_drift",
        explanation="x",
        evidence=Evidence(),
        proposed_fix=ProposedFix(kind="spec_patch", verified=False),
        links=Links(run="r"),
    )
    found = with_confidence(diagnosis, finding, evidence)
    assert found.fault_class == "unknown" and found.proposed_fix.kind == "escalate"
    assert len(found.hypotheses) >= 2 and found.confidence is not None
