"""The ``qc.review`` step as a Temporal activity: a pipeline's own QC of its run.

Kept apart from :mod:`orchestrator.qc.review` so that reviewing a stored run from the
command line (``steptrace qc``) does not load Temporal.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

from temporalio import activity
from temporalio.exceptions import ApplicationError

from orchestrator.qc.params import pipeline_params
from orchestrator.qc.reread import with_rereads
from orchestrator.qc.review import (
    REREAD_KEY,
    review_evidence,
    run_evidence,
    spec_of,
    summary,
    untraced_summary,
)
from orchestrator.runtime.activities import StepActivity
from orchestrator.spec.ops import QC_REVIEW_OP, QcReviewArgs
from rubrics.judge import Judge
from rubrics.model import RubricResult
from tracer.steps import StepCall, StepReturn
from tracer.store import TraceStore

__all__ = ["QcActivities"]


class QcActivities:
    """The ``qc.review`` activity, handed the trace store, the judge (or none) and the read
    ops by name (or none), with which a null read field gets a second look at the source."""

    def __init__(
        self,
        store: TraceStore | None,
        judge: Judge | None = None,
        readers: Mapping[str, StepActivity] | None = None,
    ) -> None:
        self.store = store
        self.judge = judge
        self.readers = readers or {}

    @activity.defn(name=QC_REVIEW_OP)
    async def review(self, call: StepCall) -> StepReturn:
        args = QcReviewArgs.model_validate(call.args)
        if self.store is None:
            # QC reads the recorded handoffs; with tracing off there are none to judge.
            # Nothing is claimed: every rubric is reported not judged, nothing blocks.
            return StepReturn(output=untraced_summary())
        try:
            results, reread = await self._review(call, args)
        except (LookupError, KeyError) as exc:
            raise ApplicationError(
                f"step `{call.step_id}` (qc.review): {exc}", type="QcError", non_retryable=True
            ) from exc
        # The second look at the source is part of the step's handoff, so a later review
        # of the run (the diagnosis's fix check, `steptrace qc`) judges the same evidence.
        return StepReturn(output=summary(results) | ({REREAD_KEY: reread} if reread else {}))

    async def _review(
        self, call: StepCall, args: QcReviewArgs
    ) -> tuple[list[RubricResult], dict[str, list[dict[str, str]]]]:
        store = self.store
        assert store is not None
        spec = await asyncio.to_thread(spec_of, store, call.pipeline_version)
        params = pipeline_params(spec)
        evidence = await asyncio.to_thread(
            run_evidence, store, call.run_id, planned=args.planned, params=params
        )
        if self.readers:
            evidence = await with_rereads(store, evidence, params, self.readers)
        results = await asyncio.to_thread(
            review_evidence, store, evidence, params, self.judge, select=args.rubrics
        )
        return results, evidence.reread
