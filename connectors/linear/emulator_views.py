"""The modelled objects as Linear's API shows them, linked to each other.

A view is a plain dict (see :mod:`.emulator_defaults`): scalar fields, related objects as
nested views, and to-many fields as :class:`~.emulator_query.Related` so that
``team { issues(filter:, first:) }`` or ``issue { labels(first:) }`` page and filter like
the root connections. Related lists are built only when a query asks for them, so the
graph (issue → team → issues → …) costs nothing until it is walked.

Issue views pass through the request's data faults (:func:`.emulator_faults.present`)
unless built ``faulty=False`` — filters look at the stored truth, responses at the faulty
one, as with an upstream bug that garbles what it sends.
"""

from __future__ import annotations

from typing import Any

from connectors.linear.emulator_defaults import stub_id
from connectors.linear.emulator_faults import RequestFaults, present
from connectors.linear.emulator_query import Node, Related
from connectors.linear.emulator_records import StoredComment, StoredProject, StoredWebhook
from connectors.linear.emulator_state import ORGANIZATION_URL_KEY, LinearStore, StoredIssue


class Views:
    """Views of one store under one request's faults."""

    def __init__(self, store: LinearStore, faults: RequestFaults) -> None:
        self.store = store
        self.faults = faults
        self.hidden = faults.hidden

    # --- issues --------------------------------------------------------------------

    def issue(self, stored: StoredIssue, *, faulty: bool = True) -> Node:
        plain = self.store.issue_view(stored, self.hidden)
        shown = present(plain, self.faults) if faulty else plain
        view = {k: _related(v) for k, v in shown.items()}
        for key, extra in (("state", self._state_links), ("assignee", self._user_links)):
            if isinstance(view.get(key), dict):
                view[key] = {**extra(view[key]["id"]), **view[key]}
        if isinstance(view.get("team"), dict):
            view["team"] = {**self.team(), **view["team"]}
        project = self.store.projects.get(stored.project_id or "")
        view["project"] = self.project(project) if project else None
        view["projectId"] = stored.project_id
        view["trashed"] = stored.trashed
        view["comments"] = Related(
            lambda: [self.comment_by_id(c["id"]) for c in self._comments(stored)]
        )
        return view

    def shown(self, view: Node) -> Node:
        """An unfaulted issue view as the response shows it, under the request's faults."""
        return self.issue(self.store.issues[view["id"]])

    def related_issues(self, **where: Any) -> Related:
        """A to-many issue field: filtered on the stored truth, shown under the faults."""
        return Related(lambda: self.issues(where=where), self.shown)

    def issues(self, *, where: dict[str, Any] | None = None) -> list[Node]:
        """Every issue (archived ones too), unfaulted, in creation order."""
        wanted = where or {}
        return [
            self.issue(i, faulty=False)
            for i in self.store.ordered_issues()
            if all(getattr(i, k) == v for k, v in wanted.items())
        ]

    def _comments(self, stored: StoredIssue) -> list[Node]:
        return self.store.issue_comments(stored.id)

    # --- workspace objects ---------------------------------------------------------

    def team(self) -> Node:
        team_id = self.store.team["id"]
        return {
            **self.store.team,
            "issues": self.related_issues(),
            "states": Related(lambda: [self.state(s) for s in self.store.list_states(self.hidden)]),
            "labels": Related(lambda: [self.label(x) for x in self.store.list_labels(self.hidden)]),
            "members": Related(lambda: [self.user(u) for u in self.store.users.values()]),
            "projects": Related(
                lambda: [
                    self.project(p) for p in self.store.projects.values() if team_id in p.team_ids
                ]
            ),
            "webhooks": Related(
                lambda: [
                    self.webhook(w) for w in self.store.webhooks.values() if w.team_id == team_id
                ]
            ),
        }

    def state(self, state: Node) -> Node:
        return {**self._state_links(state["id"]), **state}

    def _state_links(self, state_id: str) -> Node:
        return {
            "team": self.team(),
            "issues": self.related_issues(state_id=state_id),
        }

    def label(self, label: Node) -> Node:
        label_id = label["id"]
        return {
            **label,
            "issues": Related(
                lambda: [v for v in self.issues() if label_id in v.get("labelIds", [])],
                self.shown,
            ),
        }

    def user(self, user: Node) -> Node:
        return {**self._user_links(user["id"]), **user}

    def _user_links(self, user_id: str) -> Node:
        return {
            "isMe": user_id == self.viewer_id(),
            "admin": user_id == self.viewer_id(),
            "teams": Related(lambda: [self.team()]),
            "assignedIssues": self.related_issues(assignee_id=user_id),
        }

    def viewer_id(self) -> str:
        return next(iter(self.store.users))

    def organization(self) -> Node:
        return {
            "__typename": "Organization",
            "id": stub_id("organization"),
            "name": "steptrace",
            "urlKey": ORGANIZATION_URL_KEY,
            "teams": Related(lambda: [self.team()]),
            "users": Related(lambda: [self.user(u) for u in self.store.users.values()]),
        }

    # --- comments, projects, webhooks ----------------------------------------------

    def comment(self, stored: StoredComment) -> Node:
        view = self.store.comment_view(stored)
        issue = self.store.issues.get(stored.issue_id)
        view["issue"] = self.issue(issue) if issue else None
        user = self.store.users.get(stored.user_id)
        view["user"] = self.user(user) if user else None
        return view

    def comment_by_id(self, comment_id: str) -> Node:
        return self.comment(self.store.comments[comment_id])

    def project(self, stored: StoredProject) -> Node:
        return {
            "__typename": "Project",
            "id": stored.id,
            "name": stored.name,
            "description": stored.description,
            "createdAt": stored.created_at,
            "updatedAt": stored.updated_at,
            "url": f"https://linear.app/{ORGANIZATION_URL_KEY}/project/{stored.id}",
            "teams": Related(lambda: [self.team()]),
            "issues": self.related_issues(project_id=stored.id),
        }

    def webhook(self, stored: StoredWebhook) -> Node:
        team = self.team() if stored.team_id else None
        return {
            "__typename": "Webhook",
            "id": stored.id,
            "url": stored.url,
            "label": stored.label,
            "enabled": stored.enabled,
            "resourceTypes": list(stored.resource_types),
            "allPublicTeams": stored.all_public_teams,
            "secret": stored.secret,
            "team": team,
            "creator": self.user(self.store.users[self.viewer_id()]),
            "createdAt": stored.created_at,
            "updatedAt": stored.updated_at,
        }


def _related(value: Any) -> Any:
    """A connection already in a view (labels, comments) as a pageable :class:`Related`."""
    if isinstance(value, dict) and isinstance(value.get("nodes"), list) and "pageInfo" in value:
        nodes = value["nodes"]
        return Related(lambda: nodes)
    return value
