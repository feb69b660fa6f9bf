"""Failure groups for the console: failed runs with the same fingerprint.

Until the insights reports land, a failure's fingerprint is the tuple
``(pipeline, onset step, fault class, failed step)`` — Sentry's idea of grouping events
by what broke and where, with our diagnosis supplying "where it started". A failed run
with no stored diagnosis yet groups under onset ``?`` and fault class ``undiagnosed``
(``steptrace why`` computes and stores one). The key is a short hash of the tuple, so a
group has a stable id for links.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from pydantic import BaseModel

from tracer.store import RunRecord

UNDIAGNOSED = "undiagnosed"
UNKNOWN_ONSET = "?"


class Fingerprint(BaseModel):
    pipeline: str
    onset_step: str
    fault_class: str
    failed_step: str

    @property
    def key(self) -> str:
        text = "\x1f".join((self.pipeline, self.onset_step, self.fault_class, self.failed_step))
        return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]

    @property
    def label(self) -> str:
        where = (
            f"at {self.failed_step}"
            if self.onset_step in (self.failed_step, UNKNOWN_ONSET)
            else f"started at {self.onset_step}, failed at {self.failed_step}"
        )
        return f"{self.pipeline}: {self.fault_class} {where}"


class FailureGroup(BaseModel):
    key: str
    label: str
    fingerprint: Fingerprint
    count: int
    first_seen: datetime
    last_seen: datetime
    latest_run_id: str


def fingerprint(run: RunRecord, diagnosis: Mapping[str, Any] | None) -> Fingerprint:
    """The fingerprint of a failed run, from its stored diagnosis body (if any)."""
    onset = (diagnosis or {}).get("onset_step") or UNKNOWN_ONSET
    fault = (diagnosis or {}).get("fault_class") or UNDIAGNOSED
    failed = run.failed_step or (diagnosis or {}).get("failed_step") or UNKNOWN_ONSET
    return Fingerprint(
        pipeline=run.pipeline, onset_step=str(onset), fault_class=str(fault), failed_step=failed
    )


def group(runs: Iterable[tuple[RunRecord, Mapping[str, Any] | None]]) -> list[FailureGroup]:
    """Failed runs grouped by fingerprint, the biggest group first."""
    groups: dict[str, FailureGroup] = {}
    for run, diagnosis in runs:
        found = fingerprint(run, diagnosis)
        known = groups.get(found.key)
        if known is None:
            groups[found.key] = FailureGroup(
                key=found.key,
                label=found.label,
                fingerprint=found,
                count=1,
                first_seen=run.started_at,
                last_seen=run.started_at,
                latest_run_id=run.run_id,
            )
            continue
        known.count += 1
        known.first_seen = min(known.first_seen, run.started_at)
        if run.started_at > known.last_seen:
            known.last_seen, known.latest_run_id = run.started_at, run.run_id
    return sorted(groups.values(), key=lambda g: (-g.count, g.label))
