"""The pure evaluation of step arguments and transform maps."""

from __future__ import annotations

import pytest

from orchestrator.spec.pipeline import parse_pipeline
from orchestrator.spec.transform import TransformError, evaluate_args, run_transform

SPEC = """\
name: t
steps:
  - id: src
    op: linear.get_issue
    args: {id: trigger.issue}
  - id: norm
    op: transform
    map:
      title: {from: src.title, max_length: 5}
      priority: {from: src.priority, values: {1: Urgent, 2: High}}
      state: {from: src.state, values: {Todo: Todo}, default: Triage}
      due: {from: src.due, date_format: "%d/%m/%Y"}
      email: src.assignee.email
      channel: "src.priority == `1` && 'incidents' || 'triage'"
"""


def norm(source: dict[str, object]) -> dict[str, object]:
    step = parse_pipeline(SPEC).spec.step("norm")
    assert step.map is not None
    return run_transform("norm", step.map, {"trigger": {}, "src": source})


def test_transform_applies_each_rule() -> None:
    out = norm(
        {
            "title": "Checkout fails",
            "priority": 1,
            "state": "Doing",
            "due": "2026-11-30",
            "assignee": {"email": "a@example.com"},
        }
    )
    assert out == {
        "title": "Check",
        "priority": "Urgent",
        "state": "Triage",
        "due": "30/11/2026",
        "email": "a@example.com",
        "channel": "incidents",
    }


def test_missing_values_stay_missing() -> None:
    out = norm({"title": "x", "priority": 2, "state": None, "due": None, "assignee": None})
    assert out["due"] is None and out["email"] is None
    assert out["state"] == "Triage"
    assert out["channel"] == "triage"


def test_value_not_in_map_is_a_clear_error() -> None:
    with pytest.raises(TransformError) as info:
        norm({"title": "x", "priority": 4, "state": "Todo", "due": None})
    assert info.value.code == "value_not_in_map"
    assert "step `norm`, map.priority: 4" in str(info.value)
    assert "known: '1', '2'" in str(info.value)


def test_bad_date_is_a_clear_error() -> None:
    with pytest.raises(TransformError, match="not an ISO date") as info:
        norm({"title": "x", "priority": 1, "state": "Todo", "due": "next week"})
    assert info.value.code == "bad_date"


def test_timestamps_format_as_dates() -> None:
    out = norm({"title": "x", "priority": 1, "state": "Todo", "due": "2026-11-30T10:00:00Z"})
    assert out["due"] == "30/11/2026"


def test_arguments_evaluate_nested_expressions_and_literals() -> None:
    args = {
        "table": "'Issues'",
        "merge_on": ["'Linear ID'"],
        "fields": {"Title": "n.t"},
        "typecast": True,
        "limit": 3,
    }
    assert evaluate_args(args, {"n": {"t": "Hello"}}) == {
        "table": "Issues",
        "merge_on": ["Linear ID"],
        "fields": {"Title": "Hello"},
        "typecast": True,
        "limit": 3,
    }
