"""The ``steptrace`` command line.

Every command imports what it needs inside its function, so ``steptrace --help`` stays
fast (DESIGN §8 budgets it at 0.5 s). Commands that read runs open the trace store named
by ``STEPTRACE_DATABASE_URL`` (default ``.steptrace/trace.db``); every one takes
``--json``.
"""

from __future__ import annotations

import asyncio
import importlib
import json
import signal
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

if TYPE_CHECKING:
    from tracer.store import TraceStore

app = typer.Typer(
    name="steptrace",
    help="Ops automations across Linear, Airtable, Monday.com and Slack, traced step by step.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

bench_app = typer.Typer(
    help="Benchmarks, measured side by side in one run; figures go to docs/benchmarks.md.",
    no_args_is_help=True,
)
app.add_typer(bench_app, name="bench")


def _bench(name: str) -> Any:
    """A benchmark module, loaded by name: ``bench`` sits above the product and is never
    imported by it (DESIGN §1), so no arrow runs from ``orchestrator`` up into ``bench``."""
    return importlib.import_module(f"bench.{name}")


scenario_app = typer.Typer(
    help="Fault scenarios (scenarios/*.yaml): run one against a fresh embedded stack.",
    no_args_is_help=True,
)
app.add_typer(scenario_app, name="scenario")

JsonFlag = Annotated[bool, typer.Option("--json", help="Print one JSON object instead of text.")]
SeedOption = Annotated[int, typer.Option(help="Seed of the sandbox data.")]
PortOption = Annotated[
    int | None, typer.Option(help="Receiver port (default from STEPTRACE_LISTEN; 0: any).")
]


@app.command()
def sandbox(
    seed: SeedOption = 7,
    faults: Annotated[
        Path | None,
        typer.Option(help="A scenario file or a bare YAML/JSON list of faults to inject."),
    ] = None,
    rate_limits: Annotated[
        bool, typer.Option("--rate-limits/--no-rate-limits", help="Apply the real rate limits.")
    ] = True,
    as_json: JsonFlag = False,
) -> None:
    """Serve the four emulators on 127.0.0.1 until interrupted.

    Prints their base URLs once they accept requests. Faults can be switched at run time
    through each emulator's /_sandbox/faults and /_sandbox/run routes.
    """
    from connectors.sandbox.files import FaultFileError, load_fault_file
    from connectors.sandbox.server import Sandbox, SandboxError

    try:
        fault_list = load_fault_file(faults) if faults else []
        running = Sandbox(seed=seed, faults=fault_list, rate_limits=rate_limits).start()
    except (FaultFileError, SandboxError) as exc:
        _fail(str(exc))
    if as_json:
        print(json.dumps(running.urls), flush=True)
    else:
        console = _console()
        console.print(f"[bold]steptrace sandbox[/] (seed {seed}, {len(fault_list)} fault(s))")
        for service, url in running.urls.items():
            console.print(f"  {service:<9} {url}")
        console.print("Press Ctrl+C to stop.")
    _wait_for_interrupt()
    running.stop()


@app.command()
def demo(seed: SeedOption = 7, as_json: JsonFlag = False) -> None:
    """Run the reference pipeline over seeded issues with faults injected, and show it."""
    from orchestrator.cli.demo import run_demo
    from orchestrator.cli.demo_render import print_demo

    report = _run_async(run_demo(seed=seed))
    if as_json:
        print(json.dumps(report.as_json(), default=str))
        return
    print_demo(_console(), report, _command_name())


@app.command()
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
        _fail(str(exc))
    payload = _trigger(trigger)
    # Imported only now: bad input is reported without loading Temporal and the store.
    from orchestrator.service.stack import StackOptions, open_stack
    from orchestrator.service.submit import find_target, submit
    from tracer.run_views import run_view
    from tracer.store import TraceStore

    settings = _settings()

    _configure_process()

    async def go() -> dict[str, Any]:
        target = await find_target(settings)
        if target is not None:
            _progress(f"steptrace: submitted to {target.found_by}")
            store = TraceStore.open(target.database_url)
            outcome = await submit(target, loaded, payload, store)
            stored = store.get_run(outcome.run_id)
            return {"outcome": outcome, "view": run_view(store, stored) if stored else None}
        # No service: a worker of our own, on the stable queue when Temporal is configured
        # (a run left behind is finished by the next worker there).
        queue = settings.task_queue if settings.temporal_address else None
        async with open_stack(StackOptions(seed=seed, task_queue=queue), settings) as stack:
            outcome = await stack.run(loaded, payload)
            assert stack.store is not None
            stored = stack.store.get_run(outcome.run_id)
            view = run_view(stack.store, stored) if stored else None
            return {"outcome": outcome, "view": view}

    result = _run_async(go())
    view = result["view"]
    if as_json:
        print(view.model_dump_json() if view else json.dumps(vars(result["outcome"])))
    elif view is not None:
        from orchestrator.cli.render import print_timeline

        print_timeline(_console(), view)
    if result["outcome"].status != "succeeded":
        raise typer.Exit(code=1)


@app.command()
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


@app.command()
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
    from orchestrator.service.service import ServiceOptions, open_service
    from orchestrator.service.stack import StackOptions

    _configure_process()
    settings = _settings()
    if not embedded and not settings.temporal_address:
        _fail(
            "serve needs STEPTRACE_TEMPORAL_ADDRESS (host:port of your Temporal server); "
            "`steptrace up` starts an embedded one"
        )
    options = ServiceOptions(
        seed=seed,
        ui=embedded,
        embedded=embedded,
        host=host,
        port=port,
        stack=StackOptions(sandbox=embedded or sandbox_tools),
    )

    async def go() -> None:
        async with open_service(options, settings) as service:
            stack = service.stack
            kind = "" if settings.temporal_address else " (embedded dev server)"
            where = [
                ("temporal", f"{stack.client.service_client.config.target_host}{kind}"),
                ("web UI", str(stack.temporal_ui)),
                ("task queue", stack.task_queue),
                ("store", stack.store.database if stack.store else "(tracing off)"),
                ("receiver", service.url),
                ("pipelines", ", ".join(p.spec.name for p in service.pipelines) or "(none)"),
                *(("schedule", f"{c.pipeline}: {c.change}") for c in service.schedules),
                *(
                    (tool, end.base_url + (" (sandbox)" if end.sandbox else ""))
                    for tool, end in stack.settings.endpoints.items()
                ),
            ]
            console = _console()
            console.print(f"[bold]steptrace {'up' if embedded else 'serve'}[/]")
            for label, value in where:
                console.print(f"  {label:<12}{value}", highlight=False)
            console.print("Press Ctrl+C to stop.", highlight=False)
            await _until_signalled()
            console.print("stopping: finishing running activities…", highlight=False)

    _run_async(go())


@app.command()
def doctor(as_json: JsonFlag = False) -> None:
    """Check every part of the configuration, one line each with the fix.

    Which tools are real or sandbox, their credentials (least privilege) and schemas,
    Temporal, and the trace store's migrations. Exit 1 when a check fails."""
    from dataclasses import asdict

    from orchestrator.service.doctor import run_checks

    checks = _run_async(run_checks(_settings()))
    if as_json:
        print(json.dumps([asdict(c) for c in checks]))
    else:
        for check in checks:
            fix = f"  → {check.fix}" if check.fix else ""
            print(f"{check.status:<8} {check.name:<20} {check.detail}{fix}")
    if any(c.status == "failing" for c in checks):
        raise typer.Exit(code=1)


@app.command()
def schedules(
    action: Annotated[str, typer.Argument(help="list | sync | pause | unpause")] = "list",
    pipeline: Annotated[str | None, typer.Argument(help="The pipeline (pause/unpause).")] = None,
    as_json: JsonFlag = False,
) -> None:
    """The pipelines' schedules in Temporal: list, sync, pause, unpause.

    `sync` makes them match the specs; pause / unpause last until the next sync."""
    from orchestrator.cli.schedules_cmd import ScheduleCommandError, schedules_command

    try:
        rows = _run_async(schedules_command(_settings(), action, pipeline))
    except ScheduleCommandError as exc:
        _fail(str(exc))
    if as_json:
        print(json.dumps(rows))
        return
    for row in rows:
        print("  ".join(f"{value}" for value in row.values()))


@app.command()
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
    from orchestrator.service.stack import StackOptions, open_stack

    settings = _settings()
    queue = task_queue or settings.task_queue

    _configure_process()

    async def serve() -> None:
        from orchestrator.observability.server import ops_endpoints
        from orchestrator.service.health import stack_checks

        async with (
            open_stack(StackOptions(seed=seed, task_queue=queue), settings) as stack,
            ops_endpoints(stack_checks(stack)) as ops,
        ):
            print(f"steptrace worker: task queue {stack.task_queue}", flush=True)
            if ops:
                print(f"steptrace worker: metrics and health on {ops}", flush=True)
            await _until_signalled()

    _run_async(serve())


@app.command()
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

    from orchestrator.humanloop.bot import BotConfigError, bot_config, run_bot

    settings = _settings()
    try:
        config = bot_config(os.environ, settings)
    except BotConfigError as exc:
        _fail(str(exc))
    _configure_process()
    _run_async(_with_ops(run_bot(config, settings, _open_store(), host=host, port=port)))


@app.command("console")
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

    from orchestrator.config.settings import Settings
    from orchestrator.console.server import run_console
    from orchestrator.humanloop.console_link import ConsoleConfigError, console_secret

    try:
        secret = console_secret(os.environ)
    except ConsoleConfigError as exc:
        _fail(str(exc))
    settings = Settings.from_env()
    _run_async(
        run_console(_open_store(), settings, secret=secret, host=host, port=port, https=https)
    )


@app.command("console-link")
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
        _fail(str(exc))


@bench_app.command("diff")
def bench_diff(
    repeat: Annotated[int, typer.Option(help="Repetitions; the median is reported.")] = 5,
    as_json: JsonFlag = False,
) -> None:
    """Our structural diff against DeepDiff's defaults on two ~1 MB payloads."""
    bench_module = _bench("diff")

    result = bench_module.run(repeat=repeat)
    bench_module.write_docs(result, command=f"steptrace bench diff --repeat {repeat}")
    print(json.dumps(result) if as_json else _bench_line(result))


@bench_app.command("service")
def bench_service(
    events: Annotated[int, typer.Option(help="Signed webhooks per configuration.")] = 40,
    as_json: JsonFlag = False,
) -> None:
    """Webhook → first step started (p50/p95) and runs/s with 1 vs 2 `serve` processes."""
    bench_module = _bench("service")

    result = _run_async(bench_module.run(events=events))
    bench_module.write_docs(result, command=f"steptrace bench service --events {events}")
    print(json.dumps(result) if as_json else _bench_line(result))


@bench_app.command("overhead")
def bench_overhead(
    runs: Annotated[int, typer.Option(help="Runs per mode (traced and untraced).")] = 40,
    as_json: JsonFlag = False,
) -> None:
    """Pipeline throughput with tracing on vs off, and stored bytes vs raw JSON bytes."""
    bench_module = _bench("overhead")

    result = _run_async(bench_module.run(runs=runs))
    bench_module.write_docs(result, command=f"steptrace bench overhead --runs {runs}")
    print(json.dumps(result) if as_json else _bench_line(result))


@bench_app.command("faults")
def bench_faults(
    runs: Annotated[int, typer.Option(help="Runs per fault rate (10, 25 and 40 %).")] = 24,
    as_json: JsonFlag = False,
) -> None:
    """Runs under request faults: completed, duplicates, untraced writes, secrets found."""
    bench_module = _bench("faults")

    result = _run_async(bench_module.run(runs=runs))
    bench_module.write_docs(result, command=f"steptrace bench faults --runs {runs}")
    print(json.dumps(result) if as_json else bench_module.summary(result))


@bench_app.command("localization")
def bench_localization(
    folder: Annotated[
        Path | None, typer.Option(help="Scenario folder (default: the project's scenarios/).")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Every scenario: onset, class and fix kind against the truth, beside two baselines."""
    bench_module = _bench("localization")
    from orchestrator.scenarios import ScenarioError

    try:
        result = _run_async(bench_module.run(folder=folder, progress=_progress))
    except ScenarioError as exc:
        _fail(str(exc))
    if folder is None:
        bench_module.write_docs(result, command="steptrace bench localization")
    print(json.dumps(result) if as_json else bench_module.summary(result))


@bench_app.command("qc")
def bench_qc(as_json: JsonFlag = False) -> None:
    """Silent defects (scenarios/qc/): QC recall, false alarms on clean runs, attribution."""
    bench_module = _bench("qc")
    from orchestrator.scenarios import ScenarioError

    try:
        result = _run_async(bench_module.run(progress=_progress))
    except ScenarioError as exc:
        _fail(str(exc))
    bench_module.write_docs(result, command="steptrace bench qc")
    print(json.dumps(result) if as_json else bench_module.summary(result))


@bench_app.command("why")
def bench_why(
    runs: Annotated[int, typer.Option(help="Runs to store.")] = 100_000,
    sample: Annotated[int, typer.Option(help="Failed runs to time `why` on.")] = 50,
    as_json: JsonFlag = False,
) -> None:
    """`why` on failed runs of a store holding many runs: p50 and p95, in process."""
    bench_module = _bench("why")

    _quiet_expected_failures()
    result = bench_module.run(runs=runs, sample=sample, progress=_progress)
    bench_module.write_docs(result, command=f"steptrace bench why --runs {runs} --sample {sample}")
    print(json.dumps(result) if as_json else _bench_line(result))


@bench_app.command("insights")
def bench_insights(
    runs: Annotated[int, typer.Option(help="Runs in the synthesised corpus.")] = 100_000,
    as_json: JsonFlag = False,
) -> None:
    """Planted patterns in a corpus cloned from real runs: recall, precision, time."""
    bench_module = _bench("insights")

    _quiet_expected_failures()
    result = bench_module.run(runs=runs, progress=_progress)
    bench_module.write_docs(result, command=f"steptrace bench insights --runs {runs}")
    print(json.dumps(result) if as_json else _bench_line(result))


@scenario_app.command("run")
def scenario_run(
    file: Annotated[Path, typer.Argument(metavar="FILE", help="A scenario file (YAML).")],
    as_json: JsonFlag = False,
) -> None:
    """Run a scenario on a fresh sandbox and store; print each run, its diagnosis, a score."""
    from orchestrator.scenarios import ScenarioError, load_scenario

    try:
        scenario = load_scenario(file)
    except ScenarioError as exc:
        _fail(str(exc))
    from orchestrator.scenarios import print_result, run_scenario

    try:
        result = _run_async(run_scenario(scenario, progress=_progress))
    except ScenarioError as exc:
        _fail(str(exc))
    if as_json:
        print(result.model_dump_json())
    else:
        print_result(_console(), result)


def _progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _bench_line(result: dict[str, Any]) -> str:
    return ", ".join(f"{key}={value}" for key, value in result.items() if key != "machine")


@app.command()
def runs(
    status: Annotated[str | None, typer.Option(help="Only runs with this status.")] = None,
    pipeline: Annotated[str | None, typer.Option(help="Only runs of this pipeline.")] = None,
    limit: Annotated[int, typer.Option(help="At most this many, newest first.")] = 50,
    as_json: JsonFlag = False,
) -> None:
    """List stored runs, newest first."""
    from orchestrator.cli.render import runs_table
    from tracer.run_views import run_view
    from tracer.store import RunStatus

    store = _open_store(read_only=True)
    try:
        wanted = RunStatus(status) if status else None
    except ValueError:
        _fail(f"unknown status {status!r} (known: {', '.join(s.value for s in RunStatus)})")
    records = store.list_runs(status=wanted, pipeline=pipeline, limit=limit)
    labels: dict[str, str] = {}
    if any(r.status is RunStatus.RUNNING for r in records):
        from orchestrator.service.orphans import orphan_labels

        labels = _run_async(orphan_labels(_settings(), records))
    views = [
        run_view(store, r).model_copy(update={"status": labels.get(r.run_id, r.status.value)})
        for r in records
    ]
    if as_json:
        print(json.dumps([v.model_dump(mode="json") for v in views]))
    else:
        _console().print(runs_table(views))


@app.command()
def show(
    run_ref: Annotated[
        str, typer.Argument(metavar="RUN", help="Run id, workflow id, a unique prefix, or latest.")
    ],
    step: Annotated[str | None, typer.Option(help="Print this step's recorded handoff.")] = None,
    payload: Annotated[
        str, typer.Option(help="With --step: in (its input), out (its output) or writes.")
    ] = "out",
    as_json: JsonFlag = False,
) -> None:
    """A run's step timeline: status, attempts, durations, payload sizes, writes; with
    --step, that step's recorded payload (as stored: secrets already redacted)."""
    from tracer.run_model import find_run

    store = _open_store(read_only=True)
    try:
        record = find_run(store, run_ref)
    except LookupError as exc:
        _fail(str(exc))
    if step is not None:
        from orchestrator.cli.payload_view import PayloadViewError, step_payload

        try:
            shown = step_payload(store, record, step, payload)
        except PayloadViewError as exc:
            _fail(str(exc))
        print(json.dumps(shown, indent=None if as_json else 2, default=str))
        return
    from orchestrator.cli.render import print_timeline
    from tracer.run_views import run_view

    view = run_view(store, record)
    if as_json:
        print(view.model_dump_json())
    else:
        print_timeline(_console(), view)


@app.command()
def diff(
    run_ref: Annotated[str, typer.Argument(metavar="RUN", help="Run id, workflow id or latest.")],
    step: Annotated[str, typer.Argument(help="The step whose output to compare.")],
    against: Annotated[
        str, typer.Option(help="`last-good` (same pipeline version) or another run's id.")
    ] = "last-good",
    as_json: JsonFlag = False,
) -> None:
    """Structural diff of one step's output: this run against another."""
    from orchestrator.cli.compare import StepDiffError, compare_step

    store = _open_store(read_only=True)
    try:
        result = compare_step(store, run_ref, step, against)
    except (LookupError, StepDiffError) as exc:
        _fail(str(exc))
    if as_json:
        print(result.model_dump_json())
        return
    console = _console()
    console.print(f"[bold]{step}[/] of {result.run_id} against {result.against_run_id}")
    if not result.changes:
        console.print("  no differences")
    for change in result.changes:
        console.print(f"  {change.kind:<24} {change.path}: {change.old!r} -> {change.new!r}")


@app.command()
def why(
    run_ref: Annotated[
        str, typer.Argument(metavar="RUN", help="Run id, workflow id, or latest (newest failed).")
    ],
    as_json: JsonFlag = False,
) -> None:
    """Why did this run fail: where it started, what changed, and a checked fix."""
    from orchestrator.diagnosis.why import render_diagnosis
    from orchestrator.diagnosis.why import why as diagnose

    store = _open_store(read_only=True)
    if _needs_diagnosis(store, run_ref):  # computing one stores it: only then open to write
        store.close()
        store = _open_store()
    try:
        diagnosis = diagnose(store, run_ref)
    except LookupError as exc:  # DiagnosisError is one
        _fail(str(exc))
    stored = store.diagnoses(diagnosis.run_id)
    fix_id = stored[-1].id if stored else None
    if as_json:
        print(diagnosis.model_dump_json())
    else:
        render_diagnosis(_console(), diagnosis)
        if fix_id is not None and diagnosis.proposed_fix.kind == "spec_patch":
            step = diagnosis.onset_step or "STEP"
            print(
                f"fix id {fix_id}: steptrace replay {diagnosis.run_id} --from {step} "
                f"--fix {fix_id}   (or --fix latest)"
            )
        elif fix_id is not None:
            print(f"fix id {fix_id} ({diagnosis.proposed_fix.kind})")


@app.command()
def qc(
    run_ref: Annotated[str, typer.Argument(metavar="RUN", help="Run id, workflow id or latest.")],
    as_json: JsonFlag = False,
) -> None:
    """A run's QC rubric results, failures first, with evidence (reviews it if not yet)."""
    from orchestrator.cli.qc_render import print_qc
    from orchestrator.qc.review import qc_report
    from rubrics.judge import JudgeConfigError, judge_from_env
    from tracer.run_model import find_run

    store = _open_store(read_only=True)
    if _needs_review(store, run_ref):  # a post-hoc review stores its results
        store.close()
        store = _open_store()
    try:
        report = qc_report(store, find_run(store, run_ref).run_id, judge_from_env())
    except (LookupError, JudgeConfigError) as exc:
        _fail(str(exc))
    if as_json:
        print(json.dumps(report))
    else:
        print_qc(_console(), report)


@app.command()
def insights(
    since: Annotated[
        str | None, typer.Option(help="Only runs started on or after this date (YYYY-MM-DD).")
    ] = None,
    pipeline: Annotated[str | None, typer.Option(help="Only runs of this pipeline.")] = None,
    cohort: Annotated[
        str | None, typer.Option(help="Compare the runs matching this expression ...")
    ] = None,
    vs: Annotated[
        str | None, typer.Option("--vs", help="... with those matching this one.")
    ] = None,
    question: Annotated[
        str | None,
        typer.Option(
            help="Ask in words: the judge (STEPTRACE_JUDGE) writes a read-only query; "
            "the answer's numbers and runs are checked against its result."
        ),
    ] = None,
    as_json: JsonFlag = False,
    as_md: Annotated[bool, typer.Option("--md", help="Print Markdown.")] = False,
) -> None:
    """What the automations systematically do: failure groups, their conditions and
    silent patterns, each with prevalence k/N (CI) and cited runs. With --cohort and
    --vs (e.g. --cohort "version = 'a15e1dd2'" --vs "version = '8a122f3f'"): what differs."""
    from orchestrator.insights.report import command_output
    from tracer.insights import InsightsError

    fmt = "json" if as_json else "md" if as_md else "text"
    try:
        print(
            command_output(
                since=since, pipeline=pipeline, cohort=cohort, vs=vs, fmt=fmt, question=question
            )
        )
    except InsightsError as exc:
        _fail(str(exc))


@app.command()
def replay(
    run_ref: Annotated[str, typer.Argument(metavar="RUN", help="Run id, workflow id or latest.")],
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
    from orchestrator.humanloop.replay.starter import run_plan
    from orchestrator.service.stack import StackOptions, open_stack
    from tracer.run_model import find_run

    store = _open_store()
    try:
        fix_id = _fix_id(store, find_run(store, run_ref).run_id, fix)
        plan = plan_replay(store, run_ref, from_step, fix_id=fix_id)
    except (LookupError, ReplayError) as exc:
        _fail(str(exc))

    from orchestrator.service.submit import find_target

    settings = _settings()

    async def go() -> Any:
        # The service's workers call the tools the run used; a fresh sandbox would not.
        target = await find_target(settings)
        if target is not None:
            _progress(f"steptrace: replaying through {target.found_by}")
            return await run_plan(target.client, target.task_queue, store, plan)
        _warn_fresh_sandbox(settings)
        async with open_stack(StackOptions(seed=seed), settings) as stack:
            assert stack.store is not None
            return await run_plan(stack.client, stack.task_queue, stack.store, plan)

    outcome = _run_async(go())
    if as_json:
        print(json.dumps(outcome.as_json(), default=str))
    else:
        console = _console()
        reused = ", ".join(outcome.reused_steps) or "none"
        console.print(
            f"replay {outcome.run_id} of {outcome.parent_run_id}: [bold]{outcome.status}[/]"
        )
        console.print(f"  from `{outcome.from_step}`, version {outcome.version}; reused: {reused}")
        if outcome.error:
            console.print(f"  {outcome.error}", highlight=False)
    if outcome.status != "succeeded":
        raise typer.Exit(code=1)


@app.command()
def rollback(
    run_ref: Annotated[str, typer.Argument(metavar="RUN", help="Run id, workflow id or latest.")],
    to_step: Annotated[
        str, typer.Option("--to", metavar="STEP", help="Undo the writes of every later step.")
    ],
    seed: SeedOption = 7,
    as_json: JsonFlag = False,
) -> None:
    """Undo the external writes of the steps after STEP, newest first, from their
    before-images; objects a person changed since are left alone and reported."""
    from orchestrator.humanloop.rollback.plan import RollbackError, plan_rollback
    from orchestrator.service.stack import StackOptions, open_stack
    from tracer.run_model import find_run

    store = _open_store()
    try:
        run = find_run(store, run_ref)
        plan_rollback(store, run, to_step)
    except (LookupError, RollbackError) as exc:
        _fail(str(exc))

    from orchestrator.humanloop.rollback.starter import rollback_run
    from orchestrator.service.submit import find_target

    settings = _settings()

    async def go() -> Any:
        target = await find_target(settings)
        try:
            if target is not None:
                _progress(f"steptrace: rolling back through {target.found_by}")
                return await rollback_run(
                    target.client, target.task_queue, store, run.run_id, to_step
                )
            _warn_fresh_sandbox(settings)
            async with open_stack(StackOptions(seed=seed), settings) as stack:
                return await stack.rollback(run.run_id, to_step)
        except RollbackError as exc:
            return str(exc)

    result = _run_async(go())
    if isinstance(result, str):
        _fail(result)
    if as_json:
        print(result.model_dump_json())
    else:
        console = _console()
        console.print(
            f"rollback {result.run_id} of {result.parent_run_id}: [bold]{result.status}[/]"
        )
        for undo in result.results:
            console.print(
                f"  {undo.step_id:<18} {undo.tool}:{undo.kind} {undo.object_id:<20} "
                f"{undo.outcome:<15} {undo.detail}",
                highlight=False,
            )
    if result.status != "succeeded":
        raise typer.Exit(code=1)


def _warn_fresh_sandbox(settings: Any) -> None:
    """Without a service, unconfigured tools are a fresh sandbox, not the run's tools."""
    fresh = settings.missing_endpoints()
    if fresh:
        _progress(
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


def _command_name() -> str:
    """How to call steptrace again: its name if it is on PATH, else the path used now."""
    import os
    import shutil

    invoked = sys.argv[0]
    if shutil.which("steptrace") == os.path.abspath(invoked) or not os.path.exists(invoked):
        return "steptrace"
    return invoked


def _open_store(*, read_only: bool = False) -> TraceStore:
    """The store; ``read_only`` for commands that only read: never migrated nor locked."""
    import os

    from orchestrator.config.settings import ConfigError, redaction_from_env
    from tracer.store import TraceStore, TraceStoreError

    try:
        return TraceStore.open(
            os.environ.get("STEPTRACE_DATABASE_URL") or None,
            read_only=read_only,
            policy=redaction_from_env(os.environ),  # what a diagnosis or review stores
        )
    except (TraceStoreError, ConfigError) as exc:
        _fail(str(exc))


def _needs_diagnosis(store: TraceStore, run_ref: str) -> bool:
    from orchestrator.diagnosis.diagnoser import stored_diagnosis
    from tracer.run_model import find_run

    try:
        run = find_run(store, "latest-failed" if run_ref == "latest" else run_ref)
    except LookupError:
        return False  # the command reports it
    return stored_diagnosis(store, run.run_id) is None


def _needs_review(store: TraceStore, run_ref: str) -> bool:
    from tracer.run_model import find_run

    try:
        return not store.rubric_results(find_run(store, run_ref).run_id)
    except LookupError:
        return False


def _trigger(text: str) -> dict[str, Any]:
    from orchestrator.cli.trigger_input import TriggerError, read_trigger

    try:
        return read_trigger(text)
    except TriggerError as exc:
        _fail(str(exc))


def _run_async(coroutine: Any) -> Any:
    from orchestrator.config.settings import ConfigError
    from orchestrator.runtime.codec import CodecKeyError
    from orchestrator.runtime.connection import ConnectionConfigError
    from orchestrator.runtime.devserver import DevServerError
    from orchestrator.service.pipelines import PipelinesFolderError
    from orchestrator.service.stack import EmbeddedDisabledError
    from rubrics.judge import JudgeConfigError
    from tracer.store import TraceStoreError

    _quiet_expected_failures()
    try:
        return asyncio.run(coroutine)
    except (
        DevServerError,
        TraceStoreError,
        CodecKeyError,
        ConnectionConfigError,
        EmbeddedDisabledError,
        PipelinesFolderError,
    ) as exc:
        _fail(str(exc))
    except (ConfigError, JudgeConfigError) as exc:
        _fail(f"configuration: {exc}")


def _settings() -> Any:
    """The configuration, or one line naming the bad key and exit 2."""
    from orchestrator.config.settings import ConfigError, Settings

    try:
        return Settings.from_env()
    except ConfigError as exc:
        _fail(f"configuration: {exc}")


def _console() -> Any:
    from orchestrator.cli.terminal import SafeConsole

    console = SafeConsole()
    if not console.is_terminal:  # piped or captured: do not squeeze tables into 80 columns
        console = SafeConsole(width=max(console.width, 132))
    return console


def _quiet_expected_failures() -> None:
    """A failing step is an outcome steptrace records and shows, not a log-worthy event."""
    import logging

    for name in ("temporalio.activity", "temporalio.workflow"):
        logging.getLogger(name).setLevel(logging.ERROR)


def _register_ops(target: typer.Typer) -> None:
    from orchestrator.cli.ops import register

    register(target)


async def _until_signalled() -> None:
    """Return on SIGINT (Ctrl+C) or SIGTERM, so the caller's stack shuts down cleanly."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()


def _wait_for_interrupt() -> None:
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass


def _configure_process() -> None:
    """A service process: JSON logs and OTLP export when the environment asks for them."""
    from orchestrator.observability.logs import configure_logging
    from orchestrator.observability.otel import configure_tracing

    configure_logging()
    try:
        configure_tracing()
    except RuntimeError as exc:
        _fail(str(exc))
    # The SDK's provider flushes queued spans at exit (shutdown_on_exit).


async def _with_ops(main: Any) -> None:
    """Run ``main`` with the metrics and health endpoints beside it (liveness only)."""
    from orchestrator.observability.server import ops_endpoints

    async with ops_endpoints({}):
        await main


def _fail(message: str) -> NoReturn:
    from orchestrator.cli.terminal import escape_controls

    print(f"steptrace: {escape_controls(message)}", file=sys.stderr)
    raise typer.Exit(code=2)


def main() -> None:
    app()


_register_ops(app)


if __name__ == "__main__":
    main()
