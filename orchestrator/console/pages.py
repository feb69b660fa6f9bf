"""The read-only pages: runs, failure groups, a run, pipelines, a payload.

Each handler parses its query, reads the store off the event loop, and answers with
:func:`~orchestrator.console.context.json_or_page`: the same model as HTML or JSON.
"""

from __future__ import annotations

import asyncio

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from orchestrator.console.context import ConsoleContext, Handler, in_thread, json_or_page
from orchestrator.console.payload_trees import payload_trees
from orchestrator.console.pipelines_page import pipeline_page, pipelines_page
from orchestrator.console.run_page import RunPage, run_page
from orchestrator.console.runs_page import RunFilter, groups_page, runs_page
from orchestrator.console.thread import alert_threads
from orchestrator.humanloop.actions import escalation_state
from orchestrator.humanloop.escalation.model import EscalationState
from tracer.run_model import find_run
from tracer.store import RunStatus

_STATE_TIMEOUT = 2.0


def strip_json(text: str) -> str:
    return text.removesuffix(".json")


async def runs(request: Request, context: ConsoleContext, user: str) -> Response:
    params = {k: v for k, v in request.query_params.items() if v != ""}
    wanted = RunFilter.model_validate(params)
    data = await in_thread(runs_page, context.store, wanted)
    return json_or_page(
        request,
        context,
        user,
        "runs.html",
        data,
        {"title": "Runs", "statuses": [s.value for s in RunStatus], "live": data.in_flight > 0},
    )


async def groups(request: Request, context: ConsoleContext, user: str) -> Response:
    data = await in_thread(groups_page, context.store)
    return json_or_page(request, context, user, "groups.html", data, {"title": "Failure groups"})


async def run(request: Request, context: ConsoleContext, user: str) -> Response:
    ref = strip_json(request.path_params["ref"])
    record = await in_thread(find_run, context.store, ref)
    page, recorded = await in_thread(
        run_page, context.store, record, temporal_ui=context.temporal_ui
    )
    state = await _escalation(context, record.run_id)
    threads = (
        await alert_threads(context.slack, state.alerts)
        if context.slack is not None and state is not None
        else []
    )
    if request.url.path.endswith(".json"):
        body = page.model_dump(mode="json")
        body["escalation"] = state.model_dump(mode="json") if state else None
        body["threads"] = [t.model_dump(mode="json") for t in threads]
        return JSONResponse(body)
    trees = payload_trees(page, recorded)
    live = page.run.status == RunStatus.RUNNING.value or _action_pending(page, state)
    return context.render.page(
        request,
        user,
        "run.html",
        {
            "title": f"Run {page.run.run_id}",
            "data": page,
            "escalation": state,
            "threads": threads,
            "trees": trees,
            "actions_enabled": context.temporal is not None,
            "live": live,
        },
    )


def _action_pending(page: RunPage, state: EscalationState | None) -> bool:
    """An approved action is queued or running and has no outcome yet."""
    if state is None or state.status == "resolved":
        return False
    if state.status == "acting":
        return True
    acted = [a for a in page.human_actions if a.allowed and a.action in ("approve", "rollback")]
    return bool(acted) and state.outcome is None


async def _escalation(context: ConsoleContext, run_id: str) -> EscalationState | None:
    if context.temporal is None:
        return None
    try:
        return await asyncio.wait_for(
            escalation_state(context.temporal, run_id), timeout=_STATE_TIMEOUT
        )
    except TimeoutError:
        return None


async def pipelines(request: Request, context: ConsoleContext, user: str) -> Response:
    data = await in_thread(pipelines_page, context.store)
    return json_or_page(request, context, user, "pipelines.html", data, {"title": "Pipelines"})


async def pipeline(request: Request, context: ConsoleContext, user: str) -> Response:
    name = strip_json(request.path_params["name"])
    old, new = request.query_params.get("old"), request.query_params.get("new")
    data = await in_thread(pipeline_page, context.store, name, old or None, new or None)
    return json_or_page(
        request, context, user, "pipeline.html", data, {"title": f"Pipeline {name}"}
    )


async def payload(request: Request, context: ConsoleContext, user: str) -> Response:
    """A stored payload as raw JSON (the tree on a page stops at a size)."""
    digest = strip_json(request.path_params["digest"])
    try:
        value = await in_thread(context.store.get_payload, digest)
    except KeyError as exc:
        raise LookupError(f"no payload {digest}") from exc
    return JSONResponse(value)


ROUTES: list[tuple[str, Handler, list[str]]] = [
    ("/runs", runs, ["GET"]),
    ("/runs.json", runs, ["GET"]),
    ("/groups", groups, ["GET"]),
    ("/groups.json", groups, ["GET"]),
    ("/run/{ref:path}", run, ["GET"]),
    ("/pipelines", pipelines, ["GET"]),
    ("/pipelines.json", pipelines, ["GET"]),
    ("/pipeline/{name:path}", pipeline, ["GET"]),
    ("/payload/{digest}", payload, ["GET"]),
]
