""" "Recovers and never harms": the checks a replayed fix must pass beyond "accepted".

A destination accepting the patched write is not enough: a fix that stops writing a
field is accepted, and so is one that writes another record's value. The replay
(:mod:`orchestrator.diagnosis.fix_replay`) asks this guard, for every write it checks:

- **nothing dropped**: every field the good runs of this step wrote is still written
  (a field renamed at the destination counts as kept only when the schemas say so *by
  id*; a rename without that evidence cannot be confirmed, so the fix is not verified);
- **nothing emptied**: a field this run's own inputs gave a value is not written empty;
- **the symptom is gone**: the step that failed was checked and accepted, and for a QC
  failure the failed rubrics pass on the replayed handoffs.

Each failed check is named, so ``verified: false`` says why.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from orchestrator.tools.destinations import FIELD_ARGS
from tracer.diagnose import RunSnapshot
from tracer.schemas import ContainerSchema

RubricCheck = Callable[[dict[str, Any], tuple[str, ...], Any], dict[str, str] | None]
"""Given the replayed context (step id → output, and ``<step>.args`` → arguments), rubric
ids and the patched spec (the rubrics read what *it* means): each rubric's outcome on the
replay (``pass``, ``fail``, ``not_applicable``…), or ``None`` when they cannot be run."""


@dataclass(frozen=True)
class Verdict:
    ok: bool | None
    detail: str = ""


@dataclass(frozen=True)
class Guard:
    """What the replay of a fix must preserve; built once per diagnosis."""

    good_runs: Sequence[RunSnapshot] = ()
    run: RunSnapshot | None = None
    schemas_then: Mapping[str, ContainerSchema] = field(default_factory=dict)
    schemas_now: Mapping[str, ContainerSchema] = field(default_factory=dict)
    failed_step: str | None = None
    rubrics: tuple[str, ...] = ()
    rubric_check: RubricCheck | None = None

    def write(self, step: str, op: str, args: dict[str, Any]) -> Verdict:
        """The harm checks for one replayed write step."""
        written = _fields(op, args)
        if written is None:
            return Verdict(True)
        unconfirmed: list[str] = []
        good = self._good_fields(step, op)
        fresh_names = any(name not in good for name in written)
        for name in sorted(good):
            if name in written:
                continue
            kept_as = self._renamed(step, name)
            if kept_as is not None and kept_as in written:
                continue
            if kept_as is None and self.schemas_then.get(step) is None and fresh_names:
                unconfirmed.append(name)
                continue
            return Verdict(False, f"step `{step}` would no longer write `{name}` (data dropped)")
        emptied = self._emptied(step, op, written)
        if emptied:
            return Verdict(False, f"step `{step}` would write `{emptied}` empty (data dropped)")
        if unconfirmed:
            return Verdict(
                None,
                f"step `{step}` no longer writes `{unconfirmed[0]}` under that name and no "
                "schema snapshot confirms a rename by id",
            )
        return Verdict(True)

    def symptom(self, checked_steps: set[str], context: dict[str, Any], spec: Any) -> Verdict:
        """The original symptom is gone: its step accepted, its rubrics passing."""
        if self.rubrics:
            if self.rubric_check is None:
                return Verdict(None, "the failed rubrics could not be run on the replay")
            outcomes = self.rubric_check(context, self.rubrics, spec)
            if outcomes is None:
                return Verdict(None, "the failed rubrics could not be run on the replay")
            failing = [r for r in self.rubrics if outcomes.get(r) == "fail"]
            if failing:
                return Verdict(False, f"QC rubric {failing[0]} still fails on the replay")
            unsure = [r for r in self.rubrics if outcomes.get(r) != "pass"]
            if unsure:
                return Verdict(None, f"QC rubric {unsure[0]} cannot judge the replay")
            return Verdict(True)
        if self.failed_step and self.failed_step not in checked_steps:
            return Verdict(None, f"the failed step `{self.failed_step}` could not be checked")
        return Verdict(True)

    def _good_fields(self, step: str, op: str) -> set[str]:
        names: set[str] = set()
        for good in self.good_runs:
            snapshot = good.steps.get(step)
            if snapshot is None or snapshot.status != "succeeded":
                continue
            found = _fields(op, snapshot.input if isinstance(snapshot.input, dict) else {})
            names |= {n for n, v in (found or {}).items() if not _empty(v)}
        return names

    def _renamed(self, step: str, name: str) -> str | None:
        then, now = self.schemas_then.get(step), self.schemas_now.get(step)
        if then is None or now is None:
            return None
        old = then.by_name(name)
        new = now.by_id(old.id) if old is not None else None
        return new.name if new is not None else None

    def _emptied(self, step: str, op: str, written: dict[str, Any]) -> str | None:
        """A field written empty although this run's own recorded write had a value."""
        if self.run is None:
            return None
        snapshot = self.run.steps.get(step)
        recorded = snapshot.input if snapshot is not None else None
        before = _fields(op, recorded) if isinstance(recorded, dict) else None
        good = self._good_fields(step, op)
        for name, value in written.items():
            if _empty(value) and name in good and before and not _empty(before.get(name)):
                return name
        return None


def _fields(op: str, args: dict[str, Any]) -> dict[str, Any] | None:
    """The fields a write sets: the field map of a record write, else its arguments."""
    key = FIELD_ARGS.get(op)
    if key is None:
        return dict(args)
    inner = args.get(key)
    return dict(inner) if isinstance(inner, dict) else {}


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}
