"""A pipeline workflow changed without a patch, for the replay test's negative case (its own
module: the workflow sandbox re-imports it, and the test module reads files on import)."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow

from orchestrator.runtime.pipeline_workflow import (
    PIPELINE_WORKFLOW,
    PipelineInput,
    PipelineResult,
    PipelineWorkflow,
)


@workflow.defn(name=PIPELINE_WORKFLOW)
class PipelineWorkflowWithAnExtraActivity:
    """Today's workflow with one unpatched command added first: not replay-safe."""

    @workflow.run
    async def run(self, params: PipelineInput) -> PipelineResult:
        await workflow.execute_activity(
            "steptrace.extra", start_to_close_timeout=timedelta(seconds=5)
        )
        return await PipelineWorkflow().run(params)
