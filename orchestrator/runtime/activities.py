"""Thin activities: one connector call (or the pure transform) per pipeline op.

Each activity takes a :class:`~tracer.steps.StepCall` and returns a
:class:`~tracer.steps.StepReturn`: the step's output (the next handoff, as plain JSON)
and the external writes with their before/after images. Arguments are validated by the
op's model from :mod:`orchestrator.spec.ops`; every exception leaves through
:func:`orchestrator.runtime.failures.to_application_error`, so Temporal retries exactly what a
retry can fix, when the tool says it can.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from temporalio import activity
from temporalio.api.common.v1 import Payloads
from temporalio.contrib.pydantic import pydantic_data_converter

from connectors.writes import ExternalWrite
from orchestrator.runtime.failures import PayloadTooLargeError, to_application_error
from orchestrator.spec.ops import (
    AirtableGetRecordArgs,
    AirtableListRecordsArgs,
    AirtableUpdateRecordArgs,
    AirtableUpsertRecordArgs,
    LinearGetIssueArgs,
    LinearUpsertIssueArgs,
    MondayListItemsArgs,
    MondayUpsertItemArgs,
    OpArgs,
    SlackPostMessageArgs,
)
from orchestrator.spec.pipeline import StepSpec
from orchestrator.spec.transform import run_transform
from orchestrator.tools.clients import ToolClients
from orchestrator.tools.shapes import issue_output, item_output, message_output, record_output
from tracer.steps import StepCall, StepReturn, WriteImage

A = TypeVar("A", bound=OpArgs)
StepMethod = Callable[["StepActivities", StepCall], Awaitable[StepReturn]]

DEFAULT_PAYLOAD_LIMIT = 2 * 1024 * 1024
"""Temporal's default ``limit.blobSize.error``; the stack reads the namespace's own."""


def step_activity(op: str) -> Callable[[StepMethod], StepMethod]:
    """Register a method as the activity for ``op``, with error translation."""

    def decorate(method: StepMethod) -> StepMethod:
        @functools.wraps(method)
        async def run(self: StepActivities, call: StepCall) -> StepReturn:
            try:
                returned = await method(self, call)
                check_result_size(returned, call, op, self.payload_limit)
                return returned
            except Exception as exc:
                raise to_application_error(exc, step_id=call.step_id, op=op) from exc

        run.steptrace_op = op  # type: ignore[attr-defined]
        return activity.defn(name=op)(run)

    return decorate


def check_result_size(returned: StepReturn, call: StepCall, op: str, limit: int) -> None:
    """Raise :class:`PayloadTooLargeError` if Temporal would refuse ``returned``.

    Over the limit, the SDK fails the completion with a retryable ``PayloadsTooLarge``
    that says neither the step nor the field, and every retry calls the tool again for
    the same refusal. Measured as the SDK measures it: the serialised ``Payloads``.
    """
    payloads = pydantic_data_converter.payload_converter.to_payloads([returned])
    size = Payloads(payloads=payloads).ByteSize()
    if size <= limit:
        return
    path, field_size = largest_field(returned.output, "output")
    raise PayloadTooLargeError(
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


def parse(model: type[A], call: StepCall) -> A:
    return model.model_validate(call.args)


def images(*writes: ExternalWrite) -> list[WriteImage]:
    return [WriteImage.model_validate(w.model_dump(mode="json")) for w in writes]


class StepActivities:
    """The activities of every op, handed the tool clients they call."""

    def __init__(self, clients: ToolClients, *, payload_limit: int = DEFAULT_PAYLOAD_LIMIT) -> None:
        self.clients = clients
        self.payload_limit = payload_limit

    def all(self) -> list[Callable[..., Any]]:
        return [
            self.transform,
            self.linear_get_issue,
            self.linear_upsert_issue,
            self.airtable_get_record,
            self.airtable_list_records,
            self.airtable_update_record,
            self.airtable_upsert_record,
            self.monday_list_items,
            self.monday_upsert_item,
            self.slack_post_message,
        ]

    def by_op(self) -> dict[str, Callable[[StepCall], Awaitable[StepReturn]]]:
        """Each op's activity, to call directly (a diagnosis re-reads a source with it)."""
        return {getattr(method, "steptrace_op", ""): method for method in self.all()}

    @step_activity("transform")
    async def transform(self, call: StepCall) -> StepReturn:
        step = StepSpec.model_validate(call.step)
        assert step.map is not None, "a transform step always has a map (checked at load)"
        return StepReturn(output=run_transform(call.step_id, step.map, call.args))

    @step_activity("linear.get_issue")
    async def linear_get_issue(self, call: StepCall) -> StepReturn:
        args = parse(LinearGetIssueArgs, call)
        return StepReturn(output=issue_output(await self.clients.linear.get_issue(args.id)))

    @step_activity("linear.upsert_issue")
    async def linear_upsert_issue(self, call: StepCall) -> StepReturn:
        args = parse(LinearUpsertIssueArgs, call)
        result = await self.clients.upsert_linear_issue(args)
        return StepReturn(output=issue_output(result.issue), writes=images(result.write))

    @step_activity("airtable.get_record")
    async def airtable_get_record(self, call: StepCall) -> StepReturn:
        args = parse(AirtableGetRecordArgs, call)
        base = await self.clients.airtable_base(args.base)
        record = await self.clients.airtable.get_record(base, args.table, args.record_id)
        return StepReturn(output=record_output(record.id, record.fields))

    @step_activity("airtable.list_records")
    async def airtable_list_records(self, call: StepCall) -> StepReturn:
        args = parse(AirtableListRecordsArgs, call)
        base = await self.clients.airtable_base(args.base)
        records = await self.clients.airtable.all_records(base, args.table, formula=args.formula)
        if args.max_records is not None:
            records = records[: args.max_records]
        return StepReturn(output={"records": [record_output(r.id, r.fields) for r in records]})

    @step_activity("airtable.update_record")
    async def airtable_update_record(self, call: StepCall) -> StepReturn:
        args = parse(AirtableUpdateRecordArgs, call)
        return _record_written(await self.clients.update_airtable_record(args))

    @step_activity("airtable.upsert_record")
    async def airtable_upsert_record(self, call: StepCall) -> StepReturn:
        args = parse(AirtableUpsertRecordArgs, call)
        return _record_written(await self.clients.upsert_airtable_record(args))

    @step_activity("monday.list_items")
    async def monday_list_items(self, call: StepCall) -> StepReturn:
        args = parse(MondayListItemsArgs, call)
        board, items = await self.clients.monday_items(args.board)
        output = {
            "board": {"id": board.id, "name": board.name},
            "items": [item_output(board, item) for item in items],
        }
        return StepReturn(output=output)

    @step_activity("monday.upsert_item")
    async def monday_upsert_item(self, call: StepCall) -> StepReturn:
        args = parse(MondayUpsertItemArgs, call)
        board, result = await self.clients.upsert_monday_item(args)
        output = item_output(board, result.item) if result.item else None
        return StepReturn(output=output, writes=images(result.write))

    @step_activity("slack.post_message")
    async def slack_post_message(self, call: StepCall) -> StepReturn:
        args = parse(SlackPostMessageArgs, call)
        key = args.idempotency_key or f"{call.run_id}:{call.step_id}"
        result = await self.clients.post_slack_message(args, idempotency_key=key)
        return StepReturn(output=message_output(result), writes=images(result.write))


def _record_written(write: ExternalWrite) -> StepReturn:
    """An Airtable write as a step's result: the record as it is now, and the write."""
    return StepReturn(output=record_output(write.object_id, _fields(write)), writes=images(write))


def _fields(write: ExternalWrite) -> dict[str, Any]:
    after = write.after or {}
    fields = after.get("fields", after)
    return dict(fields) if isinstance(fields, dict) else {}
