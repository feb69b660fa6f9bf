"""Small helpers shared by the Linear connector tests."""

from __future__ import annotations

from typing import Any

from connectors.sandbox.faults import Fault
from connectors.sandbox.server import Sandbox

TOKEN = "lin_api_steptrace_test"


def fault(kind: str, **fields: Any) -> Fault:
    """A Linear fault."""
    return Fault.model_validate({"service": "linear", "kind": kind, **fields})


def stored_issues(sandbox: Sandbox) -> list[dict[str, Any]]:
    """The issues the emulator holds, as JSON (what is stored, not what the API shows)."""
    issues: list[dict[str, Any]] = sandbox.state("linear")["issues"]
    return issues
