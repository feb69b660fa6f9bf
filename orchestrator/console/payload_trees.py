"""A run page's payloads as HTML trees, each made once per (payload, compared payload)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from markupsafe import Markup

from orchestrator.console.immutable import TREES
from orchestrator.console.json_tree import render_tree
from orchestrator.console.run_page import RunPage, changed_paths
from tracer.run_model import RecordedRun

__all__ = ["payload_trees"]


def payload_trees(page: RunPage, recorded: RecordedRun) -> dict[str, dict[str, Markup]]:
    """Each step's input and output as HTML trees, the compared side with its changes
    against the last good run highlighted (:data:`~orchestrator.console.immutable.TREES`
    keeps them: a payload and the one it is compared with never change)."""
    trees: dict[str, dict[str, Markup]] = {}
    for step in page.steps:
        sides = trees.setdefault(step.view.id, {})
        for side, digest in (("input", step.input_hash), ("output", step.output_hash)):
            if digest is None:
                continue
            other = step.compared_with if side == step.compared else None
            changed = changed_paths(step) if other is not None else None
            sides[side] = TREES.get_or_make((digest, other), _maker(recorded, digest, changed))
    return trees


def _maker(
    recorded: RecordedRun, digest: str, changed: dict[tuple[str | int, ...], Any] | None
) -> Callable[[], Markup]:
    """Render the tree only when it is not kept: decoding the payload is part of the cost."""
    return lambda: render_tree(recorded.payload(digest), changed=changed)
