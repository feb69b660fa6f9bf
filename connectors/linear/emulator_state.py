"""The emulator's stored world: one team, its people, workflow states, labels and issues,
plus the comments, webhooks and projects written through the API (:mod:`.emulator_records`).

Seeded from :mod:`connectors.sandbox.seed` and kept in memory. Writes validate their input
the way Linear does (references must exist, priority 0–4, a title on create) and raise
Linear-shaped :class:`graphql.GraphQLError`s. Time is a logical clock that starts after
the newest seeded ``updatedAt`` and ticks one second per change, so the same requests
give the same timestamps.

``hidden_states``/``hidden_labels`` come from ``remove_option`` faults: the option is
treated as gone for this request (not listed, not accepted in writes) without being
deleted, so the fault can end with its run range.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from connectors.linear.emulator_errors import (
    entity_not_found,
    invalid_input,
    reference_not_found,
)
from connectors.linear.emulator_query import connection
from connectors.linear.emulator_records import StoredComment, StoredProject, StoredWebhook
from connectors.sandbox.seed import (
    LINEAR_LABELS,
    LINEAR_STATES,
    PRIORITY_LABELS,
    TEAM_KEY,
    SeedData,
    SeedIssue,
    stable_uuid,
)

ORGANIZATION_URL_KEY = "steptrace"
DEFAULT_STATE = "Triage"
TEAM_NAME = "Engineering"
_LABEL_COLORS = ("#eb5757", "#4ea7fc", "#f2994a", "#bb87fc", "#5e6ad2", "#26b5ce", "#4cb782")
_STATE_COLORS = {"triage": "#fc7840", "backlog": "#bec2c8", "unstarted": "#e2e2e2"}


def iso(moment: datetime) -> str:
    """Linear's DateTime format: UTC, milliseconds, ``Z``."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


@dataclass
class StoredIssue:
    """One issue as the emulator keeps it (ids, not nested objects)."""

    id: str
    identifier: str
    number: int
    title: str
    description: str | None
    priority: int
    due_date: str | None
    state_id: str
    assignee_id: str | None
    label_ids: list[str]
    created_at: str
    updated_at: str
    estimate: int | None = None
    archived_at: str | None = None
    trashed: bool = False
    project_id: str | None = None


@dataclass(frozen=True)
class Hidden:
    """Options removed by ``remove_option`` faults for one request, by name."""

    states: frozenset[str] = frozenset()
    labels: frozenset[str] = frozenset()


@dataclass
class LinearStore:
    """The in-memory Linear workspace."""

    seed: SeedData
    team: dict[str, Any] = field(init=False)
    users: dict[str, dict[str, Any]] = field(init=False)
    states: dict[str, dict[str, Any]] = field(init=False)
    labels: dict[str, dict[str, Any]] = field(init=False)
    issues: dict[str, StoredIssue] = field(init=False)
    comments: dict[str, StoredComment] = field(default_factory=dict)
    webhooks: dict[str, StoredWebhook] = field(default_factory=dict)
    projects: dict[str, StoredProject] = field(default_factory=dict)
    last_sync_id: int = 1000
    _clock: datetime = field(init=False)

    def __post_init__(self) -> None:
        seed = self.seed
        self.team = {"__typename": "Team", "id": seed.team_id, "key": TEAM_KEY, "name": TEAM_NAME}
        self.users = {
            p.linear_user_id: _user(p.linear_user_id, p.name, p.display_name, p.email)
            for p in seed.people
        }
        self.states = {
            s["id"]: s for s in (_state(seed, i, n, t) for i, (n, t) in enumerate(LINEAR_STATES))
        }
        self.labels = {
            lab["id"]: lab for lab in (_label(seed, i, n) for i, n in enumerate(LINEAR_LABELS))
        }
        self.issues = {i.id: self._seed_issue(i) for i in seed.issues}
        self._clock = max(i.updated_at for i in seed.issues) + timedelta(hours=1)

    def _seed_issue(self, seeded: SeedIssue) -> StoredIssue:
        return StoredIssue(
            id=seeded.id,
            identifier=seeded.identifier,
            number=seeded.number,
            title=seeded.title,
            description=seeded.description,
            priority=seeded.priority,
            due_date=seeded.due_date.isoformat() if seeded.due_date else None,
            state_id=self.state_named(seeded.state)["id"],
            assignee_id=self.seed.person(seeded.assignee).linear_user_id
            if seeded.assignee
            else None,
            label_ids=[self.label_named(n)["id"] for n in seeded.labels],
            created_at=iso(seeded.created_at),
            updated_at=iso(seeded.updated_at),
        )

    # --- lookups -------------------------------------------------------------------

    def state_named(self, name: str) -> dict[str, Any]:
        return next(s for s in self.states.values() if s["name"] == name)

    def label_named(self, name: str) -> dict[str, Any]:
        return next(lab for lab in self.labels.values() if lab["name"] == name)

    def find_issue(self, id_or_identifier: str) -> StoredIssue:
        """By UUID or by identifier (``ENG-123``, any case), like ``issue(id:)``."""
        issue = self.issues.get(id_or_identifier)
        if issue is None:
            wanted = id_or_identifier.upper()
            issue = next((i for i in self.issues.values() if i.identifier == wanted), None)
        if issue is None:
            raise entity_not_found("Issue")
        return issue

    def list_states(self, hidden: Hidden) -> list[dict[str, Any]]:
        return [s for s in self.states.values() if s["name"] not in hidden.states]

    def list_labels(self, hidden: Hidden) -> list[dict[str, Any]]:
        return [lab for lab in self.labels.values() if lab["name"] not in hidden.labels]

    def issue_comments(self, issue_id: str) -> list[dict[str, Any]]:
        """The comments on an issue, oldest first, as the API shows them."""
        found = [c for c in self.comments.values() if c.issue_id == issue_id]
        return [self.comment_view(c) for c in sorted(found, key=lambda c: c.created_at)]

    def comment_view(self, comment: StoredComment) -> dict[str, Any]:
        return {
            "__typename": "Comment",
            "id": comment.id,
            "body": comment.body,
            "createdAt": comment.created_at,
            "updatedAt": comment.updated_at,
            "url": f"https://linear.app/{ORGANIZATION_URL_KEY}/comment/{comment.id}",
            "user": self.users.get(comment.user_id),
            "userId": comment.user_id,
            "issueId": comment.issue_id,
        }

    def ordered_issues(self) -> list[StoredIssue]:
        return sorted(self.issues.values(), key=lambda i: (i.created_at, i.number))

    # --- views ---------------------------------------------------------------------

    def issue_view(self, issue: StoredIssue, hidden: Hidden) -> dict[str, Any]:
        """The issue as the API shows it: nested state, assignee, labels and team."""
        labels = [
            self.labels[i] for i in issue.label_ids if self.labels[i]["name"] not in hidden.labels
        ]
        return {
            "__typename": "Issue",
            "id": issue.id,
            "identifier": issue.identifier,
            "number": float(issue.number),
            "title": issue.title,
            "description": issue.description,
            "priority": float(issue.priority),
            "priorityLabel": PRIORITY_LABELS[issue.priority],
            "estimate": None if issue.estimate is None else float(issue.estimate),
            "dueDate": issue.due_date,
            "url": f"https://linear.app/{ORGANIZATION_URL_KEY}/issue/{issue.identifier}/"
            + _slug(issue.title),
            "createdAt": issue.created_at,
            "updatedAt": issue.updated_at,
            "archivedAt": issue.archived_at,
            "state": self.states[issue.state_id],
            "assignee": self.users.get(issue.assignee_id or ""),
            "labels": connection(labels, has_next=False),
            "comments": connection(self.issue_comments(issue.id), has_next=False),
            "labelIds": [lab["id"] for lab in labels],
            "team": self.team,
        }

    def snapshot(self) -> dict[str, Any]:
        everything = Hidden()
        return {
            "team": self.team,
            "users": list(self.users.values()),
            "workflowStates": self.list_states(everything),
            "issueLabels": self.list_labels(everything),
            "issues": [self.issue_view(i, everything) for i in self.ordered_issues()],
            "webhooks": [vars(w) | {"secret": None} for w in self.webhooks.values()],
            "projects": [vars(p) for p in self.projects.values()],
            "lastSyncId": self.last_sync_id,
        }

    # --- writes --------------------------------------------------------------------

    def create_issue(self, data: dict[str, Any], hidden: Hidden) -> StoredIssue:
        """``issueCreate``: validate ``data`` (an IssueCreateInput) and store the issue."""
        number = max(i.number for i in self.issues.values()) + 1
        issue_id = self._new_id(data.get("id"), number)
        if data["teamId"] not in (self.team["id"], self.team["key"]):
            raise reference_not_found("Team", "teamId")
        if not (data.get("title") or "").strip():
            raise invalid_input("title", "title should not be empty")
        now = self._tick()
        issue = StoredIssue(
            id=issue_id,
            identifier=f"{self.team['key']}-{number}",
            number=number,
            title="",
            description=None,
            priority=0,
            due_date=None,
            state_id=self._default_state(hidden),
            assignee_id=None,
            label_ids=[],
            created_at=now,
            updated_at=now,
        )
        self._apply(issue, data, hidden)
        self.issues[issue.id] = issue
        self.last_sync_id += 1
        return issue

    def update_issue(self, issue: StoredIssue, data: dict[str, Any], hidden: Hidden) -> bool:
        """``issueUpdate``: apply ``data`` (an IssueUpdateInput); say whether it changed."""
        if "title" in data and not (data["title"] or "").strip():
            raise invalid_input("title", "title should not be empty")
        before = _fields(issue)
        self._apply(issue, data, hidden)
        if _fields(issue) == before:
            return False
        issue.updated_at = self._tick()
        self.last_sync_id += 1
        return True

    def person_edit(self, issue: StoredIssue, target: str, value: Any) -> None:
        """Someone edits ``target`` in Linear's app (the ``concurrent_edit`` fault)."""
        if target in ("state", "stateId"):
            issue.state_id = self.state_named(str(value))["id"]
        elif target in ("assignee", "assigneeId"):
            issue.assignee_id = _person_id(self, value)
        elif target in ("labels", "labelIds"):
            names = [value] if isinstance(value, str) else list(value or [])
            issue.label_ids = [self.label_named(n)["id"] for n in names]
        else:
            attribute = {"dueDate": "due_date"}.get(target, target)
            setattr(issue, attribute, value)
        issue.updated_at = self._tick()
        self.last_sync_id += 1

    def _apply(self, issue: StoredIssue, data: dict[str, Any], hidden: Hidden) -> None:
        for key in ("title", "description", "dueDate", "estimate"):
            if key in data:
                setattr(issue, {"dueDate": "due_date"}.get(key, key), data[key])
        if data.get("priority") is not None:
            issue.priority = _priority(data["priority"])
        if "stateId" in data:
            issue.state_id = self._state_ref(data["stateId"], hidden)
        if "assigneeId" in data:
            issue.assignee_id = self._user_ref(data["assigneeId"])
        if "projectId" in data:
            if data["projectId"] is not None and data["projectId"] not in self.projects:
                raise reference_not_found("Project", "projectId")
            issue.project_id = data["projectId"]
        if data.get("labelIds") is not None:
            issue.label_ids = self._label_refs(data["labelIds"], "labelIds", hidden)
        added = self._label_refs(data.get("addedLabelIds") or [], "addedLabelIds", hidden)
        removed = set(
            self._label_refs(data.get("removedLabelIds") or [], "removedLabelIds", hidden)
        )
        labels = [i for i in [*issue.label_ids, *added] if i not in removed]
        issue.label_ids = list(dict.fromkeys(labels))

    def _state_ref(self, state_id: str | None, hidden: Hidden) -> str:
        state = self.states.get(state_id or "")
        if state is None or state["name"] in hidden.states:
            raise reference_not_found("WorkflowState", "stateId")
        return str(state["id"])

    def _user_ref(self, user_id: str | None) -> str | None:
        if user_id is None:
            return None
        if user_id not in self.users:
            raise reference_not_found("User", "assigneeId")
        return user_id

    def _label_refs(self, ids: Iterable[str], field_name: str, hidden: Hidden) -> list[str]:
        for label_id in ids:
            label = self.labels.get(label_id)
            if label is None or label["name"] in hidden.labels:
                raise reference_not_found("IssueLabel", field_name)
        return list(ids)

    def _new_id(self, wanted: str | None, number: int) -> str:
        if wanted is None:
            return stable_uuid(self.seed.seed, "issue", number)
        try:
            uuid.UUID(wanted)
        except ValueError:
            raise invalid_input("id", "id must be a UUID") from None
        if wanted in self.issues:
            raise invalid_input("id", "An issue with this id already exists.")
        return wanted

    def _default_state(self, hidden: Hidden) -> str:
        states = self.list_states(hidden)
        preferred = [s for s in states if s["name"] == DEFAULT_STATE] or states
        return str(preferred[0]["id"])

    def tick(self) -> str:
        """The logical clock's next second, for a change made now."""
        return self._tick()

    def _tick(self) -> str:
        self._clock += timedelta(seconds=1)
        return iso(self._clock)


def _priority(value: int) -> int:
    if value < 0:
        raise invalid_input("priority", "priority must not be less than 0")
    if value > 4:
        raise invalid_input("priority", "priority must not be greater than 4")
    return value


def _fields(issue: StoredIssue) -> tuple[Any, ...]:
    return (
        issue.title,
        issue.description,
        issue.priority,
        issue.due_date,
        issue.state_id,
        issue.assignee_id,
        tuple(issue.label_ids),
        issue.estimate,
        issue.project_id,
    )


def _person_id(store: LinearStore, value: Any) -> str | None:
    if value is None:
        return None
    for user in store.users.values():
        if value in (user["id"], user["email"], user["name"]):
            return str(user["id"])
    raise ValueError(f"concurrent_edit: no Linear user {value!r}")


def _user(user_id: str, name: str, display: str, email: str) -> dict[str, Any]:
    return {
        "__typename": "User",
        "id": user_id,
        "name": name,
        "displayName": display,
        "email": email,
        "active": True,
    }


def _state(seed: SeedData, index: int, name: str, kind: str) -> dict[str, Any]:
    return {
        "__typename": "WorkflowState",
        "id": stable_uuid(seed.seed, "state", name),
        "name": name,
        "type": kind,
        "color": _STATE_COLORS.get(kind, "#5e6ad2"),
        "position": float(index),
        "team": {"id": seed.team_id, "key": TEAM_KEY, "name": TEAM_NAME},
    }


def _label(seed: SeedData, index: int, name: str) -> dict[str, Any]:
    return {
        "__typename": "IssueLabel",
        "id": stable_uuid(seed.seed, "label", name),
        "name": name,
        "color": _LABEL_COLORS[index % len(_LABEL_COLORS)],
    }


def _slug(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:60]
