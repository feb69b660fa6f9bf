"""Rich rendering of runs and step timelines for people at a terminal."""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Console
from rich.table import Table
from rich.text import Text

from tracer.run_views import RunView, StepView

STATUS_STYLE = {
    "succeeded": "green",
    "failed": "bold red",
    "qc_failed": "bold magenta",
    "running": "yellow",
    "rolled_back": "cyan",
    "escalated": "bold yellow",
}


def status_text(status: str) -> Text:
    return Text(status, style=STATUS_STYLE.get(status, ""))


def runs_table(runs: Sequence[RunView], *, title: str = "Runs") -> Table:
    table = Table(title=title, title_justify="left")
    table.add_column("#", justify="right")
    table.add_column("run")
    table.add_column("trigger")
    table.add_column("status")
    table.add_column("failed step")
    table.add_column("attempts", justify="right")
    table.add_column("retried steps")
    for number, run in enumerate(runs, start=1):
        retried = [_retried(s) for s in run.steps if s.attempts > 1 or s.inner_retries]
        table.add_row(
            str(number),
            short_run_id(run.run_id),
            _trigger(run.trigger),
            status_text(run.status),
            run.failed_step or "",
            str(sum(s.attempts for s in run.steps)),
            ", ".join(retried),
        )
    return table


def timeline_table(run: RunView) -> Table:
    table = Table(title=f"Steps of {run.run_id} ({run.pipeline})", title_justify="left")
    table.add_column("step")
    table.add_column("op")
    table.add_column("status")
    table.add_column("attempts", justify="right")
    table.add_column("ms", justify="right")
    table.add_column("in", justify="right")
    table.add_column("out", justify="right")
    table.add_column("writes")
    for step in run.steps:
        table.add_row(
            step.id,
            step.op,
            status_text(step.status),
            str(step.attempts),
            str(step.duration_ms),
            _bytes(step.input_bytes),
            _bytes(step.output_bytes),
            _writes(step),
        )
    return table


def print_timeline(console: Console, run: RunView) -> None:
    console.print(timeline_table(run))
    for step in run.steps:
        for retry in step.inner_retries:
            console.print(Text(f"  {step.id} {retry}", style="yellow"))
        for number, error in enumerate(step.errors, start=1):
            label = "error" if step.status == "failed" and number == len(step.errors) else "retry"
            style = "red" if label == "error" else "yellow"
            console.print(Text(f"  {step.id} attempt {number} ({label}): {error}", style=style))


def _retried(step: StepView) -> str:
    """``upsert_airtable×3`` for attempts, ``+2 inside`` for calls retried within them."""
    parts = [f"{step.id}×{step.attempts}" if step.attempts > 1 else step.id]
    if step.inner_retries:
        parts.append(f"+{len(step.inner_retries)} inside")
    return " ".join(parts)


def short_run_id(run_id: str) -> str:
    """The distinctive tail of a run id (``…-16adf77e5e5c/<run>`` → ``16adf77e5e5c``)."""
    workflow_id = run_id.split("/")[0]
    return workflow_id.rsplit("-", 1)[-1]


def _trigger(trigger: object) -> str:
    if isinstance(trigger, dict) and len(trigger) == 1:
        return str(next(iter(trigger.values())))
    return str(trigger)


def _bytes(size: int | None) -> str:
    if size is None:
        return "-"
    return f"{size / 1024:.1f} kB" if size >= 1024 else f"{size} B"


def _writes(step: StepView) -> str:
    return ", ".join(f"{w.tool} {w.kind} {w.action}" for w in step.writes)
