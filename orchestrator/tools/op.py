"""What a tool adapter declares: its ops (arguments, handler) and how to undo its writes.

An op is the unit a pipeline step names (``airtable.upsert_record``). Each one is
declared once, in its tool's adapter module, as a :class:`ToolOp`; the spec's catalogue
(:mod:`orchestrator.spec.ops`), the step activities (:mod:`orchestrator.runtime.activities`)
and rollback's undo (:mod:`orchestrator.humanloop.rollback`) are all derived from
:data:`orchestrator.tools.registry.ADAPTERS`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

from pydantic import BaseModel, ConfigDict

from connectors.writes import ExternalWrite
from orchestrator.config.settings import Tool
from tracer.steps import StepCall, StepReturn, WriteImage

if TYPE_CHECKING:
    from orchestrator.tools.clients import ToolClients
    from orchestrator.tools.undo import Undoer


class OpArgs(BaseModel):
    """Base of every op's arguments: unknown arguments are errors."""

    model_config = ConfigDict(extra="forbid")


A = TypeVar("A", bound=OpArgs)
StepHandler = Callable[["ToolClients", StepCall], Awaitable[StepReturn]]
"""What an op does in one attempt: call the tool, return the handoff and the writes."""


@dataclass(frozen=True)
class ToolOp:
    """One op of a tool: its name, arguments, whether it writes, and its handler."""

    name: str
    args: type[OpArgs]
    writes: bool
    summary: str
    run: StepHandler


@dataclass(frozen=True)
class ToolAdapter:
    """Everything steptrace knows how to do with one tool."""

    tool: Tool
    ops: tuple[ToolOp, ...]
    undo: Undoer
    """Undo one recorded write of this tool (rollback); every tool that writes has one."""


def parse(model: type[A], call: StepCall) -> A:
    """The step's evaluated arguments, validated by the op's model."""
    return model.model_validate(call.args)


def images(*writes: ExternalWrite) -> list[WriteImage]:
    """A connector's writes as the trace records them."""
    return [WriteImage.model_validate(w.model_dump(mode="json")) for w in writes]
