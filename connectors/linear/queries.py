"""The GraphQL documents the Linear client sends (Linear's real schema names).

Linear refuses a query estimated above 10,000 complexity points, and counts a connection
without ``first`` as 50 nodes; so the nested ``labels`` connection is bounded, which keeps
a page of 250 issues (the largest page) under the ceiling.
"""

from __future__ import annotations

ISSUE_FIELDS = """
fragment IssueFields on Issue {
  id identifier number title description priority priorityLabel dueDate url
  createdAt updatedAt
  state { id name type }
  assignee { id name email }
  labels(first: 20) { nodes { id name } }
  labelIds
  team { id key name }
}
"""

ISSUE = (
    """
query Issue($id: String!) {
  issue(id: $id) { ...IssueFields }
}
"""
    + ISSUE_FIELDS
)

ISSUES = (
    """
query Issues($first: Int, $after: String, $filter: IssueFilter) {
  issues(first: $first, after: $after, filter: $filter) {
    nodes { ...IssueFields }
    pageInfo { hasNextPage endCursor }
  }
}
"""
    + ISSUE_FIELDS
)

ISSUE_CREATE = (
    """
mutation IssueCreate($input: IssueCreateInput!) {
  issueCreate(input: $input) { success lastSyncId issue { ...IssueFields } }
}
"""
    + ISSUE_FIELDS
)

ISSUE_UPDATE = (
    """
mutation IssueUpdate($id: String!, $input: IssueUpdateInput!) {
  issueUpdate(id: $id, input: $input) { success lastSyncId issue { ...IssueFields } }
}
"""
    + ISSUE_FIELDS
)

TEAMS = """
query Teams($first: Int, $after: String) {
  teams(first: $first, after: $after) {
    nodes { id key name }
    pageInfo { hasNextPage endCursor }
  }
}
"""

USERS = """
query Users($first: Int, $after: String) {
  users(first: $first, after: $after) {
    nodes { id name email }
    pageInfo { hasNextPage endCursor }
  }
}
"""

WORKFLOW_STATES = """
query WorkflowStates($first: Int, $after: String, $filter: WorkflowStateFilter) {
  workflowStates(first: $first, after: $after, filter: $filter) {
    nodes { id name type }
    pageInfo { hasNextPage endCursor }
  }
}
"""

ISSUE_LABELS = """
query IssueLabels($first: Int, $after: String) {
  issueLabels(first: $first, after: $after) {
    nodes { id name }
    pageInfo { hasNextPage endCursor }
  }
}
"""
