"""Linear: the ops a pipeline may name, and how a Linear write is undone.

Issues only. An updated issue gets its old fields back; an issue we created stays (the
Linear connector does not delete issues) and is reported for a person to archive.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import Field

from connectors.errors import NotFoundError
from connectors.linear.error_map import parse_wire
from connectors.linear.models import Issue, IssueCreate, IssueUpdate, WireIssue
from orchestrator.tools.clients import ToolClients
from orchestrator.tools.op import OpArgs, ToolAdapter, ToolOp, images, parse
from orchestrator.tools.shapes import issue_output
from orchestrator.tools.undo import Undone, UndoTarget, checked, settle, undo_result
from tracer.steps import StepCall, StepReturn


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


async def get_issue(clients: ToolClients, call: StepCall) -> StepReturn:
    args = parse(LinearGetIssueArgs, call)
    return StepReturn(output=issue_output(await clients.linear.get_issue(args.id)))


async def upsert_issue(clients: ToolClients, call: StepCall) -> StepReturn:
    args = parse(LinearUpsertIssueArgs, call)
    issue = IssueCreate(
        team_key=args.team,
        title=args.title,
        description=args.description,
        priority=args.priority,
        due_date=args.due_date,
        state=args.state,
        assignee_email=args.assignee_email,
        labels=tuple(args.labels) if args.labels else None,
    )
    result = await clients.linear.upsert_issue(args.key, issue)
    return StepReturn(output=issue_output(result.issue), writes=images(result.write))


# -- undo ---------------------------------------------------------------------------------

LINEAR_FIELDS = (
    "title",
    "description",
    "priority",
    "due_date",
    "state",
    "assignee_email",
    "labels",
)


def _issue_state(issue: Issue | None) -> dict[str, Any] | None:
    if issue is None:
        return None
    return {
        "title": issue.title,
        "description": issue.description,
        "priority": issue.priority,
        "due_date": issue.due_date,
        "state": issue.state.name,
        "assignee_email": issue.assignee.email.lower() if issue.assignee else None,
        "labels": tuple(sorted(issue.labels)),
    }


def _wire_issue(image: dict[str, Any] | None) -> Issue | None:
    return parse_wire(WireIssue, image, operation="rollback").to_issue() if image else None


async def undo_linear(clients: ToolClients, target: UndoTarget) -> Undone:
    if target.action == "created":
        name = (target.after or {}).get("identifier", target.object_id)
        return undo_result(
            target,
            "not_undoable",
            f"issue {name} was created by this run and is left in place: the Linear "
            "connector does not delete issues; archive it in Linear if it must go",
        ), []

    async def read() -> dict[str, Any] | None:
        try:
            return _issue_state(await clients.linear.get_issue(target.object_id))
        except NotFoundError:
            return None

    now = await read()
    ours = _issue_state(_wire_issue(target.after))
    was = _issue_state(_wire_issue(target.before))
    settled = settle(target, now, ours, was)
    if settled is not None:
        return settled, []
    assert now is not None, "a missing object is settled by settle()"
    assert was is not None
    changes = IssueUpdate(**{k: was[k] for k in LINEAR_FIELDS if was[k] != now[k]})
    written = await clients.linear.update_issue(target.object_id, changes)
    return checked(target, "restored", await read() == was), [written.write]


ADAPTER = ToolAdapter(
    tool="linear",
    ops=(
        ToolOp("linear.get_issue", LinearGetIssueArgs, False, "read one Linear issue", get_issue),
        ToolOp(
            "linear.upsert_issue",
            LinearUpsertIssueArgs,
            True,
            "create/update an issue",
            upsert_issue,
        ),
    ),
    undo=undo_linear,
)
