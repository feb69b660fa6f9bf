"""The operations a pipeline step may name, and the arguments each one takes.

A spec is checked against this catalogue when it is loaded (unknown op, unknown
argument, missing required argument), and a step's evaluated arguments are validated by
the op's model before the activity runs. Values a step's arguments evaluate to come from
JMESPath, so the models accept plain JSON types.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Tool = Literal["linear", "airtable", "monday", "slack"]


class OpArgs(BaseModel):
    """Base of every op's arguments: unknown arguments are errors."""

    model_config = ConfigDict(extra="forbid")


class LinearGetIssueArgs(OpArgs):
    id: str = Field(description="UUID or identifier such as ENG-123")


class LinearUpsertIssueArgs(OpArgs):
    key: str = Field(description="natural key; the same key never creates a second issue")
    team: str = Field(description="team key, e.g. ENG")
    title: str
    description: str | None = None
    priority: int | None = Field(default=None, ge=0, le=4)
    assignee_email: str | None = None
    due_date: date | None = None
    labels: list[str] = Field(default_factory=list)
    state: str | None = None


class AirtableUpsertRecordArgs(OpArgs):
    table: str
    merge_on: list[str] = Field(min_length=1, max_length=3)
    fields: dict[str, Any]
    base: str | None = Field(default=None, description="base id or name; default from config")
    typecast: bool = False


class AirtableGetRecordArgs(OpArgs):
    table: str
    record_id: str
    base: str | None = None


class AirtableUpdateRecordArgs(OpArgs):
    table: str
    record_id: str
    fields: dict[str, Any]
    base: str | None = None
    typecast: bool = False


class AirtableListRecordsArgs(OpArgs):
    table: str
    formula: str | None = None
    base: str | None = None
    max_records: int | None = Field(default=None, ge=1)


class MondayUpsertItemArgs(OpArgs):
    board: str | int | None = Field(default=None, description="board id or name")
    key_column: str
    key_value: str
    name: str
    values: dict[str, Any] = Field(default_factory=dict)


class MondayListItemsArgs(OpArgs):
    board: str | int | None = None


class SlackPostMessageArgs(OpArgs):
    channel: str
    text: str
    thread_ts: str | None = None
    mention_email: str | None = Field(default=None, description="mention this person")
    idempotency_key: str | None = Field(
        default=None, description="default: the run and step, so a retry never posts twice"
    )


class QcReviewArgs(OpArgs):
    rubrics: list[str] | None = Field(default=None, description="rubric ids; all when null")
    planned: dict[str, dict[str, Any]] = Field(
        default_factory=dict, description="evaluated arguments of the steps not run yet"
    )


@dataclass(frozen=True)
class OpSpec:
    """One op: the tool it talks to (``None`` for pure ops) and its argument model."""

    name: str
    tool: Tool | None
    args: type[OpArgs] | None
    writes: bool
    summary: str


OPS: dict[str, OpSpec] = {
    op.name: op
    for op in (
        OpSpec("linear.get_issue", "linear", LinearGetIssueArgs, False, "read one Linear issue"),
        OpSpec(
            "linear.upsert_issue", "linear", LinearUpsertIssueArgs, True, "create/update an issue"
        ),
        OpSpec(
            "airtable.upsert_record",
            "airtable",
            AirtableUpsertRecordArgs,
            True,
            "upsert one Airtable record on merge fields",
        ),
        OpSpec("airtable.get_record", "airtable", AirtableGetRecordArgs, False, "read a record"),
        OpSpec(
            "airtable.update_record", "airtable", AirtableUpdateRecordArgs, True, "update a record"
        ),
        OpSpec("airtable.list_records", "airtable", AirtableListRecordsArgs, False, "list records"),
        OpSpec("monday.upsert_item", "monday", MondayUpsertItemArgs, True, "upsert a Monday item"),
        OpSpec("monday.list_items", "monday", MondayListItemsArgs, False, "list a board's items"),
        OpSpec("slack.post_message", "slack", SlackPostMessageArgs, True, "post a Slack message"),
        OpSpec("transform", None, None, False, "build a new object from `map:` entries"),
        OpSpec("qc.review", None, QcReviewArgs, False, "review the run with the QC rubrics"),
    )
}


def known_ops() -> list[str]:
    return sorted(OPS)
