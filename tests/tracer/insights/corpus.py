"""Tiny corpora written through the trace store's own API, with known patterns."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from tracer.payloads import encode
from tracer.store import AttemptError, AttemptRecord, AttemptStatus, NewRun, RunStatus, TraceStore

T0 = datetime(2026, 9, 1, tzinfo=UTC)
SPACING = timedelta(hours=2)  # run 60 starts a new day: a change point on a day boundary
RETRY = AttemptError(error_class="RateLimitedError", message="429", status=429, code="RATE")


def _attempt(run: int, step: str, index: int, attempt: int, **fields: object) -> AttemptRecord:
    started = T0 + SPACING * run
    return AttemptRecord.model_validate(
        {
            "workflow_id": f"p-{run}",
            "temporal_run_id": "r",
            "activity_id": f"{index}",
            "attempt": attempt,
            "run_id": f"p-{run}/r",
            "step_id": step,
            "step_index": index,
            "op": "linear.get_issue" if index == 0 else "airtable.upsert_record",
            "started_at": started,
            "ended_at": started,
            "duration_ms": 5,
            **fields,
        }
    )


def fill_store(store: TraceStore, runs: int = 120, *, silent: bool = False) -> set[str]:
    """Runs of pipeline ``p`` (2 hours apart); team OPS fails at ``write``. With
    ``silent``: every 4th run's ``read`` absorbs a 429 with a retry, and from run 60 on
    every 3rd run's output takes the value ``priority = 0``. Returns the failed run ids."""
    rng = random.Random(3)
    failing = set()
    for i in range(runs):
        team = rng.choice(["ENG", "OPS", "DATA"])
        run_id = f"p-{i}/r"
        trigger = encode({"team": team, "region": rng.choice(["eu", "us"])}, codec=store.codec)
        started = T0 + SPACING * i
        store.start_run(
            NewRun(run_id=run_id, pipeline="p", started_at=started, trigger_hash=trigger.hash),
            trigger=trigger,
        )
        fails = team == "OPS"
        priority = 0 if silent and i >= 60 and i % 3 == 0 else rng.choice([1, 2])
        output = encode({"status": "ok", "priority": priority}, codec=store.codec)
        records = []
        retried = silent and i % 4 == 0
        if retried:
            records.append(_attempt(i, "read", 0, 1, status=AttemptStatus.FAILED,
                                    input_hash=trigger.hash, error=RETRY))  # fmt: skip
        records.append(
            _attempt(i, "read", 0, 2 if retried else 1, status=AttemptStatus.SUCCEEDED,
                     input_hash=trigger.hash, output_hash=output.hash)
        )  # fmt: skip
        records.append(
            _attempt(
                i, "write", 1, 1,
                status=AttemptStatus.FAILED if fails else AttemptStatus.SUCCEEDED,
                input_hash=output.hash, output_hash=None if fails else output.hash,
                error=AttemptError(error_class="UnknownFieldError", message=f"bad field {i}")
                if fails else None,
            )
        )  # fmt: skip
        store.record_attempts(records, [trigger, output])
        store.finish_run(
            run_id, RunStatus.FAILED if fails else RunStatus.SUCCEEDED,
            "write" if fails else None, ended_at=started,
        )  # fmt: skip
        store.maintain_dictionaries()  # a store in use trains one on its own payloads
        if fails:
            failing.add(run_id)
    return failing
