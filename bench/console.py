"""Benchmark: the console's run page and runs list on a store that holds 100 000 runs.

Budgets (issue 16): server time p95 ≤ 150 ms for the run page and for the runs list;
a page weighs ≤ 300 KB.

The store is built by :mod:`bench.large_store`, as for ``bench why`` (real template
runs of five scenarios, then clones with bare SQL until it holds ``runs`` runs, ~10 %
failed). The console app
(:func:`orchestrator.console.app.console_app`, no Temporal: pages only) is called in
process through httpx's ASGI transport with a signed-in session, so a timing is the
whole server side of a request: routing, session, store reads, diffing, templates.

- **runs list**: the first page unfiltered, by pipeline, by status ``failed``, a failure
  group (``group=<fingerprint id>``), and the next page (``before=``).
- **run page**: failed and good runs picked at random over the store (clones and the
  recorded templates, which carry a stored diagnosis and QC results), each timed as the
  console serves it (handoff diffs and payload trees kept between requests, by the
  payloads' hashes: clones share their templates' payloads, so most are kept) and again
  with nothing kept (``nothing kept``: the first view of a run with unseen payloads).

    steptrace bench console [--runs N] [--sample N]      (writes docs/benchmarks.md)
    python -m bench.console [--runs N] [--sample N] [--json] [--write-docs]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import random
import secrets
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
from pydantic import SecretStr

from bench.docs import DOCS, replace_section
from bench.large_store import fill, record_templates
from bench.machine import describe_line, load_line
from orchestrator.scenarios import Progress

__all__ = ["main", "run", "write_docs"]

SECTION = "## Console on a large store"
BUDGET_P95_MS = 150.0
BUDGET_PAGE_BYTES = 300 * 1024
BASE = "http://console.bench"


def _sample_runs(path: Path, sample: int, seed: int = 7) -> dict[str, list[str]]:
    """Failed and good run ids spread over the store, and one failure group's filter."""
    db = sqlite3.connect(path)
    try:
        failed = [r[0] for r in db.execute("SELECT run_id FROM run WHERE status = 'failed'")]
        good = [r[0] for r in db.execute("SELECT run_id FROM run WHERE status = 'succeeded'")]
    finally:
        db.close()
    rng = random.Random(seed)
    half = max(1, sample // 2)
    return {"failed": rng.sample(failed, min(half, len(failed))), "good": rng.sample(good, half)}


def _list_queries(client_data: dict[str, Any]) -> list[tuple[str, dict[str, str]]]:
    """The runs-list requests timed: built from the first page's own data."""
    runs = client_data["runs"]
    pipeline = runs[0]["pipeline"]
    grouped = next((r for r in runs if r["group_key"]), None)
    queries: list[tuple[str, dict[str, str]]] = [
        ("unfiltered", {}),
        ("by pipeline", {"pipeline": pipeline}),
        ("failed only", {"status": "failed"}),
        ("next page", {"before": client_data["next_before"]}),
    ]
    if grouped is not None:
        queries.append(("failure group", {"group": grouped["group_key"]}))
    return queries


async def _time(
    client: httpx.AsyncClient, url: str, params: dict[str, str]
) -> tuple[float, float, int]:
    """Wall and CPU milliseconds of one request, and the answer's bytes. CPU time is the
    process's (every thread): on a shared, loaded machine it is the server's own work,
    while wall time also counts waiting for a core."""
    start, cpu = time.perf_counter(), time.process_time()
    answer = await client.get(url, params=params)
    elapsed = (time.perf_counter() - start) * 1000
    used = (time.process_time() - cpu) * 1000
    if answer.status_code != 200:
        raise RuntimeError(f"{url} {params}: {answer.status_code} {answer.text[:200]}")
    return elapsed, used, len(answer.content)


async def time_console(url: str, path: Path, sample: int, repeat: int) -> dict[str, Any]:
    """Timings (ms) and weights (bytes) of the runs list and run pages."""
    from orchestrator.console.app import console_app
    from orchestrator.console.immutable import DIFFS, TREES
    from orchestrator.humanloop.console_link import LinkSigner
    from tracer.store import TraceStore

    secret = SecretStr(secrets.token_hex(32))
    app = console_app(TraceStore.open(url), secret=secret)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=BASE) as client:
        await client.get(LinkSigner(secret).link(BASE, "UBENCH"))
        first = (await client.get("/runs.json")).json()
        lists: dict[str, list[tuple[float, float]]] = {}
        weights: dict[str, int] = {}
        for name, params in _list_queries(first):
            await _time(client, "/runs", params)  # warm-up
            for _ in range(repeat):
                ms, cpu, size = await _time(client, "/runs", params)
                lists.setdefault(name, []).append((ms, cpu))
                weights[f"runs list, {name}"] = max(weights.get(f"runs list, {name}", 0), size)
        pages: dict[str, list[tuple[float, float]]] = {}
        for kind, run_ids in _sample_runs(path, sample).items():
            await _time(client, f"/run/{quote(run_ids[0], safe='/')}", {})  # warm-up
            for run_id in run_ids:
                ms, cpu, size = await _time(client, f"/run/{quote(run_id, safe='/')}", {})
                pages.setdefault(kind, []).append((ms, cpu))
                weights[f"run page, {kind}"] = max(weights.get(f"run page, {kind}", 0), size)
            for run_id in run_ids:  # the first view: no diff or tree kept from another page
                DIFFS.clear()
                TREES.clear()
                ms, cpu, _ = await _time(client, f"/run/{quote(run_id, safe='/')}", {})
                pages.setdefault(f"{kind}, nothing kept", []).append((ms, cpu))
    return {"lists": lists, "pages": pages, "weights": weights}


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))], 1)


def _percentiles(timings: list[tuple[float, float]]) -> dict[str, float]:
    wall = [w for w, _ in timings]
    cpu = [c for _, c in timings]
    return {
        "p50_ms": round(statistics.median(wall), 1),
        "p95_ms": _p95(wall),
        "cpu_p50_ms": round(statistics.median(cpu), 1),
        "cpu_p95_ms": _p95(cpu),
    }


def run(
    *, runs: int = 100_000, sample: int = 60, repeat: int = 20, progress: Progress | None = None
) -> dict[str, Any]:
    """Fill a store with ``runs`` runs; time the runs list and ``sample`` run pages."""
    say = progress or (lambda _message: None)
    load_before = load_line()
    with tempfile.TemporaryDirectory(prefix="steptrace-bench-console-") as folder:
        path = Path(folder) / "trace.db"
        url = f"sqlite:///{path}"
        say("recording template runs")
        asyncio.run(record_templates(url, say))
        say(f"filling the store to {runs} runs")
        failed = fill(path, runs)
        say("timing the console")
        timed = asyncio.run(time_console(url, path, sample, repeat))
        size = path.stat().st_size
    lists = {name: _percentiles(v) for name, v in timed["lists"].items()}
    pages = {name: _percentiles(v) for name, v in timed["pages"].items()}
    all_list = _percentiles([t for v in timed["lists"].values() for t in v])
    all_pages = _percentiles([t for v in timed["pages"].values() for t in v])
    return {
        "runs": runs,
        "failed_runs": failed,
        "store_mb": round(size / 1e6, 1),
        "runs_list": {"all": all_list, **lists},
        "run_page": {"all": all_pages, **pages},
        "samples": {"list_requests": repeat, "run_pages": sum(map(len, timed["pages"].values()))},
        "weights_bytes": timed["weights"],
        "budget_met": all_list["p95_ms"] <= BUDGET_P95_MS
        and all_pages["p95_ms"] <= BUDGET_P95_MS
        and max(timed["weights"].values()) <= BUDGET_PAGE_BYTES,
        "load_average": load_before,
    }


def write_docs(result: dict[str, Any], command: str, docs: Path = DOCS) -> None:
    """Rewrite the "## Console on a large store" section of docs/benchmarks.md."""
    replace_section(SECTION, _section(result, command), docs)


def _section(result: dict[str, Any], command: str) -> str:
    rows = [
        f"| {what} | {name} | {figures['p50_ms']} ms | {figures['p95_ms']} ms "
        f"| {figures['cpu_p50_ms']} ms | {figures['cpu_p95_ms']} ms |"
        for what, key in (("runs list", "runs_list"), ("run page", "run_page"))
        for name, figures in result[key].items()
    ]
    weights = "; ".join(
        f"{name} {size / 1024:.0f} KB" for name, size in result["weights_bytes"].items()
    )
    verdict = "met" if result["budget_met"] else "**missed** (see the figures)"
    table = "\n".join(rows)
    return f"""{SECTION}

Budgets (issue 16): the run page and the runs list p95 ≤ {BUDGET_P95_MS:.0f} ms server
time on a store of 100 000 runs; a page ≤ {BUDGET_PAGE_BYTES // 1024} KB. Budgets {verdict}.

| page | request | wall p50 | wall p95 | CPU p50 | CPU p95 |
| --- | --- | --- | --- | --- | --- |
{table}

Heaviest page of each kind: {weights}.

The store: {result["runs"]} runs ({result["failed_runs"]} failed) in SQLite,
{result["store_mb"]} MB, built as for `why` (real runs of five scenarios cloned with bare
SQL). The console app is called in process through httpx's ASGI transport with a
signed-in session (no Temporal: pages only), so a figure is the whole server side of a
request: routing, session, store reads, handoff diffs against the last good run,
templates. Wall time counts waiting for a core on a shared machine (see the load
average); CPU time is the process's own work per request, every thread included.
Each runs-list request is timed {result["samples"]["list_requests"]} times
after a warm-up; {result["samples"]["run_pages"]} run-page requests: failed and good runs
picked at random, each timed once as the console serves it (handoff diffs and payload
trees kept between requests by the payloads' hashes; clones share their templates'
payloads, so most are kept) and once with nothing kept (`nothing kept`: the first view of
a run whose payloads no page has shown). A failure-group filter is one probe on the run
table's (failure_group, started_at) index.

- Command: `{command}`
- Date: {datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")}
- Machine: {describe_line()}
- Load average when the run started: {result["load_average"]}
"""


def main(argv: Sequence[str] | None = None) -> None:
    """`python -m bench.console [--runs N] [--sample N] [--json] [--write-docs]`."""
    parser = argparse.ArgumentParser(prog="python -m bench.console", description=__doc__)
    parser.add_argument("--runs", type=int, default=100_000, help="runs in the store")
    parser.add_argument("--sample", type=int, default=60, help="run pages to time")
    parser.add_argument("--repeat", type=int, default=20, help="times each list request")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--write-docs", action="store_true", help="update docs/benchmarks.md")
    args = parser.parse_args(argv)
    for name in ("temporalio.activity", "temporalio.workflow"):
        logging.getLogger(name).setLevel(logging.ERROR)
    result = run(
        runs=args.runs,
        sample=args.sample,
        repeat=args.repeat,
        progress=lambda m: print(m, file=sys.stderr),
    )
    if args.write_docs:
        command = f"python -m bench.console --runs {args.runs} --sample {args.sample}"
        write_docs(result, command)
    print(json.dumps(result) if args.json else json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
