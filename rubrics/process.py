"""Process health: steps that needed too many tries or too long, and empty handoffs.

A run can succeed while its process is sick: a step that needed four attempts will soon
need six. The budgets come from the pipeline parameters (``retry_budget`` tries per
step, its attempts and the tool calls retried inside them alike;
``latency_budget_fraction`` of each step's timeout).
"""

from __future__ import annotations

from typing import Any

from rubrics.concepts import is_empty
from rubrics.evidence import MISSING, get_path, path_key, path_kind
from rubrics.integrity import Failures
from rubrics.model import (
    CheckContext,
    EvidenceItem,
    Finding,
    Rubric,
    Segment,
    input_path,
    output_path,
)


def check_retries(ctx: CheckContext) -> Finding:
    """Every try a step made against the budget: its Temporal attempts plus the tool calls
    retried inside them. A client that absorbs 503s inside one attempt hides as much
    trouble as a step that needs several attempts."""
    budget = ctx.params.retry_budget
    failures: Failures = []
    looked: list[EvidenceItem] = []
    for step in ctx.evidence.steps:
        counts = {"attempts": step.attempts, "inner_retries": step.inner_retries}
        item = EvidenceItem(step=step.id, path=output_path(step.id), value=counts)
        looked.append(item)
        tries = step.attempts + step.inner_retries
        if tries > budget:
            failures.append(
                (f"{step.id} {_tries(step.attempts, step.inner_retries)} (budget {budget})", [item])
            )
    return Finding.from_checks(
        failures, looked, ok=f"every step ran within {budget} tries", nothing="no step has run"
    )


def _tries(attempts: int, inner: int) -> str:
    """``took 3 attempts`` or ``made 3 tries: 1 attempt(s) and 2 call(s) retried inside``."""
    if not inner:
        return f"took {attempts} attempts"
    return (
        f"made {attempts + inner} tries: {attempts} attempt(s) and {inner} tool call(s) "
        "retried inside them"
    )


def check_latency(ctx: CheckContext) -> Finding:
    fraction = ctx.params.latency_budget_fraction
    failures: Failures = []
    looked: list[EvidenceItem] = []
    for step in ctx.evidence.steps:
        params = ctx.params.step(step.id)
        if params is None:
            continue
        budget = int(params.timeout_ms * fraction)
        item = EvidenceItem(
            step=step.id, path=output_path(step.id), value={"duration_ms": step.duration_ms}
        )
        looked.append(item)
        if step.duration_ms > budget:
            failures.append((f"{step.id} took {step.duration_ms} ms (budget {budget} ms)", [item]))
    return Finding.from_checks(
        failures, looked, ok="every step ran within its latency budget", nothing="no step has run"
    )


def check_empty_handoff(ctx: CheckContext) -> Finding:
    failures: Failures = []
    looked: list[EvidenceItem] = []
    for step in ctx.evidence.steps:
        if step.status != "succeeded":
            continue
        item = EvidenceItem(step=step.id, path=output_path(step.id), value=_shape(step.output))
        looked.append(item)
        if _hollow(step.output):
            failures.append(
                (f"{step.id} handed on an empty output ({_shape(step.output)})", [item])
            )
    for step_id, args in ctx.evidence.planned.items():
        item = EvidenceItem(step=step_id, path=input_path(step_id), value=_shape(args))
        looked.append(item)
        if _hollow(args):
            failures.append((f"{step_id} is about to receive empty arguments", [item]))
    return Finding.from_checks(
        failures, looked, ok="every handoff carries data", nothing="no handoff yet"
    )


def _hollow(value: Any) -> bool:
    """Empty, or an object whose every value is empty."""
    if is_empty(value):
        return True
    return isinstance(value, dict) and all(is_empty(v) for v in value.values())


def _shape(value: Any) -> str:
    if isinstance(value, dict):
        return f"object with {len(value)} keys"
    if isinstance(value, list):
        return f"list of {len(value)}"
    return type(value).__name__


def check_projections(ctx: CheckContext) -> Finding:
    """A field read across a list's items that no item has any more: a count or a join
    over it is silently empty (a renamed column, a dropped field)."""
    failures: Failures = []
    looked: list[EvidenceItem] = []
    for params in ctx.params.steps:
        for path in params.projections:
            found = _projected(ctx, path)
            if found is None:
                continue
            items, present = found
            item = EvidenceItem(step=str(path[0]), path=output_path(*map(str, path)), value=present)
            looked.append(item)
            if items and not present:
                where = ".".join(map(str, path))
                failures.append((f"no item of {items} has `{where}` any more", [item]))
    return Finding.from_checks(
        failures, looked, ok="every projected field is there", nothing="nothing is projected"
    )


def _projected(ctx: CheckContext, path: tuple[Any, ...]) -> tuple[int, list[Any]] | None:
    """How many items the list has, and the values found at the rest of the path."""
    source = ctx.evidence.step(str(path[0]))
    if source is None or source.status != "succeeded":
        return None
    star = path.index("*")
    items = get_path(source.output, tuple(path[1:star]))
    if not isinstance(items, list):
        return None
    rest = tuple(path[star + 1 :])
    present = [v for v in (get_path(i, rest) for i in items) if v is not MISSING]
    return len(items), present


HISTORY_NEEDED = 3
"""Good runs that must agree before a field counts as always there (fewer: optional)."""
EMPTY_KINDS = frozenset({"missing", "null", "absent"})


def settled_kind(history: list[dict[str, str]], key: str) -> str | None:
    """The one kind a read path had in every recent good run (at least
    ``HISTORY_NEEDED``), if it always had a value; else ``None`` (optional or varying)."""
    if len(history) < HISTORY_NEEDED:
        return None
    kinds = {entry.get(key, "missing") for entry in history}
    if len(kinds) != 1 or kinds & EMPTY_KINDS:
        return None
    return kinds.pop()


def null_after_values(
    output: Any, history: list[dict[str, str]], read_paths: list[tuple[Segment, ...]]
) -> list[tuple[Segment, ...]]:
    """The read paths that are null in ``output`` and always had a value before: the
    ones only a second look at the source can judge (see :func:`check_reads_still_there`)."""
    return [
        path
        for path in read_paths
        if settled_kind(history, path_key(path)) is not None and path_kind(output, path) == "null"
    ]


def check_reads_still_there(ctx: CheckContext) -> Finding:
    """A field a read step returned, of one kind, in every recent good run (at least
    ``HISTORY_NEEDED``) that is now missing or of another kind: the source changed, even
    when a value map's default or a mapping hides it further down.

    A null alone is not enough: it is also how optional data looks (seen as false alarms on
    a stream of real issues). A null fails only when the objects those good runs read,
    read again during this review (``RunEvidence.reread``), show no value there either: the
    source stopped sending the field for every object, not just left it empty on this one.
    Without that second look, or when it shows a value, a null passes."""
    failures: Failures = []
    looked: list[EvidenceItem] = []
    for params in ctx.params.steps:
        step = ctx.evidence.step(params.id)
        history = ctx.evidence.read_history.get(params.id, [])
        if not params.reads or step is None or step.status != "succeeded":
            continue
        for path in params.read_paths:
            key = path_key(path)
            was = settled_kind(history, key)
            if was is None:
                continue  # optional, already varying, or too little history
            now = path_kind(step.output, path)
            if now == "absent":
                continue  # the object holding it is null here: optional data
            item = EvidenceItem(
                step=params.id, path=output_path(params.id, *map(str, path)), value=now
            )
            looked.append(item)
            if now == "null":
                failures += _null_everywhere(ctx, params.id, key, was, len(history), item)
            elif now != was:
                failures.append(
                    (
                        f"`{params.id}.{key}` was a {was} in the last {len(history)} good runs "
                        f"and is {now} now",
                        [item],
                    )
                )
    return Finding.from_checks(
        failures, looked, ok="every field read is there as before", nothing="no read history"
    )


def _null_everywhere(
    ctx: CheckContext, step_id: str, key: str, was: str, runs: int, item: EvidenceItem
) -> Failures:
    """A failure when every good-run object read again has no value at ``key`` either."""
    again = [entry.get(key, "missing") for entry in ctx.evidence.reread.get(step_id, [])]
    if not again or any(kind not in ("null", "missing") for kind in again):
        return []  # no second look, or a good object still has a value: optional data
    seen = EvidenceItem(step=step_id, path=output_path(step_id, key), value=again)
    return [
        (
            f"`{step_id}.{key}` was a {was} in the last {runs} good runs and is null now; "
            f"the {len(again)} object(s) those runs read, read again now, have no value "
            "there either: the source stopped sending it",
            [item, seen],
        )
    ]


def check_writes_recorded(ctx: CheckContext) -> Finding:
    failures: Failures = []
    looked: list[EvidenceItem] = []
    for params in ctx.params.write_steps():
        step = ctx.evidence.step(params.id)
        if step is None or step.status != "succeeded":
            continue
        item = EvidenceItem(
            step=step.id, path=output_path(step.id), value={"writes": len(step.writes)}
        )
        looked.append(item)
        if not step.writes:
            failures.append((f"{step.id} writes to {params.tool} but reported no write", [item]))
    return Finding.from_checks(
        failures,
        looked,
        ok="every write step reported what it wrote",
        nothing="no write step has run",
    )


RUBRICS: tuple[Rubric, ...] = (
    Rubric(
        "process.retries_within_budget",
        "2",
        "Did every step succeed within the retry budget?",
        "minor",
        "deterministic",
        ("attempts per step", "tool calls retried inside attempts"),
        check_retries,
    ),
    Rubric(
        "process.latency_within_budget",
        "1",
        "Did every step finish within its share of its timeout?",
        "minor",
        "deterministic",
        ("duration per step", "step timeouts"),
        check_latency,
    ),
    Rubric(
        "process.no_empty_handoff",
        "1",
        "Does every step hand on data rather than an empty payload?",
        "major",
        "deterministic",
        ("step outputs", "planned arguments"),
        check_empty_handoff,
    ),
    Rubric(
        "process.projections_resolve",
        "1",
        "Does every list the pipeline reads across still carry the fields it reads?",
        "blocker",
        "deterministic",
        ("paths read across list items",),
        check_projections,
    ),
    Rubric(
        "process.reads_still_there",
        "2",
        "Does every field the pipeline reads from a tool still come as in recent good runs?",
        "blocker",
        "deterministic",
        ("read steps' outputs", "recent good runs", "good runs' objects read again"),
        check_reads_still_there,
    ),
    Rubric(
        "process.writes_recorded",
        "1",
        "Did every step that writes report the object it wrote, with its images?",
        "major",
        "deterministic",
        ("write steps' writes",),
        check_writes_recorded,
    ),
)
