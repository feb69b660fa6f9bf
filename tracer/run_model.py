"""One read model of a recorded run: its steps, attempts, handoffs, writes and errors.

Everything that reads a run back — the diagnosis's snapshots, QC's evidence, replay's
reused outputs, rollback's plan, the CLI's timeline, the console — starts from
:class:`RecordedRun`, so "the steps of a run" means one thing everywhere: attempts grouped
by step, in step order (a hand-written workflow's activities, which carry no step index,
numbered in the order their first attempts started), the last attempt deciding a step's
status and handoff. Payloads are read from the store on demand and cached per run.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from tracer.steps import WriteImage
from tracer.store.records import (
    AttemptError,
    AttemptRecord,
    AttemptStatus,
    RunRecord,
    WriteRecord,
)

if TYPE_CHECKING:
    from tracer.store.reader import RunSource


@dataclass(frozen=True)
class RecordedStep:
    """One step of a run with all its attempts, oldest first."""

    step_id: str
    index: int
    attempts: tuple[AttemptRecord, ...]

    @property
    def last(self) -> AttemptRecord:
        return self.attempts[-1]

    @property
    def op(self) -> str:
        return self.last.op

    @property
    def status(self) -> AttemptStatus:
        return self.last.status

    @property
    def succeeded(self) -> bool:
        return self.last.status is AttemptStatus.SUCCEEDED

    @property
    def errors(self) -> tuple[AttemptError, ...]:
        return tuple(a.error for a in self.attempts if a.error is not None)


@dataclass
class RecordedRun:
    """A stored run read back: the run record and its steps in order."""

    store: RunSource
    run: RunRecord
    steps: tuple[RecordedStep, ...]
    _payloads: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def run_id(self) -> str:
        return self.run.run_id

    def step(self, step_id: str) -> RecordedStep | None:
        return next((s for s in self.steps if s.step_id == step_id), None)

    def payload(self, hash: str | None) -> Any:
        """A stored payload by hash (cached), ``None`` for no hash."""
        if hash is None:
            return None
        if hash not in self._payloads:
            self._payloads[hash] = self.store.get_payload(hash)
        return self._payloads[hash]

    def prefetch(self, hashes: Iterable[str | None]) -> None:
        """Read the payloads of ``hashes`` not cached yet in one store query (a caller
        about to show many handoffs saves a round trip per payload)."""
        missing = {h for h in hashes if h is not None and h not in self._payloads}
        self._payloads.update(self.store.get_payloads(missing))

    def handoff_hashes(self) -> set[str]:
        """Every payload the steps' last attempts received or returned, and the images
        of every attempt's writes."""
        found: set[str] = set()
        for step in self.steps:
            found.update(h for h in (step.last.input_hash, step.last.output_hash) if h)
            for attempt in step.attempts:
                for write in attempt.external_writes:
                    found.update(h for h in (write.before_hash, write.after_hash) if h)
        return found

    def trigger(self) -> Any:
        return self.payload(self.run.trigger_hash)

    def input(self, step: RecordedStep) -> Any:
        """The handoff the step's last attempt received."""
        return self.payload(step.last.input_hash)

    def output(self, step: RecordedStep) -> Any:
        """The handoff the step's last attempt returned (``None`` if it failed)."""
        return self.payload(step.last.output_hash)

    def writes(self, step: RecordedStep) -> Iterator[WriteImage]:
        """The step's external writes, every attempt's, oldest first, with their images."""
        for attempt in step.attempts:
            for write in attempt.external_writes:
                yield self.write_image(write)

    def write_image(self, write: WriteRecord) -> WriteImage:
        """A stored write with its before- and after-image read back."""
        return WriteImage(
            tool=write.tool,
            kind=write.object_kind,
            container=write.container or "",
            object_id=write.object_id,
            action=write.action,
            before=_image(self.payload(write.before_hash)),
            after=_image(self.payload(write.after_hash)),
        )

    def payload_sizes(self) -> dict[str, int]:
        """Stored sizes of the steps' input and output payloads, by hash."""
        hashes = {h for s in self.steps for a in s.attempts for h in (a.input_hash, a.output_hash)}
        return self.store.payload_sizes({h for h in hashes if h})


def _image(value: Any) -> dict[str, Any] | None:
    return value if isinstance(value, dict) else None


def read_run(
    store: RunSource, run: RunRecord | str, attempts: list[AttemptRecord] | None = None
) -> RecordedRun:
    """The run (a record, or any reference :func:`find_run` takes) with its steps
    (``attempts``: the run's, already read with :meth:`TraceStore.attempts_of`)."""
    record = run if isinstance(run, RunRecord) else find_run(store, run)
    if attempts is None:
        attempts = store.attempts(record.run_id)
    return RecordedRun(store, record, group_steps(attempts))


def group_steps(attempts: list[AttemptRecord]) -> tuple[RecordedStep, ...]:
    """Attempts grouped by step, in step order."""
    by_step: dict[str, list[AttemptRecord]] = {}
    for attempt in attempts:
        by_step.setdefault(attempt.step_id, []).append(attempt)
    steps = [
        RecordedStep(step_id, tries[0].step_index, tuple(sorted(tries, key=lambda a: a.attempt)))
        for step_id, tries in by_step.items()
    ]
    if any(step.index < 0 for step in steps):
        # Hand-written workflows: number the activities in the order they first ran.
        first = sorted(steps, key=lambda s: min(a.started_at for a in s.attempts))
        steps = [RecordedStep(s.step_id, i, s.attempts) for i, s in enumerate(first)]
    return tuple(sorted(steps, key=lambda s: s.index))


MIN_PREFIX = 4
"""The shortest id fragment looked up as a prefix (shorter ones name too many runs)."""


def find_run(store: RunSource, ref: str) -> RunRecord:
    """A run by id, by its workflow id, by a unique prefix of either or of the short id
    ``steptrace runs`` prints, or ``latest`` / ``latest-failed``."""
    if ref == "latest":
        runs = store.list_runs(limit=1)
        if runs:
            return runs[0]
    elif ref == "latest-failed":
        failed = store.latest_failed_run()
        if failed is not None:
            return failed
    else:
        run = store.get_run(ref) or store.find_run(ref)
        if run is not None:
            return run
        found = store.match_runs(ref) if len(ref) >= MIN_PREFIX else []
        if len({r.run_id for r in found}) == 1:
            return found[0]
        if found:
            names = ", ".join(r.run_id for r in found[:3])
            raise LookupError(f"{ref!r} names more than one run ({names}…): give more of the id")
    raise LookupError(f"no run {ref!r} in {store.database}; `steptrace runs` lists the stored runs")
