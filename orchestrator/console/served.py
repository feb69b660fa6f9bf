"""The console inside ``steptrace serve`` / ``steptrace up``: :func:`service_console`.

The service (:mod:`orchestrator.service.service`) serves it on its own port,
``STEPTRACE_CONSOLE_LISTEN`` (default ``127.0.0.1:8765``), beside the webhook receiver,
and counts it in ``/readyz``. Its own port rather than a path under the receiver:
the receiver must be reachable by the tools from the internet, the console only by the
team (VPN, an authenticating proxy), and a port of its own lets each be exposed on its
own; the console's absolute links and cookie path need no prefix either.

It reads the same store, acts through the same Temporal client and the same Slack
endpoint as the service's workers, so an action from the console lands on the
escalations those workers run.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from starlette.applications import Starlette

from orchestrator.config.settings import ConfigError
from orchestrator.console.app import console_app
from orchestrator.console.server import slack_client
from orchestrator.humanloop.console_link import (
    SECRET_ENV,
    ConsoleConfigError,
    console_secret,
    console_url,
)
from orchestrator.service.stack import Stack

ConsoleFactory = Callable[[Stack], Starlette]


def service_console(env: Mapping[str, str]) -> ConsoleFactory | None:
    """The console for the service when ``STEPTRACE_CONSOLE_SECRET`` is set, else ``None``.

    Cookies are ``Secure`` (and HSTS sent) when ``STEPTRACE_CONSOLE_URL``, where people
    reach it, is ``https://``. Raises :class:`ConfigError` for a secret too short."""
    if not env.get(SECRET_ENV, "").strip():
        return None
    try:
        secret = console_secret(env)
    except ConsoleConfigError as exc:
        raise ConfigError(str(exc)) from exc
    https = console_url(env).startswith("https://")

    def build(stack: Stack) -> Starlette:
        if stack.store is None:
            raise ConfigError("the console reads the trace store, and tracing is off")
        return console_app(
            stack.store,
            stack.client,
            secret=secret,
            temporal_ui=stack.temporal_ui,
            https=https,
            slack=slack_client(stack.settings),
        )

    return build
