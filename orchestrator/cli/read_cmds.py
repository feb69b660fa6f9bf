"""Reading the trace store: ``runs``, ``show``, ``diff``, ``why``, ``qc``, ``insights``.

``runs``, ``show`` and ``why`` read through the lean reader (:mod:`tracer.store.reader`:
the database driver alone, no SQLAlchemy ORM); ``why`` opens the full store only to
diagnose a run that has no stored diagnosis, and ``qc`` reopens it to write only when it
must store a review. None loads Temporal, Alembic, DuckDB nor the web stack:
``tests/orchestrator/test_cli_imports.py`` holds them to that.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated

import typer

from orchestrator.cli.common import (
    JsonFlag,
    RunArgument,
    console,
    fail,
    open_reader,
    open_store,
    run_async,
    settings,
)

if TYPE_CHECKING:
    from tracer.diagnosis_model import Diagnosis
    from tracer.store import TraceStore
    from tracer.store.reader import RunSource


def runs(
    status: Annotated[str | None, typer.Option(help="Only runs with this status.")] = None,
    pipeline: Annotated[str | None, typer.Option(help="Only runs of this pipeline.")] = None,
    limit: Annotated[int, typer.Option(help="At most this many, newest first.")] = 50,
    as_json: JsonFlag = False,
) -> None:
    """List stored runs, newest first."""
    from orchestrator.cli.render import runs_table
    from tracer.run_views import run_view
    from tracer.store import RunStatus

    store = open_reader()
    try:
        wanted = RunStatus(status) if status else None
    except ValueError:
        fail(f"unknown status {status!r} (known: {', '.join(s.value for s in RunStatus)})")
    records = store.list_runs(status=wanted, pipeline=pipeline, limit=limit)
    labels: dict[str, str] = {}
    if any(r.status is RunStatus.RUNNING for r in records):
        from orchestrator.service.orphans import orphan_labels

        labels = run_async(orphan_labels(settings(), records))
    views = [
        run_view(store, r).model_copy(update={"status": labels.get(r.run_id, r.status.value)})
        for r in records
    ]
    if as_json:
        print(json.dumps([v.model_dump(mode="json") for v in views]))
    else:
        console().print(runs_table(views))


def show(
    run_ref: Annotated[
        str, typer.Argument(metavar="RUN", help="Run id, workflow id, a unique prefix, or latest.")
    ],
    step: Annotated[str | None, typer.Option(help="Print this step's recorded handoff.")] = None,
    payload: Annotated[
        str, typer.Option(help="With --step: in (its input), out (its output) or writes.")
    ] = "out",
    as_json: JsonFlag = False,
) -> None:
    """A run's step timeline: status, attempts, durations, payload sizes, writes; with
    --step, that step's recorded payload (as stored: secrets already redacted)."""
    from tracer.run_model import find_run

    store = open_reader()
    try:
        record = find_run(store, run_ref)
    except LookupError as exc:
        fail(str(exc))
    if step is not None:
        from orchestrator.cli.payload_view import PayloadViewError, step_payload

        try:
            shown = step_payload(store, record, step, payload)
        except PayloadViewError as exc:
            fail(str(exc))
        print(json.dumps(shown, indent=None if as_json else 2, default=str))
        return
    from orchestrator.cli.render import print_timeline
    from tracer.run_views import run_view

    view = run_view(store, record)
    if as_json:
        print(view.model_dump_json())
    else:
        print_timeline(console(), view)


def diff(
    run_ref: RunArgument,
    step: Annotated[str, typer.Argument(help="The step whose output to compare.")],
    against: Annotated[
        str, typer.Option(help="`last-good` (same pipeline version) or another run's id.")
    ] = "last-good",
    as_json: JsonFlag = False,
) -> None:
    """Structural diff of one step's output: this run against another."""
    from orchestrator.cli.compare import StepDiffError, compare_step

    store = open_store(read_only=True)
    try:
        result = compare_step(store, run_ref, step, against)
    except (LookupError, StepDiffError) as exc:
        fail(str(exc))
    if as_json:
        print(result.model_dump_json())
        return
    shown = console()
    shown.print(f"[bold]{step}[/] of {result.run_id} against {result.against_run_id}")
    if not result.changes:
        shown.print("  no differences")
    for change in result.changes:
        shown.print(f"  {change.kind:<24} {change.path}: {change.old!r} -> {change.new!r}")


def why(
    run_ref: Annotated[
        str, typer.Argument(metavar="RUN", help="Run id, workflow id, or latest (newest failed).")
    ],
    as_json: JsonFlag = False,
) -> None:
    """Why did this run fail: where it started, what changed, and a checked fix."""
    reader = open_reader()
    try:
        diagnosis, fix_id = _stored_diagnosis(reader, run_ref)
    except LookupError as exc:
        fail(str(exc))
    finally:
        reader.close()
    if diagnosis is None:  # diagnosing stores the diagnosis: only then open to write
        diagnosis, fix_id = _diagnose_now(run_ref)
    if as_json:
        print(diagnosis.model_dump_json())
        return
    from orchestrator.diagnosis.why import render_diagnosis

    render_diagnosis(console(), diagnosis)
    if fix_id is not None and diagnosis.proposed_fix.kind == "spec_patch":
        step = diagnosis.onset_step or "STEP"
        print(
            f"fix id {fix_id}: steptrace replay {diagnosis.run_id} --from {step} "
            f"--fix {fix_id}   (or --fix latest)"
        )
    elif fix_id is not None:
        print(f"fix id {fix_id} ({diagnosis.proposed_fix.kind})")


def qc(run_ref: RunArgument, as_json: JsonFlag = False) -> None:
    """A run's QC rubric results, failures first, with evidence (reviews it if not yet)."""
    from orchestrator.cli.qc_render import print_qc
    from orchestrator.qc.review import qc_report
    from rubrics.judge import JudgeConfigError, judge_from_env
    from tracer.run_model import find_run

    store = open_store(read_only=True)
    if _needs_review(store, run_ref):  # a post-hoc review stores its results
        store.close()
        store = open_store()
    try:
        judge = judge_from_env()
    except JudgeConfigError as exc:
        fail(f"configuration: {exc}")
    try:
        report = qc_report(store, find_run(store, run_ref).run_id, judge)
    except LookupError as exc:
        fail(str(exc))
    if as_json:
        print(json.dumps(report))
    else:
        print_qc(console(), report)


def insights(
    since: Annotated[
        str | None, typer.Option(help="Only runs started on or after this date (YYYY-MM-DD).")
    ] = None,
    pipeline: Annotated[str | None, typer.Option(help="Only runs of this pipeline.")] = None,
    cohort: Annotated[
        str | None, typer.Option(help="Compare the runs matching this expression ...")
    ] = None,
    vs: Annotated[
        str | None, typer.Option("--vs", help="... with those matching this one.")
    ] = None,
    question: Annotated[
        str | None,
        typer.Option(
            help="Ask in words: the judge (STEPTRACE_JUDGE) writes a read-only query; "
            "the answer's numbers and runs are checked against its result."
        ),
    ] = None,
    as_json: JsonFlag = False,
    as_md: Annotated[bool, typer.Option("--md", help="Print Markdown.")] = False,
) -> None:
    """What the automations systematically do: failure groups, their conditions and
    silent patterns, each with prevalence k/N (CI) and cited runs. With --cohort and
    --vs (e.g. --cohort "version = 'a15e1dd2'" --vs "version = '8a122f3f'"): what differs."""
    from orchestrator.insights.report import command_output
    from tracer.insights import InsightsError

    fmt = "json" if as_json else "md" if as_md else "text"
    try:
        print(
            command_output(
                since=since, pipeline=pipeline, cohort=cohort, vs=vs, fmt=fmt, question=question
            )
        )
    except InsightsError as exc:
        fail(str(exc))


def _stored_diagnosis(reader: RunSource, run_ref: str) -> tuple[Diagnosis | None, int | None]:
    """The run's newest stored diagnosis and its id (the fix id), or none yet; a run's
    own workflow normally stored it, so this is the usual answer and only a read."""
    from tracer.diagnosis_model import Diagnosis
    from tracer.run_model import find_run

    run = find_run(reader, "latest-failed" if run_ref == "latest" else run_ref)
    stored = reader.diagnoses(run.run_id)
    if not stored:
        return None, None
    return Diagnosis.model_validate(stored[-1].body), stored[-1].id


def _diagnose_now(run_ref: str) -> tuple[Diagnosis, int | None]:
    from orchestrator.diagnosis.why import why as diagnose

    store = open_store()
    try:
        diagnosis = diagnose(store, run_ref)
    except LookupError as exc:  # DiagnosisError is one
        fail(str(exc))
    stored = store.diagnoses(diagnosis.run_id)
    return diagnosis, stored[-1].id if stored else None


def _needs_review(store: TraceStore, run_ref: str) -> bool:
    from tracer.run_model import find_run

    try:
        return not store.rubric_results(find_run(store, run_ref).run_id)
    except LookupError:
        return False
