"""``steptrace bench …``: the benchmarks, loaded by name.

``bench`` sits above the product and is never imported by it (DESIGN §1), so each
command loads its module with :mod:`importlib`; no arrow runs from ``orchestrator`` up
into ``bench``. Each writes its figures to docs/benchmarks.md.
"""

from __future__ import annotations

import importlib
import json
from pathlib import Path
from typing import Annotated, Any

import typer

from orchestrator.cli.common import (
    JsonFlag,
    fail,
    progress,
    quiet_expected_failures,
    run_async,
)

bench_app = typer.Typer(
    help="Benchmarks, measured side by side in one run; figures go to docs/benchmarks.md.",
    no_args_is_help=True,
)


def _bench(name: str) -> Any:
    """A benchmark module, loaded by name."""
    return importlib.import_module(f"bench.{name}")


def _line(result: dict[str, Any]) -> str:
    return ", ".join(f"{key}={value}" for key, value in result.items() if key != "machine")


@bench_app.command("diff")
def bench_diff(
    repeat: Annotated[int, typer.Option(help="Repetitions; the median is reported.")] = 5,
    as_json: JsonFlag = False,
) -> None:
    """Our structural diff against DeepDiff's defaults on two ~1 MB payloads."""
    module = _bench("diff")
    result = module.run(repeat=repeat)
    module.write_docs(result, command=f"steptrace bench diff --repeat {repeat}")
    print(json.dumps(result) if as_json else _line(result))


@bench_app.command("service")
def bench_service(
    events: Annotated[int, typer.Option(help="Signed webhooks per configuration.")] = 300,
    as_json: JsonFlag = False,
) -> None:
    """Webhook → first step started (p50/p95) and runs/s with 1 vs 2 `serve` processes."""
    module = _bench("service")
    result = run_async(module.run(events=events))
    module.write_docs(result, command=f"steptrace bench service --events {events}")
    print(json.dumps(result) if as_json else _line(result))


@bench_app.command("overhead")
def bench_overhead(
    runs: Annotated[int, typer.Option(help="Runs per mode (traced and untraced).")] = 40,
    as_json: JsonFlag = False,
) -> None:
    """Pipeline throughput with tracing on vs off, and stored bytes vs raw JSON bytes."""
    module = _bench("overhead")
    result = run_async(module.run(runs=runs))
    module.write_docs(result, command=f"steptrace bench overhead --runs {runs}")
    print(json.dumps(result) if as_json else _line(result))


@bench_app.command("faults")
def bench_faults(
    runs: Annotated[int, typer.Option(help="Runs per fault rate (10, 25 and 40 %).")] = 24,
    as_json: JsonFlag = False,
) -> None:
    """Runs under request faults: completed, duplicates, untraced writes, secrets found."""
    module = _bench("faults")
    result = run_async(module.run(runs=runs))
    module.write_docs(result, command=f"steptrace bench faults --runs {runs}")
    print(json.dumps(result) if as_json else module.summary(result))


@bench_app.command("localization")
def bench_localization(
    folder: Annotated[
        Path | None, typer.Option(help="Scenario folder (default: the project's scenarios/).")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Every scenario: onset, class and fix kind against the truth, beside two baselines."""
    module = _bench("localization")
    from orchestrator.scenarios import ScenarioError

    try:
        result = run_async(module.run(folder=folder, progress=progress))
    except ScenarioError as exc:
        fail(str(exc))
    if folder is None:
        module.write_docs(result, command="steptrace bench localization")
    print(json.dumps(result) if as_json else module.summary(result))


@bench_app.command("qc")
def bench_qc(as_json: JsonFlag = False) -> None:
    """Silent defects (scenarios/qc/): QC recall, false alarms on clean runs, attribution."""
    module = _bench("qc")
    from orchestrator.scenarios import ScenarioError

    try:
        result = run_async(module.run(progress=progress))
    except ScenarioError as exc:
        fail(str(exc))
    module.write_docs(result, command="steptrace bench qc")
    print(json.dumps(result) if as_json else module.summary(result))


@bench_app.command("why")
def bench_why(
    runs: Annotated[int, typer.Option(help="Runs to store.")] = 100_000,
    sample: Annotated[int, typer.Option(help="Failed runs to time `why` on.")] = 50,
    as_json: JsonFlag = False,
) -> None:
    """`why` on failed runs of a store holding many runs: p50 and p95, in process."""
    module = _bench("why")
    quiet_expected_failures()
    result = module.run(runs=runs, sample=sample, progress=progress)
    module.write_docs(result, command=f"steptrace bench why --runs {runs} --sample {sample}")
    print(json.dumps(result) if as_json else _line(result))


@bench_app.command("console")
def bench_console(
    runs: Annotated[int, typer.Option(help="Runs to store.")] = 100_000,
    sample: Annotated[int, typer.Option(help="Run pages to time.")] = 60,
    as_json: JsonFlag = False,
) -> None:
    """The console on a store of many runs: runs list, failure-group filter and run page
    (p50/p95 wall and CPU per request) and the pages' weight."""
    module = _bench("console")
    quiet_expected_failures()
    result = module.run(runs=runs, sample=sample, progress=progress)
    module.write_docs(result, f"steptrace bench console --runs {runs} --sample {sample}")
    print(json.dumps(result) if as_json else _line(result))


@bench_app.command("insights")
def bench_insights(
    runs: Annotated[int, typer.Option(help="Runs in the synthesised corpus.")] = 100_000,
    as_json: JsonFlag = False,
) -> None:
    """Planted patterns in a corpus cloned from real runs: recall, precision, time."""
    module = _bench("insights")
    quiet_expected_failures()
    result = module.run(runs=runs, progress=progress)
    module.write_docs(result, command=f"steptrace bench insights --runs {runs}")
    print(json.dumps(result) if as_json else _line(result))


@bench_app.command("cli")
def bench_cli(
    repeat: Annotated[int, typer.Option(help="Runs of each command.")] = 10,
    as_json: JsonFlag = False,
) -> None:
    """Whole commands (--help, why, show, runs) on the demo store: wall and CPU time."""
    module = _bench("cli")
    result = module.run(repeat=repeat)
    module.write_docs(result, command=f"steptrace bench cli --repeat {repeat}")
    print(json.dumps(result) if as_json else _line(result))
