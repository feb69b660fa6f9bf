"""The handoff shapes: what each op's output looks like to the steps after it.

Plain JSON with stable, snake_case names, independent of the tools' wire formats, so a
pipeline's JMESPath expressions (``fetch_issue.assignee.email``) read the same whether
the data came from the real API or the sandbox.
"""

from __future__ import annotations

from typing import Any

from connectors.linear.models import Issue
from connectors.monday.models import Board, Item
from connectors.slack.models import MessageWriteResult


def issue_output(issue: Issue) -> dict[str, Any]:
    """A Linear issue as the next step sees it."""
    return {
        "id": issue.id,
        "identifier": issue.identifier,
        "title": issue.title,
        "description": issue.description,
        "priority": int(issue.priority),
        "priority_label": issue.priority_label,
        "due_date": issue.due_date.isoformat() if issue.due_date else None,
        "url": issue.url,
        "state": {"name": issue.state.name, "type": issue.state.type},
        "assignee": (
            {"name": issue.assignee.name, "email": issue.assignee.email} if issue.assignee else None
        ),
        "labels": list(issue.labels),
        "team": issue.team_key,
        "updated_at": issue.updated_at.isoformat(),
    }


def record_output(record_id: str, fields: dict[str, Any]) -> dict[str, Any]:
    """An Airtable record: its id and its fields by name."""
    return {"id": record_id, "fields": dict(fields)}


def item_output(board: Board, item: Item) -> dict[str, Any]:
    """A Monday item with its column values by column title, as their display text."""
    titles = {column.id: column.title for column in board.columns}
    values = {
        titles.get(column_id, column_id): value.label if value.label is not None else value.text
        for column_id, value in item.column_values.items()
    }
    return {
        "id": item.id,
        "name": item.name,
        "group": item.group.title if item.group else None,
        "values": values,
    }


def message_output(result: MessageWriteResult) -> dict[str, Any]:
    """A posted Slack message: where it is and what it says."""
    message = result.message
    return {
        "channel": result.channel,
        "ts": result.ts,
        "text": message.text if message else None,
        "thread_ts": message.thread_ts if message else None,
    }
