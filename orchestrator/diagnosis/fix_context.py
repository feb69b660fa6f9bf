"""What a proposed fix is built from: the run, its pipeline, the evidence, the guard.

One :class:`FixContext` per diagnosis; the spec patches (:mod:`orchestrator.diagnosis.fixes`)
and the data patches (:mod:`orchestrator.diagnosis.data_patches`) read it, and its
:class:`~orchestrator.diagnosis.fix_guard.Guard` is what every replay of a fix must pass.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property

from orchestrator.diagnosis.fix_guard import Guard, RubricCheck
from orchestrator.diagnosis.fix_replay import ReplayCheck
from orchestrator.diagnosis.snapshots import spec_lineage
from orchestrator.spec.pipeline import LoadedPipeline
from orchestrator.tools.destinations import LiveDestinations
from tracer.diagnose import Implicated, Probe, RunSnapshot
from tracer.diagnosis_model import ProposedFix
from tracer.faults import FixKind
from tracer.lineage import Lineage
from tracer.schemas import ContainerSchema


@dataclass(frozen=True)
class FixContext:
    pipeline: LoadedPipeline
    run: RunSnapshot
    destinations: LiveDestinations | None
    failed_step: str | None
    implicated: tuple[Implicated, ...] = ()
    good: RunSnapshot | None = None
    good_runs: tuple[RunSnapshot, ...] = ()
    schemas_then: Mapping[str, ContainerSchema] = field(default_factory=dict)
    """The schemas the last good run recorded, by step (evidence for renames by id)."""
    schemas_now: Mapping[str, ContainerSchema] = field(default_factory=dict)
    """The schemas as they are now (live, else this run's recorded ones), by step."""
    fresh: Mapping[str, Probe] = field(default_factory=dict)
    """This run's own source objects read again now, by read step."""
    rubrics: tuple[str, ...] = ()
    rubric_check: RubricCheck | None = None

    @cached_property
    def lineage(self) -> Lineage:
        return spec_lineage(self.pipeline.spec)

    @cached_property
    def guard(self) -> Guard:
        return Guard(
            good_runs=self.good_runs or ((self.good,) if self.good else ()),
            run=self.run,
            schemas_then=self.schemas_then,
            schemas_now=self.schemas_now,
            failed_step=self.failed_step,
            rubrics=self.rubrics,
            rubric_check=self.rubric_check,
        )


def escalate(detail: str) -> ProposedFix:
    return ProposedFix(kind="escalate", detail=detail)


def with_check(kind: FixKind, patch: str, why: str, check: ReplayCheck) -> ProposedFix:
    return ProposedFix(
        kind=kind,
        patch=patch,
        verified=check.verified,
        detail=f"{why} {check.detail[:1].upper()}{check.detail[1:]}.".replace("..", "."),
    )
