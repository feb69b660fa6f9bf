"""Every rubric, in the order reports list them (families: integrity, safety, process,
judgment)."""

from __future__ import annotations

from rubrics import integrity, judgment, process, records, safety
from rubrics.model import Rubric

RUBRICS: tuple[Rubric, ...] = (
    *integrity.RUBRICS,
    *records.RUBRICS,
    *safety.RUBRICS,
    *process.RUBRICS,
    *judgment.RUBRICS,
)


RUBRICS_BY_ID: dict[str, Rubric] = {rubric.id: rubric for rubric in RUBRICS}


def rubric_ids() -> list[str]:
    return [rubric.id for rubric in RUBRICS]


def select_rubrics(ids: list[str] | None) -> list[Rubric]:
    """The rubrics named by ``ids`` (all when ``None``); an unknown id is an error."""
    if ids is None:
        return list(RUBRICS)
    known = {rubric.id: rubric for rubric in RUBRICS}
    unknown = [rubric_id for rubric_id in ids if rubric_id not in known]
    if unknown:
        raise KeyError(f"unknown rubric id(s) {', '.join(unknown)} (known: {', '.join(known)})")
    return [known[rubric_id] for rubric_id in ids]
