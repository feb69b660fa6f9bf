"""Benchmark: what tracing costs — pipeline throughput with it vs without, and bytes kept.

Budgets (DESIGN §8): pipeline throughput with tracing is at least 0.95x without it (same
run, SQLite store), and the trace store keeps at most 25 % of the raw JSON bytes of all
the snapshots it captured.

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

    python -m bench.overhead                  one readable line
    python -m bench.overhead --json           the figures as JSON
    python -m bench.overhead --write-docs     also rewrite "## Tracing overhead"
    steptrace bench overhead [--runs N] [--json]   (always rewrites the docs section)
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import statistics
import tempfile
import textwrap
import threading
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import zstandard

from bench.docs import DOCS, read_section, replace_section
from bench.machine import describe, describe_line, load_line
from connectors.sandbox.server import Sandbox
from orchestrator.config.settings import Settings
from orchestrator.runtime.devserver import DevServer
from orchestrator.service.stack import Stack, StackOptions, open_stack
from orchestrator.spec.pipeline import LoadedPipeline, load_pipeline, without_ops
from tracer.payloads import COMPRESSION_LEVEL, canonical_json
from tracer.store import TraceStore

__all__ = ["ISSUES", "Plan", "main", "run", "storage_figures", "write_docs"]

BUDGET_THROUGHPUT = 0.95
BUDGET_STORAGE = 0.25
SECTION = "## Tracing overhead"
PIPELINE = Path(__file__).resolve().parent.parent / "pipelines" / "linear-triage-sync.yaml"


def without_qc(pipeline: LoadedPipeline) -> LoadedPipeline:
    """The pipeline minus its QC step: QC reads the trace, so with tracing off it judges
    nothing; the benchmark compares the same work with and without capture."""
    return without_ops(pipeline, {"qc.review"})


ISSUES = tuple(f"ENG-{n}" for n in range(101, 161))
SEED = 7
HISTORY_ROWS = 8
DICTIONARY_SAMPLES = 300
DICTIONARY_BYTES = 16 * 1024
_CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
_HISTORY_PREFIX = "| `"
_HISTORY_HEADER = (
    "| command | date | load average at start (1 / 5 / 15 min) | untraced runs/s "
    "| traced runs/s | throughput ratio | storage ratio |"
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
    block: int = 16
    concurrency: int = 8
    issues: tuple[str, ...] = ISSUES
    seed: int = SEED

    def __post_init__(self) -> None:
        if min(self.runs, self.block, self.concurrency, len(self.issues)) < 1:
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
        for index, size in _interleave(plan.runs, plan.block):
            await _measure_block(modes[index], pipeline, size, plan.concurrency)
        traced = modes[1].stack
        assert traced.store is not None and traced.committer is not None
        storage = storage_figures(traced.store)
        stats = traced.committer.stats
        commits = {"batches": stats.batches, "records": stats.records, "retries": stats.retries}
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
        with (
            Sandbox(seed=plan.seed) as sandbox,
            tempfile.TemporaryDirectory(prefix="steptrace-bench-") as folder,
        ):
            settings = Settings(temporal_address=server.address).with_sandbox(sandbox.urls)
            untraced_options = StackOptions(seed=plan.seed, tracing=False)
            traced_options = StackOptions(
                seed=plan.seed,
                tracing=True,
                database_url=f"sqlite:///{Path(folder) / 'trace.db'}",
                on_capture_error=errors.append,
            )
            async with (
                open_stack(untraced_options, settings) as untraced,
                open_stack(traced_options, settings) as traced,
            ):
                yield _Mode("untraced", untraced, plan.issues), _Mode("traced", traced, plan.issues)
    finally:
        await server.stop()


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


def storage_figures(store: TraceStore) -> dict[str, int | float]:
    """Stored bytes vs the raw JSON bytes of every snapshot captured, each time captured.

    ``TraceStore.stored_bytes()`` sums the compressed size of the payload table: each
    distinct payload once. ``TraceStore.raw_bytes()`` sums the same rows' canonical JSON
    size — also once per *distinct* payload, so their ratio is the compression ratio
    alone and hides what content addressing saves. The budget's denominator is every
    snapshot as captured: each attempt's input, output and every before/after image of
    its external writes, plus each run's trigger, counted once per capture. This walks
    the attempt and run rows and adds up the canonical JSON size (the ``raw_size`` the
    payload row records) of every payload each one refers to.
    """
    refs_per_run: list[list[str]] = []
    attempts = 0
    for run in store.list_runs(limit=1_000_000):
        refs = [run.trigger_hash] if run.trigger_hash else []
        for attempt in store.attempts(run.run_id):
            attempts += 1
            refs += [attempt.input_hash] + ([attempt.output_hash] if attempt.output_hash else [])
            for write in attempt.external_writes:
                refs += [h for h in (write.before_hash, write.after_hash) if h]
        refs_per_run.append(refs)
    sizes = store.payload_sizes(h for refs in refs_per_run for h in refs)
    snapshots = sum(len(refs) for refs in refs_per_run)
    raw_total = sum(sizes[h] for refs in refs_per_run for h in refs)
    stored, distinct_raw = store.stored_bytes(), store.raw_bytes()
    oldest_first = dict.fromkeys(h for refs in reversed(refs_per_run) for h in refs)
    with_dictionary = _stored_with_dictionary(store, list(oldest_first))
    return {
        "attempts": attempts,
        "snapshots": snapshots,
        "payloads": len(sizes),
        "raw_bytes": raw_total,
        "distinct_raw_bytes": distinct_raw,
        "stored_bytes": stored,
        "storage_ratio": round(stored / raw_total, 4) if raw_total else 0.0,
        "compression_ratio": round(stored / distinct_raw, 4) if distinct_raw else 0.0,
        "dictionary_stored_bytes": with_dictionary,
        "dictionary_storage_ratio": round(with_dictionary / raw_total, 4) if raw_total else 0.0,
    }


def _stored_with_dictionary(store: TraceStore, hashes: Sequence[str]) -> int:
    """What the payload table would hold with a zstd dictionary trained on its first payloads.

    A what-if, for the storage budget's explanation: the first ``DICTIONARY_SAMPLES``
    payloads (oldest first) stay as they are stored today and train a
    ``DICTIONARY_BYTES`` dictionary; every later one is compressed with it at the same
    level. The dictionary itself is counted. 0 when there are too few payloads to train.
    """
    if len(hashes) <= DICTIONARY_SAMPLES:
        return 0
    raws = [canonical_json(store.get_payload(h)) for h in hashes]
    samples, rest = raws[:DICTIONARY_SAMPLES], raws[DICTIONARY_SAMPLES:]
    try:
        dictionary = zstandard.train_dictionary(
            DICTIONARY_BYTES, list[bytes | bytearray | memoryview](samples)
        )
    except zstandard.ZstdError:  # too little sample data for a dictionary of that size
        return 0
    plain = zstandard.ZstdCompressor(level=COMPRESSION_LEVEL)
    trained = zstandard.ZstdCompressor(level=COMPRESSION_LEVEL, dict_data=dictionary)
    before = sum(len(plain.compress(raw)) for raw in samples)
    after = sum(len(trained.compress(raw)) for raw in rest)
    return before + len(dictionary.as_bytes()) + after


def _figures(
    modes: tuple[_Mode, _Mode], storage: dict[str, int | float], plan: Plan
) -> dict[str, object]:
    """The headline ratios first, then what they were computed from."""
    untraced, traced = modes
    base = untraced.runs_per_second
    ratio = traced.runs_per_second / base if base else 0.0
    storage_ratio = float(storage["storage_ratio"])
    return {
        "throughput_ratio": round(ratio, 3),
        "storage_ratio": storage_ratio,
        "throughput_budget_met": ratio >= BUDGET_THROUGHPUT,
        "storage_budget_met": 0 < storage_ratio <= BUDGET_STORAGE,
        "runs_per_mode": {m.name: m.started for m in modes},
        "succeeded": {m.name: m.succeeded for m in modes},
        "failures": {m.name: m.failures[:5] for m in modes if m.failures},
        "runs_per_second": {m.name: round(m.runs_per_second, 2) for m in modes},
        "seconds": {m.name: round(m.seconds, 2) for m in modes},
        "paired_ratio_median": _paired_ratio_median(untraced, traced),
        "cpu_ms_per_run": {
            m.name: round(1000 * m.cpu_seconds / m.succeeded, 1) if m.succeeded else 0.0
            for m in modes
        },
        "tracer_threads_cpu_ms_per_run": round(
            1000 * traced.tracer_cpu_seconds / traced.succeeded if traced.succeeded else 0.0, 1
        ),
        "warm_up_runs": len(plan.issues),
        "issues": len(plan.issues),
        "block": plan.block,
        "concurrency": plan.concurrency,
        **storage,
    }


def _paired_ratio_median(untraced: _Mode, traced: _Mode) -> float:
    """Median over rounds of (traced runs/s) / (untraced runs/s) in the same round.

    Each round's two blocks ran back to back, so a burst of load from other processes
    mostly hits one round; the median of the per-round ratios shrugs that off where the
    ratio of totals cannot. Reported beside ``throughput_ratio``, not instead of it.
    """
    ratios = [
        (t_runs / t_secs) / (u_runs / u_secs)
        for (u_runs, u_secs), (t_runs, t_secs) in zip(untraced.blocks, traced.blocks, strict=True)
        if u_runs and u_secs and t_secs
    ]
    return round(statistics.median(ratios), 3) if ratios else 0.0


# ---------------------------------------------------------------------- docs


def write_docs(result: dict[str, object], command: str, docs: Path = DOCS) -> None:
    """Rewrite the "## Tracing overhead" section of docs/benchmarks.md, keeping the rest.

    The section shows this result in full and keeps a short history of earlier runs (one
    row per command, newest first), so a 40-run and a longer run can both be read there.
    """
    lines = read_section(SECTION, docs).splitlines()
    old = [line for line in lines if line.startswith(_HISTORY_PREFIX)]
    kept = [line for line in old if not line.startswith(f"| `{command}` |")]
    history = [_history_row(result, command), *kept][:HISTORY_ROWS]
    replace_section(SECTION, _section(result, command, history), docs)


def _history_row(result: dict[str, object], command: str) -> str:
    per_second = _mapping(result["runs_per_second"])
    date = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    return (
        f"| `{command}` | {date} | {result['load_average']} | {per_second['untraced']} | "
        f"{per_second['traced']} | {result['throughput_ratio']} | {result['storage_ratio']} |"
    )


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
    dictionary = f"{result['dictionary_stored_bytes']} / {result['dictionary_storage_ratio']}"
    rows = "\n".join(history)
    return f"""{SECTION}

Budgets (DESIGN §8): pipeline throughput with tracing at least {BUDGET_THROUGHPUT}x
without it, same run, SQLite store — {_verdict(result["throughput_budget_met"])}
(ratio {result["throughput_ratio"]}); bytes stored at most {BUDGET_STORAGE:.0%} of the raw
JSON bytes of all snapshots — {_verdict(result["storage_budget_met"])} (ratio
{result["storage_ratio"]}).

| latest run | untraced | traced |
| --- | --- | --- |
| runs (succeeded) | {runs["untraced"]} ({ok["untraced"]}) | {runs["traced"]} ({ok["traced"]}) |
| wall time of the mode's blocks | {seconds["untraced"]} s | {seconds["traced"]} s |
| throughput | {per_second["untraced"]} runs/s | {per_second["traced"]} runs/s |
| CPU of this process per run | {cpu["untraced"]} ms | {cpu["traced"]} ms |

Throughput ratio (traced / untraced, totals): {result["throughput_ratio"]}; median of the
per-round ratios (each round = one block of each mode, back to back):
{result["paired_ratio_median"]}.

| storage (every traced run, warm-up included) | |
| --- | --- |
| step attempts / snapshots captured | {result["attempts"]} / {result["snapshots"]} |
| raw JSON bytes of all snapshots, each time captured | {result["raw_bytes"]} |
| distinct payloads / their raw JSON bytes | {result["payloads"]} / {result["distinct_raw_bytes"]} |
| bytes stored (zstd level 3, payload table) | {result["stored_bytes"]} |
| **storage ratio** (stored / raw of all snapshots) | {result["storage_ratio"]} |
| compression alone (stored / raw of distinct payloads) | {result["compression_ratio"]} |
| what-if: zstd dictionary (see below) — bytes / ratio | {dictionary} |
| group commit: records / transactions | {commits["records"]} / {commits["batches"]} |

How it is measured: one process, one Temporal dev server, one sandbox, two workers on
their own task queues — untraced (no interceptor, no store) and traced (the capture
interceptor and run recorder, SQLite store in WAL mode in a temporary folder, attempts
group-committed before each result goes to Temporal). The reference pipeline
(`linear-triage-sync`, five step activities and two run-record activities per run) runs
over ENG-101…ENG-160, cycling, {result["concurrency"]} workflows at a time, in blocks of
{result["block"]} runs alternating between the modes (ABBA order). Every issue is run
once before measuring ({result["warm_up_runs"]} runs, half per mode), so measured runs
are all updates in both modes. Throughput is a mode's runs over the wall time of its
blocks. Raw bytes are the canonical JSON (sorted keys, no whitespace, after redaction)
of each attempt's input and output, each write's before/after image and each run's
trigger, counted every time captured; `TraceStore.raw_bytes()` counts each distinct
payload once (so `stored_bytes() / raw_bytes()` is the compression ratio alone), and
the benchmark adds up the sizes per attempt and run itself.

{_findings(result)}

Recorded runs (newest first):

{_HISTORY_HEADER}
| --- | --- | --- | --- | --- | --- | --- |
{rows}

- Latest command: `{command}`
- Machine: {describe_line()}
- Load average at the start: {result["load_average"]}; at the end: {result["load_average_after"]}
"""


def _findings(result: dict[str, object]) -> str:
    """What the figures mean; the storage part explains a miss when there is one."""
    cpu = _mapping(result["cpu_ms_per_run"])
    untraced_cpu, traced_cpu = float(str(cpu["untraced"])), float(str(cpu["traced"]))
    extra = (traced_cpu / untraced_cpu - 1) if untraced_cpu else 0.0
    tracer_cpu = result["tracer_threads_cpu_ms_per_run"]
    throughput = f"""Throughput: tracing costs CPU and it costs waiting. CPU: tracing adds
{traced_cpu - untraced_cpu:.0f} ms of CPU per run ({extra:+.0%};
{untraced_cpu:.0f} → {traced_cpu:.0f} ms, worker, sandbox thread and Temporal core
together), {tracer_cpu} ms of it in the committer and executor threads. Per run the tracer
makes seven write transactions — five attempts (at this concurrency attempts seldom
finish together, so group commit mostly commits one at a time: see records /
transactions above), the run's start and its finish — and encodes about fifteen
payloads (redaction, sha256, zstd) on an executor thread. Waiting: each step also waits
for its record to be durable before Temporal hears of it, and the committer thread
competes for the GIL with the worker's event loop, so a capture takes several times its
transaction's own CPU. With a fixed number of runs in flight, throughput falls by the
share of a run's time that this waiting adds."""
    if not result["throughput_budget_met"]:
        missed_by = BUDGET_THROUGHPUT - float(str(result["throughput_ratio"]))
        throughput += f""" The budget is missed by {missed_by:.3f}. The attempts, the run's
start and its finish already go through bare connections (no ORM session). What
remains to try: the run's start and end
through the group committer with the attempts instead of their own transactions from
executor threads; plain DBAPI inserts on the committer thread; encoding small payloads
inline instead of on an executor thread; and a short linger in the group committer so
concurrent attempts share a transaction."""
    throughput += """ The machine is shared with other work: compare the ratio with the load
average below, and prefer the per-round median when a burst of load hit one block."""
    avg_snapshot = int(str(result["raw_bytes"])) // max(1, int(str(result["snapshots"])))
    storage = f"""Storage: the snapshots of this pipeline are small (about {avg_snapshot} bytes of
JSON each) and zstd compresses every payload on its own, with no context shared between
payloads, so each pays in full for its frame and for key names and URLs that every
other payload repeats: compression alone keeps {result["compression_ratio"]} of the raw
bytes. Content addressing then stores a repeated payload once — a run of an issue seen
before repeats all its payloads except Slack's message (new `ts`, new idempotency key) —
so the ratio falls the more often the same issues run: it depends on the workload, and
is highest when most runs are of issues not seen before."""
    ratio = float(str(result["storage_ratio"]))
    if result["storage_budget_met"]:
        verdict = f"""Here the budget is met (ratio {ratio}) thanks to the repeats; a run in
which most issues are new misses it — compare the storage ratio of shorter runs in the
table below (with 40 runs per mode the traced store holds 70 runs of 60 issues)."""
    else:
        verdict = f"""Here the budget is missed by {ratio - BUDGET_STORAGE:.2f} (ratio {ratio}
against {BUDGET_STORAGE}): most of this store's runs are of issues it had not seen, and
per-payload zstd without a dictionary cannot get small JSON below about half its size."""
    fix = f"""The fix, for any workload: a zstd dictionary trained on the store's own payloads.
Trained ({DICTIONARY_BYTES // 1024} KiB) on the first {DICTIONARY_SAMPLES} payloads of this
very store and used for the later ones, the same payloads would take
{result["dictionary_stored_bytes"]} bytes, dictionary included — ratio
{result["dictionary_storage_ratio"]} (the what-if row above). That is not a local change,
so it is not made here: the dictionary must be stored (a table and a migration), found
again on decode (a zstd frame names its dictionary id), and trained and shared by every
worker that encodes payloads (`tracer/payloads.py`, `tracer/capture.py`, `tracer/store/`)."""
    paragraphs = [throughput, storage + " " + verdict, fix]
    return "\n\n".join(textwrap.fill(" ".join(p.split()), 88) for p in paragraphs)


def main(argv: Sequence[str] | None = None) -> None:
    """`python -m bench.overhead [--json] [--runs N] [--write-docs]`."""
    parser = argparse.ArgumentParser(prog="python -m bench.overhead", description=__doc__)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--runs", type=int, default=40, help="runs per mode (default 40)")
    parser.add_argument("--write-docs", action="store_true", help="update docs/benchmarks.md")
    args = parser.parse_args(argv)
    result = asyncio.run(run(runs=args.runs))
    print(json.dumps(result) if args.json else _line(result))
    if args.write_docs:
        write_docs(result, f"python -m bench.overhead --runs {args.runs} --write-docs")


def _line(result: dict[str, object]) -> str:
    per_second = _mapping(result["runs_per_second"])
    return (
        f"throughput {per_second['traced']} runs/s traced vs {per_second['untraced']} untraced "
        f"(ratio {result['throughput_ratio']}, budget >= {BUDGET_THROUGHPUT}), "
        f"stored {result['stored_bytes']} of {result['raw_bytes']} raw bytes "
        f"(ratio {result['storage_ratio']}, budget <= {BUDGET_STORAGE})"
    )


if __name__ == "__main__":
    main()
