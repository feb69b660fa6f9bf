"""What the Linear connector takes and returns; Linear's raw JSON stays in here.

Public models (``Issue``, ``IssuePage``, ``IssueCreate``, ``IssueUpdate``,
``IssueWriteResult``, ``User``, ``WorkflowState``, ``Label``) use Python names and types.
The ``Wire*`` models read Linear's JSON **strictly**: a field that comes back as another
JSON type (a priority as ``"High"``, a due date as a full timestamp) fails validation
instead of being coerced, so upstream schema drift is loud and names the field.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from connectors.writes import ExternalWrite

Priority = Annotated[int, Field(ge=0, le=4)]
TimelessDate = Annotated[str, StringConstraints(pattern=r"^\d{4}-\d{2}-\d{2}$")]


# --- public models ---------------------------------------------------------------------


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class User(_Model):
    """A Linear user; ``email`` is the key shared with the other tools."""

    id: str
    name: str
    email: str


class WorkflowState(_Model):
    """A team's workflow state; ``type`` is Linear's category (``started``, ``completed``…)."""

    id: str
    name: str
    type: str


class Label(_Model):
    id: str
    name: str


class Team(_Model):
    id: str
    key: str
    name: str


class Issue(_Model):
    """One Linear issue, as the pipelines see it."""

    id: str
    identifier: str
    number: int
    title: str
    description: str | None
    priority: Priority
    priority_label: str
    due_date: dt.date | None
    url: str
    created_at: dt.datetime
    updated_at: dt.datetime
    state: WorkflowState
    assignee: User | None
    labels: tuple[str, ...]
    label_ids: tuple[str, ...]
    team_key: str


class IssuePage(_Model):
    """One page of ``issues``; pass ``end_cursor`` as ``after`` for the next."""

    issues: tuple[Issue, ...]
    has_next_page: bool
    end_cursor: str | None


class IssueCreate(_Model):
    """A new issue, by names: the client resolves team, state, assignee and labels to ids.

    Fields left out are not sent (Linear's defaults apply); ``upsert_issue`` compares only
    the fields given.
    """

    team_key: str = "ENG"
    title: str
    description: str | None = None
    priority: Priority | None = None
    due_date: dt.date | None = None
    state: str | None = None
    assignee_email: str | None = None
    labels: tuple[str, ...] | None = None


class IssueUpdate(_Model):
    """Changes to an issue; only the fields set are sent (``None`` clears a field)."""

    title: str | None = None
    description: str | None = None
    priority: Priority | None = None
    due_date: dt.date | None = None
    state: str | None = None
    assignee_email: str | None = None
    labels: tuple[str, ...] | None = None


class IssueWriteResult(_Model):
    """The issue after a write, and the write's before/after images."""

    issue: Issue
    write: ExternalWrite


# --- Linear's JSON, read strictly ------------------------------------------------------


class _Wire(BaseModel):
    model_config = ConfigDict(strict=True, extra="ignore", frozen=True)


class WireUser(_Wire):
    id: str
    name: str
    email: str


class WireState(_Wire):
    id: str
    name: str
    type: str


class WireLabel(_Wire):
    id: str
    name: str


class WireTeam(_Wire):
    id: str
    key: str
    name: str


class WireLabelConnection(_Wire):
    nodes: list[WireLabel]


class WireIssue(_Wire):
    """An ``Issue`` node as the client's queries select it."""

    id: str
    identifier: str
    number: float
    title: str
    description: str | None
    priority: float
    priorityLabel: str
    dueDate: TimelessDate | None
    url: str
    createdAt: dt.datetime = Field(strict=False)
    updatedAt: dt.datetime = Field(strict=False)
    state: WireState
    assignee: WireUser | None
    labels: WireLabelConnection
    labelIds: list[str]
    team: WireTeam

    @field_validator("dueDate")
    @classmethod
    def _calendar_date(cls, value: str | None) -> str | None:
        if value is not None:
            dt.date.fromisoformat(value)  # ValueError for 2026-02-31 and friends
        return value

    @field_validator("priority")
    @classmethod
    def _priority_level(cls, value: float) -> float:
        if value not in (0, 1, 2, 3, 4):
            raise ValueError("Linear priorities are 0 (none), 1 (urgent) … 4 (low)")
        return value

    def to_issue(self) -> Issue:
        return Issue(
            id=self.id,
            identifier=self.identifier,
            number=int(self.number),
            title=self.title,
            description=self.description,
            priority=int(self.priority),
            priority_label=self.priorityLabel,
            due_date=dt.date.fromisoformat(self.dueDate) if self.dueDate else None,
            url=self.url,
            created_at=self.createdAt,
            updated_at=self.updatedAt,
            state=WorkflowState(id=self.state.id, name=self.state.name, type=self.state.type),
            assignee=User(**self.assignee.model_dump()) if self.assignee else None,
            labels=tuple(label.name for label in self.labels.nodes),
            label_ids=tuple(self.labelIds),
            team_key=self.team.key,
        )


class WirePageInfo(_Wire):
    hasNextPage: bool
    endCursor: str | None


class WireConnection(_Wire):
    """Any connection; its nodes are read by their own model."""

    nodes: list[dict[str, Any]]
    pageInfo: WirePageInfo
