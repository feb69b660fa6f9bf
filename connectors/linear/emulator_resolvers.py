"""The emulator's root fields: Linear's queries over the in-memory store.

One :class:`Resolvers` object is the GraphQL root value of one request, so it carries that
request's data faults. :func:`.emulator_defaults.resolve_field` calls
``Resolvers.<root field>(info, **arguments)`` under the GraphQL names (``filter``,
``orderBy``…); a root field with no method here resolves to its empty default. The
mutations live in :class:`.emulator_mutations.Mutations`, which this class extends.
"""

from __future__ import annotations

from typing import Any

from graphql import GraphQLResolveInfo

from connectors.linear.emulator_errors import entity_not_found
from connectors.linear.emulator_faults import RequestFaults
from connectors.linear.emulator_mutations import Mutations
from connectors.linear.emulator_query import Node, select
from connectors.linear.emulator_state import LinearStore
from connectors.sandbox.faults import FaultEngine
from connectors.sandbox.webhooks import LinearHooks

Info = GraphQLResolveInfo


class Resolvers(Mutations):
    """Root value for one request: the modelled Query and Mutation fields."""

    def __init__(
        self,
        store: LinearStore,
        engine: FaultEngine,
        faults: RequestFaults,
        hooks: LinearHooks | None = None,
    ) -> None:
        super().__init__(store, engine, faults, hooks)

    # --- issues --------------------------------------------------------------------

    def issue(self, _info: Info, id: str) -> Node:
        return self.views.issue(self.store.find_issue(id))

    def issues(self, _info: Info, **args: Any) -> Node:
        return select(self.views.issues(), args, self.views.shown)

    # --- the workspace -------------------------------------------------------------

    def team(self, _info: Info, id: str) -> Node:
        if id not in (self.store.team["id"], self.store.team["key"]):
            raise entity_not_found("Team")
        return self.views.team()

    def teams(self, _info: Info, **args: Any) -> Node:
        return select([self.views.team()], args)

    def workflowState(self, _info: Info, id: str) -> Node:
        state = next((s for s in self.store.list_states(self.hidden) if s["id"] == id), None)
        if state is None:
            raise entity_not_found("WorkflowState")
        return self.views.state(state)

    def workflowStates(self, _info: Info, **args: Any) -> Node:
        states = [self.views.state(s) for s in self.store.list_states(self.hidden)]
        return select(states, args)

    def issueLabel(self, _info: Info, id: str) -> Node:
        label = next((x for x in self.store.list_labels(self.hidden) if x["id"] == id), None)
        if label is None:
            raise entity_not_found("IssueLabel")
        return self.views.label(label)

    def issueLabels(self, _info: Info, **args: Any) -> Node:
        return select([self.views.label(x) for x in self.store.list_labels(self.hidden)], args)

    def user(self, _info: Info, id: str) -> Node:
        if id not in self.store.users:
            raise entity_not_found("User")
        return self.views.user(self.store.users[id])

    def users(self, _info: Info, **args: Any) -> Node:
        return select([self.views.user(u) for u in self.store.users.values()], args)

    def viewer(self, _info: Info) -> Node:
        return self.views.user(self.store.users[self.views.viewer_id()])

    def organization(self, _info: Info) -> Node:
        return self.views.organization()

    # --- comments, projects, webhooks ----------------------------------------------

    def comment(self, _info: Info, id: str | None = None, **_args: Any) -> Node:
        if id is None or id not in self.store.comments:
            raise entity_not_found("Comment")
        return self.views.comment_by_id(id)

    def comments(self, _info: Info, **args: Any) -> Node:
        return select([self.views.comment(c) for c in self.store.comments.values()], args)

    def project(self, _info: Info, id: str) -> Node:
        if id not in self.store.projects:
            raise entity_not_found("Project")
        return self.views.project(self.store.projects[id])

    def projects(self, _info: Info, **args: Any) -> Node:
        return select([self.views.project(p) for p in self.store.projects.values()], args)

    def webhook(self, _info: Info, id: str) -> Node:
        if id not in self.store.webhooks:
            raise entity_not_found("Webhook")
        return self.views.webhook(self.store.webhooks[id])

    def webhooks(self, _info: Info, **args: Any) -> Node:
        return select([self.views.webhook(w) for w in self.store.webhooks.values()], args)
