"""How ``steptrace demo`` tells its story in the terminal."""

from __future__ import annotations

from rich.console import Console
from rich.panel import Panel

from orchestrator.cli.demo import DemoReport
from orchestrator.cli.render import print_timeline, runs_table


def print_demo(console: Console, report: DemoReport, me: str) -> None:
    console.print(f"[bold]steptrace demo[/]: pipeline [bold]{report.pipeline}[/], faults injected:")
    for fault in report.faults:
        console.print(f"  - {fault}")
    views = [run.view for run in report.runs]
    console.print(runs_table(views, title="Runs (traced into " + report.database + ")"))
    _print_silent(console, report, me)
    _print_loud(console, report, me)
    _print_transcript(console, report)


def _print_silent(console: Console, report: DemoReport, me: str) -> None:
    caught = next((r for r in report.runs if r.view.status == "qc_failed"), None)
    if caught is None or caught.diagnosis is None:
        return
    console.print(
        f"\n[bold yellow]Silent failure caught by QC[/] in {caught.view.run_id}: "
        f"{', '.join(caught.qc_failed)} failed; it started at "
        f"[bold]{caught.diagnosis.onset_step}[/] ({caught.diagnosis.fault_class})."
    )
    console.print(f"  {caught.diagnosis.explanation}")
    console.print(f"  The rubric table: [bold]{me} qc {caught.view.run_id}[/]")


def _print_loud(console: Console, report: DemoReport, me: str) -> None:
    failed = next((r for r in report.runs if r.view.status == "failed"), None)
    if failed is None:
        return
    console.print()
    print_timeline(console, failed.view)
    if failed.diagnosis is not None:
        fix = failed.diagnosis.proposed_fix
        verdict = {True: "verified", False: "refuted", None: "not verifiable"}[fix.verified]
        console.print(
            f"[bold]Why:[/] {failed.diagnosis.explanation}\n"
            f"[bold]Fix:[/] {fix.kind} ({verdict}): {fix.detail}"
        )
    console.print(
        f"\nLook closer: [bold]{me} why {failed.view.run_id}[/]\n             [bold]{me} runs[/]"
    )


def _print_transcript(console: Console, report: DemoReport) -> None:
    if report.loop is None:
        return
    lines = []
    for message in report.transcript:
        indent = "    ↳ " if message.thread else ""
        text = message.text if len(message.text) <= 400 else message.text[:397] + "…"
        lines.append(f"{indent}[bold]{message.user}[/]: {text}")
    title = f"Slack {report.loop.channel}: the alert of {report.loop.run_id}"
    console.print(Panel("\n".join(lines), title=title, title_align="left"))
    if report.loop.replay_run_id:
        console.print(
            f"Replay {report.loop.replay_run_id} (parent {report.loop.run_id}): "
            f"[bold]{report.loop.replay_status}[/]"
        )
