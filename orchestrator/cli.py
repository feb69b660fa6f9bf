"""The ``steptrace`` command line.

Every command imports what it needs inside its function, so ``steptrace --help`` stays
fast (DESIGN §8 budgets it at 0.5 s).
"""

from __future__ import annotations

import json
import signal
import sys
import threading
from pathlib import Path
from typing import Annotated, NoReturn

import typer

app = typer.Typer(
    name="steptrace",
    help="Ops automations across Linear, Airtable, Monday.com and Slack, traced step by step.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

JsonFlag = Annotated[bool, typer.Option("--json", help="Print one JSON object instead of text.")]


@app.command()
def sandbox(
    seed: Annotated[int, typer.Option(help="Seed of the sandbox data.")] = 7,
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
        from rich.console import Console

        console = Console()
        console.print(f"[bold]steptrace sandbox[/] (seed {seed}, {len(fault_list)} fault(s))")
        for service, url in running.urls.items():
            console.print(f"  {service:<9} {url}")
        console.print("Press Ctrl+C to stop.")
    _wait_for_interrupt()
    running.stop()


@app.command()
def demo(
    seed: Annotated[int, typer.Option(help="Seed of the sandbox data.")] = 7,
    as_json: JsonFlag = False,
) -> None:
    """A walkthrough against the sandbox: sync issues across the four tools, then break one."""
    from orchestrator.walkthrough import print_walkthrough, run_walkthrough

    report = run_walkthrough(seed=seed)
    if as_json:
        print(json.dumps(report, default=str))
    else:
        print_walkthrough(report)


def _wait_for_interrupt() -> None:
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass


def _fail(message: str) -> NoReturn:
    print(f"steptrace: {message}", file=sys.stderr)
    raise typer.Exit(code=2)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
