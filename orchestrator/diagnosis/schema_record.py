"""The ``steptrace.record_schemas`` activity: the schemas a run depended on, as evidence.

At the end of every pipeline run (in the activity that records its end, see
:class:`~orchestrator.runtime.recorder.RunRecorder`) the schema behind each step that
read or wrote a tool (an Airtable table's fields and options, a Monday board's columns
and labels, Linear's states and labels, Slack's channels) is read once and stored with
the run, each as a content-addressed payload with the tools' stable ids. A later
diagnosis compares the last good run's snapshot with the failed run's by id
(:mod:`tracer.schemas`): a renamed field is found, not guessed. A schema that cannot be
read is left out, never invented.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from temporalio import activity

from orchestrator.diagnosis.snapshots import step_kind
from orchestrator.runtime.pipeline_workflow import RECORD_SCHEMAS_ACTIVITY
from orchestrator.tools.clients import ToolClients
from orchestrator.tools.destinations import fetch_schemas
from tracer.payloads import encode
from tracer.run_model import read_run
from tracer.schemas import ContainerSchema
from tracer.store import RunKind, TraceStore

log = logging.getLogger(__name__)


class SchemaRecorder:
    """Records the schemas of a run's tool steps in ``store`` (``None``: tracing off)."""

    def __init__(self, store: TraceStore | None, clients: ToolClients | None) -> None:
        self.store = store
        self.clients = clients

    async def schemas_of(self, run_id: str) -> dict[str, Any]:
        """The schemas ``run_id``'s tool steps depended on, as JSON by step id, read now;
        empty when one cannot be read (logged): evidence never fails the run."""
        if self.store is None or self.clients is None:
            return {}
        try:
            steps = await asyncio.to_thread(tool_steps, self.store, run_id)
            schemas = await fetch_schemas(self.clients, steps)
        except Exception:
            log.warning("schemas of run %s not read", run_id, exc_info=True)
            return {}
        return {step: schema.to_json() for step, schema in schemas.items()}

    @activity.defn(name=RECORD_SCHEMAS_ACTIVITY)
    async def record_schemas(self, run_id: str) -> int:
        """The schemas in an activity of their own: what runs started before the run's
        end recorded them (``RunEvent.record_schemas``) still call."""
        if self.store is None:
            return 0
        found = await self.schemas_of(run_id)
        await asyncio.to_thread(save_schemas, self.store, run_id, found)
        return len(found)


def tool_steps(store: TraceStore, run_id: str) -> dict[str, tuple[str, dict[str, Any]]]:
    """Every step of the run that called a tool, with its op and recorded arguments."""
    run = store.get_run(run_id)
    if run is None:
        return {}
    recorded = read_run(store, run)
    # A replay reuses the recorded reads and must call no source: only its writes count.
    kinds = ("write",) if run.kind == RunKind.REPLAY else ("read", "write")
    found: dict[str, tuple[str, dict[str, Any]]] = {}
    for step in recorded.steps:
        if step_kind(step.op) not in kinds:
            continue
        args = recorded.input(step)
        found[step.step_id] = (step.op, args if isinstance(args, dict) else {})
    return found


def save_schemas(store: TraceStore, run_id: str, schemas: dict[str, Any]) -> None:
    store.add_run_schemas(
        run_id, {step: encode(s, codec=store.codec) for step, s in schemas.items()}
    )


def recorded_schemas(store: TraceStore, run_id: str) -> dict[str, ContainerSchema]:
    """The schemas ``run_id`` recorded, by step id."""
    return {
        step: ContainerSchema.from_json(data)
        for step, data in store.run_schemas(run_id).items()
        if isinstance(data, dict)
    }
