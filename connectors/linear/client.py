"""The Linear connector: an async client for Linear's GraphQL API (or the sandbox's).

Configured by base URL and key only and handed its ``httpx.AsyncClient``, so the same code
talks to ``https://api.linear.app`` or to the emulator. It never retries: every failure
is a :mod:`connectors.errors` class (see :mod:`.error_map`), and the caller decides.

Writes report the issue's before- and after-image (:class:`connectors.writes.ExternalWrite`):
``issueUpdate`` does not return the old issue, so the client reads it first.
:meth:`LinearClient.upsert_issue` is idempotent on a natural key: the issue id is the
uuid5 of the key, sent as ``issueCreate``'s client-supplied ``id``, so a retry after a
timeout finds the issue the first attempt created instead of making a second one.

Names (team key, state name, assignee email, label names) are resolved to ids from
Linear's own lists, fetched once per client.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx

from connectors.errors import InvalidValueError, NotFoundError
from connectors.http import parse_json, send
from connectors.linear import queries
from connectors.linear.error_map import TOOL, data_or_raise, mutation_failed, parse_wire
from connectors.linear.models import (
    Issue,
    IssueCreate,
    IssuePage,
    IssueUpdate,
    IssueWriteResult,
    Label,
    Team,
    User,
    WireConnection,
    WireIssue,
    WorkflowState,
)
from connectors.retry import DEFAULT_POLICY, RetryPolicy, is_graphql_mutation, retrying
from connectors.writes import ExternalWrite, write_action

DEFAULT_BASE_URL = "https://api.linear.app"
LIST_PAGE_SIZE = 250
# A page of full issues above this is over Linear's per-query complexity ceiling.
MAX_ISSUE_PAGE = 100
# Fixed forever: changing it would give every natural key a new issue id.
UPSERT_NAMESPACE = uuid.UUID("6f0b3c1e-4a51-5d2f-9c3e-7a1d2b4c5e60")


@dataclass
class _Catalog:
    """Name → id maps for one workspace, read once per client."""

    teams: dict[str, Team]
    states: dict[tuple[str, str], WorkflowState]
    users: dict[str, User]
    labels: dict[str, Label]


class LinearClient:
    """Linear's issues, users, workflow states and labels, with typed inputs and outputs."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        base_url: str = DEFAULT_BASE_URL,
        token: str,
        retry: RetryPolicy = DEFAULT_POLICY,
    ) -> None:
        self._http = http
        self._url = base_url.rstrip("/") + "/graphql"
        self._token = token
        self._retry = retry
        self._catalog: _Catalog | None = None

    @staticmethod
    def issue_id_for(key: str) -> str:
        """The issue id ``upsert_issue`` uses for natural key ``key``."""
        return str(uuid.uuid5(UPSERT_NAMESPACE, key))

    # --- reads ---------------------------------------------------------------------

    async def get_issue(self, id_or_identifier: str) -> Issue:
        """One issue by UUID or identifier (``ENG-123``); NotFoundError if none."""
        raw = await self._read_raw(id_or_identifier, "get_issue")
        return _issue(raw, "get_issue")

    async def list_issues(
        self, team_key: str | None = None, first: int = 50, after: str | None = None
    ) -> IssuePage:
        """One page of issues (Linear's order: oldest first), optionally of one team.

        At most :data:`MAX_ISSUE_PAGE` issues: a larger page of full issues is over
        Linear's 10,000-point ceiling for one query, which refuses it outright.
        """
        if not 1 <= first <= MAX_ISSUE_PAGE:
            raise ValueError(
                f"linear.list_issues: first={first} is outside 1..{MAX_ISSUE_PAGE}; Linear "
                "refuses larger pages of full issues as too complex - page with `after`"
            )
        variables: dict[str, Any] = {"first": first, "after": after}
        if team_key is not None:
            variables["filter"] = {"team": {"key": {"eq": team_key}}}
        data = await self._execute("list_issues", queries.ISSUES, variables)
        page = parse_wire(WireConnection, data.get("issues"), operation="list_issues")
        return IssuePage(
            issues=tuple(_issue(node, "list_issues") for node in page.nodes),
            has_next_page=page.pageInfo.hasNextPage,
            end_cursor=page.pageInfo.endCursor,
        )

    async def iter_issues(
        self, team_key: str | None = None, page_size: int = 50
    ) -> AsyncIterator[Issue]:
        """Every issue, page after page."""
        after: str | None = None
        while True:
            page = await self.list_issues(team_key, first=page_size, after=after)
            for issue in page.issues:
                yield issue
            if not page.has_next_page or page.end_cursor is None:
                return
            after = page.end_cursor

    async def list_teams(self) -> list[Team]:
        nodes = await self._all_nodes("list_teams", queries.TEAMS, "teams")
        return [parse_wire(Team, n, operation="list_teams") for n in nodes]

    async def list_users(self) -> list[User]:
        nodes = await self._all_nodes("list_users", queries.USERS, "users")
        return [parse_wire(User, n, operation="list_users") for n in nodes]

    async def list_workflow_states(self, team_key: str | None = None) -> list[WorkflowState]:
        """The workflow states, of one team when ``team_key`` is given."""
        variables = {"filter": {"team": {"key": {"eq": team_key}}}} if team_key else {}
        nodes = await self._all_nodes(
            "list_workflow_states", queries.WORKFLOW_STATES, "workflowStates", variables
        )
        return [parse_wire(WorkflowState, n, operation="list_workflow_states") for n in nodes]

    async def list_labels(self) -> list[Label]:
        nodes = await self._all_nodes("list_labels", queries.ISSUE_LABELS, "issueLabels")
        return [parse_wire(Label, n, operation="list_labels") for n in nodes]

    # --- writes --------------------------------------------------------------------

    async def create_issue(self, issue: IssueCreate) -> IssueWriteResult:
        """Create an issue (Linear picks its id)."""
        return await self._create(issue, None, "create_issue")

    async def update_issue(self, id_or_identifier: str, changes: IssueUpdate) -> IssueWriteResult:
        """Apply the fields set in ``changes``; reads the issue first for the before-image."""
        before = await self._read_raw(id_or_identifier, "update_issue")
        return await self._update(before, changes, "update_issue")

    async def upsert_issue(self, key: str, issue: IssueCreate) -> IssueWriteResult:
        """Create the issue for natural key ``key``, or bring the existing one up to date.

        Repeating it (after a timeout, say) never creates a second issue: the id is
        derived from ``key``, and only the fields that differ are updated.
        """
        issue_id = self.issue_id_for(key)
        before = await self._find_raw(issue_id, "upsert_issue")
        if before is None:
            try:
                return await self._create(issue, issue_id, "upsert_issue")
            except InvalidValueError as exc:
                if exc.field != "id":  # anything but "that id exists already"
                    raise
            before = await self._read_raw(issue_id, "upsert_issue")
        current = _issue(before, "upsert_issue")
        return await self._update(before, _changes(current, issue), "upsert_issue")

    async def _create(
        self, issue: IssueCreate, issue_id: str | None, operation: str
    ) -> IssueWriteResult:
        payload = await self._create_input(issue, operation)
        if issue_id is not None:
            payload["id"] = issue_id

        async def create() -> IssueWriteResult:
            data = await self._execute(operation, queries.ISSUE_CREATE, {"input": payload})
            return self._written(data.get("issueCreate"), None, issue.team_key, operation)

        async def landed() -> IssueWriteResult | None:
            # With our own id, a create behind a lost answer is found by that id.
            assert issue_id is not None
            found = await self._find_raw(issue_id, operation)
            return None if found is None else self._result(None, found, issue.team_key, operation)

        return await retrying(
            create,
            tool=TOOL,
            operation=operation,
            idempotent=False,
            reconcile=landed if issue_id is not None else None,
            policy=self._retry,
        )

    async def _update(
        self, before: dict[str, Any], changes: IssueUpdate, operation: str
    ) -> IssueWriteResult:
        team_key = str(before.get("team", {}).get("key", ""))
        payload = await self._update_input(changes, team_key, operation)
        if not payload:
            return self._result(before, before, team_key, operation)
        variables = {"id": before["id"], "input": payload}
        data = await self._execute(operation, queries.ISSUE_UPDATE, variables)
        return self._written(data.get("issueUpdate"), before, team_key, operation)

    def _written(
        self, payload: Any, before: dict[str, Any] | None, team_key: str, operation: str
    ) -> IssueWriteResult:
        if not isinstance(payload, dict) or not payload.get("success"):
            raise mutation_failed(operation, payload if isinstance(payload, dict) else {})
        after = payload.get("issue")
        if not isinstance(after, dict):
            raise mutation_failed(operation, payload)
        return self._result(before, after, team_key, operation)

    @staticmethod
    def _result(
        before: dict[str, Any] | None, after: dict[str, Any], team_key: str, operation: str
    ) -> IssueWriteResult:
        issue = _issue(after, operation)
        write = ExternalWrite(
            tool=TOOL,
            kind="issue",
            container=team_key or issue.team_key,
            object_id=issue.id,
            action=write_action(before, after),
            before=before,
            after=after,
        )
        return IssueWriteResult(issue=issue, write=write)

    # --- inputs: names to ids ------------------------------------------------------

    async def _create_input(self, issue: IssueCreate, operation: str) -> dict[str, Any]:
        catalog = await self._load_catalog()
        team = catalog.teams.get(issue.team_key)
        if team is None:
            raise _unknown("teamId", "team", issue.team_key, catalog.teams, operation)
        fields = issue.model_dump(include=issue.model_fields_set - {"team_key"})
        return {"teamId": team.id, **await self._linear_fields(fields, team.key, operation)}

    async def _update_input(
        self, changes: IssueUpdate, team_key: str, operation: str
    ) -> dict[str, Any]:
        fields = changes.model_dump(include=changes.model_fields_set)
        return await self._linear_fields(fields, team_key, operation)

    async def _linear_fields(
        self, fields: dict[str, Any], team_key: str, operation: str
    ) -> dict[str, Any]:
        """Our field names and values as Linear's input fields (names become ids)."""
        catalog = await self._load_catalog()
        out: dict[str, Any] = {}
        for name in ("title", "description", "priority"):
            if name in fields:
                out[name] = fields[name]
        if "due_date" in fields:
            out["dueDate"] = fields["due_date"].isoformat() if fields["due_date"] else None
        if fields.get("state") is not None:
            state = catalog.states.get((team_key, fields["state"]))
            if state is None:
                known = {n: s for (t, n), s in catalog.states.items() if t == team_key}
                raise _unknown("stateId", "workflow state", fields["state"], known, operation)
            out["stateId"] = state.id
        if "assignee_email" in fields:
            out["assigneeId"] = _user_id(catalog, fields["assignee_email"], operation)
        if fields.get("labels") is not None:
            out["labelIds"] = [_label_id(catalog, n, operation) for n in fields["labels"]]
        return out

    async def _load_catalog(self) -> _Catalog:
        if self._catalog is None:
            teams = await self.list_teams()
            states: dict[tuple[str, str], WorkflowState] = {}
            for team in teams:
                for state in await self.list_workflow_states(team.key):
                    states[(team.key, state.name)] = state
            self._catalog = _Catalog(
                teams={t.key: t for t in teams},
                states=states,
                users={u.email.lower(): u for u in await self.list_users()},
                labels={label.name: label for label in await self.list_labels()},
            )
        return self._catalog

    # --- transport -----------------------------------------------------------------

    async def _read_raw(self, id_or_identifier: str, operation: str) -> dict[str, Any]:
        data = await self._execute(operation, queries.ISSUE, {"id": id_or_identifier})
        raw = data.get("issue")
        if not isinstance(raw, dict):
            raise NotFoundError(
                f"no issue {id_or_identifier!r}", tool=TOOL, operation=operation, status=200
            )
        _issue(raw, operation)  # a node that does not fit the schema fails here, loudly
        return raw

    async def _find_raw(self, issue_id: str, operation: str) -> dict[str, Any] | None:
        try:
            return await self._read_raw(issue_id, operation)
        except NotFoundError:
            return None

    async def _all_nodes(
        self, operation: str, query: str, root: str, variables: dict[str, Any] | None = None
    ) -> list[dict[str, Any]]:
        nodes: list[dict[str, Any]] = []
        after: str | None = None
        while True:
            page_vars = {**(variables or {}), "first": LIST_PAGE_SIZE, "after": after}
            data = await self._execute(operation, query, page_vars)
            page = parse_wire(WireConnection, data.get(root), operation=operation)
            nodes.extend(page.nodes)
            if not page.pageInfo.hasNextPage or page.pageInfo.endCursor is None:
                return nodes
            after = page.pageInfo.endCursor

    async def _execute(
        self, operation: str, query: str, variables: dict[str, Any]
    ) -> dict[str, Any]:
        """One GraphQL call; a query (not a mutation) is retried inside the attempt."""

        async def once() -> dict[str, Any]:
            return await self._execute_once(operation, query, variables)

        idempotent = not is_graphql_mutation(query)
        return await retrying(
            once, tool=TOOL, operation=operation, idempotent=idempotent, policy=self._retry
        )

    async def _execute_once(
        self, operation: str, query: str, variables: dict[str, Any]
    ) -> dict[str, Any]:
        request = self._http.build_request(
            "POST",
            self._url,
            json={"query": query, "variables": variables},
            headers={"Authorization": self._token},
        )
        response = await send(self._http, request, tool=TOOL, operation=operation)
        body = parse_json(response, tool=TOOL, operation=operation)
        return data_or_raise(response, body, operation=operation)


def _issue(raw: Any, operation: str) -> Issue:
    return parse_wire(WireIssue, raw, operation=operation).to_issue()


def _changes(current: Issue, wanted: IssueCreate) -> IssueUpdate:
    """The fields of ``wanted`` (those it sets) that differ from ``current``."""
    now: dict[str, Any] = {
        "title": current.title,
        "description": current.description,
        "priority": current.priority,
        "due_date": current.due_date,
        "state": current.state.name,
        "assignee_email": current.assignee.email.lower() if current.assignee else None,
        "labels": tuple(sorted(current.labels)),
    }
    desired = wanted.model_dump(include=wanted.model_fields_set - {"team_key"})
    if desired.get("assignee_email"):
        desired["assignee_email"] = desired["assignee_email"].lower()
    if desired.get("labels") is not None:
        desired["labels"] = tuple(sorted(desired["labels"]))
    return IssueUpdate(**{k: v for k, v in desired.items() if now.get(k) != v})


def _user_id(catalog: _Catalog, email: str | None, operation: str) -> str | None:
    if email is None:
        return None
    user = catalog.users.get(email.lower())
    if user is None:
        raise _unknown("assigneeId", "user with email", email, catalog.users, operation)
    return user.id


def _label_id(catalog: _Catalog, name: str, operation: str) -> str:
    label = catalog.labels.get(name)
    if label is None:
        raise _unknown("labelIds", "label", name, catalog.labels, operation)
    return label.id


def _unknown(
    field: str, what: str, value: str, known: dict[str, Any], operation: str
) -> InvalidValueError:
    choices = ", ".join(sorted(known)) or "none"
    return InvalidValueError(
        f"no Linear {what} {value!r} (known: {choices})",
        tool=TOOL,
        operation=operation,
        field=field,
    )
