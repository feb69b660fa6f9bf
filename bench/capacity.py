"""The capacity model of docs/capacity.md, computed from a scale-out measurement.

``python -m bench.scaleout --write-docs`` measures 1, 2 and 4 worker processes; this
module turns its rows into the "Measured inputs" section of docs/capacity.md: the rows
themselves, the per-run sizes, and the arithmetic for a target daily volume (1 M runs a
day with a 3× peak) — runs, activities, Temporal actions and state transitions per
second, worker processes at the measured per-worker throughput, and how fast the trace
store and Temporal's history grow and what retention holds. The prose of the doc reads
these figures; only this module writes them.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.docs import replace_section
from bench.machine import describe_line

DOC = Path(__file__).resolve().parent.parent / "docs" / "capacity.md"
SECTION = "## Measured inputs"

TARGET_RUNS_PER_DAY = 1_000_000
PEAK_FACTOR = 3
SECONDS_PER_DAY = 86_400
ACTIVITIES_PER_RUN = 8
"""The reference pipeline's six steps plus the run recorder's start and end (no retries)."""
ACTIONS_PER_RUN = 10
"""Temporal Cloud's billing unit: one workflow start, eight activities, about one retry."""
TRANSITIONS_PER_RUN = 25
"""Eight activities scheduled, started and completed, plus the workflow tasks between."""
STORE_RETENTION_DAYS = 30
"""``steptrace prune --older-than 30d`` nightly."""
HISTORY_RETENTION_DAYS = 3
"""The Temporal namespace's retention of closed workflows."""


@dataclass(frozen=True)
class Capacity:
    """A target daily volume, sized from one measurement (averages unless ``peak``)."""

    runs_per_day: int
    runs_per_second: float
    peak_runs_per_second: float
    store_bytes_per_run: float
    history_bytes_per_run: float
    runs_per_second_per_worker: float
    scaling: dict[int, float]

    @property
    def store_bytes_per_day(self) -> float:
        return self.runs_per_day * self.store_bytes_per_run

    @property
    def history_bytes_per_day(self) -> float:
        return self.runs_per_day * self.history_bytes_per_run

    @property
    def store_bytes_retained(self) -> float:
        return STORE_RETENTION_DAYS * self.store_bytes_per_day

    @property
    def history_bytes_retained(self) -> float:
        return HISTORY_RETENTION_DAYS * self.history_bytes_per_day

    def workers(self, runs_per_second: float) -> int:
        """Worker processes for ``runs_per_second`` at the measured per-worker rate."""
        return math.ceil(runs_per_second / self.runs_per_second_per_worker)


def capacity(
    rows: Sequence[Mapping[str, Any]],
    runs_per_day: int = TARGET_RUNS_PER_DAY,
    peak_factor: float = PEAK_FACTOR,
) -> Capacity:
    """Size ``runs_per_day`` from scale-out ``rows`` (one per worker count).

    The per-run sizes do not depend on the worker count, so they are the rows' mean; the
    per-worker throughput is the best row's runs/s per worker (a shared machine makes
    every row pessimistic, the best one least so); scaling is each row's throughput over
    the one-worker row's (over the fewest workers measured when 1 is absent).
    """
    if not rows:
        raise ValueError("no scale-out rows to size from")
    average = runs_per_day / SECONDS_PER_DAY
    base = min(rows, key=lambda row: int(row["workers"]))
    return Capacity(
        runs_per_day=runs_per_day,
        runs_per_second=average,
        peak_runs_per_second=average * peak_factor,
        store_bytes_per_run=statistics.mean(float(r["store_bytes_per_run"]) for r in rows),
        history_bytes_per_run=statistics.mean(float(r["history_bytes_per_run"]) for r in rows),
        runs_per_second_per_worker=max(
            float(r["runs_per_second"]) / int(r["workers"]) for r in rows
        ),
        scaling={
            int(r["workers"]): float(r["runs_per_second"]) / float(base["runs_per_second"])
            for r in rows
        },
    )


def size(n: float) -> str:
    """Bytes in decimal units, three significant figures (34 KB, 1.02 TB)."""
    for unit, scale in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("KB", 1e3)):
        if n >= scale:
            return f"{n / scale:.3g} {unit}"
    return f"{n:.0f} B"


def rate(n: float) -> str:
    return f"{n:.3g}" if n < 100 else f"{n:,.0f}".replace(",", " ")


def section(figures: Mapping[str, Any]) -> str:
    """The "Measured inputs" section of docs/capacity.md for a scale-out result."""
    rows = figures["rows"]
    model = capacity(rows)
    peak = model.peak_runs_per_second
    lines = [
        SECTION,
        "",
        f"Written by `python -m bench.scaleout --runs {figures['runs']} --write-docs` "
        f"({figures['runs']} measured runs of the reference pipeline per row, "
        f"{figures['concurrency']} in flight); the arithmetic is `bench/capacity.py`. "
        "Do not edit this section by hand.",
        "",
        describe_line(figures["machine"]),
        f"Load average at start: {figures['load_average']}; at end: "
        f"{figures['load_average_after']}.",
        "",
        "| workers | runs/s | vs fewest workers | run p95 ms | store write mean ms "
        "| store write p95 ms |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for row in rows:
        lines.append(
            f"| {row['workers']} | {row['runs_per_second']} "
            f"| {model.scaling[int(row['workers'])]:.2f}× | {row['latency_p95_ms']} "
            f"| {row['store_write_mean_ms']} | {row['store_write_p95_ms']:g} |"
        )
    lines += [
        "",
        "Per run of `pipelines/linear-triage-sync.yaml` (six steps plus the run recorder's "
        f"start and end: {ACTIVITIES_PER_RUN} activities without retries):",
        "",
        "| what | per run | source |",
        "| --- | --- | --- |",
        f"| trace store (PostgreSQL tables + indexes) | {size(model.store_bytes_per_run)} "
        "| measured, mean of the rows |",
        f"| Temporal history | {size(model.history_bytes_per_run)} "
        "| measured, `history_size_bytes` of sampled runs |",
        f"| Temporal actions (Cloud billing unit) | ≈ {ACTIONS_PER_RUN} "
        "| counted: one start, eight activities, about one retry |",
        f"| Temporal state transitions | ≈ {TRANSITIONS_PER_RUN} | counted from the workflow |",
        "",
        f"### {model.runs_per_day:,} runs per day (computed)".replace(",", " "),
        "",
        f"| quantity | average | at a {PEAK_FACTOR}× peak |",
        "| --- | --- | --- |",
        f"| runs/s | {rate(model.runs_per_second)} | {rate(peak)} |",
        f"| activities/s ({ACTIVITIES_PER_RUN} per run) "
        f"| {rate(model.runs_per_second * ACTIVITIES_PER_RUN)} "
        f"| {rate(peak * ACTIVITIES_PER_RUN)} |",
        f"| Temporal actions/s (≈ {ACTIONS_PER_RUN} per run) "
        f"| {rate(model.runs_per_second * ACTIONS_PER_RUN)} | {rate(peak * ACTIONS_PER_RUN)} |",
        f"| Temporal state transitions/s | {rate(model.runs_per_second * TRANSITIONS_PER_RUN)} "
        f"| {rate(peak * TRANSITIONS_PER_RUN)} |",
        f"| worker processes at {model.runs_per_second_per_worker:.3g} runs/s each "
        f"| {model.workers(model.runs_per_second)} | {model.workers(peak)} |",
        f"| trace store growth | {size(model.store_bytes_per_day)}/day | — |",
        f"| trace store held at {STORE_RETENTION_DAYS}-day retention "
        f"| {size(model.store_bytes_retained)} | — |",
        f"| Temporal history written | {size(model.history_bytes_per_day)}/day | — |",
        f"| Temporal history held at {HISTORY_RETENTION_DAYS}-day retention "
        f"| {size(model.history_bytes_retained)} | — |",
    ]
    return "\n".join(lines) + "\n"


def write_docs(figures: Mapping[str, Any], doc: Path = DOC) -> None:
    """Rewrite the "Measured inputs" section of ``doc`` from ``figures``."""
    replace_section(SECTION, section(figures), docs=doc)
