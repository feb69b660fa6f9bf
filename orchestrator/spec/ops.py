"""The operations a pipeline step may name, and the arguments each one takes.

A spec is checked against this catalogue when it is loaded (unknown op, unknown
argument, missing required argument), and a step's evaluated arguments are validated by
the op's model before the activity runs. Values a step's arguments evaluate to come from
JMESPath, so the models accept plain JSON types.

The tool ops come from the tool registry (:mod:`orchestrator.tools.registry`), where each
is declared once; the two pure ops (``transform`` and ``qc.review``) are declared here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import Field

from orchestrator.config.settings import Tool
from orchestrator.tools.op import OpArgs
from orchestrator.tools.registry import ADAPTERS

TRANSFORM_OP = "transform"
QC_REVIEW_OP = "qc.review"


class QcReviewArgs(OpArgs):
    rubrics: list[str] | None = Field(default=None, description="rubric ids; all when null")
    planned: dict[str, dict[str, Any]] = Field(
        default_factory=dict, description="evaluated arguments of the steps not run yet"
    )


@dataclass(frozen=True)
class OpSpec:
    """One op: the tool it talks to (``None`` for pure ops) and its argument model."""

    name: str
    tool: Tool | None
    args: type[OpArgs] | None
    writes: bool
    summary: str


PURE_OPS = (
    OpSpec(TRANSFORM_OP, None, None, False, "build a new object from `map:` entries"),
    OpSpec(QC_REVIEW_OP, None, QcReviewArgs, False, "review the run with the QC rubrics"),
)

OPS: dict[str, OpSpec] = {
    **{
        op.name: OpSpec(op.name, tool, op.args, op.writes, op.summary)
        for tool, adapter in ADAPTERS.items()
        for op in adapter.ops
    },
    **{op.name: op for op in PURE_OPS},
}


def known_ops() -> list[str]:
    return sorted(OPS)
