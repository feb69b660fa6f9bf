"""Benchmark: ``steptrace why`` on one run of a store that holds 100 000 runs.

Budgets (issue 17, tighter than DESIGN §8's 100 ms): p95 ≤ 50 ms on the computed path,
≤ 5 ms on the stored path, in process, measured while the machine runs other work —
``--alongside CMD`` starts ``CMD`` (say, the tracing-overhead benchmark) before the
timing and stops it after, and the load average over the timing is reported.

The store is a fresh SQLite file (WAL), filled in three phases:

1. **Templates** and 2. **Fill** (:mod:`bench.large_store`, shared with ``bench console``
   and ``bench insights``): a few scenarios run for real, then their runs are cloned with
   bare SQL until the store holds ``runs`` runs, ~10 % of them failed, spread over
   weeks. Clones get no stored diagnosis, so ``why`` must compute one.
3. **Timing.** ``why`` (:func:`orchestrator.diagnosis.why.why`, what the CLI calls) runs in
   process on a sample of failed clones: the first call on a run computes the diagnosis
   from the store and stores it (the expensive path), a second call reads it back (the
   stored path). p50 and p95 are reported for both, each against its budget.

    python -m bench.why [--runs N] [--sample N] [--alongside CMD] [--json] [--write-docs]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import random
import shlex
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.docs import DOCS, replace_section
from bench.large_store import fill, record_templates
from bench.machine import describe_line, load_line
from orchestrator.scenarios import Progress

__all__ = ["main", "run", "time_why", "write_docs"]

SECTION = "## Why on a large store"
BUDGET_P95_MS = 50.0
BUDGET_STORED_P95_MS = 5.0


# ---------------------------------------------------------------------------- timing


def why_in_process(database_url: str) -> Callable[[str], Any]:
    """``why`` as the CLI runs it, on one open store: ``call(run_id) -> Diagnosis``."""
    from orchestrator.diagnosis.why import why
    from tracer.store import TraceStore

    store = TraceStore.open(database_url)
    return lambda run_id: why(store, run_id)


def sample_failed(path: Path, sample: int, *, seed: int = 7) -> list[str]:
    """``sample`` failed clones (no stored diagnosis), spread over the store."""
    db = sqlite3.connect(path)
    try:
        ids = [
            row[0]
            for row in db.execute(
                "SELECT run_id FROM run WHERE status IN ('failed', 'qc_failed') AND run_id "
                "NOT IN (SELECT run_id FROM diagnosis) ORDER BY started_at"
            )
        ]
    finally:
        db.close()
    return random.Random(seed).sample(ids, min(sample, len(ids)))


def time_why(call: Callable[[str], Any], run_ids: Sequence[str]) -> dict[str, list[float]]:
    """Milliseconds per call: first (computed and stored), then again (read back); wall
    time, and the process's CPU time beside it (``*_cpu``: what the call itself costs,
    which the machine's other work does not stretch). The first run id is a warm-up
    (lazy imports, caches) and is not timed."""
    timings: dict[str, list[float]] = {"computed": [], "stored": []}
    timings |= {"computed_cpu": [], "stored_cpu": []}
    warm_up, *run_ids = run_ids
    call(warm_up)
    for path in ("computed", "stored"):
        for run_id in run_ids:
            cpu, start = time.process_time(), time.perf_counter()
            call(run_id)
            timings[path].append((time.perf_counter() - start) * 1000)
            timings[f"{path}_cpu"].append((time.process_time() - cpu) * 1000)
    return timings


def _percentiles(values: list[float]) -> tuple[float, float]:
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return round(statistics.median(ordered), 1), round(p95, 1)


# ---------------------------------------------------------------------------- the benchmark


@contextmanager
def alongside(command: str | None) -> Iterator[None]:
    """Run ``command`` (a shell-free argument list, as typed) while the block runs; stop
    it (its whole process group) after. No command: nothing runs alongside."""
    if not command:
        yield
        return
    process = subprocess.Popen(
        shlex.split(command),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        yield
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def run(
    *,
    runs: int = 100_000,
    sample: int = 50,
    progress: Progress | None = None,
    alongside_command: str | None = None,
    settle_seconds: float = 20.0,
) -> dict[str, Any]:
    """Fill a store with ``runs`` runs, time ``why`` on ``sample`` failed ones (with
    ``alongside_command`` running, started ``settle_seconds`` before the timing)."""
    say = progress or (lambda _message: None)
    load_before = load_line()
    with tempfile.TemporaryDirectory(prefix="steptrace-bench-why-") as folder:
        path = Path(folder) / "trace.db"
        url = f"sqlite:///{path}"
        say("recording template runs")
        asyncio.run(record_templates(url, say))
        say(f"filling the store to {runs} runs")
        started = time.perf_counter()
        failed = fill(path, runs)
        fill_seconds = time.perf_counter() - started
        call, run_ids = why_in_process(url), sample_failed(path, sample + 1)
        with alongside(alongside_command):
            if alongside_command:
                say(f"letting `{alongside_command}` get going ({settle_seconds:.0f} s)")
                time.sleep(settle_seconds)  # a benchmark's own warm-up, not a wait on us
            say(f"timing why on {sample} failed runs")
            load_timing = load_line()
            timings = time_why(call, run_ids)
            load_after = load_line()
        size = path.stat().st_size
    p50, p95 = _percentiles(timings["computed"])
    stored_p50, stored_p95 = _percentiles(timings["stored"])
    cpu_p50, cpu_p95 = _percentiles(timings["computed_cpu"])
    stored_cpu_p50, stored_cpu_p95 = _percentiles(timings["stored_cpu"])
    return {
        "runs": runs,
        "p50_ms": p50,
        "p95_ms": p95,
        "stored_p50_ms": stored_p50,
        "stored_p95_ms": stored_p95,
        "cpu_p50_ms": cpu_p50,
        "cpu_p95_ms": cpu_p95,
        "stored_cpu_p50_ms": stored_cpu_p50,
        "stored_cpu_p95_ms": stored_cpu_p95,
        "sample": len(timings["computed"]),
        "failed_runs": failed,
        "store_mb": round(size / 1e6, 1),
        "fill_seconds": round(fill_seconds, 1),
        "budget_met": p95 <= BUDGET_P95_MS,
        "stored_budget_met": stored_p95 <= BUDGET_STORED_P95_MS,
        "load_average": load_before,
        "load_average_timing": load_timing,
        "load_average_after": load_after,
        "alongside": alongside_command,
    }


def write_docs(result: dict[str, Any], command: str, docs: Path = DOCS) -> None:
    """Rewrite the "## Why on a large store" section of docs/benchmarks.md."""
    replace_section(SECTION, _section(result, command), docs)


def _verdict(p95: float, budget: float, cpu_p95: float | None) -> str:
    if p95 <= budget:
        return "met"
    verdict = f"**missed** by {p95 - budget:.1f} ms"
    if cpu_p95 is not None and cpu_p95 <= budget:
        verdict += (
            f" (its own CPU time, p95 {cpu_p95} ms, is within the budget: the rest is "
            "waiting for a core)"
        )
    return verdict


def _section(result: dict[str, Any], command: str) -> str:
    p95, stored_p95 = result["p95_ms"], result["stored_p95_ms"]
    budget, stored = f"{BUDGET_P95_MS:.0f}", f"{BUDGET_STORED_P95_MS:.0f}"

    def cpu(key: str) -> str:
        return f"{result[key]} ms" if key in result else "not measured"

    computed_row = f"{result['p50_ms']} ms | {p95} ms | {budget} ms | "
    computed_row += f"{cpu('cpu_p50_ms')} | {cpu('cpu_p95_ms')}"
    stored_row = f"{result['stored_p50_ms']} ms | {stored_p95} ms | {stored} ms | "
    stored_row += f"{cpu('stored_cpu_p50_ms')} | {cpu('stored_cpu_p95_ms')}"

    load = (
        f"while `{result['alongside']}` ran alongside"
        if result.get("alongside")
        else "with nothing of ours running alongside"
    )
    return f"""{SECTION}

Budgets (issue 17): `why` on one run of a store holding 100 000 runs, p95 ≤
{BUDGET_P95_MS:.0f} ms computed and ≤ {BUDGET_STORED_P95_MS:.0f} ms stored, in process, on a
busy machine. Computed: {_verdict(p95, BUDGET_P95_MS, result.get("cpu_p95_ms"))}; stored:
{_verdict(stored_p95, BUDGET_STORED_P95_MS, result.get("stored_cpu_p95_ms"))}. Measured
{load}; load average when the
timing started {result.get("load_average_timing", result["load_average"])}, when it ended
{result.get("load_average_after", "not recorded")} (2 cores).

| path | p50 | p95 | budget (p95) | CPU p50 | CPU p95 |
| --- | --- | --- | --- | --- | --- |
| computed (none stored: walk, classify, verify) | {computed_row} |
| stored (the workflow stored one) | {stored_row} |

The budgets are on wall time. The CPU columns are this process's CPU time per call:
what `why` itself costs, which other work on the machine does not stretch — when the
load average is well above the 2 cores, wall time is mostly waiting for a core.

The store: {result["runs"]} runs ({result["failed_runs"]} failed) in SQLite,
{result["store_mb"]} MB, cloned with bare SQL ({result["fill_seconds"]} s) from real runs
of five scenarios (three pipelines, five spec versions, with retries, payloads and
external writes). `why` is `orchestrator.diagnosis.why.why`, what `steptrace why` calls, on
{result["sample"]} failed runs picked at random, after one warm-up call on another run
(imports, caches); each is timed twice, first computed, then read back.

Where the computed path's time went (cProfile, 40 diagnoses): before this change,
three quarters of it was 135 `get_payload` calls per diagnosis (the run's snapshots and
those of its ten last good runs), each an ORM session and a query; the store now reads
payloads, runs and attempts on bare connections and keeps the JSON of payloads it has
read by hash (a payload never changes once stored), which took the in-process median
from about 175 ms to about 29 ms under the same profiler and load. The next profile (30
diagnoses on a 20 000-run store) showed the pipeline spec parsed and validated from YAML
three times per diagnosis, eleven attempt queries and three thread hops per call (each
starting a thread of a fresh event loop's executor). Now a spec is validated once per
content (`parse_pipeline` keeps validated specs by the sha256 of their text), a diagnosis
reads its run's and its ten good runs' attempts in one query and the run's schemas on a
bare connection, and `why` (no tool clients, so nothing else on its event loop) calls the
store on its own thread. Then a diagnosis was stored with bare statements in one
transaction instead of an ORM session, attempts read back from the store were rebuilt
without being validated again (the store wrote them from validated records), a run's
diagnoses and schemas read with statements built once, and a fix's spec edits found
their lines in the spec's YAML composed once per text, testing for a change without
building the unified diff: about a tenth off the CPU median (30 diagnoses on a
100 000-run store, old and new code interleaved six times at load 2.3–3.2: p50 9.6–12.1
→ 8.4–10.1 ms; p95 barely moved). What remains is mostly SQL (the schema baselines'
look-back over a pipeline's newest good runs, the eleven runs' attempts) and the JSON of
the eleven runs' payloads, decoded from the cache on every read (about 4 000 reads per
30 diagnoses).

- Command: `{command}`
- Date: {datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")}
- Machine: {describe_line()}
- Load average when the benchmark started (before filling the store): {result["load_average"]}
"""


def main(argv: Sequence[str] | None = None) -> None:
    """`python -m bench.why [--runs N] [--sample N] [--json] [--write-docs]`."""
    parser = argparse.ArgumentParser(prog="python -m bench.why", description=__doc__)
    parser.add_argument("--runs", type=int, default=100_000, help="runs in the store")
    parser.add_argument("--sample", type=int, default=50, help="failed runs to time")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--alongside", help="a command to run while timing (e.g. a benchmark)")
    parser.add_argument("--write-docs", action="store_true", help="update docs/benchmarks.md")
    args = parser.parse_args(argv)
    for name in ("temporalio.activity", "temporalio.workflow"):
        logging.getLogger(name).setLevel(logging.ERROR)
    result = run(
        runs=args.runs,
        sample=args.sample,
        progress=lambda m: print(m, file=sys.stderr),
        alongside_command=args.alongside,
    )
    if args.write_docs:
        command = f"python -m bench.why --runs {args.runs} --sample {args.sample}"
        if args.alongside:
            command += f" --alongside {shlex.quote(args.alongside)}"
        write_docs(result, command)
    print(json.dumps(result) if args.json else json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
