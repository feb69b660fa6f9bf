"""Thin activities: one per op, derived from the tool registry, plus the pure transform.

Each activity takes a :class:`~tracer.steps.StepCall` and returns a
:class:`~tracer.steps.StepReturn`: the step's output (the next handoff, as plain JSON)
and the external writes with their before/after images. What a tool op does is its
adapter's handler (:mod:`orchestrator.tools.registry`); this module makes each handler an
activity named after its op, checks the result's size, and sends every exception through
:func:`orchestrator.runtime.failures.to_application_error`, so Temporal retries exactly
what a retry can fix, when the tool says it can.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Awaitable, Callable
from typing import Any

from temporalio import activity
from temporalio.api.common.v1 import Payloads
from temporalio.contrib.pydantic import pydantic_data_converter

from connectors.retry import recording_retries
from orchestrator.runtime.failures import ResultTooLargeError, attach_retries, to_application_error
from orchestrator.spec.ops import TRANSFORM_OP
from orchestrator.spec.pipeline import StepSpec
from orchestrator.spec.transform import run_transform
from orchestrator.tools.clients import ToolClients
from orchestrator.tools.op import StepHandler
from orchestrator.tools.registry import TOOL_OPS
from tracer.steps import StepCall, StepReturn

StepActivity = Callable[[StepCall], Awaitable[StepReturn]]

DEFAULT_PAYLOAD_LIMIT = 2 * 1024 * 1024
"""Temporal's default ``limit.blobSize.error``; the stack reads the namespace's own."""


def step_activity(
    op: str, handler: Callable[[StepCall], Awaitable[StepReturn]], limit: int
) -> StepActivity:
    """``handler`` as the activity for ``op``: result size checked, errors translated."""

    @functools.wraps(handler)
    async def run(call: StepCall) -> StepReturn:
        with recording_retries() as retried:
            try:
                returned = await handler(call)
                check_result_size(returned, call, op, limit)
            except Exception as exc:
                error = to_application_error(exc, step_id=call.step_id, op=op)
                attach_retries(error, retried)
                raise error from exc
        if not retried:
            return returned
        return returned.model_copy(update={"retries": [r.as_json() for r in retried]})

    run.steptrace_op = op  # type: ignore[attr-defined]
    return activity.defn(name=op)(run)


def check_result_size(returned: StepReturn, call: StepCall, op: str, limit: int) -> None:
    """Raise :class:`ResultTooLargeError` if Temporal would refuse ``returned``.

    Over the limit, the SDK fails the completion with a retryable ``PayloadsTooLarge``
    that says neither the step nor the field, and every retry calls the tool again for
    the same refusal. Measured as the SDK measures it: the serialised ``Payloads``.
    """
    payloads = pydantic_data_converter.payload_converter.to_payloads([returned])
    size = Payloads(payloads=payloads).ByteSize()
    if size <= limit:
        return
    path, field_size = largest_field(returned.output, "output")
    raise ResultTooLargeError(
        f"step `{call.step_id}` ({op}): its result is {_mb(size)} ({size} bytes), over "
        f"Temporal's payload limit of {_mb(limit)} ({limit} bytes); the largest part is "
        f"`{path}` ({_mb(field_size)}). Not retried: the same input gives the same result. "
        "Trim that data at the source or keep it out of the handoff, or raise the "
        "namespace's limit.blobSize.error",
        size=size,
        limit=limit,
        field=path,
    )


def largest_field(value: Any, path: str, depth: int = 8) -> tuple[str, int]:
    """The dotted path of the biggest leaf-most part of ``value``, and its JSON size."""
    size = len(json.dumps(value, default=str))
    children: list[tuple[str, Any]] = []
    if isinstance(value, dict):
        children = [(f"{path}.{key}", item) for key, item in value.items()]
    elif isinstance(value, list):
        children = [(f"{path}[{index}]", item) for index, item in enumerate(value)]
    if depth == 0 or not children:
        return path, size
    sized = [(len(json.dumps(item, default=str)), child, item) for child, item in children]
    child_size, child, item = max(sized, key=lambda entry: entry[0])
    if child_size * 2 < size:  # no one part dominates: this is the culprit
        return path, size
    return largest_field(item, child, depth - 1)


def _mb(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MiB"


class StepActivities:
    """The activity of every op, handed the tool clients they call."""

    def __init__(self, clients: ToolClients, *, payload_limit: int = DEFAULT_PAYLOAD_LIMIT) -> None:
        self.clients = clients
        self.payload_limit = payload_limit
        self._by_op: dict[str, StepActivity] = {
            TRANSFORM_OP: step_activity(TRANSFORM_OP, transform, payload_limit),
            **{
                name: step_activity(name, self._bound(op.run), payload_limit)
                for name, op in TOOL_OPS.items()
            },
        }

    def all(self) -> list[Callable[..., Any]]:
        return list(self._by_op.values())

    def by_op(self) -> dict[str, StepActivity]:
        """Each op's activity, to call directly (a diagnosis re-reads a source with it)."""
        return dict(self._by_op)

    def _bound(self, handler: StepHandler) -> StepActivity:
        async def run(call: StepCall) -> StepReturn:
            return await handler(self.clients, call)

        run.__name__ = run.__qualname__ = getattr(handler, "__name__", "step")
        return run


async def transform(call: StepCall) -> StepReturn:
    """The pure ``transform`` op: the step's ``map:`` over the parts of the context it reads."""
    step = StepSpec.model_validate(call.step)
    assert step.map is not None, "a transform step always has a map (checked at load)"
    return StepReturn(output=run_transform(call.step_id, step.map, call.args))
