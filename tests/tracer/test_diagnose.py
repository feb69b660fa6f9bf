"""The onset walk and the fault classes, on hand-made snapshots of a three-step pipeline.

``read`` fetches a record from a tool, ``shape`` maps it (a value map on ``level``, a
copy of ``title`` and ``due``), ``write`` sends the mapped values to another tool. Each
test changes one thing between the last good run and the failed one and checks where
the walk says the failure started and what kind of fault it is.
"""

from __future__ import annotations

from typing import Any

from tracer.diagnose import RunSnapshot, StepSnapshot, Symptom, locate
from tracer.lineage import (
    INPUT,
    OUTPUT,
    Derivation,
    Lineage,
    Node,
    StepExpressions,
    step_level_lineage,
)
from tracer.store.records import AttemptError

LINEAGE = Lineage(
    [
        StepExpressions("read", outputs={}, inputs={("id",): Derivation("trigger.id")}),
        StepExpressions(
            "shape",
            outputs={
                ("level",): Derivation("read.priority", derived=True),
                ("title",): Derivation("read.title"),
                ("due",): Derivation("read.due"),
            },
            inputs={},
        ),
        StepExpressions(
            "write",
            outputs={},
            inputs={
                ("fields", "Level"): Derivation("shape.level"),
                ("fields", "Title"): Derivation("shape.title"),
                ("fields", "Due"): Derivation("shape.due"),
            },
        ),
    ]
)
GOOD_SOURCE = {"id": "A-1", "priority": 2, "title": "Checkout", "due": "2026-11-14"}


def run(
    source: dict[str, Any],
    level: str | None = "High",
    *,
    error: AttemptError | None = None,
    errors_before: tuple[AttemptError, ...] = (),
    run_id: str = "now",
) -> RunSnapshot:
    shaped = {"level": level, "title": source.get("title"), "due": source.get("due")}
    steps = {
        "read": StepSnapshot("read", 0, "tool.read", "read", "succeeded", {"id": "A-1"}, source),
        "shape": StepSnapshot(
            "shape", 1, "transform", "pure", "succeeded", {"read": source}, shaped
        ),
        "write": StepSnapshot(
            "write",
            2,
            "tool.write",
            "write",
            "failed" if error else "succeeded",
            {"fields": {"Level": level, "Title": shaped["title"], "Due": shaped["due"]}},
            None if error else {"id": "rec1"},
            (*errors_before, error) if error else (),
        ),
    }
    return RunSnapshot(run_id=run_id, trigger={"id": "A-1"}, steps=steps)


GOOD = [run(GOOD_SOURCE, run_id="good")]


def failure(error: AttemptError, **kwargs: Any) -> tuple[RunSnapshot, Symptom]:
    failed = run(kwargs.pop("source", GOOD_SOURCE), error=error, **kwargs)
    return failed, Symptom(step="write", error=error)


def invalid(field: str, message: str, cls: str = "InvalidValueError") -> AttemptError:
    return AttemptError(error_class=cls, message=message, status=422, field=field)


def test_a_date_that_changed_format_upstream_is_drift_at_the_read_step() -> None:
    source = {**GOOD_SOURCE, "due": "14/11/2026"}
    failed, symptom = failure(
        invalid("Due", 'Field "Due" cannot accept "14/11/2026"'), source=source
    )
    finding = locate(failed, symptom, LINEAGE, GOOD)
    assert (finding.onset_step, finding.fault_class) == ("read", "upstream_schema_drift")
    assert finding.focus == Node("read", OUTPUT, ("due",))


def test_a_value_gone_upstream_is_drift_only_if_every_good_run_had_it() -> None:
    source = {**GOOD_SOURCE, "due": None}
    failed, symptom = failure(invalid("Due", "Due is required"), source=source)
    assert locate(failed, symptom, LINEAGE, GOOD).fault_class == "upstream_schema_drift"
    sometimes_empty = [*GOOD, run({**GOOD_SOURCE, "due": None}, run_id="good-2")]
    finding = locate(failed, symptom, LINEAGE, sometimes_empty)
    assert finding.fault_class == "invalid_source_data"
    assert finding.onset_step == "read"


def test_free_text_where_a_date_was_is_bad_source_data() -> None:
    source = {**GOOD_SOURCE, "due": "soon"}
    failed, symptom = failure(invalid("Due", 'Field "Due" cannot accept "soon"'), source=source)
    finding = locate(failed, symptom, LINEAGE, GOOD)
    assert (finding.onset_step, finding.fault_class) == ("read", "invalid_source_data")


def test_a_mapping_that_produces_a_refused_value_is_a_mapping_error() -> None:
    failed, symptom = failure(invalid("Level", "'Hgh' is not an option"), level="Hgh")
    finding = locate(failed, symptom, LINEAGE, GOOD)
    assert (finding.onset_step, finding.fault_class) == ("shape", "mapping_error")
    assert finding.focus == Node("shape", OUTPUT, ("level",))


def test_a_value_accepted_in_the_last_good_run_means_the_destination_changed() -> None:
    failed, symptom = failure(invalid("Level", "'High' is not an option"))
    finding = locate(failed, symptom, LINEAGE, GOOD)
    assert (finding.onset_step, finding.fault_class) == ("write", "destination_schema_drift")
    assert finding.reason == "accepted_before"


def test_an_unknown_field_that_was_written_before_is_a_renamed_destination_field() -> None:
    error = invalid("Title", 'Unknown field name: "Title"', "UnknownFieldError")
    failed, symptom = failure(error)
    finding = locate(failed, symptom, LINEAGE, GOOD)
    assert (finding.onset_step, finding.fault_class, finding.reason) == (
        "write",
        "destination_schema_drift",
        "field_gone",
    )
    assert finding.focus == Node("write", INPUT, ("fields", "Title"))
    assert locate(failed, symptom, LINEAGE, []).fault_class == "mapping_error"


def test_a_value_copied_unchanged_from_the_source_is_bad_source_data() -> None:
    source = {**GOOD_SOURCE, "title": "x" * 9}
    failed, symptom = failure(invalid("Title", "Title is not acceptable"), source=source)
    finding = locate(failed, symptom, LINEAGE, GOOD)
    assert (finding.onset_step, finding.fault_class) == ("read", "invalid_source_data")


def test_errors_that_speak_for_themselves() -> None:
    cases = {
        "transient": AttemptError(error_class="TransientError", message="503", status=503),
        "rate_limited": AttemptError(error_class="RateLimitError", message="slow down", status=429),
        "auth": AttemptError(error_class="AuthError", message="token_revoked"),
        "conflict": AttemptError(error_class="ConflictError", message="edited", status=409),
        "payload_limit": AttemptError(
            error_class="PayloadTooLargeError", message="too big", status=413, field="fields.Title"
        ),
    }
    for expected, error in cases.items():
        failed, symptom = failure(error)
        finding = locate(failed, symptom, LINEAGE, GOOD)
        assert (finding.onset_step, finding.fault_class) == ("write", expected)


def test_a_value_over_a_named_length_limit_is_a_payload_limit() -> None:
    error = invalid("Title", "Item name is too long: 4804 characters, the limit is 255")
    failed, symptom = failure(error)
    finding = locate(failed, symptom, LINEAGE, GOOD)
    assert (finding.onset_step, finding.fault_class) == ("write", "payload_limit")
    assert finding.focus == Node("write", INPUT, ("fields", "Title"))
    assert finding.detail["limit"] == 255


def test_a_conflict_after_a_timed_out_write_is_a_duplicate_write() -> None:
    timeout = AttemptError(error_class="ConnectorTimeoutError", message="504", status=504)
    exists = AttemptError(
        error_class="ValidationError", message="An issue with this id already exists."
    )
    failed, symptom = failure(exists, errors_before=(timeout,))
    assert locate(failed, symptom, LINEAGE, GOOD).fault_class == "duplicate_write"


def test_a_rubric_symptom_is_walked_back_like_an_error() -> None:
    failed = run(GOOD_SOURCE, level="Low")
    symptom = Symptom(step=None, nodes=(Node("write", INPUT, ("fields", "Level")),), rubrics=("x",))
    finding = locate(failed, symptom, LINEAGE, GOOD)
    assert (finding.onset_step, finding.fault_class) == ("shape", "mapping_error")


def test_a_path_the_source_never_had_is_a_wrong_path() -> None:
    lineage = Lineage(
        [
            LINEAGE.step("read"),  # type: ignore[list-item]
            StepExpressions("shape", outputs={("title",): Derivation("read.titel")}, inputs={}),
            StepExpressions(
                "write", outputs={}, inputs={("fields", "Title"): Derivation("shape.title")}
            ),
        ]
    )
    failed, symptom = failure(invalid("Title", "Title is required"))
    finding = locate(failed, symptom, lineage, GOOD)
    assert (finding.onset_step, finding.fault_class, finding.reason) == (
        "shape",
        "mapping_error",
        "missing_path",
    )
    assert finding.detail["closest"] == "title"


def test_lineage_links_a_written_field_back_to_the_source() -> None:
    links = LINEAGE.walk(Node("write", INPUT, ("fields", "Level")))
    assert [(str(link.source), link.derived) for link in links] == [
        ("shape.level", False),
        ("read.priority", True),
    ]


def hand_written(middle_output: dict[str, Any], *, fails: bool, run_id: str) -> RunSnapshot:
    """Three activities of a hand-written workflow: no spec, so no expressions."""
    error = AttemptError(error_class="KeyError", message="'amount'") if fails else None
    steps = {
        "load-order": StepSnapshot(
            "load-order", 0, "load-order", "other", "succeeded", [1], {"id": 1}
        ),
        "price": StepSnapshot(
            "price", 1, "price", "other", "succeeded", [{"id": 1}], middle_output
        ),
        "charge": StepSnapshot(
            "charge",
            2,
            "charge",
            "other",
            "failed" if fails else "succeeded",
            [middle_output],
            None if fails else {"ok": True},
            (error,) if error else (),
        ),
    }
    return RunSnapshot(run_id=run_id, trigger={}, steps=steps)


def test_hand_written_workflows_get_step_level_lineage() -> None:
    lineage = step_level_lineage(["load-order", "price", "charge"])
    assert [str(link.source) for link in lineage.walk(Node("charge", INPUT, ()))] == [
        "price",
        "price.$input",
        "load-order",
    ]
    good = [hand_written({"id": 1, "amount": 5}, fails=False, run_id="good")]
    failed = hand_written({"id": 1, "total": 5}, fails=True, run_id="now")
    error = failed.steps["charge"].errors[-1]
    finding = locate(failed, Symptom(step="charge", error=error), lineage, good)
    assert finding.onset_step == "price"  # its output changed shape; charge only choked on it
    assert finding.fault_class == "unknown"
    unchanged = hand_written({"id": 1, "amount": 5}, fails=True, run_id="now")
    same = locate(unchanged, Symptom(step="charge", error=error), lineage, good)
    assert same.onset_step == "charge"


def test_a_source_value_the_value_map_does_not_know_is_bad_source_data() -> None:
    mapped = Lineage(
        [
            StepExpressions("read", outputs={}, inputs={("id",): Derivation("trigger.id")}),
            StepExpressions(
                "shape",
                outputs={
                    ("level",): Derivation(
                        "read.priority", derived=True, domain=frozenset({"1", "2", "3"})
                    )
                },
                inputs={},
            ),
            StepExpressions(
                "write", outputs={}, inputs={("fields", "Level"): Derivation("shape.level")}
            ),
        ]
    )
    rubric = Symptom(step=None, nodes=(Node("write", INPUT, ("fields", "Level")),), rubrics=("x",))
    unknown = run({**GOOD_SOURCE, "priority": 9}, level="No priority")
    finding = locate(unknown, rubric, mapped, GOOD)
    assert (finding.onset_step, finding.fault_class) == ("read", "invalid_source_data")
    known = run({**GOOD_SOURCE, "priority": 3}, level="Low")
    assert locate(known, rubric, mapped, GOOD).fault_class == "mapping_error"


def test_path_forms_the_docs_allow_read_the_same() -> None:
    """``x[]`` and ``x[*]`` are one level of items; nested projections keep their paths."""
    from tracer.lineage import expression_reads

    star = expression_reads("s.records[*].fields.Name").reads
    assert expression_reads("s.records[].fields.Name").reads == star
    assert expression_reads("s.items[].{n: name, s: values.Status}").reads == (
        ("s", "items", "*", "name"),
        ("s", "items", "*", "values", "Status"),
    )
    assert expression_reads("s.records[*].fields.Tags[]").reads == (
        ("s", "records", "*", "fields", "Tags", "*"),
    )
