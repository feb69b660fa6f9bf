"""The fault classes and fix kinds: one typed vocabulary for the whole product.

The classifier (:mod:`tracer.diagnose`) returns these, the diagnosis model stores them,
scenarios state them as ground truth and escalation policies key on them. Being
``Literal`` types, a misspelt class is a type error wherever it is written.
"""

from __future__ import annotations

from typing import Literal, get_args

FaultClass = Literal[
    "transient",
    "rate_limited",
    "auth",
    "upstream_schema_drift",
    "destination_schema_drift",
    "mapping_error",
    "invalid_source_data",
    "duplicate_write",
    "conflict",
    "payload_limit",
    "unknown",
]
"""Why a run failed (DESIGN §5.4)."""

FixKind = Literal["retry", "spec_patch", "data_patch", "credential", "escalate"]
"""What a proposed fix does (DESIGN §5.5)."""

FAULT_CLASSES: tuple[FaultClass, ...] = get_args(FaultClass)
FIX_KINDS: tuple[FixKind, ...] = get_args(FixKind)
