"""The Slack bot: slack-bolt in HTTP mode, one endpoint (``POST /slack/events``).

- A mention containing "why" in an alert's thread answers, in the thread, with that
  run's diagnosis. The run is read from the alert's ``steptrace_alert`` message metadata
  (the thread's parent), so the bot keeps no mapping of its own.
- ``/steptrace why <run|latest>``, ``/steptrace runs``, ``/steptrace rollback <run> <step>``,
  ``/steptrace insights`` (the top findings over every run, as the weekly digest has
  them) answer the caller with an ephemeral message.
- The alert buttons (and ``rollback``) become ``act`` updates of the run's
  :class:`~orchestrator.humanloop.escalation.EscalationWorkflow`, which decides who may do what;
  the bot stores every outcome with ``add_human_action`` and tells a refused person why,
  ephemerally.

Every request passes :mod:`orchestrator.humanloop.bot_gate` first (the ASGI app in
:mod:`orchestrator.humanloop.bot_http` puts it there): body size capped,
Slack's signature (``v0=`` HMAC-SHA256 of ``v0:{timestamp}:{body}`` keyed with
``STEPTRACE_SLACK_SIGNING_SECRET``, at most five minutes old) checked on the raw bytes
before anything parses them, a replayed signature refused, a malformed payload answered
400 — each with one log line, never a traceback. Listeners ``ack()`` at once; the slow
part (the store, Temporal, the Web API) runs after the HTTP answer
(``process_before_response=False``).

A button acts on the run of the alert it belongs to (read from the alert's metadata),
never on a run its value names; every refusal is audited, in the store when the run is
stored and on the ``steptrace.audit`` log otherwise. Answers never name the store's
location or carry a URL's credentials.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import SecretStr
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient
from temporalio.client import Client

from orchestrator.config.settings import SANDBOX_TOKEN, Settings, ToolEndpoint
from orchestrator.diagnosis.diagnoser import stored_diagnosis
from orchestrator.humanloop import actions
from orchestrator.humanloop.alerts import (
    ACTION_IDS,
    ALERT_EVENT_TYPE,
    ActionName,
    diagnosis_text,
    parse_button_value,
)
from orchestrator.humanloop.bot_gate import SlackGate
from orchestrator.humanloop.bot_http import EVENTS_PATH, BotApp, bind, http_server
from orchestrator.humanloop.console_link import ConsoleConfigError, console_link
from orchestrator.humanloop.escalation.model import ActionRequest
from orchestrator.insights.digest import digest_text, insights_digest
from orchestrator.runtime.connection import connect
from orchestrator.runtime.escalation_handoff import escalation_workflow_id
from tracer.run_model import find_run
from tracer.store import TraceStore

SIGNING_SECRET_ENV = "STEPTRACE_SLACK_SIGNING_SECRET"
COMMAND = "/steptrace"
USAGE = (
    "Usage: `/steptrace why <run|latest>` · `/steptrace runs` · `/steptrace rollback <run> <step>`"
    " · `/steptrace console` · `/steptrace insights`"
)
_RUNS_SHOWN = 10

log = logging.getLogger("steptrace.bot")
audit_log = logging.getLogger("steptrace.audit")


class BotConfigError(ValueError):
    """The bot cannot start: a setting is missing; the message names it."""


@dataclass(frozen=True)
class BotConfig:
    signing_secret: SecretStr
    slack_url: str
    slack_token: SecretStr


def signing_secret(env: Mapping[str, str]) -> SecretStr:
    """The Slack app's signing secret; the bot refuses to go on without it."""
    secret = env.get(SIGNING_SECRET_ENV, "").strip()
    if not secret:
        raise BotConfigError(
            f"{SIGNING_SECRET_ENV} is not set: the bot verifies every request with the "
            "Slack app's signing secret (Basic Information → App Credentials) and will "
            "not start without it"
        )
    return SecretStr(secret)


def bot_config(env: Mapping[str, str], settings: Settings) -> BotConfig:
    """The bot's configuration from the environment; :class:`BotConfigError` names what
    is missing (the signing secret first: without it nothing may be served)."""
    secret = signing_secret(env)
    slack = settings.endpoints.get("slack")
    if slack is None:
        raise BotConfigError(
            "STEPTRACE_SLACK_URL and STEPTRACE_SLACK_TOKEN are not set: the bot answers "
            "through the Slack Web API (for the sandbox: the slack URL `steptrace up` "
            f"prints and the token {SANDBOX_TOKEN!r})"
        )
    if not settings.temporal_address:
        raise BotConfigError(
            "STEPTRACE_TEMPORAL_ADDRESS is not set: the bot acts through the escalation "
            "workflows of a running Temporal server (`steptrace up` prints its address)"
        )
    return BotConfig(secret, slack.base_url, slack.token)


async def run_bot(
    config: BotConfig, settings: Settings, store: TraceStore, *, host: str, port: int
) -> None:
    """Serve the bot until interrupted (uvicorn handles Ctrl+C)."""
    assert settings.temporal_address is not None  # checked by bot_config
    temporal = await connect(settings)
    app = SteptraceBot(store, temporal).build_app(config)
    sock = bind(host, port)
    where = f"http://{host}:{sock.getsockname()[1]}{EVENTS_PATH}"
    print(f"steptrace bot: Slack request URL {where}", flush=True)
    await http_server(app).serve(sockets=[sock])


class SteptraceBot:
    """The listeners, with what they need: the trace store and a Temporal client."""

    def __init__(self, store: TraceStore, temporal: Client) -> None:
        self._store = store
        self._temporal = temporal

    def build_app(self, config: BotConfig) -> BotApp:
        client = AsyncWebClient(
            token=config.slack_token.get_secret_value(), base_url=_api_root(config.slack_url)
        )
        app = AsyncApp(
            signing_secret=config.signing_secret.get_secret_value(),
            client=client,
            process_before_response=False,
        )
        app.event("app_mention")(self.on_mention)
        app.command(COMMAND)(self.on_command)
        for action_id in ACTION_IDS:
            app.action(action_id)(self.on_button)
        app.error(self.on_error)
        return BotApp(app, SlackGate(config.signing_secret.get_secret_value()))

    async def on_error(self, error: Exception, body: dict[str, Any]) -> None:
        """One line per failed listener, never a traceback (nor the payload) in the log."""
        kind = body.get("type") or body.get("command") or "request"
        log.warning("steptrace bot: %s failed: %s", kind, type(error).__name__)

    # -- listeners -----------------------------------------------------------------------

    async def on_mention(self, event: dict[str, Any], client: AsyncWebClient) -> None:
        channel, thread = str(event["channel"]), event.get("thread_ts") or event["ts"]
        if "why" not in str(event.get("text", "")).lower():
            text = "Ask me *why* in an alert's thread, or use " + USAGE
        else:
            run_id = await self._alert_run(client, channel, str(thread))
            if run_id is None:
                text = "This thread is not a steptrace alert. Try `/steptrace why <run|latest>`."
            else:
                text = await self._why(run_id)
        await client.chat_postMessage(channel=channel, thread_ts=thread, text=self._public(text))

    async def on_command(
        self, ack: Callable[..., Awaitable[None]], command: dict[str, Any], client: AsyncWebClient
    ) -> None:
        await ack()
        words = str(command.get("text", "")).split()
        channel, user = str(command["channel_id"]), str(command["user_id"])
        if words[:1] == ["why"] and len(words) == 2:
            text = await self._why(words[1])
        elif words == ["runs"]:
            text = await asyncio.to_thread(self._runs_text)
        elif words[:1] == ["rollback"] and len(words) == 3:
            text = await self._command_rollback(words[1], words[2], user, channel)
        elif words == ["console"]:
            text = _console_answer(user)
        elif words == ["insights"]:
            text = await asyncio.to_thread(self._insights_text)
        else:
            text = USAGE
        if text:
            await client.chat_postEphemeral(channel=channel, user=user, text=self._public(text))

    async def on_button(
        self, ack: Callable[..., Awaitable[None]], body: dict[str, Any], client: AsyncWebClient
    ) -> None:
        await ack()
        action = body["actions"][0]
        user = str(body["user"]["id"])
        channel = str(body["channel"]["id"])
        message_ts = str((body.get("container") or {}).get("message_ts") or body["message"]["ts"])
        request = ActionRequest(action=ACTION_IDS[str(action["action_id"])], user=user)
        detail: dict[str, Any] = {"source": "button", "channel": channel, "message_ts": message_ts}
        # The run is the alert's, from its metadata: a button value is client-side data.
        alert_run = await self._alert_run(client, channel, message_ts)
        button_run = _button_run(str(action["value"]))
        refusal: str | None
        if alert_run is None:
            refusal = "this message is not a steptrace alert"
            actions.audit_unstored(button_run, request, {**detail, "refused": refusal})
        elif button_run != alert_run:
            refusal = f"the button names another run than its alert ({alert_run})"
            await actions.audit(
                self._store, alert_run, request, {**detail, "button_run": button_run}, refusal
            )
        else:
            refusal = await self.request_action(
                run_id=alert_run,
                workflow_id=escalation_workflow_id(alert_run),
                request=request,
                detail=detail,
            )
        if refusal is not None:
            await client.chat_postEphemeral(
                channel=channel,
                user=user,
                thread_ts=message_ts,
                text=self._public(f"Not done: {refusal}"),
            )

    # -- actions -------------------------------------------------------------------------

    async def request_action(
        self, *, run_id: str, workflow_id: str, request: ActionRequest, detail: dict[str, Any]
    ) -> str | None:
        """Ask the run's escalation to act; audit the outcome; the refusal reason, if any
        (one code path with the console: :func:`orchestrator.humanloop.actions.request_action`)."""
        return await actions.request_action(
            self._store,
            self._temporal,
            run_id=run_id,
            workflow_id=workflow_id,
            request=request,
            detail=detail,
        )

    async def _command_rollback(self, ref: str, step: str, user: str, channel: str) -> str:
        action: ActionName = "rollback"
        try:
            run = await asyncio.to_thread(find_run, self._store, ref)
        except LookupError:
            request = ActionRequest(action=action, user=user, to_step=step)
            actions.audit_unstored(ref, request, {"refused": "no such run", "channel": channel})
            return _no_run(ref)
        refusal = await self.request_action(
            run_id=run.run_id,
            workflow_id=escalation_workflow_id(run.run_id),
            request=ActionRequest(action=action, user=user, to_step=step),
            detail={"source": "command", "channel": channel},
        )
        if refusal is not None:
            return f"Not done: {refusal}"
        return f"Rolling back run {run.run_id} to `{step}`; the result goes to the alert's thread."

    # -- answers -------------------------------------------------------------------------

    async def _why(self, ref: str) -> str:
        return await asyncio.to_thread(self._why_text, ref)

    def _why_text(self, ref: str) -> str:
        try:
            run = find_run(self._store, "latest-failed" if ref == "latest" else ref)
        except LookupError:
            return _no_run(ref)
        diagnosis = stored_diagnosis(self._store, run.run_id)
        if diagnosis is None:
            return f"Run {run.run_id} ({run.status.value}) has no diagnosis stored."
        return diagnosis_text(diagnosis)

    def _insights_text(self) -> str:
        """The top findings over the store's runs (what the weekly digest posts)."""
        return digest_text(insights_digest(self._store.url))

    def _runs_text(self) -> str:
        runs = self._store.list_runs(limit=_RUNS_SHOWN)
        if not runs:
            return "No runs stored yet."
        lines = [f"*Latest {len(runs)} runs*"]
        for run in runs:
            failed = f" at `{run.failed_step}`" if run.failed_step else ""
            lines.append(f"• `{run.run_id}` {run.pipeline}: {run.status.value}{failed}")
        return "\n".join(lines)

    def _public(self, text: str) -> str:
        """``text`` without the store's location or a URL's credentials."""
        text = text.replace(self._store.database, "the trace store")
        return _URL_CREDENTIALS.sub(r"\1[redacted]@", text)

    @staticmethod
    async def _alert_run(client: AsyncWebClient, channel: str, thread_ts: str) -> str | None:
        """The run an alert thread is about, from its parent message's metadata."""
        answer = await client.conversations_history(
            channel=channel,
            latest=thread_ts,
            oldest=thread_ts,
            inclusive=True,
            limit=1,
            include_all_metadata=True,
        )
        for message in answer.get("messages") or []:
            metadata = message.get("metadata") or {}
            if message.get("ts") == thread_ts and metadata.get("event_type") == ALERT_EVENT_TYPE:
                run_id = (metadata.get("event_payload") or {}).get("run_id")
                return str(run_id) if run_id else None
        return None


@contextlib.asynccontextmanager
async def local_bot(
    store: TraceStore, temporal: Client, slack: ToolEndpoint
) -> AsyncIterator[tuple[str, str]]:
    """The bot on a free port of 127.0.0.1 with a signing secret made for it; yields its
    request URL and the secret (the demo and the tests play Slack's side)."""
    secret = secrets.token_hex(16)
    config = BotConfig(SecretStr(secret), slack.base_url, slack.token)
    server = http_server(SteptraceBot(store, temporal).build_app(config))
    sock = bind("127.0.0.1", 0)
    serving = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        # The socket is bound and listening already: connections queue until uvicorn
        # serves them, so the URL is usable at once.
        yield f"http://127.0.0.1:{sock.getsockname()[1]}{EVENTS_PATH}", secret
    finally:
        server.should_exit = True
        await serving


def _console_answer(user: str) -> str:
    """A one-time sign-in link to the console for this Slack user (only they see it)."""
    try:
        link = console_link(os.environ, user)
    except ConsoleConfigError as exc:
        return f"The console is not set up here: {exc}"
    return f"Your sign-in link to the steptrace console (one use, 5 minutes): {link}"


def _button_run(value: str) -> str | None:
    try:
        return parse_button_value(value).run_id
    except ValueError:
        return None


def _no_run(ref: str) -> str:
    return f"No run {ref[:80]!r} is stored. `/steptrace runs` lists the latest runs."


_URL_CREDENTIALS = re.compile(r"(\b[a-z][a-z0-9+.-]*://[^:/\s@]+:)[^@/\s]+@", re.I)


def _api_root(url: str) -> str:
    """slack_sdk wants the Web API root with its trailing slash."""
    return url if url.endswith("/") else url + "/"
