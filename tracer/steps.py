"""The handoff between steps, as the tracer sees it.

A pipeline step is a Temporal activity that takes one :class:`StepCall` and returns one
:class:`StepReturn`. The capture interceptor recognises these and records the step id,
index and op, the evaluated arguments (the input handoff), the output (the next
handoff) and the external writes with their before/after images. An activity with other
arguments is still captured, under its activity type, with step-level lineage only.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class WriteImage(BaseModel):
    """One external object a step wrote, before and after (tool-agnostic)."""

    model_config = ConfigDict(frozen=True)

    tool: str
    kind: str
    container: str
    object_id: str
    action: str
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None


class StepCall(BaseModel):
    """The input of one step: who calls it, and the handoff it receives."""

    model_config = ConfigDict(frozen=True)

    run_id: str
    pipeline: str
    pipeline_version: str
    step_id: str
    step_index: int = Field(ge=0)
    op: str
    args: dict[str, Any] = Field(default_factory=dict)
    step: dict[str, Any] = Field(
        default_factory=dict, description="the step's spec, for ops that interpret it"
    )


class StepReturn(BaseModel):
    """The output of one step (the next handoff) and what it wrote."""

    model_config = ConfigDict(frozen=True)

    output: Any = None
    writes: list[WriteImage] = Field(default_factory=list)
    retries: list[dict[str, Any]] = Field(
        default_factory=list,
        description="tool calls retried inside this attempt (tool, operation, why, the wait)",
    )
