"""The emulator's modelled mutations: issues, comments, projects and webhooks.

Each validates its input the way Linear does (references must exist, a webhook needs an
http(s) URL and at least one resource type) and answers Linear's payload type
(``IssuePayload``, ``IssueArchivePayload``, ``CommentPayload``, ``DeletePayload``…).
Webhooks are registered (stored, listed, updated, deleted), and issues created or
updated are delivered to the enabled ones that take ``Issue`` events, signed as Linear
signs them (:class:`connectors.sandbox.webhooks.LinearHooks`). Any other mutation of
the schema is refused by :func:`.emulator_defaults.not_emulated`.
"""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import urlparse

from graphql import GraphQLError, GraphQLResolveInfo

from connectors.linear.emulator_errors import entity_not_found, invalid_input, reference_not_found
from connectors.linear.emulator_faults import SERVICE, RequestFaults
from connectors.linear.emulator_query import Node
from connectors.linear.emulator_records import StoredComment, StoredProject, StoredWebhook
from connectors.linear.emulator_state import LinearStore, StoredIssue
from connectors.linear.emulator_views import Views
from connectors.sandbox.faults import FaultEngine
from connectors.sandbox.seed import stable_uuid
from connectors.sandbox.webhooks import LinearHooks

Info = GraphQLResolveInfo

# The input fields each modelled mutation stores; any other field set is refused rather
# than dropped, so a write is never silently smaller in the sandbox than it would be live.
_ISSUE_INPUT = frozenset(
    {"id", "teamId", "title", "description", "priority", "estimate", "dueDate", "stateId"}
    | {"assigneeId", "labelIds", "addedLabelIds", "removedLabelIds", "projectId"}
)
_MODELLED_INPUT: dict[str, frozenset[str]] = {
    "IssueCreateInput": _ISSUE_INPUT,
    "IssueUpdateInput": _ISSUE_INPUT,
    "CommentCreateInput": frozenset({"id", "issueId", "body"}),
    "CommentUpdateInput": frozenset({"body"}),
    "ProjectCreateInput": frozenset({"id", "name", "description", "teamIds"}),
    "WebhookCreateInput": frozenset(
        {"id", "url", "label", "enabled", "resourceTypes", "teamId", "allPublicTeams", "secret"}
    ),
    "WebhookUpdateInput": frozenset({"url", "label", "enabled", "resourceTypes", "secret"}),
}


class Mutations:
    """The Mutation fields the emulator models."""

    def __init__(
        self,
        store: LinearStore,
        engine: FaultEngine,
        faults: RequestFaults,
        hooks: LinearHooks | None = None,
    ) -> None:
        self.store = store
        self.engine = engine
        self.faults = faults
        self.hidden = faults.hidden
        self.views = Views(store, faults)
        self.hooks = hooks

    # --- issues --------------------------------------------------------------------

    def issueCreate(self, _info: Info, input: Node) -> Node:
        issue = self.store.create_issue(self._modelled(input, "IssueCreateInput"), self.hidden)
        self._deliver(issue, "create")
        return self._payload("issue", self.views.issue(issue), changed=False)

    def issueUpdate(self, _info: Info, id: str, input: Node) -> Node:
        issue = self.store.find_issue(id)
        before = self.store.issue_view(issue, self.hidden)
        edit = self.engine.fire(SERVICE, ["concurrent_edit"], operation="issueUpdate")
        if edit is not None and edit.when == "before_write":
            self.store.person_edit(issue, edit.target or "", edit.value)
        self.store.update_issue(issue, self._modelled(input, "IssueUpdateInput"), self.hidden)
        result = self._payload("issue", self.views.issue(issue), changed=False)
        if edit is not None and edit.when == "after_write":
            self.store.person_edit(issue, edit.target or "", edit.value)
        after = self.store.issue_view(issue, self.hidden)
        self._deliver(issue, "update", {k: v for k, v in before.items() if after.get(k) != v})
        return result

    def _deliver(self, issue: StoredIssue, action: str, updated_from: Node | None = None) -> None:
        """Tell the registered webhooks (Linear's ``EntityWebhookPayload``, signed)."""
        if self.hooks is not None:
            self.hooks.changed(self.store.issue_view(issue, self.hidden), action, updated_from)

    def issueArchive(self, _info: Info, id: str, trash: bool | None = None) -> Node:
        issue = self.store.find_issue(id)
        if issue.archived_at is None:
            issue.archived_at = self.store.tick()
        issue.trashed = bool(trash)
        return self._payload("entity", self.views.issue(issue))

    def issueUnarchive(self, _info: Info, id: str) -> Node:
        issue = self.store.find_issue(id)
        issue.archived_at, issue.trashed = None, False
        return self._payload("entity", self.views.issue(issue))

    def issueDelete(self, _info: Info, id: str, permanentlyDelete: bool | None = None) -> Node:
        """Linear moves a deleted issue to the trash (archived, ``trashed``)."""
        issue = self.store.find_issue(id)
        view = self.views.issue(issue)
        if permanentlyDelete:
            del self.store.issues[issue.id]
        else:
            issue.archived_at, issue.trashed = self.store.tick(), True
            view = self.views.issue(issue)
        return self._payload("entity", view)

    # --- comments ------------------------------------------------------------------

    def commentCreate(self, _info: Info, input: Node) -> Node:
        input = self._modelled(input, "CommentCreateInput")
        if not input.get("issueId"):
            raise invalid_input("issueId", "issueId must be set to comment on an issue")
        try:
            issue = self.store.find_issue(input["issueId"])
        except GraphQLError:
            raise reference_not_found("Issue", "issueId") from None
        if not (input.get("body") or "").strip():
            raise invalid_input("body", "body should not be empty")
        now = self.store.tick()
        comment_id = self._new_id(input.get("id"), "comment", len(self.store.comments))
        self.store.comments[comment_id] = StoredComment(
            comment_id, issue.id, self.views.viewer_id(), input["body"], now, now
        )
        return self._payload("comment", self.views.comment_by_id(comment_id))

    def commentUpdate(self, _info: Info, id: str, input: Node) -> Node:
        comment = self._found(self.store.comments, id, "Comment")
        input = self._modelled(input, "CommentUpdateInput")
        if input.get("body") is not None:
            comment.body = input["body"]
            comment.updated_at = self.store.tick()
        return self._payload("comment", self.views.comment(comment))

    def commentDelete(self, _info: Info, id: str) -> Node:
        self._found(self.store.comments, id, "Comment")
        del self.store.comments[id]
        return self._payload("entityId", id)

    # --- projects ------------------------------------------------------------------

    def projectCreate(self, _info: Info, input: Node, **_args: Any) -> Node:
        input = self._modelled(input, "ProjectCreateInput")
        for team_id in input.get("teamIds") or []:
            if team_id != self.store.team["id"]:
                raise reference_not_found("Team", "teamIds")
        if not input.get("teamIds"):
            raise invalid_input("teamIds", "teamIds should not be empty")
        if not (input.get("name") or "").strip():
            raise invalid_input("name", "name should not be empty")
        now = self.store.tick()
        project_id = self._new_id(input.get("id"), "project", len(self.store.projects))
        self.store.projects[project_id] = StoredProject(
            project_id,
            input["name"],
            input.get("description") or "",
            list(input["teamIds"]),
            now,
            now,
        )
        return self._payload("project", self.views.project(self.store.projects[project_id]))

    # --- webhooks ----------------------------------------------

    def webhookCreate(self, _info: Info, input: Node) -> Node:
        input = self._modelled(input, "WebhookCreateInput")
        _check_url(input["url"])
        if not input.get("resourceTypes"):
            raise invalid_input("resourceTypes", "resourceTypes should not be empty")
        team_id = input.get("teamId")
        if team_id is not None and team_id != self.store.team["id"]:
            raise reference_not_found("Team", "teamId")
        if team_id is None and not input.get("allPublicTeams"):
            raise invalid_input("teamId", "teamId or allPublicTeams must be set")
        now = self.store.tick()
        webhook_id = self._new_id(input.get("id"), "webhook", len(self.store.webhooks))
        self.store.webhooks[webhook_id] = StoredWebhook(
            id=webhook_id,
            url=input["url"],
            label=input.get("label"),
            enabled=input.get("enabled", True) is not False,
            resource_types=list(input["resourceTypes"]),
            team_id=team_id,
            all_public_teams=bool(input.get("allPublicTeams")),
            secret=input.get("secret") or f"lin_wh_{uuid.UUID(webhook_id).hex}",
            created_at=now,
            updated_at=now,
        )
        return self._payload("webhook", self.views.webhook(self.store.webhooks[webhook_id]))

    def webhookUpdate(self, _info: Info, id: str, input: Node) -> Node:
        webhook = self._found(self.store.webhooks, id, "Webhook")
        input = self._modelled(input, "WebhookUpdateInput")
        if input.get("url") is not None:
            _check_url(input["url"])
            webhook.url = input["url"]
        for key, attribute in (("label", "label"), ("enabled", "enabled"), ("secret", "secret")):
            if input.get(key) is not None:
                setattr(webhook, attribute, input[key])
        if input.get("resourceTypes") is not None:
            webhook.resource_types = list(input["resourceTypes"])
        webhook.updated_at = self.store.tick()
        return self._payload("webhook", self.views.webhook(webhook))

    def webhookDelete(self, _info: Info, id: str) -> Node:
        self._found(self.store.webhooks, id, "Webhook")
        del self.store.webhooks[id]
        return self._payload("entityId", id)

    # --- helpers -------------------------------------------------------------------

    def _payload(self, key: str, value: Any, *, changed: bool = True) -> Node:
        """The mutation's payload; ``changed`` unless the store counted the change itself."""
        if changed:
            self.store.last_sync_id += 1
        return {"success": True, "lastSyncId": float(self.store.last_sync_id), key: value}

    def _found(self, table: dict[str, Any], id: str, entity: str) -> Any:
        if id not in table:
            raise entity_not_found(entity)
        return table[id]

    def _new_id(self, wanted: str | None, kind: str, count: int) -> str:
        if wanted is None:
            return stable_uuid(self.store.seed.seed, kind, count + 1)
        try:
            uuid.UUID(wanted)
        except ValueError:
            raise invalid_input("id", "id must be a UUID") from None
        return wanted

    def _modelled(self, data: Node, input_type: str) -> Node:
        """``data`` under its real field names; a set field the sandbox does not store is
        refused (``INVALID_INPUT`` naming it) instead of being dropped."""
        back = {new: old for old, new in self.faults.drift.renamed} if "Issue" in input_type else {}
        real = {back.get(key, key): value for key, value in data.items()}
        for key, value in real.items():
            if value is not None and key not in _MODELLED_INPUT[input_type]:
                raise invalid_input(
                    key,
                    f"the steptrace sandbox does not store {input_type}.{key}; "
                    "see docs/sandbox.md for what it models",
                )
        return real


def _check_url(url: str) -> None:
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise invalid_input("url", "url must be a URL address")
