"""The ``qc.review`` step as a Temporal activity: a pipeline's own QC of its run.

Kept apart from :mod:`orchestrator.qc.review` so that reviewing a stored run from the
command line (``steptrace qc``) does not load Temporal.
"""

from __future__ import annotations

import asyncio

from temporalio import activity
from temporalio.exceptions import ApplicationError

from orchestrator.qc.review import review_run, spec_of, summary, untraced_summary
from orchestrator.spec.ops import QC_REVIEW_OP, QcReviewArgs
from rubrics.judge import Judge
from rubrics.model import RubricResult
from tracer.steps import StepCall, StepReturn
from tracer.store import TraceStore

__all__ = ["QcActivities"]


class QcActivities:
    """The ``qc.review`` activity, handed the trace store and the judge (or none)."""

    def __init__(self, store: TraceStore | None, judge: Judge | None = None) -> None:
        self.store = store
        self.judge = judge

    @activity.defn(name=QC_REVIEW_OP)
    async def review(self, call: StepCall) -> StepReturn:
        args = QcReviewArgs.model_validate(call.args)
        if self.store is None:
            # QC reads the recorded handoffs; with tracing off there are none to judge.
            # Nothing is claimed: every rubric is reported not judged, nothing blocks.
            return StepReturn(output=untraced_summary())
        try:
            results = await asyncio.to_thread(self._review, call, args)
        except (LookupError, KeyError) as exc:
            raise ApplicationError(
                f"step `{call.step_id}` (qc.review): {exc}", type="QcError", non_retryable=True
            ) from exc
        return StepReturn(output=summary(results))

    def _review(self, call: StepCall, args: QcReviewArgs) -> list[RubricResult]:
        assert self.store is not None
        spec = spec_of(self.store, call.pipeline_version)
        return review_run(
            self.store, call.run_id, spec, self.judge, select=args.rubrics, planned=args.planned
        )
