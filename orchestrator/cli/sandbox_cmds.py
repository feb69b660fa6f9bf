"""Trying steptrace on this machine: ``sandbox``, ``demo`` and ``scenario run``."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from orchestrator.cli.common import JsonFlag, SeedOption, console, fail, progress, run_async

scenario_app = typer.Typer(
    help="Fault scenarios (scenarios/*.yaml): run one against a fresh embedded stack.",
    no_args_is_help=True,
)


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
        fail(str(exc))
    if as_json:
        print(json.dumps(running.urls), flush=True)
    else:
        shown = console()
        shown.print(f"[bold]steptrace sandbox[/] (seed {seed}, {len(fault_list)} fault(s))")
        for service, url in running.urls.items():
            shown.print(f"  {service:<9} {url}")
        shown.print("Press Ctrl+C to stop.")
    _wait_for_interrupt()
    running.stop()


def demo(seed: SeedOption = 7, as_json: JsonFlag = False) -> None:
    """Run the reference pipeline over seeded issues with faults injected, and show it."""
    from orchestrator.cli.demo import run_demo
    from orchestrator.cli.demo_render import print_demo

    report = run_async(run_demo(seed=seed))
    if as_json:
        print(json.dumps(report.as_json(), default=str))
        return
    print_demo(console(), report, _command_name())


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
        fail(str(exc))
    from orchestrator.scenarios import print_result, run_scenario

    try:
        result = run_async(run_scenario(scenario, progress=progress))
    except ScenarioError as exc:
        fail(str(exc))
    if as_json:
        print(result.model_dump_json())
    else:
        print_result(console(), result)


def _command_name() -> str:
    """How to call steptrace again: its name if it is on PATH, else the path used now."""
    import os
    import shutil

    invoked = sys.argv[0]
    if shutil.which("steptrace") == os.path.abspath(invoked) or not os.path.exists(invoked):
        return "steptrace"
    return invoked


def _wait_for_interrupt() -> None:
    import signal
    import threading

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
