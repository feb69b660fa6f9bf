"""The fault engine and fault files: parsing, errors that name the input, firing rules."""

from __future__ import annotations

from pathlib import Path

import pytest

from connectors.sandbox.faults import (
    FAULT_KINDS,
    Fault,
    FaultEngine,
    FaultSpecError,
    parse_faults,
)
from connectors.sandbox.files import FaultFileError, load_fault_file


def test_scenario_mapping_and_bare_list_parse_alike() -> None:
    entry = {"service": "airtable", "kind": "rename_field", "target": "Priority", "to": "P"}
    assert parse_faults({"faults": [entry]}) == parse_faults([entry])


def test_unknown_kind_names_the_valid_choices() -> None:
    with pytest.raises(FaultSpecError) as info:
        parse_faults([{"service": "slack", "kind": "explode"}], source="s.yaml")
    message = str(info.value)
    assert "s.yaml: fault #1" in message
    assert "'explode'" in message
    assert all(kind in message for kind in FAULT_KINDS)


def test_unknown_service_and_missing_fields_are_named() -> None:
    with pytest.raises(FaultSpecError, match="unknown service 'jira'"):
        parse_faults([{"service": "jira", "kind": "latency"}])
    with pytest.raises(FaultSpecError, match="needs 'target', 'to'"):
        parse_faults([{"service": "linear", "kind": "rename_field"}])
    with pytest.raises(FaultSpecError, match="extra"):
        parse_faults([{"service": "linear", "kind": "latency", "seconds": 1, "colour": "red"}])


def test_fault_starts_at_its_run_and_stops_after_until_run() -> None:
    engine = FaultEngine(
        [Fault(service="monday", kind="drop_field", target="Due", from_run=2, until_run=3)]
    )
    seen = []
    for run in range(1, 5):
        engine.begin_run(run)
        seen.append(bool(engine.active("monday", ["drop_field"])))
    assert seen == [False, True, True, False]


def test_times_limits_how_often_a_fault_fires() -> None:
    engine = FaultEngine([Fault(service="slack", kind="http_error", status=503, times=2)])
    fired = [engine.fire("slack", ["http_error"], operation="chat.postMessage") for _ in range(4)]
    assert [f is not None for f in fired] == [True, True, False, False]
    assert [f.run for f in engine.fired] == [1, 1]


def test_rate_is_deterministic_for_a_seed() -> None:
    def pattern(seed: int) -> list[bool]:
        engine = FaultEngine([Fault(service="linear", kind="rate_limit", rate=0.3)], seed=seed)
        return [
            engine.fire("linear", ["rate_limit"], operation="issue") is not None for _ in range(200)
        ]

    first = pattern(7)
    assert first == pattern(7)
    assert 30 < sum(first) < 90  # about 30 % of 200


def test_operation_filter() -> None:
    engine = FaultEngine(
        [Fault(service="airtable", kind="http_error", status=500, operation="upsert_records")]
    )
    assert engine.fire("airtable", ["http_error"], operation="list_records") is None
    assert engine.fire("airtable", ["http_error"], operation="upsert_records") is not None


def test_fault_file_errors_name_file_and_line(tmp_path: Path) -> None:
    bad_yaml = tmp_path / "bad.yaml"
    bad_yaml.write_text("faults:\n  - service: linear\n    kind: [unclosed\n")
    with pytest.raises(FaultFileError, match=r"bad\.yaml: malformed YAML at line \d+"):
        load_fault_file(bad_yaml)

    wrong = tmp_path / "wrong.yaml"
    wrong.write_text(
        "name: x\nfaults:\n  - {service: linear, kind: latency, seconds: 1}\n"
        "  - service: linear\n    kind: nope\n"
    )
    with pytest.raises(FaultFileError, match=r"wrong\.yaml: fault #2 \(line 4\).*'nope'"):
        load_fault_file(wrong)

    with pytest.raises(FaultFileError, match="cannot read"):
        load_fault_file(tmp_path / "missing.yaml")


def test_fault_file_loads_a_scenario(tmp_path: Path) -> None:
    path = tmp_path / "scenario.yaml"
    path.write_text(
        "name: airtable-field-renamed\nseed: 7\nfaults:\n"
        "  - {service: airtable, kind: rename_field, target: Priority, to: Priority Level,"
        " from_run: 3}\n"
    )
    (fault,) = load_fault_file(path)
    assert (fault.kind, fault.target, fault.to, fault.from_run) == (
        "rename_field",
        "Priority",
        "Priority Level",
        3,
    )
