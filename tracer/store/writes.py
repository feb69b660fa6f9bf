"""What one write transaction of the trace store holds: :class:`Writes`.

The group committer merges the writes of many callers (attempts with their payloads,
runs starting with their trigger, runs finishing) into one ``Writes`` and the store
commits it in one transaction: payloads first (attempts and runs refer to them), then
new runs, attempts, run ends (a run's end may arrive in the same batch as its start),
and finally the schemas a run depended on (recorded with its end).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from tracer.payloads import EncodedPayload
from tracer.store.records import AttemptRecord, NewRun, RunStatus

__all__ = ["RunFinish", "RunSchemaLink", "Writes"]


@dataclass(frozen=True)
class RunFinish:
    """A run's end: its final status, the step it failed at, when."""

    run_id: str
    status: RunStatus
    failed_step: str | None
    ended_at: datetime


@dataclass(frozen=True)
class RunSchemaLink:
    """A run's step depended on the schema stored as payload ``schema_hash``."""

    run_id: str
    step_id: str
    schema_hash: str


@dataclass
class Writes:
    """Rows for one transaction; every part is optional."""

    payloads: list[EncodedPayload] = field(default_factory=list)
    runs: list[NewRun] = field(default_factory=list)
    attempts: list[AttemptRecord] = field(default_factory=list)
    finishes: list[RunFinish] = field(default_factory=list)
    schemas: list[RunSchemaLink] = field(default_factory=list)

    @property
    def stored_size(self) -> int:
        return sum(p.stored_size for p in self.payloads)

    def describe(self) -> str:
        """Names what is written, for error messages."""
        parts = [f"attempt {a.key}" for a in self.attempts]
        parts += [f"start of run {r.run_id}" for r in self.runs]
        parts += [f"end of run {f.run_id}" for f in self.finishes]
        parts += [f"schemas of run {r}" for r in dict.fromkeys(s.run_id for s in self.schemas)]
        return ", ".join(parts) or "payloads"

    @classmethod
    def merged(cls, many: Iterable[Writes]) -> Writes:
        out = cls()
        for writes in many:
            out.payloads += writes.payloads
            out.runs += writes.runs
            out.attempts += writes.attempts
            out.finishes += writes.finishes
            out.schemas += writes.schemas
        return out
