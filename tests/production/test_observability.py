"""Spans, metrics and health after real runs of the reference pipeline.

Runs 1–2 succeed; run 3 reads a corrupted Linear title (QC fails: a silent defect);
run 4 meets a Linear outage (Temporal retries the first step, the run fails). The
SDK's in-memory exporter collects the spans; Prometheus' registry and the ops
endpoints are read as a scraper would.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.util._once import Once
from prometheus_client import REGISTRY

from connectors.sandbox.faults import Fault
from orchestrator.config.settings import Settings
from orchestrator.observability.server import serve_ops
from orchestrator.runtime.devserver import DevServer
from orchestrator.runtime.step_observer import DIAGNOSIS_SPAN, STEP_SPAN
from orchestrator.service.health import stack_checks
from orchestrator.service.stack import StackOptions, open_stack
from orchestrator.spec.pipeline import LoadedPipeline

PIPELINE = "linear-triage-sync"
FAULTS = [
    Fault(service="linear", kind="corrupt_value", target="title", from_run=3, until_run=3),
    Fault(service="linear", kind="http_error", status=503, from_run=4),
]
ISSUES = ["ENG-101", "ENG-102", "ENG-105", "ENG-103"]


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    """The SDK's in-memory exporter behind a global tracer provider, for this test only.

    OpenTelemetry lets a process set its provider once; the SDK's own tests reset that
    guard the same way, so later tests run untraced again.
    """
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    try:
        yield exporter
    finally:
        provider.shutdown()
        trace._TRACER_PROVIDER_SET_ONCE = Once()
        trace._TRACER_PROVIDER = None


def sample(name: str, labels: dict[str, str] | None = None) -> float:
    return REGISTRY.get_sample_value(name, labels or {}) or 0.0


async def test_spans_metrics_and_health_after_real_runs(
    spans: InMemorySpanExporter,
    dev_server: DevServer,
    tmp_path: Path,
    reference: LoadedPipeline,
) -> None:
    before = {
        "failed": sample("steptrace_runs_total", {"pipeline": PIPELINE, "status": "failed"}),
        "succeeded": sample("steptrace_runs_total", {"pipeline": PIPELINE, "status": "succeeded"}),
        "retries": sample(
            "steptrace_step_retries_total",
            {"pipeline": PIPELINE, "step": "fetch_issue", "op": "linear.get_issue"},
        ),
        "writes": sample("steptrace_store_write_seconds_count"),
    }
    swallowed: list[BaseException] = []  # observer and capture errors: a failure here
    options = StackOptions(
        faults=FAULTS,
        database_url=f"sqlite:///{tmp_path / 'trace.db'}",
        on_capture_error=swallowed.append,
    )
    async with open_stack(options, Settings(temporal_address=dev_server.address)) as stack:
        outcomes = []
        for index, issue in enumerate(ISSUES, start=1):
            assert stack.sandbox is not None
            stack.sandbox.begin_run(index)
            outcomes.append(await stack.run(reference, {"issue": issue}))
        async with serve_ops(stack_checks(stack)) as ops, httpx.AsyncClient() as http:
            ready = await http.get(f"{ops}/readyz")
            live = await http.get(f"{ops}/healthz")
            scraped = (await http.get(f"{ops}/metrics")).text

    assert not swallowed, swallowed
    assert [o.status for o in outcomes] == ["succeeded", "succeeded", "qc_failed", "failed"]
    finished = spans.get_finished_spans()
    assert_step_spans(finished, outcomes[0].run_id)
    assert_failure_spans(finished, outcomes[3].run_id)
    assert any(s.name.startswith("RunActivity:") for s in finished)  # Temporal's interceptor
    assert any(s.name.startswith("StartWorkflow:") for s in finished)

    assert sample("steptrace_runs_total", {"pipeline": PIPELINE, "status": "succeeded"}) == (
        before["succeeded"] + 2
    )
    assert sample("steptrace_runs_total", {"pipeline": PIPELINE, "status": "failed"}) == (
        before["failed"] + 1
    )
    assert (
        sample(
            "steptrace_step_retries_total",
            {"pipeline": PIPELINE, "step": "fetch_issue", "op": "linear.get_issue"},
        )
        > before["retries"]
    )
    assert sample("steptrace_store_write_seconds_count") > before["writes"]
    qc_failed = [
        line
        for line in scraped.splitlines()
        if line.startswith("steptrace_qc_failures_total{") and f'pipeline="{PIPELINE}"' in line
    ]
    assert qc_failed, "no QC failure counted by rubric"
    assert 'steptrace_step_duration_seconds_bucket{le="0.005",op="linear.get_issue"' in scraped
    assert "steptrace_open_escalations" in scraped
    assert ready.status_code == 200 and ready.json()["checks"] == ["temporal", "trace_store"]
    assert live.status_code == 200


def by_name(spans: tuple[ReadableSpan, ...], name: str, run_id: str) -> list[ReadableSpan]:
    return [
        s
        for s in spans
        if s.name == name and (s.attributes or {}).get("steptrace.run_id") == run_id
    ]


def attrs(span: ReadableSpan) -> dict[str, Any]:
    return dict(span.attributes or {})


def assert_step_spans(spans: tuple[ReadableSpan, ...], run_id: str) -> None:
    steps = by_name(spans, STEP_SPAN, run_id)
    assert [attrs(s)["steptrace.step"] for s in steps][:2] == ["fetch_issue", "normalize"]
    first = attrs(steps[0])
    assert first["steptrace.pipeline"] == PIPELINE
    assert first["steptrace.op"] == "linear.get_issue"
    assert first["steptrace.status"] == "succeeded"
    assert first["steptrace.attempt"] == 1
    assert len({s.context.trace_id for s in steps}) == 1  # one trace per run


def assert_failure_spans(spans: tuple[ReadableSpan, ...], run_id: str) -> None:
    failed = [
        s for s in by_name(spans, STEP_SPAN, run_id) if attrs(s)["steptrace.status"] == "failed"
    ]
    assert failed and {attrs(s)["steptrace.step"] for s in failed} == {"fetch_issue"}
    assert max(attrs(s)["steptrace.attempt"] for s in failed) > 1  # Temporal retried it
    assert all(attrs(s)["steptrace.error_class"] for s in failed)
    [diagnosis] = by_name(spans, DIAGNOSIS_SPAN, run_id)
    assert attrs(diagnosis)["steptrace.onset_step"] == "fetch_issue"
    assert attrs(diagnosis)["steptrace.fault_class"] == "transient"
    assert diagnosis.context.trace_id == failed[0].context.trace_id
