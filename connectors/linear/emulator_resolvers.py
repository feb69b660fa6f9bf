"""The emulator's resolvers: Linear's queries and mutations over the in-memory store.

One :class:`Resolvers` object is the GraphQL root value of one request, so it carries that
request's data faults. graphql-core's default resolver calls ``Resolvers.<root field>``
with the field's arguments under their GraphQL names (``filter``, ``input``…).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from graphql import GraphQLResolveInfo

from connectors.linear.emulator_errors import entity_not_found, invalid_input
from connectors.linear.emulator_faults import SERVICE, RequestFaults, present
from connectors.linear.emulator_schema import DEFAULT_PAGE_SIZE
from connectors.linear.emulator_state import LinearStore, StoredIssue, connection
from connectors.sandbox.faults import FaultEngine
from connectors.sandbox.webhooks import LinearHooks

MAX_PAGE_SIZE = 250
_COMPARATORS = frozenset({"eq", "neq", "in", "nin"})

Info = GraphQLResolveInfo
Node = dict[str, Any]


class Resolvers:
    """Root value for one request: every Query and Mutation field of the schema."""

    def __init__(
        self,
        store: LinearStore,
        engine: FaultEngine,
        faults: RequestFaults,
        hooks: LinearHooks | None = None,
    ) -> None:
        self._store = store
        self._engine = engine
        self._faults = faults
        self._hidden = faults.hidden
        self._hooks = hooks

    # --- queries -------------------------------------------------------------------

    def issue(self, _info: Info, id: str) -> Node:
        return self._present(self._store.find_issue(id))

    def issues(
        self,
        _info: Info,
        first: int | None = None,
        after: str | None = None,
        filter: Node | None = None,
        includeArchived: bool | None = None,
    ) -> Node:
        views = [self._store.issue_view(i, self._hidden) for i in self._store.ordered_issues()]
        matching = [v for v in views if matches(v, filter)]
        return page(matching, first, after, lambda v: present(v, self._faults))

    def team(self, _info: Info, id: str) -> Node:
        if id not in (self._store.team["id"], self._store.team["key"]):
            raise entity_not_found("Team")
        return self._store.team

    def teams(self, _info: Info, first: int | None = None, after: str | None = None) -> Node:
        return page([self._store.team], first, after)

    def users(
        self,
        _info: Info,
        first: int | None = None,
        after: str | None = None,
        filter: Node | None = None,
    ) -> Node:
        users = [u for u in self._store.users.values() if matches(u, filter)]
        return page(users, first, after)

    def viewer(self, _info: Info) -> Node:
        return next(iter(self._store.users.values()))

    def workflowStates(
        self,
        _info: Info,
        first: int | None = None,
        after: str | None = None,
        filter: Node | None = None,
    ) -> Node:
        states = [s for s in self._store.list_states(self._hidden) if matches(s, filter)]
        return page(states, first, after)

    def issueLabels(self, _info: Info, first: int | None = None, after: str | None = None) -> Node:
        return page(self._store.list_labels(self._hidden), first, after)

    # --- mutations -----------------------------------------------------------------

    def issueCreate(self, _info: Info, input: Node) -> Node:
        issue = self._store.create_issue(self._unrename(input), self._hidden)
        self._deliver(issue, "create")
        return self._payload(self._present(issue))

    def webhookCreate(self, _info: Info, input: Node) -> Node:
        if self._hooks is None:
            raise ValueError("webhooks are not served by this emulator")
        webhook = self._hooks.create(str(input["url"]), input.get("secret"))
        return {"success": True, "lastSyncId": float(self._store.last_sync_id), "webhook": webhook}

    def issueUpdate(self, _info: Info, id: str, input: Node) -> Node:
        issue = self._store.find_issue(id)
        before = self._store.issue_view(issue, self._hidden)
        edit = self._engine.fire(SERVICE, ["concurrent_edit"], operation="issueUpdate")
        if edit is not None and edit.when == "before_write":
            self._store.person_edit(issue, edit.target or "", edit.value)
        self._store.update_issue(issue, self._unrename(input), self._hidden)
        result = self._payload(self._present(issue))
        if edit is not None and edit.when == "after_write":
            self._store.person_edit(issue, edit.target or "", edit.value)
        after = self._store.issue_view(issue, self._hidden)
        changed = {k: v for k, v in before.items() if after.get(k) != v}
        self._deliver(issue, "update", changed)
        return result

    def _deliver(self, issue: StoredIssue, action: str, updated_from: Node | None = None) -> None:
        """Tell the registered webhooks (Linear's ``EntityWebhookPayload``, signed)."""
        if self._hooks is not None:
            data = self._store.issue_view(issue, self._hidden)
            self._hooks.changed(data, action, updated_from)

    # --- helpers -------------------------------------------------------------------

    def _present(self, issue: StoredIssue) -> Node:
        return present(self._store.issue_view(issue, self._hidden), self._faults)

    def _payload(self, issue: Node) -> Node:
        return {"success": True, "lastSyncId": float(self._store.last_sync_id), "issue": issue}

    def _unrename(self, data: Node) -> Node:
        """Input under a renamed field (``rename_field``) is stored under the real name."""
        back = {new: old for old, new in self._faults.drift.renamed}
        return {back.get(key, key): value for key, value in data.items()}


def page(
    nodes: list[Node],
    first: int | None,
    after: str | None,
    show: Callable[[Node], Node] = lambda node: node,
) -> Node:
    """One page of ``nodes`` after the cursor ``after`` (a node id)."""
    size = DEFAULT_PAGE_SIZE if first is None else first
    if not 0 <= size <= MAX_PAGE_SIZE:
        raise invalid_input("first", f"first must be between 0 and {MAX_PAGE_SIZE}")
    start = 0
    if after is not None:
        ids = [node["id"] for node in nodes]
        if after not in ids:
            raise invalid_input("after", "after is not a cursor of this connection")
        start = ids.index(after) + 1
    chunk = nodes[start : start + size]
    return connection([show(n) for n in chunk], has_next=start + size < len(nodes))


def matches(node: Node | None, condition: Node | None) -> bool:
    """Whether ``node`` passes a Linear filter (nested objects, eq/neq/in/nin)."""
    if not condition:
        return True
    if node is None:
        return False
    for key, test in condition.items():
        if test is None:
            continue
        value = node.get(key)
        if _COMPARATORS & test.keys():
            if not _compare(value, test):
                return False
        elif not matches(value if isinstance(value, dict) else None, test):
            return False
    return True


def _compare(value: Any, test: Node) -> bool:
    for op, wanted in test.items():
        if wanted is None:
            continue
        if op == "eq" and value != wanted:
            return False
        if op == "neq" and value == wanted:
            return False
        if op == "in" and value not in wanted:
            return False
        if op == "nin" and value in wanted:
            return False
    return True
