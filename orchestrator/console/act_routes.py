"""The action routes: a confirmation page (GET), then the action itself (POST).

``GET /act/<action>/<run>`` shows exactly what will be sent and written
(:mod:`orchestrator.console.confirm`); its form POSTs back to the same path with the
session's CSRF token. The POST goes through
:func:`orchestrator.humanloop.actions.request_action` — the Slack buttons' code path: the
escalation workflow decides whether the signed-in Slack user may act, and the outcome,
allowed or refused, is audited. The person lands on the run page with the answer.
"""

from __future__ import annotations

from typing import cast
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from orchestrator.console.confirm import ACTIONS, confirmation
from orchestrator.console.context import ConsoleContext, Handler, in_thread, json_or_page
from orchestrator.console.security import CSRF_FIELD, csrf_ok
from orchestrator.humanloop.actions import request_action
from orchestrator.humanloop.alerts import ActionName
from tracer.run_model import find_run


def _action(request: Request) -> ActionName:
    action = request.path_params["action"]
    if action not in ACTIONS:
        raise LookupError(f"no action {action!r} (known: {', '.join(ACTIONS)})")
    return cast(ActionName, action)


async def confirm(request: Request, context: ConsoleContext, user: str) -> Response:
    action = _action(request)
    ref = request.path_params["ref"].removesuffix(".json")
    run = await in_thread(find_run, context.store, ref)
    to_step = request.query_params.get("to_step") or None
    page = await in_thread(confirmation, context.store, run, action, user, to_step)
    return json_or_page(
        request,
        context,
        user,
        "confirm.html",
        page,
        {"title": page.title, "actions_enabled": context.temporal is not None},
    )


async def act(request: Request, context: ConsoleContext, user: str) -> Response:
    form = await request.form()
    if not csrf_ok(request.session, form.get(CSRF_FIELD)):
        return context.render.error(
            request,
            user,
            403,
            "the form's CSRF token does not match your session: reload the page and try again",
            False,
        )
    if context.temporal is None:
        return context.render.error(
            request,
            user,
            503,
            "this console has no Temporal connection: actions are off "
            "(start it with STEPTRACE_TEMPORAL_ADDRESS set)",
            False,
        )
    action = _action(request)
    run = await in_thread(find_run, context.store, request.path_params["ref"])
    to_step = str(form.get("to_step") or "") or None
    page = await in_thread(confirmation, context.store, run, action, user, to_step)
    refusal = await request_action(
        context.store,
        context.temporal,
        run_id=run.run_id,
        request=page.request,
        detail={"source": "console"},
    )
    request.session["flash"] = (
        {"ok": False, "text": f"Not done: {refusal}"}
        if refusal is not None
        else {"ok": True, "text": f"{page.title}: accepted; the result appears below."}
    )
    if request.headers.get("accept") == "application/json":
        return JSONResponse({"refused": refusal}, status_code=403 if refusal else 200)
    return RedirectResponse(f"/run/{quote(run.run_id, safe='/')}", status_code=303)


ROUTES: list[tuple[str, Handler, list[str]]] = [
    ("/act/{action}/{ref:path}", confirm, ["GET"]),
    ("/act/{action}/{ref:path}", act, ["POST"]),
]
