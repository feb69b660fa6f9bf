"""Prometheus metrics of a steptrace process (``prometheus-client``, default registry).

Names follow Prometheus conventions (``_total`` counters, ``_seconds`` histograms).
Observation never raises into the pipeline: a metric is a side effect, not a step.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence

from prometheus_client import Counter, Gauge, Histogram

from tracer.payloads import EncodedPayload
from tracer.store import AttemptRecord, GroupCommitter
from tracer.store.committer import Prepare

RUNS = Counter(
    "steptrace_runs_total", "Pipeline runs finished, by pipeline and status", ["pipeline", "status"]
)
STEP_SECONDS = Histogram(
    "steptrace_step_duration_seconds",
    "Step attempt latency, by pipeline, step, op and status",
    ["pipeline", "step", "op", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)
RETRIES = Counter(
    "steptrace_step_retries_total",
    "Step attempts after the first (Temporal retries), by pipeline, step and op",
    ["pipeline", "step", "op"],
)
QC_FAILURES = Counter(
    "steptrace_qc_failures_total",
    "QC rubric failures, by pipeline and rubric",
    ["pipeline", "rubric"],
)
DIAGNOSES = Counter(
    "steptrace_diagnoses_total",
    "Failed runs diagnosed, by onset step and fault class",
    ["onset_step", "fault_class"],
)
OPEN_ESCALATIONS = Gauge(
    "steptrace_open_escalations", "Runs whose failure is escalated and not yet resolved"
)
STORE_WRITE_SECONDS = Histogram(
    "steptrace_store_write_seconds",
    "Time from queueing a step's trace record to its durable commit",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)


def watch_open_escalations(count: Callable[[], int]) -> None:
    """Read the gauge from ``count`` at every scrape (the store is the truth). A store
    that cannot answer makes the gauge NaN, never the scrape fail."""

    def read() -> float:
        try:
            return float(count())
        except Exception:
            return math.nan

    OPEN_ESCALATIONS.set_function(read)


class TimedCommitter(GroupCommitter):
    """A :class:`GroupCommitter` that observes how long each record takes to be durable."""

    async def record(
        self,
        record: AttemptRecord,
        payloads: Sequence[EncodedPayload] = (),
        *,
        give_up_after: float | None = None,
    ) -> None:
        started = time.perf_counter()
        await super().record(record, payloads, give_up_after=give_up_after)
        STORE_WRITE_SECONDS.observe(time.perf_counter() - started)

    async def commit(
        self, prepare: Prepare, label: str, *, give_up_after: float | None = None
    ) -> None:
        # Step attempts and run starts/ends come through here (capture, the recorder).
        started = time.perf_counter()
        await super().commit(prepare, label, give_up_after=give_up_after)
        STORE_WRITE_SECONDS.observe(time.perf_counter() - started)
