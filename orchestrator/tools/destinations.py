"""What the destination tools accept now: Airtable's table schema, Monday's board columns,
Slack's channels, read live through the connectors for the write steps of one run.

The diagnosis asks it which options a field offers (to tell a removed option from a
typo) and which fields exist (to find a renamed one); fix verification asks it whether a
write's arguments would be accepted. Reading a schema can fail (the tool is down, the
token revoked): that write step is then *unknown*, never "accepted".
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from connectors.errors import ConnectorError
from orchestrator.tools.clients import ToolClients
from tracer.schemas import ContainerSchema, FieldSchema, Option

FIELD_ARGS = {
    "airtable.upsert_record": "fields",
    "airtable.update_record": "fields",
    "monday.upsert_item": "values",
}
CHANNEL_OPS = {"slack.post_message"}
_SELECTS = {"singleSelect", "multipleSelects", "status"}
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")


@dataclass(frozen=True)
class FieldRule:
    """One destination field: its type and, for selects, the options it offers."""

    name: str
    type: str
    options: tuple[str, ...] = ()

    def takes_kind(self, value: Any) -> bool | None:
        """Whether this field's type takes a value of ``value``'s kind at all."""
        check = _KIND_CHECKS.get(self.type)
        return check(value) if check else None

    def problem(self, value: Any) -> str | None:
        """Why ``value`` would be refused here, or ``None``."""
        if value is None or value == "" or value == []:
            return None
        if self.type in _SELECTS:
            values = value if isinstance(value, list) else [value]
            bad = [v for v in values if str(v) not in self.options]
            return f"{bad[0]!r} is not an option of {self.name!r}" if bad else None
        if self.type == "date":
            return None if _is_date(value) else f"{value!r} is not a date for {self.name!r}"
        if self.type == "number" and not isinstance(value, int | float):
            return f"{value!r} is not a number for {self.name!r}"
        if self.type in ("email", "people") and not self.takes_kind(value):
            return f"{value!r} is not an email for {self.name!r}"
        return None


@dataclass
class StepSchema:
    """What one write step's destination offers."""

    fields: dict[str, FieldRule] = field(default_factory=dict)
    channels: tuple[str, ...] | None = None


@dataclass
class LiveDestinations:
    """Schemas of a run's write steps, fetched once (see :func:`load_destinations`)."""

    by_step: dict[str, StepSchema] = field(default_factory=dict)
    ops: dict[str, str] = field(default_factory=dict)
    schemas: dict[str, ContainerSchema] = field(default_factory=dict)
    """The same schemas with the tools' stable ids, by step (the evidence a run records)."""

    def options(self, step: str, path: tuple[str | int, ...]) -> list[str] | None:
        schema = self.by_step.get(step)
        if schema is None or not path:
            return None
        if self.ops.get(step) in CHANNEL_OPS and path == ("channel",):
            return list(schema.channels) if schema.channels is not None else None
        if len(path) == 2 and path[0] == FIELD_ARGS.get(self.ops.get(step, "")):
            rule = schema.fields.get(str(path[1]))
            return list(rule.options) if rule and rule.options else None
        return None

    def kind_matches(self, step: str, path: tuple[str | int, ...], value: Any) -> bool | None:
        schema = self.by_step.get(step)
        if schema is None or len(path) != 2 or path[0] != FIELD_ARGS.get(self.ops.get(step, "")):
            return None
        rule = schema.fields.get(str(path[1]))
        return rule.takes_kind(value) if rule else None

    def field_names(self, step: str) -> list[str] | None:
        schema = self.by_step.get(step)
        return list(schema.fields) if schema and schema.fields else None

    def problems(self, step: str, args: dict[str, Any]) -> list[str] | None:
        """Why the destination would refuse ``args``; ``None`` when its schema is unknown."""
        schema = self.by_step.get(step)
        op = self.ops.get(step, "")
        if schema is None:
            return None
        if op in CHANNEL_OPS:
            channel = str(args.get("channel", "")).lstrip("#")
            known = schema.channels or ()
            return (
                [] if channel in known or channel.startswith("C") else [f"no channel {channel!r}"]
            )
        found: list[str] = []
        for name, value in (args.get(FIELD_ARGS.get(op, ""), {}) or {}).items():
            rule = schema.fields.get(name)
            if rule is None:
                found.append(f"no field {name!r}")
            elif (problem := rule.problem(value)) is not None:
                found.append(problem)
        return found


async def load_destinations(
    clients: ToolClients, writes: dict[str, tuple[str, dict[str, Any]]]
) -> LiveDestinations:
    """Fetch the schema behind every write step; ``writes`` maps step id to (op, args)."""
    live = LiveDestinations()
    for step, (op, args) in writes.items():
        live.ops[step] = op
        if op not in FIELD_ARGS and op not in CHANNEL_OPS:
            continue  # no argument of it is checked against a schema; the run recorded it
        try:
            schema = await fetch_schema(clients, op, args)
        except ConnectorError:
            continue
        if schema is not None:
            live.schemas[step] = schema
            if op in FIELD_ARGS or op in CHANNEL_OPS:  # the ops whose arguments it checks
                live.by_step[step] = step_schema(op, schema)
    return live


async def fetch_schemas(
    clients: ToolClients, steps: dict[str, tuple[str, dict[str, Any]]]
) -> dict[str, ContainerSchema]:
    """The schema every step depended on (read or write), by step; unreachable ones are
    left out, never guessed."""
    found: dict[str, ContainerSchema] = {}
    for step, (op, args) in steps.items():
        try:
            schema = await fetch_schema(clients, op, args)
        except (ConnectorError, KeyError):
            continue
        if schema is not None:
            found[step] = schema
    return found


def step_schema(op: str, schema: ContainerSchema) -> StepSchema:
    """The checks a write step's arguments face, from its container's schema."""
    if op in CHANNEL_OPS:
        channels = schema.by_name("channel")
        return StepSchema(channels=channels.option_names() if channels else ())
    return StepSchema(
        fields={f.name: FieldRule(f.name, f.type, f.option_names()) for f in schema.fields}
    )


async def fetch_schema(
    clients: ToolClients, op: str, args: dict[str, Any]
) -> ContainerSchema | None:
    """The schema of the container ``op`` works on, with the tool's stable ids (it reads
    only the :func:`~orchestrator.tools.containers.container_args` of ``args``)."""
    tool = op.split(".")[0]
    if tool == "airtable" and "table" in args:
        base = await clients.airtable_base(args.get("base"))
        table = await clients.airtable.get_table_schema(base, str(args["table"]))
        fields = tuple(
            FieldSchema(f.id, f.name, f.type, tuple(Option(c.id, c.name) for c in f.choices))
            for f in table.fields
        )
        return ContainerSchema("airtable", f"{base}/{table.id}", fields)
    if tool == "monday" and ("board" in args or op == "monday.upsert_item"):
        board = await clients.monday.get_board(await clients.monday_board(args.get("board")))
        columns = tuple(
            FieldSchema(
                c.id, c.title, c.type, tuple(Option(str(lb.index), lb.label) for lb in c.labels)
            )
            for c in board.columns
        )
        return ContainerSchema("monday", str(board.id), columns)
    if tool == "slack" and op in CHANNEL_OPS:
        channels = await clients.slack.list_channels(exclude_archived=True)
        options = tuple(Option(c.id, c.name) for c in channels)
        channel = FieldSchema("channels", "channel", "channel", options)
        return ContainerSchema("slack", "channels", (channel,))
    if tool == "linear":
        states = await clients.linear.list_workflow_states()
        labels = await clients.linear.list_labels()
        state = FieldSchema("state", "state", "status", tuple(Option(s.id, s.name) for s in states))
        label_options = tuple(Option(lb.id, lb.name) for lb in labels)
        return ContainerSchema(
            "linear",
            "workspace",
            (state, FieldSchema("labels", "labels", "multipleSelects", label_options)),
        )
    return None


def _is_text(value: Any) -> bool:
    return isinstance(value, str)


def _is_number(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int | float):
        return True
    try:
        float(str(value))
    except ValueError:
        return False
    return True


def _is_email(value: Any) -> bool:
    return isinstance(value, str) and bool(_EMAIL.match(value))


def _is_person(value: Any) -> bool:
    people = value if isinstance(value, list) else [value]
    return all(_is_email(p) or str(p).isdigit() for p in people)


_KIND_CHECKS: dict[str, Callable[[Any], bool]] = {
    "email": _is_email,
    "people": _is_person,
    "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "numbers": _is_number,
    "checkbox": lambda v: isinstance(v, bool),
    "date": lambda v: _is_date(v),
    "multipleSelects": lambda v: isinstance(v, list),
    **dict.fromkeys(
        (
            "url",
            "link",
            "singleLineText",
            "multilineText",
            "text",
            "long_text",
            "singleSelect",
            "status",
            "phoneNumber",
            "richText",
        ),
        _is_text,
    ),
}
"""Whether a field of each type takes a value of this kind (not whether the value is valid)."""


def _is_date(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        date.fromisoformat(value[:10])
    except ValueError:
        return False
    return True
