"""What every connector write reports: the external object before and after it.

Rollback restores the before-image; the tracer stores both. A write that changed nothing
still reports itself (``action="unchanged"``), so an idempotent repeat is visible.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from connectors.errors import Tool

WriteAction = Literal["created", "updated", "unchanged", "deleted"]


class ExternalWrite(BaseModel):
    """One external object changed (or not) by one write.

    ``container`` locates the object inside the tool (``appX/Issues``, a board id, a
    channel id, a team key); ``kind`` names its type (``record``, ``item``, ``issue``,
    ``message``). Images are the tool's own view of the object, as plain JSON.
    """

    model_config = ConfigDict(frozen=True)

    tool: Tool
    kind: str
    container: str
    object_id: str
    action: WriteAction
    before: dict[str, Any] | None
    after: dict[str, Any] | None


def write_action(before: dict[str, Any] | None, after: dict[str, Any] | None) -> WriteAction:
    """Classify a write from its images."""
    if before is None and after is not None:
        return "created"
    if after is None:
        return "deleted"
    return "unchanged" if before == after else "updated"
