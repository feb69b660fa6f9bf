"""``steptrace scenario run`` without ``--json``: a rich table of the runs, the score."""

from __future__ import annotations

from typing import Any

from orchestrator.scenarios.results import ScenarioResult, Score, short_trigger


def print_result(console: Any, result: ScenarioResult) -> None:
    """A rich table of the runs, then the score (``console`` is a rich Console)."""
    from rich.table import Table

    table = Table(title=f"scenario {result.scenario} ({result.pipeline})")
    for column in ("#", "trigger", "status", "failed step", "retried", "onset", "class", "fix"):
        table.add_column(column)
    for run in result.runs:
        found = run.diagnosis
        fix = found.proposed_fix if found else None
        verified = "" if fix is None or fix.verified is None else f" ({_verified(fix.verified)})"
        retried = ", ".join(f"{s.id}×{s.attempts}" for s in run.steps if s.attempts > 1)
        table.add_row(
            str(run.index),
            short_trigger(run.trigger),
            _status_markup(run.status),
            run.failed_step or "",
            retried,
            (found.onset_step or "") if found else "",
            found.fault_class if found else "",
            f"{fix.kind}{verified}" if fix else "",
        )
    console.print(table)
    if result.score is not None:
        _print_score(console, result.score)


def _verified(value: bool) -> str:
    return "verified" if value else "not verified"


def _status_markup(status: str) -> str:
    colour = {"succeeded": "green", "failed": "red", "qc_failed": "yellow"}.get(status)
    return f"[{colour}]{status}[/]" if colour else status


def _print_score(console: Any, found: Score) -> None:
    parts = [f"{name} {t['right']}/{t['of']}" for name, t in found.totals.items() if t["of"]]
    verdict = "[green]all expectations met[/]" if found.all_matched else "[red]mismatches[/]"
    console.print(f"score: {', '.join(parts)}: {verdict}")
    for item in found.expectations:
        for name, right in item.matched.items():
            if not right:
                console.print(
                    f"  run {item.run} {name}: expected {item.expected[name]!r}, "
                    f"got {item.actual.get(name)!r}"
                )
