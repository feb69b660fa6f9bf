"""The step observer: a worker interceptor that turns activities into spans and metrics.

For every step (an activity whose input is a :class:`~tracer.steps.StepCall`): a span
``steptrace.step`` with the run id, pipeline, step, op, attempt and status (and the
error class on failure), the step latency histogram, the retry counter, the log
context, and for ``qc.review`` the failed rubrics. For the run's own activities: the
finished run's status (``steptrace.record_run``) and the diagnosis (``steptrace.diagnose``:
a ``steptrace.diagnosis`` span with the onset step and the fault class, in the same
trace as the failed step's span).

Observation never breaks a step: its own errors go to ``on_internal_error`` (tests
collect and fail on them).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from temporalio import activity
from temporalio.worker import ActivityInboundInterceptor, ExecuteActivityInput, Interceptor

from orchestrator.observability import metrics
from orchestrator.observability.logs import STEP_CONTEXT
from orchestrator.observability.otel import TRACER_NAME, tracing_active
from orchestrator.runtime.pipeline_workflow import DIAGNOSE_ACTIVITY, RECORD_RUN_ACTIVITY, RunEvent
from orchestrator.spec.ops import QC_REVIEW_OP
from tracer.steps import StepCall, StepReturn

log = logging.getLogger(__name__)
STEP_SPAN = "steptrace.step"
DIAGNOSIS_SPAN = "steptrace.diagnosis"


@dataclass
class ObserverSettings:
    on_internal_error: Callable[[BaseException], None] = field(
        default=lambda exc: log.warning("steptrace observer error: %s", exc, exc_info=exc)
    )


class StepObserver(Interceptor):
    """Add to a worker's interceptors (before the trace interceptor) to observe steps."""

    def __init__(self, settings: ObserverSettings | None = None) -> None:
        self.settings = settings or ObserverSettings()

    def intercept_activity(self, next: ActivityInboundInterceptor) -> ActivityInboundInterceptor:
        return _Observed(next, self.settings)


class _Observed(ActivityInboundInterceptor):
    def __init__(self, next: ActivityInboundInterceptor, settings: ObserverSettings) -> None:
        super().__init__(next)
        self._settings = settings

    async def execute_activity(self, input: ExecuteActivityInput) -> Any:
        call = next((a for a in input.args if isinstance(a, StepCall)), None)
        if call is not None:
            return await self._step(call, input)
        result = await self.next.execute_activity(input)
        self._guard(_after_run_activity, activity.info().activity_type, input.args, result)
        return result

    async def _step(self, call: StepCall, input: ExecuteActivityInput) -> Any:
        attempt = activity.info().attempt
        context = {
            "run_id": call.run_id,
            "pipeline": call.pipeline,
            "step_id": call.step_id,
            "op": call.op,
            "attempt": attempt,
        }
        token = STEP_CONTEXT.set(context)
        started = time.perf_counter()
        status = "failed"
        try:
            with _span(STEP_SPAN, _step_attributes(call, attempt)) as span:
                try:
                    result = await self.next.execute_activity(input)
                except BaseException as exc:
                    if span is not None:
                        span.set_attribute("steptrace.error_class", _error_class(exc))
                        span.set_attribute("steptrace.status", "failed")
                    raise
                status = "succeeded"
                if span is not None:
                    span.set_attribute("steptrace.status", status)
            self._guard(_after_step, call, result)
            return result
        finally:
            self._guard(_step_done, call, attempt, status, time.perf_counter() - started)
            STEP_CONTEXT.reset(token)

    def _guard(self, function: Callable[..., None], *args: Any) -> None:
        try:
            function(*args)
        except Exception as exc:  # observation must never fail a step
            self._settings.on_internal_error(exc)


def _step_attributes(call: StepCall, attempt: int) -> dict[str, Any]:
    return {
        "steptrace.run_id": call.run_id,
        "steptrace.pipeline": call.pipeline,
        "steptrace.step": call.step_id,
        "steptrace.op": call.op,
        "steptrace.attempt": attempt,
    }


def _error_class(exc: BaseException) -> str:
    return str(getattr(exc, "type", None) or type(exc).__name__)


def _step_done(call: StepCall, attempt: int, status: str, seconds: float) -> None:
    metrics.STEP_SECONDS.labels(call.pipeline, call.step_id, call.op, status).observe(seconds)
    if attempt > 1:
        metrics.RETRIES.labels(call.pipeline, call.step_id, call.op).inc()
    # The step context filter adds the run and step ids to this line.
    level = logging.DEBUG if status == "succeeded" else logging.INFO
    extra = {"status": status, "duration_ms": round(seconds * 1000)}
    log.log(level, "step %s", status, extra=extra)


def _after_step(call: StepCall, result: Any) -> None:
    if call.op != QC_REVIEW_OP or not isinstance(result, StepReturn):
        return
    output = result.output if isinstance(result.output, Mapping) else {}
    for rubric in output.get("failed", []):
        metrics.QC_FAILURES.labels(call.pipeline, str(rubric)).inc()


def _after_run_activity(activity_type: str, args: Any, result: Any) -> None:
    if activity_type == RECORD_RUN_ACTIVITY:
        event = next((a for a in args if isinstance(a, RunEvent)), None)
        if event is not None and event.status != "running":
            metrics.RUNS.labels(event.pipeline, event.status).inc()
    elif activity_type == DIAGNOSE_ACTIVITY and isinstance(result, Mapping):
        _diagnosis(str(args[0]) if args else "", result)


def _diagnosis(run_id: str, body: Mapping[str, Any]) -> None:
    onset = str(body.get("onset_step") or "")
    fault = str(body.get("fault_class") or "unknown")
    metrics.DIAGNOSES.labels(onset, fault).inc()
    attributes = {
        "steptrace.run_id": run_id,
        "steptrace.step": str(body.get("failed_step") or ""),
        "steptrace.onset_step": onset,
        "steptrace.fault_class": fault,
        "steptrace.status": "failed",
    }
    with _span(DIAGNOSIS_SPAN, attributes):
        pass


@contextmanager
def _span(name: str, attributes: Mapping[str, Any]) -> Iterator[Any]:
    """A span when tracing is active, else ``None`` (no OTel import without the extra)."""
    if not tracing_active():
        yield None
        return
    from opentelemetry import trace

    with trace.get_tracer(TRACER_NAME).start_as_current_span(
        name, attributes=dict(attributes), record_exception=True
    ) as span:
        yield span
