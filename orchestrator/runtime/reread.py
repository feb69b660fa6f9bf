"""Reading a source object again outside any run, with a read step's own op.

The diagnosis's source probe and QC's second look at the source both ask a tool what it
holds now for an object a run read before; the call is the step's op, so the answer has
the same shape as the step's recorded output. It only reads.
"""

from __future__ import annotations

from typing import Any

from temporalio.exceptions import ApplicationError

from orchestrator.runtime.activities import StepActivity
from tracer.diagnose import Probe
from tracer.steps import StepCall


async def reread(method: StepActivity, step: str, op: str, args: Any) -> Probe:
    """Call the read op ``method`` with ``args``: the object as the tool shows it now, or
    the error class the tool answered with."""
    call = StepCall(
        run_id="probe",
        pipeline="probe",
        pipeline_version="probe",
        step_id=step,
        step_index=0,
        op=op,
        args=args if isinstance(args, dict) else {},
    )
    try:
        returned = await method(call)
    except ApplicationError as exc:
        return Probe(ok=False, output=None, error_class=exc.type)
    return Probe(ok=True, output=returned.output)
