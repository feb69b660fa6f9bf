"""What a diagnosis says: the answer to "why did this fail?" as plain data.

``steptrace why --json`` prints :class:`Diagnosis`; the trace store keeps its JSON; the
Slack alert, the escalation workflow and the scenario runner read it. Keep the field
names stable: they are part of the ``why --json`` contract.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from tracer.faults import FaultClass, FixKind


class ProposedFix(BaseModel):
    """A fix a person can approve in one click.

    ``patch`` is a unified diff of the pipeline YAML for ``spec_patch``, a JSON text of
    the record changes for ``data_patch``, else ``None``. ``verified`` is ``True`` when
    replaying the pure steps with the patch produced values the destination accepts,
    ``False`` when that check failed, ``None`` when the fix cannot be checked offline
    (retry, credential, escalate).
    """

    kind: FixKind
    patch: str | None = None
    verified: bool | None = None
    detail: str = ""
    patched_version: str | None = Field(
        default=None, description="version hash of the patched spec (spec_patch only)"
    )


class ImplicatedValue(BaseModel):
    """One value the symptom points at, as the last good run had it and as it is now."""

    step: str
    path: str
    last_good: Any = None
    now: Any = None
    change: str = Field(description="missing, appeared, type, shape, value or invalid")


class Evidence(BaseModel):
    error: dict[str, Any] | None = None
    rubrics: list[str] = Field(default_factory=list, description="failed rubric ids (QC)")
    implicated: list[ImplicatedValue] = Field(default_factory=list)
    last_good_run: str | None = None
    walked: list[str] = Field(default_factory=list, description="steps compared, newest first")
    schema_diff: list[str] = Field(
        default_factory=list,
        description="what changed in the schemas the run depended on since the last good "
        "run, matched by the tools' stable ids (`fld…` renamed `A` → `B`)",
    )
    chain: list[str] = Field(
        default_factory=list, description="the evidence the finding rests on, in order"
    )


class Links(BaseModel):
    run: str
    step: str | None = None
    temporal: str | None = None


class Hypothesis(BaseModel):
    """One explanation considered, ranked by how well the evidence supports it."""

    onset_step: str | None
    fault_class: FaultClass
    score: float
    why: str = ""


class Diagnosis(BaseModel):
    run_id: str
    status: str
    failed_step: str | None
    onset_step: str | None
    fault_class: FaultClass
    explanation: str
    evidence: Evidence
    proposed_fix: ProposedFix
    links: Links
    confidence: float | None = Field(
        default=None, description="0..1: how strongly the evidence supports the finding"
    )
    hypotheses: list[Hypothesis] = Field(
        default_factory=list, description="ranked explanations, when more than one fits"
    )
