"""The insights benchmark's scoring: a finding matches a planted pattern only with the
right condition or change day, and a citation counts only if its run was planted."""

from __future__ import annotations

from typing import Any

from bench.insights import score
from bench.insights_corpus import Pattern, Truth


def _finding(**fields: Any) -> dict[str, Any]:
    base = {
        "kind": "explanation", "pipeline": "p", "step": "write", "conditions": [],
        "path": None, "value": None, "change_day": None, "sentence": "s",
        "prevalence": {"rate": 0.04}, "cited_runs": [],
    }  # fmt: skip
    return base | fields


def test_score() -> None:
    planted = Pattern("E", "explanation", "p", True, "write", {"trigger.team": "OPS"})
    planted.runs = {"r1", "r2", "r3"}
    planted.denominator = 100
    default = Pattern("S", "default_taken", "p", True, "read", path="x", value="0", since_day=10)
    default.runs = {"r4"}
    default.denominator = 50
    truth = Truth({"E": planted, "S": default}, {"p": 100}, "b2000000", 100)
    findings = [
        _finding(conditions=[{"attr": "trigger.team", "value": "OPS"}], cited_runs=["r1", "r9"]),
        _finding(conditions=[{"attr": "trigger.region", "value": "eu"}], sentence="chance"),
        _finding(kind="default_taken", step="read", path="x", value="0",
                 change_day="2026-09-25", prevalence={"rate": 0.02}),  # wrong day
    ]  # fmt: skip
    result = score(findings, truth)
    assert result["recall"] == 0.5
    assert result["precision"] == round(1 / 3, 3)
    assert result["citations_valid"] == 0.5
    assert result["prevalence_error_pp_max"] == 1.0  # 4 % found, 3 % planted
    assert result["missed"] == ["S"]
