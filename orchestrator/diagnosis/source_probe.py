"""Re-reading a known-good source object, to tell a source that changed from one bad record.

When a value read from a tool is missing, or changed form, the failed run alone cannot
say whether the tool stopped sending that field (upstream drift) or this one record is
bad (invalid source data). Reading again the object the last good run read answers it:
if that object now shows the same change, the source changed; if it does not, only this
record is bad. The re-read is the step's own op, called with the good run's arguments;
it only reads.
"""

from __future__ import annotations

from orchestrator.runtime.activities import StepActivities
from orchestrator.runtime.reread import reread
from orchestrator.tools.clients import ToolClients
from tracer.diagnose import Probe, RunSnapshot


async def probe_sources(
    clients: ToolClients, run: RunSnapshot, good: RunSnapshot | None
) -> dict[str, Probe]:
    """For every read step of ``run``, the good run's object as the tool shows it now."""
    if good is None:
        return {}
    ops = StepActivities(clients).by_op()
    probes: dict[str, Probe] = {}
    for step in run.steps.values():
        recorded = good.steps.get(step.step)
        method = ops.get(step.op)
        if step.kind != "read" or recorded is None or method is None:
            continue
        probes[step.step] = await reread(method, step.step, step.op, recorded.input)
    return probes


async def probe_own(clients: ToolClients, run: RunSnapshot) -> dict[str, Probe]:
    """Every read step of ``run`` read again now with its own arguments: what the source
    holds for *this* record today (a data patch may take its value from there)."""
    ops = StepActivities(clients).by_op()
    probes: dict[str, Probe] = {}
    for step in run.steps.values():
        method = ops.get(step.op)
        if step.kind != "read" or method is None or step.input is None:
            continue
        probes[step.step] = await reread(method, step.step, step.op, step.input)
    return probes
