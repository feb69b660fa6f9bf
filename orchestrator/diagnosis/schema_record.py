"""The schemas a run depended on, as evidence, read and stored at the run's end.

At the end of a pipeline run (in the activity that records its end, see
:class:`~orchestrator.runtime.recorder.RunRecorder`) the schema behind each step that
read or wrote a tool (an Airtable table's fields and options, a Monday board's columns
and labels, Linear's states and labels, Slack's channels) is read and stored with the
run, each as a content-addressed payload with the tools' stable ids. A run that failed
(or failed a rubric) reads every one; a good run skips a container this worker read in
the last ``REREAD_AFTER`` seconds (a request per tool step is the costliest part of
tracing a run, and good runs in a burst see the same schemas) and records only what it
read. A later diagnosis compares, step by step, the failed run's schemas with those of
the newest earlier good run that recorded that step (:func:`baseline_schemas`) by id
(:mod:`tracer.schemas`): a renamed field is found, not guessed, however many good runs
skipped the read in between. A schema that cannot be read is left out, never invented.
Runs started before the end recorded them call the ``steptrace.record_schemas`` activity.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from temporalio import activity

from orchestrator.diagnosis.snapshots import step_kind
from orchestrator.runtime.pipeline_workflow import RECORD_SCHEMAS_ACTIVITY, RunEvent, StepUse
from orchestrator.tools.clients import ToolClients
from orchestrator.tools.containers import container_args, container_key
from orchestrator.tools.destinations import fetch_schemas
from tracer.payloads import encode
from tracer.run_model import read_run
from tracer.schemas import ContainerSchema
from tracer.store import RunKind, RunStatus, TraceStore

log = logging.getLogger(__name__)

REREAD_AFTER = 10.0
"""A good run reads a container's schema again once this worker's last read of it is
this many seconds old (a failed run always reads)."""

Steps = dict[str, tuple[str, dict[str, Any]]]
"""Step id → (op, recorded arguments) of a run's tool steps."""


class SchemaRecorder:
    """Records the schemas of a run's tool steps in ``store`` (``None``: tracing off);
    a good run's only for the containers not read in the last ``reread_after`` seconds."""

    def __init__(
        self,
        store: TraceStore | None,
        clients: ToolClients | None,
        *,
        reread_after: float | None = None,
    ) -> None:
        self.store = store
        self.clients = clients
        self.reread_after = REREAD_AFTER if reread_after is None else reread_after
        self._read_at: dict[tuple[str, ...], float] = {}  # container key: monotonic time

    async def schemas_at_end(self, event: RunEvent) -> dict[str, Any]:
        """The schemas the run ending as ``event`` says records (see :meth:`schemas_of`):
        the steps it called and whether it failed a rubric come with the event, so
        nothing is read back from the store; an event from a workflow started before
        they were sent reads them back."""
        if event.steps is None or event.failed_rubric is None:
            return await self.schemas_of(event.run_id, event.status)
        steps = called_tool_steps(event.steps, RunKind(event.kind))
        return await self._read(event.run_id, self.choose(steps, event.status, event.failed_rubric))

    async def schemas_of(self, run_id: str, status: str | None = None) -> dict[str, Any]:
        """The schemas ``run_id``'s tool steps depended on, as JSON by step id, read now
        (``status``: how the run ends; a good run's only those not read recently); empty
        when one cannot be read (logged): evidence never fails the run."""
        if self.store is None or self.clients is None:
            return {}
        try:
            steps = await asyncio.to_thread(self.steps_to_read, self.store, run_id, status)
        except Exception:
            log.warning("schemas of run %s not read", run_id, exc_info=True)
            return {}
        return await self._read(run_id, steps)

    async def _read(self, run_id: str, steps: Steps) -> dict[str, Any]:
        if self.store is None or self.clients is None or not steps:
            return {}
        try:
            schemas = await fetch_schemas(self.clients, steps)
        except Exception:
            log.warning("schemas of run %s not read", run_id, exc_info=True)
            return {}
        return {step: schema.to_json() for step, schema in schemas.items()}

    def steps_to_read(self, store: TraceStore, run_id: str, status: str | None) -> Steps:
        """The tool steps whose schemas this run reads, read back from ``store``."""
        good = status == RunStatus.SUCCEEDED.value
        return self.choose(
            tool_steps(store, run_id), status, good and _failed_a_rubric(store, run_id)
        )

    def choose(self, steps: Steps, status: str | None, failed_rubric: bool) -> Steps:
        """Of a run's tool ``steps``, those whose schemas it reads: all of them unless the
        run ended well and failed no rubric; then those whose container this worker has
        not read for ``reread_after`` seconds. The containers returned count as read now."""
        now = time.monotonic()
        if status == RunStatus.SUCCEEDED.value and not failed_rubric:
            steps = {
                step: (op, args)
                for step, (op, args) in steps.items()
                if now - self._read_at.get(container_key(op, args), -self.reread_after)
                >= self.reread_after
            }
        for op, args in steps.values():
            self._read_at[container_key(op, args)] = now
        return steps

    @activity.defn(name=RECORD_SCHEMAS_ACTIVITY)
    async def record_schemas(self, run_id: str) -> int:
        """The schemas in an activity of their own: what runs started before the run's
        end recorded them (``RunEvent.record_schemas``) still call."""
        if self.store is None:
            return 0
        found = await self.schemas_of(run_id)
        await asyncio.to_thread(save_schemas, self.store, run_id, found)
        return len(found)


def _failed_a_rubric(store: TraceStore, run_id: str) -> bool:
    return any(r.outcome == "fail" for r in store.rubric_results(run_id))


def _kinds(run: RunKind) -> tuple[str, ...]:
    # A replay reuses the recorded reads and must call no source: only its writes count.
    return ("write",) if run == RunKind.REPLAY else ("read", "write")


def called_tool_steps(called: dict[str, StepUse], run: RunKind) -> Steps:
    """The tool steps among the steps a run ``called`` (as its end event names them)."""
    kinds = _kinds(run)
    return {
        step: (use.op, use.container) for step, use in called.items() if step_kind(use.op) in kinds
    }


def tool_steps(store: TraceStore, run_id: str) -> Steps:
    """Every step of the run that called a tool, with its op and recorded arguments
    (``{}`` for a step whose container no argument chooses)."""
    run = store.get_run(run_id)
    if run is None:
        return {}
    recorded = read_run(store, run)
    kinds = _kinds(run.kind)
    found: Steps = {}
    for step in recorded.steps:
        if step_kind(step.op) not in kinds:
            continue
        # Only the arguments that choose the container are read back (decoded): the
        # schema read needs no other, and most steps' containers need none.
        args = recorded.input(step) if container_args(step.op) else {}
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


def baseline_schemas(
    store: TraceStore,
    pipeline: str,
    version_hash: str | None,
    before: datetime,
    steps: Iterable[str],
) -> dict[str, tuple[str, ContainerSchema]]:
    """For each of ``steps``, the schema recorded by the newest good run of ``pipeline``
    (and version) started before ``before`` that recorded one for it, with that run's
    id: a good run that skipped the read adds nothing, and the one before it counts."""
    found = store.step_schema_baselines(pipeline, version_hash, before, steps)
    return {
        step: (run_id, ContainerSchema.from_json(data))
        for step, (run_id, data) in found.items()
        if isinstance(data, dict)
    }
