"""What the tracing-overhead benchmark reads back from the traced store.

:func:`storage_figures`: bytes stored against the raw JSON of every snapshot captured.
:func:`isolated_capture_us`: the CPU one step's capture costs when measured on its own
(thread CPU time, so other work on a shared machine does not inflate it), beside the
benchmark's whole-process CPU difference, which does move with the machine's load.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa

from tracer.payloads import encode, frame_dictionary
from tracer.store import AttemptRecord, TraceStore, Writes

__all__ = ["isolated_capture_us", "storage_figures"]

CAPTURE_SAMPLES = 200


def storage_figures(store: TraceStore) -> dict[str, int | float]:
    """Stored bytes vs the raw JSON bytes of every snapshot captured, each time captured.

    ``TraceStore.stored_bytes()`` sums the compressed size of the payload table: each
    distinct payload once. ``TraceStore.raw_bytes()`` sums the same rows' canonical JSON
    size — also once per *distinct* payload, so their ratio is the compression ratio
    alone and hides what content addressing saves. The budget's denominator is every
    snapshot as captured: each attempt's input, output and every before/after image of
    its external writes, plus each run's trigger, counted once per capture. This walks
    the attempt and run rows and adds up the canonical JSON size (the ``raw_size`` the
    payload row records) of every payload each one refers to.
    """
    refs_per_run: list[list[str]] = []
    attempts = 0
    for run in store.list_runs(limit=1_000_000):
        refs = [run.trigger_hash] if run.trigger_hash else []
        for attempt in store.attempts(run.run_id):
            attempts += 1
            refs += [attempt.input_hash] + ([attempt.output_hash] if attempt.output_hash else [])
            for write in attempt.external_writes:
                refs += [h for h in (write.before_hash, write.after_hash) if h]
        refs_per_run.append(refs)
    sizes = store.payload_sizes(h for refs in refs_per_run for h in refs)
    snapshots = sum(len(refs) for refs in refs_per_run)
    raw_total = sum(sizes[h] for refs in refs_per_run for h in refs)
    stored, distinct_raw = store.stored_bytes(), store.raw_bytes()
    dictionaries = _dictionary_figures(store)
    return {
        "runs": len(refs_per_run),
        "attempts": attempts,
        "snapshots": snapshots,
        "payloads": len(sizes),
        "raw_bytes": raw_total,
        "distinct_raw_bytes": distinct_raw,
        "stored_bytes": stored,
        "storage_ratio": round(stored / raw_total, 4) if raw_total else 0.0,
        "compression_ratio": round(stored / distinct_raw, 4) if distinct_raw else 0.0,
        **dictionaries,
    }


def _dictionary_figures(store: TraceStore) -> dict[str, int]:
    """How many payload dictionaries the store holds, their bytes, and how many stored
    payloads are compressed with one (the rest: stored before the first was trained)."""
    with store.engine.connect() as conn:
        count, size = conn.execute(
            sa.text("SELECT count(*), coalesce(sum(size), 0) FROM payload_dictionary")
        ).one()
        frames = [bytes(row[0][:32]) for row in conn.execute(sa.text("SELECT data FROM payload"))]
    with_dictionary = sum(1 for frame in frames if frame_dictionary(frame))
    return {
        "dictionaries": int(count),
        "dictionary_bytes": int(size),
        "payloads_with_dictionary": with_dictionary,
    }


def isolated_capture_us(store: TraceStore, samples: int = CAPTURE_SAMPLES) -> int:
    """Median CPU µs (this thread's) to capture one recorded step again.

    For up to ``samples`` stored attempts: encode the input, the output and the write
    images with a scratch store's codec (redaction, canonical JSON, sha256, zstd with
    that store's dictionary once trained) and commit them with the attempt, one
    transaction each, into a fresh SQLite store — what the capture interceptor and the
    group committer's fast path do for a step, without Temporal around it.
    """
    steps = _recorded_steps(store, samples)
    if not steps:
        return 0
    timings: list[int] = []
    with tempfile.TemporaryDirectory(prefix="steptrace-capture-") as folder:
        scratch = TraceStore.open(f"sqlite:///{Path(folder) / 'trace.db'}")
        try:
            for number, (attempt, values) in enumerate(steps):
                started = time.thread_time_ns()
                payloads = [encode(v, codec=scratch.codec) for v in values]
                record = attempt.model_copy(
                    update={
                        "workflow_id": f"capture-{number}",
                        "input_hash": payloads[0].hash,
                        "output_hash": payloads[1].hash if attempt.output_hash else None,
                        "external_writes": (),
                    }
                )
                scratch.write(Writes(payloads=payloads, attempts=[record]))
                timings.append(time.thread_time_ns() - started)
                scratch.maintain_dictionaries()
        finally:
            scratch.close()
    return round(statistics.median(timings) / 1000)


def _recorded_steps(store: TraceStore, samples: int) -> list[tuple[AttemptRecord, list[object]]]:
    """Stored attempts with the values of their payloads (input, output, write images)."""
    steps: list[tuple[AttemptRecord, list[object]]] = []
    for run in store.list_runs(limit=samples):
        for attempt in store.attempts(run.run_id):
            hashes = [attempt.input_hash] + ([attempt.output_hash] if attempt.output_hash else [])
            for write in attempt.external_writes:
                hashes += [h for h in (write.before_hash, write.after_hash) if h]
            steps.append((attempt, [store.get_payload(h) for h in hashes]))
            if len(steps) >= samples:
                return steps
    return steps
