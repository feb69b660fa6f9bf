"""``process.retries_within_budget`` counts every try a step made: its Temporal attempts
and the tool calls retried inside them (a client that absorbs 503s in one attempt)."""

from __future__ import annotations

from rubrics.model import Outcome, RubricResult
from rubrics.review import review
from tests.rubrics.evidence_data import clean_run, evidence, reference_params, step

RUBRIC = "process.retries_within_budget"


def retries(attempts: int, inner: int) -> RubricResult:
    data = clean_run()
    step(data, "upsert_airtable")["attempts"] = attempts
    step(data, "upsert_airtable")["inner_retries"] = inner
    [result] = review(evidence(data), reference_params(), select=[RUBRIC])
    return result


def test_retries_absorbed_inside_one_attempt_over_budget_fail() -> None:
    budget = reference_params().retry_budget
    result = retries(attempts=1, inner=budget)
    assert result.outcome == Outcome.FAIL, result
    assert f"upsert_airtable made {budget + 1} tries" in result.message
    assert f"1 attempt(s) and {budget} tool call(s) retried inside" in result.message
    [item] = [e for e in result.evidence if e.step == "upsert_airtable"]
    assert item.value == {"attempts": 1, "inner_retries": budget}


def test_attempts_and_inner_retries_add_up() -> None:
    budget = reference_params().retry_budget
    assert retries(attempts=budget - 1, inner=1).outcome == Outcome.PASS
    assert retries(attempts=budget, inner=1).outcome == Outcome.FAIL


def test_retries_within_budget_pass() -> None:
    budget = reference_params().retry_budget
    result = retries(attempts=1, inner=budget - 1)
    assert result.outcome == Outcome.PASS, result


def test_step_with_no_retries_passes() -> None:
    result = retries(attempts=1, inner=0)
    assert result.outcome == Outcome.PASS, result
    assert all(e.value == {"attempts": 1, "inner_retries": 0} for e in result.evidence)
