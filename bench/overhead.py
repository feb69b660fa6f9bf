"""Benchmark: what tracing costs — pipeline throughput with it vs without, and bytes kept.

Budgets (DESIGN §8, issue 17): pipeline throughput with tracing is at least 0.95x
without it (same run, SQLite store; 0.93x with the store on PostgreSQL), and the trace
store keeps at most 25 % of the raw JSON bytes of all the snapshots it captured.

One process, one Temporal dev server (our own ``temporal server start-dev`` child), one
sandbox, and two workers on their own task queues: *untraced* (no interceptor, no store)
and *traced* (the :class:`~tracer.capture.TraceInterceptor` and the run recorder writing
to a fresh SQLite store, WAL, in a temporary folder). The reference pipeline
(``pipelines/linear-triage-sync.yaml``) runs over the seeded issues ENG-101…ENG-160,
cycling, ``concurrency`` workflows at a time, in blocks of ``block`` runs that alternate
between the modes (ABBA: the mode that goes first swaps every round), so that drift in
the machine's load hits both alike. Before measuring, every seeded issue is run once
(half per mode): that warms both workers and makes every measured run the same kind of
work (an update of records that exist) whichever mode it falls to.

Throughput per mode is its runs divided by the wall time of its blocks. The storage
ratio is the store's compressed payload bytes over the raw JSON bytes of every snapshot
captured, counted each time it was captured (see :func:`storage_figures`).

The per-step capture cost is the CPU tracing adds to the process per step attempt (the
traced mode's CPU per run minus the untraced mode's, over the attempts per run), shown
next to OpenTelemetry Python's published cost of starting and ending one span.

    python -m bench.overhead                  one readable line
    python -m bench.overhead --json           the figures as JSON
    python -m bench.overhead --concurrency 32 workflows in flight (default 8)
    python -m bench.overhead --database-url postgresql+psycopg://…   traced store on
                                              PostgreSQL (in a schema of its own, dropped)
    python -m bench.overhead --write-docs     also rewrite "## Tracing overhead"
    python -m bench.overhead --profile out.prof   under cProfile; prints the tracer's share
    steptrace bench overhead [--runs N] [--json]   (always rewrites the docs section)
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import json
import os
import pstats
import statistics
import tempfile
import textwrap
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from bench.docs import DOCS, read_section, replace_section
from bench.machine import describe, describe_line, load_line
from bench.trace_figures import isolated_capture_us, storage_figures
from connectors.sandbox.server import Sandbox
from orchestrator.config.settings import Settings
from orchestrator.runtime.devserver import DevServer
from orchestrator.service.stack import Stack, StackOptions, open_stack
from orchestrator.spec.pipeline import LoadedPipeline, load_pipeline, without_ops

__all__ = ["ISSUES", "Plan", "main", "run", "storage_figures", "write_docs"]

BUDGET_THROUGHPUT = 0.95
BUDGET_THROUGHPUT_POSTGRESQL = 0.93
BUDGET_STORAGE = 0.25
# OpenTelemetry Python's published benchmark (open-telemetry/opentelemetry-python,
# gh-pages benchmarks/data.js, shown at open-telemetry.github.io/opentelemetry-python/
# benchmarks/): test_simple_start_span, mean 30.36 µs, and
# test_simple_start_as_current_span, mean 40.33 µs, CPython 3.8 on a GitHub Actions
# runner, commit 33fa7b9 (2020-12-14), span kept in memory (no exporter).
OTEL_SPAN_US = 30.36
OTEL_CURRENT_SPAN_US = 40.33
OTEL_SOURCE = (
    "OpenTelemetry Python's published benchmarks (open-telemetry/opentelemetry-python, "
    "gh-pages `benchmarks/data.js`, open-telemetry.github.io/opentelemetry-python/benchmarks/: "
    "`test_simple_start_span` mean 30.36 µs, `test_simple_start_as_current_span` mean "
    "40.33 µs, CPython 3.8, commit 33fa7b9, 2020-12-14)"
)
SECTION = "## Tracing overhead"
PIPELINE = Path(__file__).resolve().parent.parent / "pipelines" / "linear-triage-sync.yaml"


def without_qc(pipeline: LoadedPipeline) -> LoadedPipeline:
    """The pipeline minus its QC step: QC reads the trace, so with tracing off it judges
    nothing; the benchmark compares the same work with and without capture."""
    return without_ops(pipeline, {"qc.review"})


ISSUES = tuple(f"ENG-{n}" for n in range(101, 161))
ROUNDS = 10
SEED = 7
HISTORY_ROWS = 12
_CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
_HISTORY_PREFIX = "| `"
_HISTORY_HEADER = (
    "| command | date | load average at start (1 / 5 / 15 min) | untraced runs/s "
    "| traced runs/s | throughput ratio (per-round median; quartiles) | capture µs/step "
    "| storage ratio |"
)


@dataclass
class _Mode:
    """One side of the comparison: its stack and what its measured blocks did."""

    name: str
    stack: Stack
    issues: tuple[str, ...] = ISSUES
    started: int = 0
    succeeded: int = 0
    failures: list[str] = field(default_factory=list)
    blocks: list[tuple[int, float]] = field(default_factory=list)  # (runs, wall seconds)
    cpu_seconds: float = 0.0
    tracer_cpu_seconds: float = 0.0

    @property
    def seconds(self) -> float:
        return sum(seconds for _, seconds in self.blocks)

    def next_trigger(self) -> dict[str, str]:
        """Both modes walk the same issue sequence, so they do the same work."""
        issue = self.issues[self.started % len(self.issues)]
        self.started += 1
        return {"issue": issue}

    @property
    def runs_per_second(self) -> float:
        return self.succeeded / self.seconds if self.seconds else 0.0


@dataclass(frozen=True)
class Plan:
    """How the benchmark runs; the defaults are what the docs report."""

    runs: int = 40
    block: int | None = None  # None: see `block_size`
    concurrency: int = 8
    issues: tuple[str, ...] = ISSUES
    seed: int = SEED
    database_url: str | None = None  # the traced store; None: SQLite in a temporary folder

    @property
    def backend(self) -> str:
        return make_url(self.database_url).get_backend_name() if self.database_url else "sqlite"

    @property
    def budget(self) -> float:
        return BUDGET_THROUGHPUT_POSTGRESQL if self.backend == "postgresql" else BUDGET_THROUGHPUT

    @property
    def block_size(self) -> int:
        """Runs per block: ``block``, else about ten rounds (each round one block of each
        mode, so ten paired ratios), but at least one wave of ``concurrency`` runs, so
        the concurrency is reached in every block."""
        return self.block or max(self.concurrency, self.runs // ROUNDS)

    def __post_init__(self) -> None:
        if min(self.runs, self.block_size, self.concurrency, len(self.issues)) < 1:
            raise ValueError(f"every count in {self} must be at least 1")


async def run(*, runs: int = 40, plan: Plan | None = None) -> dict[str, object]:
    """Run ``runs`` pipelines per mode, interleaved, and return the figures (module doc).

    ``plan`` overrides everything (tests use a few issues and small blocks); without it
    the defaults of :class:`Plan` apply with ``runs``.
    """
    plan = plan or Plan(runs=runs)
    load_before = load_line()
    pipeline = without_qc(load_pipeline(PIPELINE))
    errors: list[BaseException] = []
    async with _modes(plan, errors) as modes:
        await _warm_up(pipeline, modes, plan)
        for index, size in _interleave(plan.runs, plan.block_size):
            await _measure_block(modes[index], pipeline, size, plan.concurrency)
        traced = modes[1].stack
        assert traced.store is not None and traced.committer is not None
        storage = storage_figures(traced.store)
        storage["isolated_capture_us"] = isolated_capture_us(traced.store)
        stats = traced.committer.stats
        commits = {
            "batches": stats.batches,
            "records": stats.records,
            "retries": stats.retries,
            "inline": stats.inline,
            "dictionaries": stats.dictionaries,
        }
    figures = _figures(modes, storage, plan)
    return figures | {
        "group_commit": commits,
        "capture_errors": [repr(e) for e in errors],
        "load_average": load_before,
        "load_average_after": load_line(),
        "machine": describe(),
    }


@contextlib.asynccontextmanager
async def _modes(plan: Plan, errors: list[BaseException]) -> AsyncIterator[tuple[_Mode, _Mode]]:
    """One dev server and one sandbox, and a worker per mode on its own task queue."""
    server = DevServer()
    await server.start()
    try:
        with Sandbox(seed=plan.seed) as sandbox, _traced_store_url(plan) as database_url:
            settings = Settings(temporal_address=server.address).with_sandbox(sandbox.urls)
            untraced_options = StackOptions(seed=plan.seed, tracing=False)
            traced_options = StackOptions(
                seed=plan.seed,
                tracing=True,
                database_url=database_url,
                on_capture_error=errors.append,
            )
            async with (
                open_stack(untraced_options, settings) as untraced,
                open_stack(traced_options, settings) as traced,
            ):
                yield _Mode("untraced", untraced, plan.issues), _Mode("traced", traced, plan.issues)
    finally:
        await server.stop()


@contextlib.contextmanager
def _traced_store_url(plan: Plan) -> Iterator[str]:
    """A fresh store: a SQLite file in a temporary folder, or a PostgreSQL schema of its
    own in ``plan.database_url`` (dropped afterwards)."""
    if plan.database_url is None:
        with tempfile.TemporaryDirectory(prefix="steptrace-bench-") as folder:
            yield f"sqlite:///{Path(folder) / 'trace.db'}"
        return
    schema = f"steptrace_bench_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(plan.database_url)
    try:
        with admin.begin() as conn:
            conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
        url = make_url(plan.database_url)
        options = f"{url.query.get('options', '')} -csearch_path={schema}".strip()
        yield url.update_query_dict({"options": options}).render_as_string(hide_password=False)
    finally:
        with admin.begin() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        admin.dispose()


async def _warm_up(pipeline: LoadedPipeline, modes: tuple[_Mode, _Mode], plan: Plan) -> None:
    """Run every issue of the plan once, half per mode, concurrently; not measured.

    Afterwards both workers have run workflows (sandbox imports, connections, caches are
    warm) and every issue's records exist, so measured runs are all updates.
    """
    half = len(plan.issues) // 2
    triggers = [(modes[0], {"issue": i}) for i in plan.issues[:half]]
    triggers += [(modes[1], {"issue": i}) for i in plan.issues[half:]]
    limit = asyncio.Semaphore(plan.concurrency)

    async def one(mode: _Mode, trigger: dict[str, str]) -> None:
        async with limit:
            outcome = await mode.stack.run(pipeline, trigger)
        if outcome.status != "succeeded":
            raise RuntimeError(
                f"warm-up run {trigger} ({mode.name}) {outcome.status}: {outcome.error}"
            )

    await asyncio.gather(*(one(mode, trigger) for mode, trigger in triggers))


def _interleave(runs: int, block: int) -> list[tuple[int, int]]:
    """(mode index, block size) in ABBA order: 0 = untraced, 1 = traced.

    Round r runs one block of each mode; the mode that goes first alternates, so a
    steady drift in the machine's speed favours neither.
    """
    order: list[tuple[int, int]] = []
    done = 0
    round_index = 0
    while done < runs:
        size = min(block, runs - done)
        first = round_index % 2
        order += [(first, size), (1 - first, size)]
        done += size
        round_index += 1
    return order


async def _measure_block(
    mode: _Mode, pipeline: LoadedPipeline, size: int, concurrency: int
) -> None:
    """Run ``size`` pipelines, ``concurrency`` at a time, and add the block's wall time."""
    limit = asyncio.Semaphore(concurrency)
    triggers = [mode.next_trigger() for _ in range(size)]

    async def one(trigger: dict[str, str]) -> None:
        async with limit:
            outcome = await mode.stack.run(pipeline, trigger)
        if outcome.status == "succeeded":
            mode.succeeded += 1
        else:
            mode.failures.append(f"{trigger['issue']}: {outcome.status}: {outcome.error}")

    succeeded_before = mode.succeeded
    tracer_start = _tracer_thread_cpu()
    cpu_start, start = time.process_time(), time.perf_counter()
    await asyncio.gather(*(one(t) for t in triggers))
    mode.blocks.append((mode.succeeded - succeeded_before, time.perf_counter() - start))
    mode.cpu_seconds += time.process_time() - cpu_start
    mode.tracer_cpu_seconds += _tracer_thread_cpu() - tracer_start


def _tracer_thread_cpu() -> float:
    """CPU seconds used so far by the threads where tracing does its work.

    The group committer's thread and the default executor's threads (``asyncio_N``: the
    capture interceptor encodes there, the run recorder and the stack write there). Read
    from ``/proc/self/task`` (Linux); 0.0 elsewhere. The untraced worker uses neither, so
    in the traced mode this is the CPU that tracing costs off the event loop.
    """
    names = {t.native_id: t.name for t in threading.enumerate()}
    total = 0
    for tid, name in names.items():
        if name != "steptrace-group-commit" and not name.startswith("asyncio_"):
            continue
        try:
            stat = Path(f"/proc/self/task/{tid}/stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime + stime, in clock ticks
    return total / _CLOCK_TICKS


def _figures(
    modes: tuple[_Mode, _Mode], storage: dict[str, int | float], plan: Plan
) -> dict[str, object]:
    """The headline ratios first, then what they were computed from."""
    untraced, traced = modes
    ratios = _paired_ratios(untraced, traced)
    base = untraced.runs_per_second
    ratio = traced.runs_per_second / base if base else 0.0
    storage_ratio = float(storage["storage_ratio"])
    cpu = {m.name: 1000 * m.cpu_seconds / m.succeeded if m.succeeded else 0.0 for m in modes}
    steps_per_run = int(storage["attempts"]) / max(1, int(storage["runs"]))
    capture_us = 1000 * (cpu["traced"] - cpu["untraced"]) / steps_per_run if steps_per_run else 0
    return {
        "throughput_ratio": round(ratio, 3),
        "storage_ratio": storage_ratio,
        "backend": plan.backend,
        "throughput_budget": plan.budget,
        "throughput_budget_met": _quartiles(ratios)[1] >= plan.budget,
        "storage_budget_met": 0 < storage_ratio <= BUDGET_STORAGE,
        "runs_per_mode": {m.name: m.started for m in modes},
        "succeeded": {m.name: m.succeeded for m in modes},
        "failures": {m.name: m.failures[:5] for m in modes if m.failures},
        "runs_per_second": {m.name: round(m.runs_per_second, 2) for m in modes},
        "seconds": {m.name: round(m.seconds, 2) for m in modes},
        "paired_ratio_median": _quartiles(ratios)[1],
        "paired_ratio_quartiles": _quartiles(ratios),
        "paired_ratios": ratios,
        "cpu_ms_per_run": {name: round(ms, 1) for name, ms in cpu.items()},
        "steps_per_run": round(steps_per_run, 2),
        "capture_cpu_us_per_step": round(capture_us),
        "otel_span_us": OTEL_SPAN_US,
        "tracer_threads_cpu_ms_per_run": round(
            1000 * traced.tracer_cpu_seconds / traced.succeeded if traced.succeeded else 0.0, 1
        ),
        "warm_up_runs": len(plan.issues),
        "issues": len(plan.issues),
        "block": plan.block_size,
        "concurrency": plan.concurrency,
        **storage,
    }


def _paired_ratios(untraced: _Mode, traced: _Mode) -> list[float]:
    """(traced runs/s) / (untraced runs/s) of each round, in order.

    Each round's two blocks ran back to back, so a burst of load from other processes
    mostly hits one round; the median of the per-round ratios shrugs that off where the
    ratio of totals cannot, and their quartiles say how much the rounds disagree.
    """
    return [
        round((t_runs / t_secs) / (u_runs / u_secs), 3)
        for (u_runs, u_secs), (t_runs, t_secs) in zip(untraced.blocks, traced.blocks, strict=True)
        if u_runs and u_secs and t_secs
    ]


def _quartiles(values: Sequence[float]) -> list[float]:
    """[first quartile, median, third quartile] (one value: three times that value)."""
    if not values:
        return [0.0, 0.0, 0.0]
    if len(values) == 1:
        return [values[0]] * 3
    low, median, high = statistics.quantiles(values, n=4, method="inclusive")
    return [round(low, 3), round(median, 3), round(high, 3)]


# ---------------------------------------------------------------------- docs


def write_docs(result: dict[str, object], command: str, docs: Path = DOCS) -> None:
    """Rewrite the "## Tracing overhead" section of docs/benchmarks.md, keeping the rest.

    The section shows this result in full and keeps a short history of earlier runs (one
    row per command, newest first), so a 40-run and a longer run can both be read there.
    """
    lines = read_section(SECTION, docs).splitlines()
    old = [_with_capture_column(line) for line in lines if line.startswith(_HISTORY_PREFIX)]
    kept = [line for line in old if not line.startswith(f"| `{command}` |")]
    history = [_history_row(result, command), *kept][:HISTORY_ROWS]
    replace_section(SECTION, _section(result, command, history), docs)


def _with_capture_column(row: str) -> str:
    """A row recorded before the capture column existed, with that cell left empty."""
    cells = [cell.strip() for cell in row.strip().strip("|").split("|")]
    if len(cells) == _HISTORY_HEADER.count("|") - 1:
        return row
    return "| " + " | ".join([*cells[:-1], "–", cells[-1]]) + " |"


def _history_row(result: dict[str, object], command: str) -> str:
    per_second = _mapping(result["runs_per_second"])
    date = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    return (
        f"| `{command}` | {date} | {result['load_average']} | {per_second['untraced']} | "
        f"{per_second['traced']} | {result['throughput_ratio']} "
        f"({result['paired_ratio_median']}; {_spread(result)}) | {result['isolated_capture_us']} | "
        f"{result['storage_ratio']} |"
    )


def _ratios(result: dict[str, object]) -> list[object]:
    found = result.get("paired_ratios")
    return list(found) if isinstance(found, list) else []


def _spread(result: dict[str, object]) -> str:
    """The per-round ratios' first and third quartiles, as "low–high"."""
    found = result.get("paired_ratio_quartiles")
    return f"{found[0]}–{found[2]}" if isinstance(found, list) and len(found) == 3 else "–"


def _mapping(value: object) -> dict[str, object]:
    assert isinstance(value, dict)
    return value


def _verdict(met: object) -> str:
    return "met" if met else "**missed**"


def _section(result: dict[str, object], command: str, history: Sequence[str]) -> str:
    runs = _mapping(result["runs_per_mode"])
    ok = _mapping(result["succeeded"])
    per_second = _mapping(result["runs_per_second"])
    seconds = _mapping(result["seconds"])
    cpu = _mapping(result["cpu_ms_per_run"])
    commits = _mapping(result["group_commit"])
    with_dictionary = result["payloads_with_dictionary"]
    group_commit = f"{commits['records']} / {commits['batches']} ({commits.get('inline', '?')})"
    rows = "\n".join(history)
    return f"""{SECTION}

Budgets (DESIGN §8, issue 17): pipeline throughput with tracing at least
{BUDGET_THROUGHPUT}x without it with the store on SQLite, {BUDGET_THROUGHPUT_POSTGRESQL}x on
PostgreSQL, at 40, 160 and 1 000 runs and at 8 and 32 workflows in flight; bytes stored
at most {BUDGET_STORAGE:.0%} of the raw JSON bytes of all snapshots. Every configuration
is one row of the table of recorded runs below; the latest run is shown in full.

Latest run ({result["backend"]}, {result["concurrency"]} in flight): throughput
{_verdict(result["throughput_budget_met"])} (median of the per-round ratios
{result["paired_ratio_median"]}, budget {result["throughput_budget"]}); storage
{_verdict(result["storage_budget_met"])} (ratio {result["storage_ratio"]}, budget
{BUDGET_STORAGE}).

| latest run | untraced | traced |
| --- | --- | --- |
| runs (succeeded) | {runs["untraced"]} ({ok["untraced"]}) | {runs["traced"]} ({ok["traced"]}) |
| wall time of the mode's blocks | {seconds["untraced"]} s | {seconds["traced"]} s |
| throughput | {per_second["untraced"]} runs/s | {per_second["traced"]} runs/s |
| CPU of this process per run | {cpu["untraced"]} ms | {cpu["traced"]} ms |

Throughput ratio (traced / untraced): median of the per-round ratios (each round = one
block of each mode, back to back) {result["paired_ratio_median"]}, quartiles
{_spread(result)} over {len(_ratios(result))} rounds ({", ".join(map(str, _ratios(result)))});
the ratio of the totals {result["throughput_ratio"]}. The budget is judged on the median:
a burst of other work on the machine lands in one or two rounds and moves the totals,
not the median.

Capture cost per step: {result["isolated_capture_us"]} µs of CPU measured on its own
(median over recorded steps: encode the input, output and write images — redaction,
canonical JSON, sha256, zstd with the store's dictionary — and commit them with the
attempt in one SQLite transaction; thread CPU time, so other work on the machine does
not inflate it), and {result["capture_cpu_us_per_step"]} µs in this run as the traced
mode's CPU per run minus the untraced mode's over {result["steps_per_run"]} step
attempts per run (everything tracing adds to the process, but it moves by milliseconds
per run with the machine's load). For scale, starting and ending one OpenTelemetry span
costs {OTEL_SPAN_US} µs ({OTEL_CURRENT_SPAN_US} µs as the current span) in OpenTelemetry
Python's published benchmarks (source below) — a span that records no payload and is
not exported, where a step's capture here is durable, with its payloads, before
Temporal hears the result.

| storage (every traced run, warm-up included) | |
| --- | --- |
| step attempts / snapshots captured | {result["attempts"]} / {result["snapshots"]} |
| raw JSON bytes of all snapshots, each time captured | {result["raw_bytes"]} |
| distinct payloads / their raw JSON bytes | {result["payloads"]} / {result["distinct_raw_bytes"]} |
| bytes stored (payloads and dictionaries) | {result["stored_bytes"]} |
| **storage ratio** (stored / raw of all snapshots) | {result["storage_ratio"]} |
| compression alone (stored / raw of distinct payloads) | {result["compression_ratio"]} |
| dictionaries trained / their bytes | {result["dictionaries"]} / {result["dictionary_bytes"]} |
| payloads compressed with a dictionary | {with_dictionary} of {result["payloads"]} |
| group commit: records / transactions (of them on the caller's thread) | {group_commit} |

How it is measured: one process, one Temporal dev server, one sandbox, two workers on
their own task queues — untraced (no interceptor, no store) and traced (the capture
interceptor and run recorder, the store in a fresh SQLite file in WAL mode or a fresh
PostgreSQL schema, attempts and run records group-committed before each result goes to
Temporal). The reference pipeline (`linear-triage-sync`, five step activities and two
run-record activities per run) runs over ENG-101…ENG-160, cycling,
{result["concurrency"]} workflows at a time, in blocks of {result["block"]} runs
alternating between the modes (ABBA order). Every issue is run once before measuring
({result["warm_up_runs"]} runs, half per mode), so measured runs are all updates in both
modes. Throughput is a mode's runs over the wall time of its blocks. Raw bytes are the
canonical JSON (sorted keys, no whitespace, after redaction) of each attempt's input and
output, each write's before/after image and each run's trigger, counted every time
captured; stored bytes are the payload table's compressed bytes plus the dictionaries.

{_findings(result)}

Recorded runs (newest first):

{_HISTORY_HEADER}
| --- | --- | --- | --- | --- | --- | --- | --- |
{rows}

- Latest command: `{command}`
- Machine: {describe_line()}
- Load average at the start: {result["load_average"]}; at the end: {result["load_average_after"]}
- OpenTelemetry's per-span cost: {OTEL_SOURCE}
"""


PROFILE_NOTE = """Where a traced run's time goes (py-spy over every thread of `python -m
bench.overhead --runs 40 --concurrency 32`, and `--profile out.prof` for the event loop's
thread; SQLite, 2026-12-05, load average about 4, so shares, not timings). Until this
round every good run read its destinations' schemas at its end (a request per tool step to
Linear, Airtable, Monday and Slack, served in this process by the sandbox as well): 64 %
of the tracer's time. Now a good run skips a container its worker read in the last 10 s
and records only what it read, and a diagnosis takes each step's baseline from the newest
earlier good run that recorded that step's schema, so a rename is still found by id
(`steptrace bench localization`: 0 harmful verified fixes, recovery 1.0, onset and class
0.953, as before). Schema requests fell to about 1 % of the tracer's samples. Of the
rest: the step attempts 53 % (the SQLite statements, committed on the event loop when the
committer is idle, 28 %; encoding — redaction walk, canonical JSON, sha256, zstd — 15 %;
the size check that picks the committer's thread or an executor 6 %), the run's start and
end 16 %, reading the run back at its end to find which containers its tool steps used
26 % (its attempts, the rubric results, and now only the arguments that choose a
container are decoded), and the committer thread 5 %. The group committer already takes
the run's start and end with the attempts, encodes small payloads just before the
transaction (on its thread, or on the loop when idle on SQLite) and lingers 0.5 ms when
writes arrive together. On PostgreSQL the committer thread spends its time waiting on the
transaction's round trips (inserting payloads about half, BEGIN and COMMIT about 40 %),
and each step waits for its transaction before Temporal hears its result: fewer round
trips per transaction is the cut left there."""


def _findings(result: dict[str, object]) -> str:
    """What the figures mean; a miss says by how much."""
    cpu = _mapping(result["cpu_ms_per_run"])
    untraced_cpu, traced_cpu = float(str(cpu["untraced"])), float(str(cpu["traced"]))
    extra = (traced_cpu / untraced_cpu - 1) if untraced_cpu else 0.0
    ratio = float(str(result["paired_ratio_median"]))
    budget = float(str(result["throughput_budget"]))
    throughput = f"""Throughput: in this run the traced mode used {traced_cpu - untraced_cpu:.0f}
ms more CPU per run ({extra:+.0%}; {untraced_cpu:.0f} → {traced_cpu:.0f} ms;
{result["tracer_threads_cpu_ms_per_run"]} ms of it on the committer and executor threads),
and each step waits for its record to be durable. Per run the tracer commits seven
records (five attempts, the run's start and its end) through one group committer; on
SQLite an idle committer commits a small record at once on the event loop (see the
transactions made on the caller's thread above), otherwise its thread encodes and
commits queued records together. The whole-process CPU difference moves by several
milliseconds per run with the machine's load; the capture cost measured on its own is
the steadier figure."""
    if result["throughput_budget_met"]:
        throughput += f" The budget ({budget}) is met in this run."
    else:
        throughput += f""" The budget ({budget}) is missed in this run by {budget - ratio:.3f};
the quartiles of the per-round ratios ({_spread(result)}) and the load average below say
how much of that is other work on the machine."""
    ratio_s = float(str(result["storage_ratio"]))
    storage = f"""Storage: payloads are compressed with a zstd dictionary trained on the
store's own payloads (the first after 64 payloads and 32 KiB of JSON; the payloads it
was trained on are compressed again with it), so a small handoff keeps
{result["compression_ratio"]} of its bytes instead of about half; content addressing
stores a repeated payload once. The ratio counts the dictionaries' own bytes."""
    if result["storage_budget_met"]:
        storage += f" The budget is met (ratio {ratio_s})."
    else:
        storage += f""" The budget is missed by {ratio_s - BUDGET_STORAGE:.3f} (ratio {ratio_s}):
a store this small holds few payloads per dictionary byte."""
    paragraphs = (throughput, storage, PROFILE_NOTE)
    return "\n\n".join(textwrap.fill(" ".join(p.split()), 88) for p in paragraphs)


def main(argv: Sequence[str] | None = None) -> None:
    """`python -m bench.overhead [--json] [--runs N] [--write-docs]`."""
    parser = argparse.ArgumentParser(prog="python -m bench.overhead", description=__doc__)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--runs", type=int, default=40, help="runs per mode (default 40)")
    parser.add_argument("--concurrency", type=int, default=8, help="workflows in flight")
    parser.add_argument("--database-url", help="traced store on this PostgreSQL database")
    parser.add_argument("--write-docs", action="store_true", help="update docs/benchmarks.md")
    parser.add_argument(
        "--profile",
        metavar="PATH",
        help="profile the event loop's thread (cProfile) into PATH; print the tracer's share",
    )
    args = parser.parse_args(argv)
    plan = Plan(runs=args.runs, concurrency=args.concurrency, database_url=args.database_url)
    profile = Path(args.profile) if args.profile else None
    result = _profiled(plan, profile) if profile else asyncio.run(run(plan=plan))
    print(json.dumps(result) if args.json else _line(result))
    if args.write_docs:
        write_docs(result, _command(args.runs, args.concurrency, plan.backend))


PROFILED = r"tracer/|recorder|schema_record|destinations"


def _profiled(plan: Plan, path: Path) -> dict[str, object]:
    """The benchmark under cProfile (the event loop's thread: the workers, the capture
    interceptor, inline commits); the stats go to ``path`` for ``pstats``/``snakeviz``,
    and the tracer's own functions by cumulative time are printed."""
    profile = cProfile.Profile()
    result = profile.runcall(asyncio.run, run(plan=plan))
    profile.dump_stats(path)
    stats = pstats.Stats(str(path))
    stats.sort_stats("cumulative").print_stats(PROFILED, 30)
    return result


def _command(runs: int, concurrency: int, backend: str) -> str:
    """The command as the docs show it (the database URL is not shown, only its kind)."""
    flags = f"--runs {runs} --concurrency {concurrency}"
    if backend == "postgresql":
        flags += " --database-url postgresql+psycopg://…"
    return f"python -m bench.overhead {flags} --write-docs"


def _line(result: dict[str, object]) -> str:
    per_second = _mapping(result["runs_per_second"])
    return (
        f"{result['backend']}, {result['concurrency']} in flight: "
        f"throughput {per_second['traced']} runs/s traced vs {per_second['untraced']} untraced "
        f"(per-round median {result['paired_ratio_median']}, quartiles {_spread(result)}, "
        f"totals {result['throughput_ratio']}, budget >= {result['throughput_budget']}), "
        f"capture {result['isolated_capture_us']} µs CPU per step on its own "
        f"({result['capture_cpu_us_per_step']} µs as the whole-process difference), "
        f"stored {result['stored_bytes']} of {result['raw_bytes']} raw bytes "
        f"(ratio {result['storage_ratio']}, budget <= {BUDGET_STORAGE})"
    )


if __name__ == "__main__":
    main()
