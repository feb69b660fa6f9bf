"""The long-running processes and their checks: ``up``, ``serve``, ``worker``, ``bot``,
``console``, ``console-link``, ``doctor`` and ``schedules``."""

from __future__ import annotations

import json
import os
from typing import Annotated, Any

import typer

from orchestrator.cli.common import (
    JsonFlag,
    SeedOption,
    configure_process,
    console,
    fail,
    open_store,
    run_async,
    settings,
)


def up(
    seed: SeedOption = 7,
    port: Annotated[
        int | None, typer.Option(help="Receiver port (default from STEPTRACE_LISTEN).")
    ] = None,
) -> None:
    """The whole service, embedded, until interrupted.

    A dev server (with its web UI), the sandbox for tools not configured, workers for
    every pipeline, the webhook receiver and the schedules."""
    _serve(embedded=True, seed=seed, port=port)


def serve(
    port: Annotated[
        int | None, typer.Option(help="Receiver port (default from STEPTRACE_LISTEN).")
    ] = None,
    host: Annotated[str | None, typer.Option(help="Address to listen on.")] = None,
    sandbox_tools: Annotated[
        bool, typer.Option("--sandbox", help="Serve unconfigured tools from a sandbox (testing).")
    ] = False,
) -> None:
    """The production service, until SIGTERM (a graceful stop).

    Workers on the stable task queue for every pipeline in STEPTRACE_PIPELINES_DIR, the
    webhook receiver (/hooks/<tool>, /healthz, /readyz, /slack/events) and the
    schedules. Needs STEPTRACE_TEMPORAL_ADDRESS; starts nothing that is not configured."""
    _serve(embedded=False, host=host, port=port, sandbox_tools=sandbox_tools)


def _serve(
    *,
    embedded: bool,
    seed: int = 7,
    host: str | None = None,
    port: int | None = None,
    sandbox_tools: bool = False,
) -> None:
    configured = settings()
    if not embedded and not configured.temporal_address:
        fail(
            "serve needs STEPTRACE_TEMPORAL_ADDRESS (host:port of your Temporal server); "
            "`steptrace up` starts an embedded one"
        )
    from orchestrator.console.served import service_console
    from orchestrator.service.service import ServiceOptions, open_service
    from orchestrator.service.stack import StackOptions

    configure_process()
    options = ServiceOptions(
        seed=seed,
        ui=embedded,
        embedded=embedded,
        host=host,
        port=port,
        stack=StackOptions(sandbox=embedded or sandbox_tools),
    )

    async def go() -> None:
        options.console = service_console(os.environ)
        async with open_service(options, configured) as service:
            stack = service.stack
            kind = "" if configured.temporal_address else " (embedded dev server)"
            where = [
                ("temporal", f"{stack.client.service_client.config.target_host}{kind}"),
                ("web UI", str(stack.temporal_ui)),
                ("task queue", stack.task_queue),
                ("store", stack.store.database if stack.store else "(tracing off)"),
                ("receiver", service.url),
                ("console", service.console_url or "(off: set STEPTRACE_CONSOLE_SECRET)"),
                ("pipelines", ", ".join(p.spec.name for p in service.pipelines) or "(none)"),
                *(("schedule", f"{c.pipeline}: {c.change}") for c in service.schedules),
                *(
                    (tool, end.base_url + (" (sandbox)" if end.sandbox else ""))
                    for tool, end in stack.settings.endpoints.items()
                ),
            ]
            shown = console()
            shown.print(f"[bold]steptrace {'up' if embedded else 'serve'}[/]")
            for label, value in where:
                shown.print(f"  {label:<12}{value}", highlight=False)
            shown.print("Press Ctrl+C to stop.", highlight=False)
            await until_signalled()
            shown.print("stopping: finishing running activities…", highlight=False)

    run_async(go())


def doctor(as_json: JsonFlag = False) -> None:
    """Check every part of the configuration, one line each with the fix.

    Which tools are real or sandbox, their credentials (least privilege) and schemas,
    Temporal, and the trace store's migrations. Exit 1 when a check fails."""
    from dataclasses import asdict

    configured = settings()
    from orchestrator.service.doctor import run_checks

    checks = run_async(run_checks(configured))
    if as_json:
        print(json.dumps([asdict(c) for c in checks]))
    else:
        for check in checks:
            fix = f"  → {check.fix}" if check.fix else ""
            print(f"{check.status:<8} {check.name:<20} {check.detail}{fix}")
    if any(c.status == "failing" for c in checks):
        raise typer.Exit(code=1)


def schedules(
    action: Annotated[str, typer.Argument(help="list | sync | pause | unpause")] = "list",
    pipeline: Annotated[str | None, typer.Argument(help="The pipeline (pause/unpause).")] = None,
    as_json: JsonFlag = False,
) -> None:
    """The pipelines' schedules in Temporal: list, sync, pause, unpause.

    `sync` makes them match the specs; pause / unpause last until the next sync."""
    configured = settings()
    from orchestrator.cli.schedules_cmd import ScheduleCommandError, schedules_command

    try:
        rows = run_async(schedules_command(configured, action, pipeline))
    except ScheduleCommandError as exc:
        fail(str(exc))
    if as_json:
        print(json.dumps(rows))
        return
    for row in rows:
        print("  ".join(f"{value}" for value in row.values()))


def worker(
    task_queue: Annotated[
        str | None, typer.Option(help="Task queue (default STEPTRACE_TASK_QUEUE or steptrace).")
    ] = None,
    seed: SeedOption = 7,
) -> None:
    """Run a worker for pipeline runs until interrupted (no receiver, no schedules).

    It connects to STEPTRACE_TEMPORAL_ADDRESS (or starts a dev server), traces into
    STEPTRACE_DATABASE_URL, and calls the tools named by STEPTRACE_<TOOL>_URL/_TOKEN
    (the sandbox for any tool not named).
    """
    configured = settings()
    queue = task_queue or configured.task_queue
    from orchestrator.service.stack import StackOptions, open_stack

    configure_process()

    async def go() -> None:
        from orchestrator.observability.server import ops_endpoints
        from orchestrator.service.health import stack_checks

        async with (
            open_stack(StackOptions(seed=seed, task_queue=queue), configured) as stack,
            ops_endpoints(stack_checks(stack)) as ops,
        ):
            print(f"steptrace worker: task queue {stack.task_queue}", flush=True)
            if ops:
                print(f"steptrace worker: metrics and health on {ops}", flush=True)
            await until_signalled()

    run_async(go())


def bot(
    port: Annotated[int, typer.Option(help="Port for Slack's requests.")] = 3000,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
) -> None:
    """Serve the Slack bot (mentions, /steptrace, alert buttons) over HTTP until interrupted.

    Needs STEPTRACE_SLACK_SIGNING_SECRET (every request must be signed with it),
    STEPTRACE_SLACK_URL and STEPTRACE_SLACK_TOKEN, and STEPTRACE_TEMPORAL_ADDRESS (the
    server running the escalation workflows); reads STEPTRACE_DATABASE_URL.
    """
    import os

    configured = settings()
    from orchestrator.humanloop.bot import BotConfigError, bot_config, run_bot

    try:
        config = bot_config(os.environ, configured)
    except BotConfigError as exc:
        fail(f"configuration: {exc}")
    configure_process()
    run_async(_with_ops(run_bot(config, configured, open_store(), host=host, port=port)))


def console_command(
    port: Annotated[int, typer.Option(help="Port for the web console.")] = 8765,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    https: Annotated[
        bool, typer.Option(help="Served behind HTTPS: Secure cookies and HSTS.")
    ] = False,
) -> None:
    """Serve the web console (runs, a run's diagnosis, pipelines, actions) until interrupted.

    Needs STEPTRACE_CONSOLE_SECRET (signs sign-in links and sessions); reads
    STEPTRACE_DATABASE_URL; actions need STEPTRACE_TEMPORAL_ADDRESS. People sign in with
    a link from `/steptrace console` in Slack or `steptrace console-link --user U…`.
    """
    import os

    from orchestrator.humanloop.console_link import ConsoleConfigError, console_secret

    try:
        secret = console_secret(os.environ)
    except ConsoleConfigError as exc:
        fail(str(exc))
    configured = settings()
    from orchestrator.console.server import run_console

    run_async(
        run_console(open_store(), configured, secret=secret, host=host, port=port, https=https)
    )


def console_link_command(
    user: Annotated[str, typer.Option(help="The Slack user id to sign in (U…).")],
) -> None:
    """Print a one-time sign-in link to the console for a Slack user (valid 5 minutes).

    Uses STEPTRACE_CONSOLE_SECRET and STEPTRACE_CONSOLE_URL (default http://127.0.0.1:8765).
    """
    import os

    from orchestrator.humanloop.console_link import ConsoleConfigError, console_link

    try:
        print(console_link(os.environ, user))
    except (ConsoleConfigError, ValueError) as exc:
        fail(str(exc))


async def until_signalled() -> None:
    """Return on SIGINT (Ctrl+C) or SIGTERM, so the caller's stack shuts down cleanly."""
    import asyncio
    import signal

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()


async def _with_ops(main: Any) -> None:
    """Run ``main`` with the metrics and health endpoints beside it (liveness only)."""
    from orchestrator.observability.server import ops_endpoints

    async with ops_endpoints({}):
        await main
