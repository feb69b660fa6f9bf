"""Undoing one recorded write: the target, the result, and the rules every tool shares.

Each tool's adapter reads the object as the tool shows it now and hands three states to
:func:`settle` — now, ours (our after-image) and was (our before-image) — which decides
whether the undo may proceed, is already done, or would overwrite a person's later edit
(a **conflict**: left untouched and reported). What "the state" of an object is, and how
to put the before-image back, is the adapter's business.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, Field

from connectors.writes import ExternalWrite
from tracer.steps import WriteImage

if TYPE_CHECKING:
    from orchestrator.tools.clients import ToolClients

Outcome = Literal[
    "restored", "deleted", "already_undone", "conflict", "not_undoable", "unverified", "error"
]
DONE: frozenset[str] = frozenset({"restored", "deleted", "already_undone"})


class UndoTarget(WriteImage):
    """One recorded write to undo, with its images, and the step that made it."""

    step_id: str
    step_index: int
    position: int = Field(description="the write's place among its step's writes")


class UndoResult(BaseModel):
    """What happened to one object."""

    step_id: str
    tool: str
    kind: str
    container: str
    object_id: str
    action: str = Field(description="what our write did (created, updated, ...)")
    outcome: Outcome
    detail: str = ""
    verified: bool = False

    @property
    def done(self) -> bool:
        return self.outcome in DONE


Undone = tuple[UndoResult, list[ExternalWrite]]
Undoer = Callable[["ToolClients", UndoTarget], Awaitable[Undone]]


def undo_result(
    target: UndoTarget, outcome: Outcome, detail: str, verified: bool = False
) -> UndoResult:
    return UndoResult(
        step_id=target.step_id,
        tool=target.tool,
        kind=target.kind,
        container=target.container,
        object_id=target.object_id,
        action=target.action,
        outcome=outcome,
        detail=detail,
        verified=verified,
    )


def _differences(ours: dict[str, Any], now: dict[str, Any]) -> str:
    keys = sorted(k for k in set(ours) | set(now) if ours.get(k) != now.get(k))
    shown = [f"{k}: ours {ours.get(k)!r}, now {now.get(k)!r}" for k in keys[:5]]
    more = f" (and {len(keys) - 5} more)" if len(keys) > 5 else ""
    return "; ".join(shown) + more


def _conflict(target: UndoTarget, ours: dict[str, Any], now: dict[str, Any] | None) -> UndoResult:
    if now is None:
        why = "it was deleted after our write"
    else:
        why = f"it was changed after our write ({_differences(ours, now)})"
    return undo_result(target, "conflict", f"left untouched: {why}")


def settle(
    target: UndoTarget,
    now: dict[str, Any] | None,
    ours: dict[str, Any] | None,
    was: dict[str, Any] | None,
) -> UndoResult | None:
    """The result when no write is needed or allowed; ``None`` when the undo may proceed."""
    if target.action == "created":
        if now is None:
            return undo_result(target, "already_undone", "already gone", verified=True)
        if now != ours:
            return _conflict(target, ours or {}, now)
        return None
    if target.action != "updated" or was is None:
        return undo_result(target, "not_undoable", _not_undoable(target))
    if now is not None and now == was:
        return undo_result(target, "already_undone", "already shows its old values", verified=True)
    if now is None or now != ours:
        return _conflict(target, ours or {}, now)
    return None


def _not_undoable(target: UndoTarget) -> str:
    if target.action == "deleted":
        return f"our write deleted this {target.kind}; re-create it by hand from the before-image"
    return f"no before-image was recorded for this {target.kind}; restore it by hand"


def checked(target: UndoTarget, outcome: Outcome, verified: bool) -> UndoResult:
    """The result of an undo that was written, after reading the object back."""
    if verified:
        what = "deleted" if outcome == "deleted" else "restored to its before-image"
        return undo_result(target, outcome, f"{what}; read back and checked", verified=True)
    return undo_result(
        target, "unverified", f"{outcome}, but reading it back does not match the before-image"
    )
