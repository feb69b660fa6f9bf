"""``steptrace why``: the stored diagnosis of a run, made now if there is none, rendered.

The diagnosis is normally stored by the run's own workflow (with the destinations' live
schemas). A run from before, or one whose diagnosis failed, is diagnosed here from the
trace store alone: the fix is then checked on the snapshots without the live schemas.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from tracer.diagnosis_model import Diagnosis
from tracer.run_model import find_run
from tracer.store.records import RunStatus

if TYPE_CHECKING:  # rendering a stored diagnosis must not load the store's ORM
    from tracer.store import TraceStore

# `steptrace why` must answer in well under a second (DESIGN §8). A run's own workflow
# stores its diagnosis, so the usual answer is a read: the diagnoser (which pulls in
# every tool's client, the fixes and their replay checks) is imported only when a run
# has none yet.


def why(store: TraceStore, ref: str) -> Diagnosis:
    """The diagnosis of run ``ref`` (``latest`` = the newest failed run)."""
    run = find_run(store, "latest-failed" if ref == "latest" else ref)
    stored = store.diagnoses(run.run_id)
    if stored:
        return Diagnosis.model_validate(stored[-1].body)
    if run.status == RunStatus.SUCCEEDED and not _failed_rubrics(store, run.run_id):
        raise LookupError(f"run {run.run_id} succeeded and passed QC; there is nothing to diagnose")
    from orchestrator.diagnosis.diagnoser import diagnose_run

    return asyncio.run(diagnose_run(store, run.run_id))


def _failed_rubrics(store: TraceStore, run_id: str) -> list[str]:
    return [r.rubric_id for r in store.rubric_results(run_id) if r.outcome == "fail"]


def render_diagnosis(console: Console, diagnosis: Diagnosis) -> None:
    console.print(Panel(_summary(diagnosis), title=f"why {diagnosis.run_id}", expand=False))
    if diagnosis.evidence.implicated:
        console.print(_implicated_table(diagnosis))
    for change in diagnosis.evidence.schema_diff:
        console.print(f"[bold]Schema since the last good run:[/] {change}")
    for rank, hypothesis in enumerate(diagnosis.hypotheses, start=1):
        console.print(
            f"  hypothesis {rank}: {hypothesis.fault_class} at `{hypothesis.onset_step}` "
            f"({hypothesis.score:.2f}) {hypothesis.why}"
        )
    fix = diagnosis.proposed_fix
    verdict = {
        True: "[green]verified[/]",
        False: "[red]refuted[/]",
        None: "[yellow]not verified[/]",
    }
    console.print(f"[bold]Proposed fix:[/] {fix.kind} ({verdict[fix.verified]}) {fix.detail}")
    if fix.patch:
        from rich.syntax import Syntax  # pygments: only when there is a patch to show

        lexer = "diff" if fix.kind == "spec_patch" else "json"
        console.print(Syntax(fix.patch, lexer, theme="ansi_dark", word_wrap=True))
    for name, link in diagnosis.links.model_dump().items():
        if link:
            console.print(f"  {name:<9} {link}")


def _summary(diagnosis: Diagnosis) -> Group:
    onset = diagnosis.onset_step or "?"
    failed = diagnosis.failed_step or "?"
    where = Text.assemble(
        ("failed at ", "dim"),
        (failed, "bold red"),
        ("   started at ", "dim"),
        (onset, "bold yellow"),
    )
    if onset != failed:
        where.append("  (upstream of the failure)", style="yellow")
    return Group(
        Text.assemble(
            ("status ", "dim"),
            diagnosis.status,
            ("   class ", "dim"),
            (diagnosis.fault_class, "bold"),
        ),
        where,
        Text(diagnosis.explanation),
    )


def _implicated_table(diagnosis: Diagnosis) -> Table:
    table = Table(title="Implicated values (last good → now)", title_justify="left")
    for column in ("value", "last good", "now", "change"):
        table.add_column(column, overflow="fold")
    for item in diagnosis.evidence.implicated:
        table.add_row(item.path, repr(item.last_good), repr(item.now), item.change)
    return table
