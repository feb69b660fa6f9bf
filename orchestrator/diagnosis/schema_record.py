"""The schemas a run depended on, as evidence, read and stored at the run's end.

At the end of a pipeline run (in the activity that records its end, see
:class:`~orchestrator.runtime.recorder.RunRecorder`) the schema behind each step that
read or wrote a tool (an Airtable table's fields and options, a Monday board's columns
and labels, Linear's states and labels, Slack's channels) is read once and stored with
the run, each as a content-addressed payload with the tools' stable ids: always for a
run that failed or failed a rubric, and for a good run when the worker has not recorded
its pipeline version's schemas for ``RECORD_GOOD_RUNS_EVERY`` seconds (a request per
tool step is the costliest part of tracing a run, and good runs in a burst see the same
schemas). A later diagnosis compares the failed run's with those of the newest good run
that recorded some, by id (:mod:`tracer.schemas`): a renamed field is found, not
guessed. A schema that cannot be read is left out, never invented. Runs started before
the end recorded them call the ``steptrace.record_schemas`` activity instead.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from typing import Any

from temporalio import activity

from orchestrator.diagnosis.snapshots import step_kind
from orchestrator.runtime.pipeline_workflow import RECORD_SCHEMAS_ACTIVITY
from orchestrator.tools.clients import ToolClients
from orchestrator.tools.destinations import fetch_schemas
from tracer.payloads import encode
from tracer.run_model import read_run
from tracer.schemas import ContainerSchema
from tracer.store import RunKind, RunRecord, RunStatus, TraceStore

log = logging.getLogger(__name__)


# A run that succeeded records its schemas when the worker has not recorded its
# pipeline version's for this long: reading them costs a request per tool step, on the
# run's path, and most good runs see the schemas the one before saw. A run that failed
# (or failed a rubric) always records them; a diagnosis compares them with those of the
# newest good run that recorded some (:meth:`TraceStore.schema_baseline`).
RECORD_GOOD_RUNS_EVERY = 10.0


class SchemaRecorder:
    """Records the schemas of a run's tool steps in ``store`` (``None``: tracing off);
    a good run's at most every ``good_runs_every`` seconds per pipeline version."""

    def __init__(
        self,
        store: TraceStore | None,
        clients: ToolClients | None,
        *,
        good_runs_every: float = RECORD_GOOD_RUNS_EVERY,
    ) -> None:
        self.store = store
        self.clients = clients
        self.good_runs_every = good_runs_every
        self._recorded: dict[tuple[str, str | None], float] = {}  # version: monotonic time

    async def schemas_of(self, run_id: str, status: str | None = None) -> dict[str, Any]:
        """The schemas ``run_id``'s tool steps depended on, as JSON by step id, read now
        (``status``: how the run ends; a good run's only when due); empty when one cannot
        be read (logged): evidence never fails the run."""
        if self.store is None or self.clients is None:
            return {}
        try:
            steps = await asyncio.to_thread(self.steps_to_read, self.store, run_id, status)
            schemas = await fetch_schemas(self.clients, steps) if steps else {}
        except Exception:
            log.warning("schemas of run %s not read", run_id, exc_info=True)
            return {}
        return {step: schema.to_json() for step, schema in schemas.items()}

    def steps_to_read(
        self, store: TraceStore, run_id: str, status: str | None
    ) -> dict[str, tuple[str, dict[str, Any]]]:
        run = store.get_run(run_id)
        if run is None:
            return {}
        if status == RunStatus.SUCCEEDED.value and run.kind == RunKind.PIPELINE:
            version = (run.pipeline, run.version_hash)
            now = time.monotonic()
            recent = now - self._recorded.get(version, -math.inf) < self.good_runs_every
            if recent and not any(r.outcome == "fail" for r in store.rubric_results(run_id)):
                return {}
            self._recorded[version] = now
        return tool_steps(store, run)

    @activity.defn(name=RECORD_SCHEMAS_ACTIVITY)
    async def record_schemas(self, run_id: str) -> int:
        """The schemas in an activity of their own: what runs started before the run's
        end recorded them (``RunEvent.record_schemas``) still call."""
        if self.store is None:
            return 0
        found = await self.schemas_of(run_id)
        await asyncio.to_thread(save_schemas, self.store, run_id, found)
        return len(found)


def tool_steps(store: TraceStore, run: RunRecord) -> dict[str, tuple[str, dict[str, Any]]]:
    """Every step of the run that called a tool, with its op and recorded arguments."""
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
