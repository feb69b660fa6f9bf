"""Linear: the async GraphQL client, its models, and the sandbox emulator.

``LinearClient`` (:mod:`.client`) is what pipelines use; :mod:`.emulator` serves the same
API on loopback for tests and the demo.
"""

from connectors.linear.client import LinearClient
from connectors.linear.models import (
    Issue,
    IssueCreate,
    IssuePage,
    IssueUpdate,
    IssueWriteResult,
    Label,
    Team,
    User,
    WorkflowState,
)

__all__ = [
    "Issue",
    "IssueCreate",
    "IssuePage",
    "IssueUpdate",
    "IssueWriteResult",
    "Label",
    "LinearClient",
    "Team",
    "User",
    "WorkflowState",
]
