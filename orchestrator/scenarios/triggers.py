"""``runs:`` → one trigger per run, in the shape each pipeline reads."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from typing import Any

from orchestrator.scenarios.spec import FIRST_ISSUE, RunsSpec, ScenarioError
from orchestrator.spec.pipeline import PipelineSpec
from tracer.lineage import expression_reads

FIRST_DIGEST_DAY = date(2026, 11, 23)
INTAKE_TABLE = "Intake"


def trigger_fields(pipeline: PipelineSpec) -> set[str]:
    """The trigger fields a pipeline reads (``issue``, ``record_id``, ``date``, …)."""
    fields: set[str] = set()
    for step in pipeline.steps:
        expressions = list(_strings(step.args))
        for entry in (step.map or {}).values():
            expressions.append(entry if isinstance(entry, str) else entry.source)
        for expression in expressions:
            for read in expression_reads(expression).reads:
                if len(read) >= 2 and read[0] == "trigger":
                    fields.add(str(read[1]))
    return fields


def _strings(value: Any) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def plan_triggers(runs: RunsSpec, pipeline: PipelineSpec, intake_ids: list[str]) -> list[Any]:
    """One trigger per run, in order. ``intake_ids`` are the Intake table's record ids."""
    if runs.triggers is not None:
        return list(runs.triggers)
    if runs.issues is not None:
        return [{"issue": issue} for issue in runs.issues]
    if runs.dates is not None:
        return [{"date": day.isoformat()} for day in runs.dates]
    rows = runs.intake_rows
    if rows is None:
        count = runs.count or 0
        reads = trigger_fields(pipeline)
        if "record_id" in reads:
            rows = list(range(1, count + 1))
        elif "date" in reads:
            days = (FIRST_DIGEST_DAY + timedelta(days=n) for n in range(count))
            return [{"date": day.isoformat()} for day in days]
        else:
            return [{"issue": f"ENG-{FIRST_ISSUE + n}"} for n in range(count)]
    return [{"record_id": _intake_id(intake_ids, row)} for row in rows]


def _intake_id(intake_ids: list[str], row: int) -> str:
    if row > len(intake_ids):
        raise ScenarioError(f"intake row {row}: the Intake table has {len(intake_ids)} rows")
    return intake_ids[row - 1]


def intake_record_ids(airtable_state: dict[str, Any]) -> list[str]:
    """The ``Intake`` table's record ids in row order, from the sandbox's stored state."""
    for base in airtable_state.get("bases", []):
        for table in base.get("tables", []):
            if table.get("name") == INTAKE_TABLE:
                return [str(record["id"]) for record in table.get("records", [])]
    return []
