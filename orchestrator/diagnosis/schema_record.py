"""The ``steptrace.record_schemas`` activity: the schemas a run depended on, as evidence.

At the end of every pipeline run the schema behind each step that read or wrote a tool
(an Airtable table's fields and options, a Monday board's columns and labels, Linear's
states and labels, Slack's channels) is read once and stored with the run, each as a
content-addressed payload with the tools' stable ids. A later diagnosis compares the
last good run's snapshot with the failed run's by id (:mod:`tracer.schemas`): a renamed
field is found, not guessed. A schema that cannot be read is left out, never invented.
"""

from __future__ import annotations

import asyncio
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


class SchemaRecorder:
    """Records the schemas of a run's tool steps in ``store`` (``None``: tracing off)."""

    def __init__(self, store: TraceStore | None, clients: ToolClients | None) -> None:
        self.store = store
        self.clients = clients

    @activity.defn(name=RECORD_SCHEMAS_ACTIVITY)
    async def record_schemas(self, run_id: str) -> int:
        if self.store is None or self.clients is None:
            return 0
        steps = await asyncio.to_thread(tool_steps, self.store, run_id)
        schemas = await fetch_schemas(self.clients, steps)
        await asyncio.to_thread(save_schemas, self.store, run_id, schemas)
        return len(schemas)


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


def save_schemas(store: TraceStore, run_id: str, schemas: dict[str, ContainerSchema]) -> None:
    store.add_run_schemas(run_id, {step: encode(s.to_json()) for step, s in schemas.items()})


def recorded_schemas(store: TraceStore, run_id: str) -> dict[str, ContainerSchema]:
    """The schemas ``run_id`` recorded, by step id."""
    return {
        step: ContainerSchema.from_json(data)
        for step, data in store.run_schemas(run_id).items()
        if isinstance(data, dict)
    }
