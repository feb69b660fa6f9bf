"""Capture every activity attempt through a Temporal worker interceptor.

For each attempt the interceptor records the input handoff, the output handoff or the
error (class, message, retryable, HTTP status, the tool's code and field), the attempt
number, timing and the external writes with their before/after images. The record is
committed (through the :class:`~tracer.store.GroupCommitter`: small attempts are encoded
just before their transaction, on the event loop when the committer is idle on SQLite,
else on its thread, which batches concurrent attempts into one transaction)
**before** the activity's result goes back to Temporal,
so Temporal never knows of an attempt the store does not. Records are keyed by
(workflow id, run id, activity id, attempt): a retried commit is a no-op.

Observability must not break the pipeline, and must not lose data either: if the store
cannot commit within ``durable_within`` seconds the attempt fails with a retryable error
(the record stays queued), and Temporal retries the step later. Internal capture errors
(a payload that cannot be encoded) never fail the step; they go to ``on_internal_error``,
which tests set to collect them and fail.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from temporalio import activity
from temporalio.exceptions import ApplicationError
from temporalio.worker import (
    ActivityInboundInterceptor,
    ExecuteActivityInput,
    Interceptor,
)

from tracer.payloads import (
    Compressor,
    EncodedPayload,
    RedactionPolicy,
    encode,
    json_size_at_most,
    redact_json,
    to_json_data,
)
from tracer.steps import StepCall, StepReturn, WriteImage
from tracer.store import (
    AttemptError,
    AttemptRecord,
    AttemptStatus,
    GroupCommitter,
    TraceStoreError,
    WriteRecord,
    Writes,
    run_id_for,
)
from tracer.taint import Taint, run_taint

log = logging.getLogger(__name__)

INFRASTRUCTURE_PREFIX = "steptrace."
# Attempts whose input and output are at most this much JSON are encoded on the group
# committer's thread; bigger ones on an executor thread.
INLINE_BYTES = 32 * 1024


@dataclass
class CaptureSettings:
    committer: GroupCommitter
    policy: RedactionPolicy | None = None
    durable_within: float = 20.0
    on_internal_error: Callable[[BaseException], None] = field(
        default=lambda exc: log.warning("steptrace capture error: %s", exc, exc_info=exc)
    )


class TraceInterceptor(Interceptor):
    """Add to a worker's ``interceptors`` to trace every activity attempt."""

    def __init__(self, settings: CaptureSettings) -> None:
        self.settings = settings

    def intercept_activity(self, next: ActivityInboundInterceptor) -> ActivityInboundInterceptor:
        return _ActivityTracer(next, self.settings)


class _ActivityTracer(ActivityInboundInterceptor):
    def __init__(self, next: ActivityInboundInterceptor, settings: CaptureSettings) -> None:
        super().__init__(next)
        self._settings = settings

    async def execute_activity(self, input: ExecuteActivityInput) -> Any:
        info = activity.info()
        if info.activity_type.startswith(INFRASTRUCTURE_PREFIX) or info.workflow_id is None:
            return await self.next.execute_activity(input)
        started = datetime.now(UTC)
        try:
            result = await self.next.execute_activity(input)
        except BaseException as exc:
            await self._record(_Attempt(info, input.args, started, error=exc))
            raise
        await self._record(_Attempt(info, input.args, started, result=result))
        return result

    async def _record(self, attempt: _Attempt) -> None:
        settings = self._settings
        committer = settings.committer
        info = attempt.info
        label = f"attempt ({info.workflow_id}, {info.activity_id}, {info.attempt})"

        def prepare() -> Writes:
            record, payloads = _build(attempt, settings.policy, committer.codec)
            return Writes(payloads=payloads, attempts=[record])

        try:
            if json_size_at_most(attempt.args, INLINE_BYTES) and json_size_at_most(
                attempt.result, INLINE_BYTES
            ):
                # Small payloads are encoded just before the transaction: right here
                # when the committer is idle (SQLite), else on its thread.
                await committer.commit(prepare, label, give_up_after=settings.durable_within)
            else:
                # Encoding payloads that may be megabytes is CPU work: on an executor
                # thread, so neither the event loop nor other records wait for it.
                writes = await asyncio.to_thread(prepare)
                await committer.commit(lambda: writes, label, give_up_after=settings.durable_within)
        except (TraceStoreError, TimeoutError) as exc:
            raise ApplicationError(
                f"trace store could not record step `{info.activity_type}` attempt "
                f"{info.attempt}: {exc}; the record stays queued and the step will be retried",
                type="TraceStoreUnavailable",
            ) from exc
        except Exception as exc:  # a capture bug must not fail the step
            settings.on_internal_error(exc)


@dataclass
class _Attempt:
    info: activity.Info
    args: Any
    started: datetime
    result: Any = None
    error: BaseException | None = None
    ended: datetime = field(default_factory=lambda: datetime.now(UTC))


def _build(
    attempt: _Attempt, policy: RedactionPolicy | None, codec: Compressor
) -> tuple[AttemptRecord, list[EncodedPayload]]:
    info = attempt.info
    ended = attempt.ended
    call = next((a for a in attempt.args if isinstance(a, StepCall)), None)
    returned = attempt.result if isinstance(attempt.result, StepReturn) else None
    assert info.workflow_id is not None and info.workflow_run_id is not None
    run_id = call.run_id if call else run_id_for(info.workflow_id, info.workflow_run_id)
    # The run's taint: what earlier handoffs redacted is redacted here too (input first,
    # so a secret the input names is caught again in the output built from it).
    taint = run_taint(run_id)
    input_value = call.args if call else to_json_data(list(attempt.args))
    payloads = [encode(input_value, policy, taint, codec=codec)]
    output_hash = None
    writes: list[WriteRecord] = []
    if attempt.error is None:
        output = returned.output if returned else to_json_data(attempt.result)
        payloads.append(encode(output, policy, taint, codec=codec))
        output_hash = payloads[-1].hash
        for write in returned.writes if returned else []:
            write_record, images = _write_record(write, policy, taint, codec)
            writes.append(write_record)
            payloads += images
    record = AttemptRecord(
        workflow_id=info.workflow_id,
        temporal_run_id=info.workflow_run_id,
        activity_id=info.activity_id,
        attempt=info.attempt,
        run_id=run_id,
        step_id=call.step_id if call else info.activity_type,
        step_index=call.step_index if call else -1,
        op=call.op if call else info.activity_type,
        status=AttemptStatus.FAILED if attempt.error else AttemptStatus.SUCCEEDED,
        input_hash=payloads[0].hash,
        output_hash=output_hash,
        error=_error_record(attempt.error, policy, taint) if attempt.error else None,
        external_writes=tuple(writes),
        inner_retries=tuple(
            redact_json(retry, policy, taint) for retry in _inner_retries(returned, attempt.error)
        ),
        started_at=attempt.started,
        ended_at=ended,
        duration_ms=max(0, int((ended - attempt.started).total_seconds() * 1000)),
    )
    return record, payloads


def _write_record(
    write: WriteImage, policy: RedactionPolicy | None, taint: Taint, codec: Compressor
) -> tuple[WriteRecord, list[EncodedPayload]]:
    images = [
        encode(image, policy, taint, codec=codec) if image is not None else None
        for image in (write.before, write.after)
    ]
    record = WriteRecord(
        tool=write.tool,
        object_kind=write.kind,
        container=write.container,
        object_id=write.object_id,
        action=write.action,
        before_hash=images[0].hash if images[0] else None,
        after_hash=images[1].hash if images[1] else None,
    )
    return record, [image for image in images if image is not None]


def _inner_retries(
    returned: StepReturn | None, error: BaseException | None
) -> list[dict[str, Any]]:
    """The tool calls an attempt retried inside itself: on its result, or on its error."""
    if returned is not None:
        return list(returned.retries)
    if isinstance(error, ApplicationError) and error.details:
        first = error.details[0]
        found = first.get("inner_retries") if isinstance(first, dict) else None
        return [r for r in found if isinstance(r, dict)] if isinstance(found, list) else []
    return []


def _error_record(
    error: BaseException, policy: RedactionPolicy | None, taint: Taint
) -> AttemptError:
    """What the attempt's error says, read from the activity's ApplicationError.

    The message is redacted with the run's taint here, where the taint is known: a tool
    that quotes the value it refused must not carry a secret into the store.
    """
    details: dict[str, Any] = {}
    retryable: bool | None = None
    error_class = type(error).__name__
    if isinstance(error, ApplicationError):
        error_class = error.type or error_class
        retryable = not error.non_retryable
        first = error.details[0] if error.details else None
        details = first if isinstance(first, dict) else {}
    return AttemptError(
        error_class=str(details.get("class") or error_class),
        message=str(redact_json(str(details.get("message") or error), policy, taint)),
        retryable=details.get("retryable", retryable),
        status=details.get("status"),
        code=details.get("code"),
        field=details.get("field"),
        retry_after=details.get("retry_after"),
    )
