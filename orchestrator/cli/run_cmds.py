"""Running pipelines: ``run``, ``replay`` and ``rollback``.

Each goes to the running service when there is one (its workers call the tools the run
used) and otherwise starts a worker of its own. Bad input is reported before Temporal
and the store are loaded.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from orchestrator.cli.common import (
    JsonFlag,
    RunArgument,
    SeedOption,
    configure_process,
    console,
    fail,
    open_store,
    progress,
    run_async,
    settings,
)

if TYPE_CHECKING:
    from orchestrator.config.settings import Settings
    from tracer.store import TraceStore


def run(
    pipeline: Annotated[Path, typer.Argument(help="A pipeline spec (YAML).")],
    trigger: Annotated[
        str,
        typer.Option(help="The trigger: a JSON object, @FILE (a JSON file) or - (standard input)."),
    ] = "{}",
    seed: SeedOption = 7,
    as_json: JsonFlag = False,
) -> None:
    """Run a pipeline once; submitted to the running service when there is one."""
    from orchestrator.spec.pipeline import PipelineSpecError, load_pipeline

    try:
        loaded = load_pipeline(pipeline)
    except PipelineSpecError as exc:
        fail(str(exc))
    payload = _trigger(trigger)
    configured = settings()
    # Imported only now: bad input is reported without loading Temporal and the store.
    from orchestrator.service.stack import StackOptions, open_stack
    from orchestrator.service.submit import find_target, submit
    from tracer.run_views import run_view
    from tracer.store import TraceStore

    configure_process()

    async def go() -> dict[str, Any]:
        target = await find_target(configured)
        if target is not None:
            progress(f"steptrace: submitted to {target.found_by}")
            store = TraceStore.open(target.database_url)
            outcome = await submit(target, loaded, payload, store)
            stored = store.get_run(outcome.run_id)
            return {"outcome": outcome, "view": run_view(store, stored) if stored else None}
        # No service: a worker of our own, on the stable queue when Temporal is configured
        # (a run left behind is finished by the next worker there).
        queue = configured.task_queue if configured.temporal_address else None
        async with open_stack(StackOptions(seed=seed, task_queue=queue), configured) as stack:
            outcome = await stack.run(loaded, payload)
            assert stack.store is not None
            stored = stack.store.get_run(outcome.run_id)
            view = run_view(stack.store, stored) if stored else None
            return {"outcome": outcome, "view": view}

    result = run_async(go())
    view = result["view"]
    if as_json:
        print(view.model_dump_json() if view else json.dumps(vars(result["outcome"])))
    elif view is not None:
        from orchestrator.cli.render import print_timeline

        print_timeline(console(), view)
    if result["outcome"].status != "succeeded":
        raise typer.Exit(code=1)


def replay(
    run_ref: RunArgument,
    from_step: Annotated[
        str, typer.Option("--from", metavar="STEP", help="The first step to run again.")
    ],
    fix: Annotated[
        str | None,
        typer.Option(
            "--fix",
            metavar="ID",
            help="A stored diagnosis whose spec_patch to apply (its id, or latest).",
        ),
    ] = None,
    seed: SeedOption = 7,
    as_json: JsonFlag = False,
) -> None:
    """Run a run again from STEP: the earlier steps' outputs come from its snapshots."""
    from orchestrator.humanloop.replay.plan import ReplayError, plan_replay
    from tracer.run_model import find_run

    store = open_store()
    try:
        fix_id = _fix_id(store, find_run(store, run_ref).run_id, fix)
        plan = plan_replay(store, run_ref, from_step, fix_id=fix_id)
    except (LookupError, ReplayError) as exc:
        fail(str(exc))
    configured = settings()
    from orchestrator.humanloop.replay.starter import run_plan
    from orchestrator.service.stack import StackOptions, open_stack
    from orchestrator.service.submit import find_target

    async def go() -> Any:
        # The service's workers call the tools the run used; a fresh sandbox would not.
        target = await find_target(configured)
        if target is not None:
            progress(f"steptrace: replaying through {target.found_by}")
            return await run_plan(target.client, target.task_queue, store, plan)
        _warn_fresh_sandbox(configured)
        async with open_stack(StackOptions(seed=seed), configured) as stack:
            assert stack.store is not None
            return await run_plan(stack.client, stack.task_queue, stack.store, plan)

    outcome = run_async(go())
    if as_json:
        print(json.dumps(outcome.as_json(), default=str))
    else:
        shown = console()
        reused = ", ".join(outcome.reused_steps) or "none"
        shown.print(
            f"replay {outcome.run_id} of {outcome.parent_run_id}: [bold]{outcome.status}[/]"
        )
        shown.print(f"  from `{outcome.from_step}`, version {outcome.version}; reused: {reused}")
        if outcome.error:
            shown.print(f"  {outcome.error}", highlight=False)
    if outcome.status != "succeeded":
        raise typer.Exit(code=1)


def rollback(
    run_ref: RunArgument,
    to_step: Annotated[
        str, typer.Option("--to", metavar="STEP", help="Undo the writes of every later step.")
    ],
    seed: SeedOption = 7,
    as_json: JsonFlag = False,
) -> None:
    """Undo the external writes of the steps after STEP, newest first, from their
    before-images; objects a person changed since are left alone and reported."""
    from orchestrator.humanloop.rollback.plan import RollbackError, plan_rollback
    from tracer.run_model import find_run

    store = open_store()
    try:
        run = find_run(store, run_ref)
        plan_rollback(store, run, to_step)
    except (LookupError, RollbackError) as exc:
        fail(str(exc))
    configured = settings()
    from orchestrator.humanloop.rollback.starter import rollback_run
    from orchestrator.service.stack import StackOptions, open_stack
    from orchestrator.service.submit import find_target

    async def go() -> Any:
        target = await find_target(configured)
        try:
            if target is not None:
                progress(f"steptrace: rolling back through {target.found_by}")
                return await rollback_run(
                    target.client, target.task_queue, store, run.run_id, to_step
                )
            _warn_fresh_sandbox(configured)
            async with open_stack(StackOptions(seed=seed), configured) as stack:
                return await stack.rollback(run.run_id, to_step)
        except RollbackError as exc:
            return str(exc)

    result = run_async(go())
    if isinstance(result, str):
        fail(result)
    if as_json:
        print(result.model_dump_json())
    else:
        shown = console()
        shown.print(f"rollback {result.run_id} of {result.parent_run_id}: [bold]{result.status}[/]")
        for undo in result.results:
            shown.print(
                f"  {undo.step_id:<18} {undo.tool}:{undo.kind} {undo.object_id:<20} "
                f"{undo.outcome:<15} {undo.detail}",
                highlight=False,
            )
    if result.status != "succeeded":
        raise typer.Exit(code=1)


def _warn_fresh_sandbox(configured: Settings) -> None:
    """Without a service, unconfigured tools are a fresh sandbox, not the run's tools."""
    fresh = configured.missing_endpoints()
    if fresh:
        progress(
            f"steptrace: no running service; {', '.join(fresh)} will be a fresh sandbox, "
            "not the tools the run used (start `steptrace up` or `serve` first)"
        )


def _fix_id(store: TraceStore, run_id: str, fix: str | None) -> int | None:
    """``--fix``: a diagnosis id, or ``latest`` (the run's newest diagnosis)."""
    if fix is None:
        return None
    if fix == "latest":
        stored = store.diagnoses(run_id)
        if not stored:
            raise LookupError(f"run {run_id} has no stored diagnosis: `steptrace why` first")
        return stored[-1].id
    try:
        return int(fix)
    except ValueError:
        raise LookupError(f"--fix {fix!r}: a diagnosis id (a number) or latest") from None


def _trigger(text: str) -> dict[str, Any]:
    from orchestrator.cli.trigger_input import TriggerError, read_trigger

    try:
        return read_trigger(text)
    except TriggerError as exc:
        fail(str(exc))
