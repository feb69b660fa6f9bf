"""``steptrace show RUN --step S --payload in|out|writes``: one recorded handoff.

Payloads are redacted when stored (DESIGN §4), so what is printed is what the store
holds; this module only picks the step and the part.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tracer.run_model import read_run
from tracer.store.records import RunRecord

if TYPE_CHECKING:
    from tracer.store.reader import RunSource

PARTS = ("in", "out", "writes")


class PayloadViewError(ValueError):
    """No such step or part; the message names the choices."""


def step_payload(store: RunSource, run: RunRecord, step_id: str, part: str) -> Any:
    if part not in PARTS:
        raise PayloadViewError(f"--payload {part!r}: choose one of {', '.join(PARTS)}")
    recorded = read_run(store, run)
    step = recorded.step(step_id)
    if step is None:
        known = ", ".join(s.step_id for s in recorded.steps) or "none recorded"
        raise PayloadViewError(f"run {run.run_id} has no step {step_id!r} (steps: {known})")
    if part == "in":
        return recorded.input(step)
    if part == "out":
        return recorded.output(step)
    return [image.model_dump(mode="json") for image in recorded.writes(step)]
