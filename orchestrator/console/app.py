"""The console as an ASGI app: :func:`console_app`.

Datasette's shape: plain server-rendered HTML (Jinja2) that works without JavaScript, one
small script that refreshes the parts of a page marked live while runs are in flight,
and every page also as JSON (the same path with ``.json``). Every page needs a session
(:mod:`orchestrator.console.security`); without one, HTML asks for the sign-in page and
JSON answers 401. Actions go through :mod:`orchestrator.console.act_routes`, the same
code path as the Slack buttons.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from urllib.parse import quote

from pydantic import SecretStr, ValidationError
from slack_sdk.web.async_client import AsyncWebClient
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from temporalio.client import Client

from orchestrator.console import act_routes, pages
from orchestrator.console.context import ConsoleContext, Handler
from orchestrator.console.security import (
    CSRF_FIELD,
    SESSION_COOKIE,
    SecureHeaders,
    csrf_ok,
    open_session,
    session_user,
)
from orchestrator.humanloop.console_link import (
    SESSION_MAX_AGE_SECONDS,
    SIGNIN_PATH,
    LinkRefused,
    LinkSigner,
)
from tracer.store import TraceStore

HERE = Path(__file__).parent


def console_app(
    store: TraceStore,
    temporal: Client | None = None,
    *,
    secret: SecretStr,
    temporal_ui: str | None = None,
    https: bool = False,
    link_ttl_seconds: int | None = None,
    slack: AsyncWebClient | None = None,
) -> Starlette:
    """The console over ``store``; actions need ``temporal`` (the server running the
    escalations); ``slack`` (a Web API client) lets a run page show the alert's thread.
    ``secret`` signs sign-in links and session cookies; ``https`` marks the cookie
    ``Secure`` and adds HSTS."""
    signer = (
        LinkSigner(secret)
        if link_ttl_seconds is None
        else LinkSigner(secret, ttl_seconds=link_ttl_seconds)
    )
    context = ConsoleContext(store, temporal, signer, temporal_ui, HERE / "templates", slack)

    def page(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            user = session_user(request.session)
            wants_json = request.url.path.endswith(".json")
            if user is None:
                if wants_json:
                    return JSONResponse({"error": "sign in first: GET /signin"}, status_code=401)
                target = quote(request.url.path, safe="/")
                return RedirectResponse(f"{SIGNIN_PATH}?next={target}", status_code=303)
            try:
                return await handler(request, context, user)
            except LookupError as exc:
                return context.render.error(request, user, 404, str(exc), wants_json)
            except ValidationError as exc:
                message = "; ".join(
                    f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()
                )
                return context.render.error(request, user, 400, message, wants_json)

        return endpoint

    async def signin(request: Request) -> Response:
        return await _signin(request, context)

    async def signout(request: Request) -> Response:
        form = await request.form()
        if not csrf_ok(request.session, form.get(CSRF_FIELD)):
            user = session_user(request.session)
            message = "the form's CSRF token does not match your session: reload the page"
            return context.render.error(request, user, 403, message, False)
        request.session.clear()
        return RedirectResponse(SIGNIN_PATH, status_code=303)

    routes = [
        Route("/", lambda request: RedirectResponse("/runs", status_code=303)),
        Route(SIGNIN_PATH, signin),
        Route("/signout", signout, methods=["POST"]),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
        *[Route(path, page(handler), methods=methods) for path, handler, methods in _ROUTES],
    ]
    return Starlette(
        routes=routes,
        middleware=[
            Middleware(SecureHeaders, https=https),
            Middleware(
                SessionMiddleware,
                secret_key=secret.get_secret_value(),
                session_cookie=SESSION_COOKIE,
                max_age=SESSION_MAX_AGE_SECONDS,
                same_site="lax",
                https_only=https,
            ),
        ],
    )


async def _signin(request: Request, context: ConsoleContext) -> Response:
    """Redeem a link (``?token=``), or show how to get one."""
    token = request.query_params.get("token")
    if token is None:
        return context.render.page(
            request, None, "signin.html", {"title": "Sign in", "refused": None}, status=200
        )
    try:
        signed = context.signer.redeem(token)
    except LinkRefused as exc:
        return context.render.page(
            request, None, "signin.html", {"title": "Sign in", "refused": str(exc)}, status=403
        )
    open_session(request.session, signed.user)
    return RedirectResponse("/runs", status_code=303)


_ROUTES: list[tuple[str, Handler, list[str]]] = [
    *pages.ROUTES,
    *act_routes.ROUTES,
]
