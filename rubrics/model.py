"""What a rubric is and what it answers.

A :class:`Rubric` is a small declarative check: an id, a version, a one-sentence
question, a severity, a kind (``deterministic`` or ``llm``), the concepts and paths it
reads, and a pure ``check`` over a run's evidence. It answers with a :class:`Finding`
(outcome, evidence, message); :func:`rubrics.review.review` turns that into a
:class:`RubricResult` stamped with the rubric's id, version, severity and kind.

Evidence paths
--------------
Every :class:`EvidenceItem` names the step it read and an exact path into that step's
recorded payload, so the diagnosis can walk it back through lineage:

- ``<step>.<path>`` is a path into the step's **output**
  (``upsert_airtable.fields.Priority``);
- ``<step>.$input.<path>`` is a path into the step's **input**, its evaluated arguments
  (``notify_slack.$input.channel``); a step that has not run yet is cited the same
  way, by the arguments it is about to receive;
- ``<step>.$writes.<n>.<before|after>.<path>`` is a path into the ``n``-th external
  write's image; lineage treats it at step level.

Segments are joined with ``.``; list positions are decimal numbers (``labels.0``); keys
are written as they are, spaces included (``fields.Linear ID``). :func:`parse_path`
reads a path back.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from tracer.faults import FaultClass

if TYPE_CHECKING:
    from rubrics.evidence import PipelineParams, RunEvidence
    from rubrics.judge import Judge

INPUT_MARK = "$input"
WRITES_MARK = "$writes"

Severity = Literal["blocker", "major", "minor"]
Kind = Literal["deterministic", "llm"]
Side = Literal["output", "input", "write"]
Segment = str | int


class Outcome(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    NOT_APPLICABLE = "not_applicable"
    NOT_JUDGED = "not_judged"
    ERROR = "error"


class EvidenceItem(BaseModel):
    """One value a rubric looked at: the step, the exact path, and the value."""

    model_config = ConfigDict(frozen=True)

    step: str
    path: str
    value: Any = None


class RubricResult(BaseModel):
    """A rubric's answer for one run."""

    model_config = ConfigDict(frozen=True)

    rubric_id: str
    rubric_version: str
    outcome: Outcome
    severity: Severity
    kind: Kind
    evidence: list[EvidenceItem] = Field(default_factory=list)
    message: str = ""

    @property
    def step_id(self) -> str | None:
        """The step the evidence points at: the first one cited that failed, else the first."""
        return self.evidence[0].step if self.evidence else None

    @property
    def blocker_failed(self) -> bool:
        return self.outcome == Outcome.FAIL and self.severity == "blocker"


@dataclass(frozen=True)
class Finding:
    """What a check returns; :func:`rubrics.review.review` stamps the rubric on it."""

    outcome: Outcome
    message: str
    evidence: tuple[EvidenceItem, ...] = ()

    @classmethod
    def passed(cls, message: str, evidence: Sequence[EvidenceItem] = ()) -> Finding:
        return cls(Outcome.PASS, message, tuple(evidence))

    @classmethod
    def failed(cls, message: str, evidence: Sequence[EvidenceItem] = ()) -> Finding:
        return cls(Outcome.FAIL, message, tuple(evidence))

    @classmethod
    def not_applicable(cls, message: str) -> Finding:
        return cls(Outcome.NOT_APPLICABLE, message)

    @classmethod
    def from_checks(
        cls,
        failures: Sequence[tuple[str, Sequence[EvidenceItem]]],
        looked: Sequence[EvidenceItem],
        ok: str,
        nothing: str,
    ) -> Finding:
        """Fail with every failure's message and evidence; pass if something was looked at."""
        if failures:
            evidence = [item for _, items in failures for item in items]
            return cls.failed("; ".join(message for message, _ in failures), evidence)
        if not looked:
            return cls.not_applicable(nothing)
        return cls.passed(ok, looked)


@dataclass(frozen=True)
class CheckContext:
    """What a check is handed: the run's evidence, the pipeline's parameters, the judge."""

    evidence: RunEvidence
    params: PipelineParams
    judge: Judge | None = None


Check = Callable[[CheckContext], Finding]


@dataclass(frozen=True)
class Rubric:
    """One small check. ``reads`` names the concepts and paths it reads, for the docs."""

    id: str
    version: str
    question: str
    severity: Severity
    kind: Kind
    reads: tuple[str, ...]
    check: Check = field(repr=False, compare=False)
    suggests: FaultClass | None = None
    """The fault class a failure of this rubric stands for, when it names one by itself
    (a duplicate record is a ``duplicate_write``); the diagnosis uses it."""

    @property
    def family(self) -> str:
        return self.id.split(".", 1)[0]


def output_path(step: str, *segments: Segment) -> str:
    """``<step>.<path>``: a path into the step's output."""
    return _join(step, segments)


def input_path(step: str, *segments: Segment) -> str:
    """``<step>.$input.<path>``: a path into the step's input (its arguments)."""
    return _join(step, (INPUT_MARK, *segments))


def write_path(step: str, index: int, image: str, *segments: Segment) -> str:
    """``<step>.$writes.<n>.<before|after>.<path>``: a path into a write's image."""
    return _join(step, (WRITES_MARK, index, image, *segments))


def parse_path(path: str) -> tuple[str, Side, tuple[Segment, ...]]:
    """Read an evidence path back: its step, which payload, and the segments inside it."""
    step, _, rest = path.partition(".")
    parts: list[Segment] = [int(p) if p.isdigit() else p for p in rest.split(".")] if rest else []
    if parts and parts[0] == INPUT_MARK:
        return step, "input", tuple(parts[1:])
    if parts and parts[0] == WRITES_MARK:
        return step, "write", tuple(parts[1:])
    return step, "output", tuple(parts)


def _join(step: str, segments: Sequence[Segment]) -> str:
    return ".".join([step, *(str(s) for s in segments)])
