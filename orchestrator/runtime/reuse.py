"""The activity a replayed step runs instead of its tool: its recorded output, handed back."""

from __future__ import annotations

from typing import Any

from temporalio import activity

from orchestrator.runtime.pipeline_workflow import REUSE_ACTIVITY
from tracer.steps import StepCall, StepReturn


@activity.defn(name=REUSE_ACTIVITY)
async def reuse_recorded_output(call: StepCall, output: Any) -> StepReturn:
    """A replayed step's recorded output, handed back without calling its tool.

    It exists so that the replay's trace shows the step (input, reused output) like any
    other; the op in ``call`` is the step's own, the activity type says it was reused.
    """
    return StepReturn(output=output)
